"""`ebl deploy`: deploy the suite and write the manifest <deployments>/<chainId>.json."""

from __future__ import annotations

import click

from .. import deployment as deployments
from .app import Action, Context, sends
from .output import emit_json, emit_table


def show_deployment(ctx: Context, result: deployments.Deployment) -> None:
    if ctx.as_json:
        emit_json(result)
        return
    emit_table(
        f"deployed on chain {result.chain_id} ({result.network}); admin {result.admin}",
        ["contract", "address", "block", "transaction"],
        ([name, c.address, c.block, c.tx_hash] for name, c in result.contracts.items()),
    )
    click.echo(f"manifest: {deployments.manifest_path(ctx.deployments_dir, result.chain_id)}")
    for step in result.pending:
        click.echo(f"still to do: {step}")


@click.command()
@click.option("--admin", default=None, help="Account that receives the consortium admin role (default: the signer).")
@click.option("--redeploy", is_flag=True, help="Replace an existing live deployment on this chain.")
@click.option("--grace-days", type=click.IntRange(min=0), default=deployments.DEFAULT_GRACE_DAYS, show_default=True,
              help="Days after maturity before a financier may claim a defaulted financing's bill.")
@click.option("--test-stablecoin", is_flag=True, help="Also deploy and allowlist a test stablecoin (tHKD).")
@sends(show_deployment)
def deploy(ctx: Context, admin: str | None, redeploy: bool, grace_days: int,
           test_stablecoin: bool) -> Action[deployments.Deployment]:
    """Deploy the suite and write the manifest <deployments>/<chainId>.json."""
    return lambda signer: deployments.deploy_suite(ctx.chain(), signer, ctx.deployments_dir, admin=admin,
                                                   redeploy=redeploy, grace_days=grace_days,
                                                   test_stablecoin=test_stablecoin)
