"""A root group with the options `cli.app`'s root gives the index commands (the real root is being rewritten
on another branch): the commands see the same attributes, and errors become one `error:` line, exit 1.

Run as a program (`python -m tests.index.cli_root ...`) it is the `ebl` command for these commands."""

from __future__ import annotations

import importlib
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

import ebl_client
from ebl_client.errors import EblError

try:
    importlib.import_module("ebl_client.cli")
except ImportError:
    # On this branch cli/app.py (rewritten on another branch) still imports a name the client no longer
    # has, so the package's __init__, which imports every command group, fails. The index commands do not
    # import cli.app: load them from the package folder without running its __init__.
    package = types.ModuleType("ebl_client.cli")
    package.__path__ = [str(Path(ebl_client.__file__).parent / "cli")]
    sys.modules["ebl_client.cli"] = package

from ebl_client.cli import audit, inbox, index, views


@dataclass
class Root:
    rpc_url: str | None
    network: str
    chain_id: int | None
    deployments_dir: Path
    as_json: bool


class Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EblError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=Group)
@click.option("--rpc-url", envvar="EBL_RPC_URL", default=None)
@click.option("--chain-id", type=int, envvar="EBL_CHAIN_ID", default=None)
@click.option("--deployments", "deployments_dir", type=click.Path(path_type=Path), envvar="EBL_DEPLOYMENTS",
              default=Path("deployments"))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def root(ctx: click.Context, rpc_url: str | None, chain_id: int | None, deployments_dir: Path, as_json: bool) -> None:
    ctx.obj = Root(rpc_url, "anvil", chain_id, deployments_dir, as_json)


@root.group("bill")
def bill() -> None:
    """Bills."""


@root.group("finance")
def finance() -> None:
    """Financing."""


for command in (index.index, inbox.inbox, audit.audit):
    root.add_command(command)
bill.add_command(views.bill_list)
finance.add_command(views.finance_book)

if __name__ == "__main__":
    sys.exit(root.main(sys.argv[1:], prog_name="ebl"))
