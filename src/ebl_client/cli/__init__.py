"""The `ebl` command: run a node, deploy the suite, manage participants, bills, credit verification and
financing, run the demo. Human tables by default, `--json` for machines.

One module per command group; `app` holds the root group, the Context and `sends` (the one pattern for a
command that sends a transaction), `output` the JSON and table printing.
"""

from __future__ import annotations

from . import bill, credit, demo, deploy, finance, keys, node, participants
from .app import cli, main

for _command in (node.node, deploy.deploy, participants.participants, bill.bill, credit.credit, finance.finance,
                 keys.keys_group, demo.demo):
    cli.add_command(_command)

__all__ = ["cli", "main"]
