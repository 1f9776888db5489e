"""The `ebl` command: run a node, deploy the suite, manage participants, bills, credit verification and
financing, run the demo. Human tables by default, `--json` for machines.

One module per command group; `app` holds the root group, the Context and `sends` (the one pattern for a
command that sends a transaction), `output` the JSON and table printing.
"""

from __future__ import annotations

from . import audit, bill, credit, demo, deploy, finance, inbox, index, keys, node, participants, views
from . import serve as _serve  # noqa: F401  (registers `ebl serve`)
from .app import cli, main

for _command in (node.node, deploy.deploy, participants.participants, bill.bill, credit.credit, finance.finance,
                 keys.keys_group, demo.demo, index.index, inbox.inbox, audit.audit):
    cli.add_command(_command)
bill.bill.add_command(views.bill_list)
finance.finance.add_command(views.finance_book)

# importing registers them: `ebl tx`, and `ebl bill issue-many` / `ebl credit anchor-many` on their groups
from . import bulk, tx  # noqa: E402, F401

__all__ = ["cli", "main"]
