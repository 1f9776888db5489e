"""`python -m ebl_client.demo`: the demo's command line (`runner.main`)."""

import sys

from .runner import main

sys.exit(main())
