"""`ebl demo`: the main job (`make demo`) from the `ebl` command: one Hong Kong -> Shanghai shipment end to
end, with the options and the report of `python -m ebl_client.demo`."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from .. import demo as story
from .. import deployment as deployments
from ..networks import PROFILES
from ..node import BESU_LIKE_STATE_FILE, STATE_FILE
from .app import Context, pass_ctx

#: root options that do not reach the demo: its own --rpc-url ... go after `demo`
ROOT_OPTIONS = {"rpc_url": "--rpc-url", "network": "--network", "chain_id": "--chain-id",
                "deployments_dir": "--deployments"}


@click.command("demo")
@click.option("--state-file", type=click.Path(path_type=Path), default=None,
              help=f"Embedded Anvil state; the directory and the index go beside it. [default: {STATE_FILE}; "
                   f"{BESU_LIKE_STATE_FILE} with --besu-like]")
@click.option("--deployments", "deployments_dir", type=click.Path(path_type=Path),
              default=deployments.default_dir,
              help=f"Manifest directory. [default: ${deployments.DIR_ENV} or {deployments.DEFAULT_DIR}]")
@click.option("--work-dir", type=click.Path(path_type=Path), default=story.Options.work_dir, show_default=True,
              help="Where the commitment, the service's database and keystore and the audit trail are kept, in "
                   "<work dir>/<chain id>/.")
@click.option("--besu-like", is_flag=True,
              help="Start the embedded Anvil Besu-like (chain 1337, free gas, 1 s blocks) and use the besu profile.")
@click.option("--rpc-url", default=None,
              help="Run against this node instead of the embedded Anvil (e.g. networks/besu); deploys a new suite "
                   "there.")
@click.option("--network", type=click.Choice(sorted(PROFILES)), default="anvil", show_default=True,
              help="Profile for --rpc-url.")
@click.option("--chain-id", type=int, default=None, help="Refuse to run unless the node serves this chain id.")
@pass_ctx
def demo(ctx: Context, state_file: Path | None, deployments_dir: Path, work_dir: Path, besu_like: bool,
         rpc_url: str | None, network: str, chain_id: int | None) -> None:
    """Run the demo story on a fresh chain and print its report (with --json: the report as JSON on stdout,
    progress on stderr). Its node options go after `demo`: $EBL_RPC_URL and the root options do not apply."""
    root = click.get_current_context().find_root()
    given = [flag for name, flag in ROOT_OPTIONS.items()
             if root.get_parameter_source(name) is ParameterSource.COMMANDLINE]
    if given:
        raise click.UsageError(f"{', '.join(given)} before `demo` does not apply to it: give it after `demo`")
    options = story.Options(state_file=state_file, deployments_dir=deployments_dir, work_dir=work_dir,
                            rpc_url=rpc_url, network=network, chain_id=chain_id, besu_like=besu_like)
    problem = story.option_conflict(options)
    if problem:
        raise click.UsageError(problem)
    click.get_current_context().exit(story.run_and_report(options, as_json=ctx.as_json))
