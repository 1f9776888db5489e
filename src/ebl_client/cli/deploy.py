"""`ebl deploy`: deploy the suite and write the manifest <deployments>/<chainId>.json."""

from __future__ import annotations

import click

from .. import deployment as deployments
from .app import Context, pass_ctx, signer_options
from .files import writable_folder
from .output import emit_json, emit_table
from .values import Address


def show_deployment(ctx: Context, result: deployments.Deployment, settings: deployments.Settings) -> None:
    """The manifest (JSON: exactly the manifest file's content, each contract with its deployment transaction),
    or a table of the contracts, their blocks and transactions, and the settings deployed with."""
    if ctx.as_json:
        emit_json(result)
        return
    emit_table(
        f"deployed on chain {result.chain_id} ({result.network}); admin {result.admin}",
        ["contract", "address", "block", "transaction"],
        ([name, c.address, c.block, c.tx_hash] for name, c in result.contracts.items()),
    )
    click.echo(f"settings: minimum tenor {settings.min_tenor_days} days, invoice reservation "
               f"{settings.reservation_days} days, grace period {settings.grace_days} days, longest credit "
               f"validity {settings.max_validity_days} days")
    click.echo(f"manifest: {deployments.manifest_path(ctx.deployments_dir, result.chain_id)}")
    for step in result.pending:
        click.echo(f"still to do: {step}")


@click.command()
@click.option("--admin", default=None, type=Address("admin"),
              help="Account that receives the consortium admin role (default: the signer).")
@click.option("--redeploy", is_flag=True, help="Replace an existing live deployment on this chain.")
@click.option("--grace-days", type=click.IntRange(min=0, max=3650), default=deployments.DEFAULT_GRACE_DAYS,
              show_default=True, help="Days after maturity before a financier may claim a defaulted financing's bill.")
@click.option("--min-tenor-days", type=click.IntRange(min=0, max=365), default=deployments.DEFAULT_MIN_TENOR_DAYS,
              show_default=True, help="Shortest tenor (request or offer to maturity) the escrow accepts.")
@click.option("--reservation-days", type=click.IntRange(min=1, max=365),
              default=deployments.DEFAULT_RESERVATION_DAYS, show_default=True,
              help="How long a financing request reserves its invoice fingerprint.")
@click.option("--max-validity-days", type=click.IntRange(min=1, max=3650),
              default=deployments.DEFAULT_MAX_VALIDITY_DAYS, show_default=True,
              help="Longest validity of a credit-report anchor.")
@click.option("--test-stablecoin", is_flag=True, help="Also deploy and allowlist a test stablecoin (tHKD).")
@signer_options
@pass_ctx
def deploy(ctx: Context, admin: str | None, redeploy: bool, grace_days: int, min_tenor_days: int,
           reservation_days: int, max_validity_days: int, test_stablecoin: bool) -> None:
    """Deploy the suite and write the manifest <deployments>/<chainId>.json. The admin may change every setting
    but the grace period later (`ebl finance set-min-tenor`, `set-reservation-period`, `ebl credit
    set-max-validity`)."""
    settings = deployments.Settings(grace_days=grace_days, min_tenor_days=min_tenor_days,
                                    reservation_days=reservation_days, max_validity_days=max_validity_days)
    folder = writable_folder(ctx.deployments_dir, "deployments folder")  # before any contract is deployed
    signer = ctx.signer()
    result = deployments.deploy_suite(ctx.chain(), signer, folder, admin=admin, redeploy=redeploy,
                                      settings=settings, test_stablecoin=test_stablecoin)
    show_deployment(ctx, result, settings)
