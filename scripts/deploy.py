"""Deploy the suite with Ape: `ape run deploy --network ethereum:local:foundry` (or ethereum:besu:node).

Reuses the client's deployment code (ebl_client.deployment), so Ape and `ebl deploy` write the same
manifest (<EBL_DEPLOYMENTS or deployments>/<chainId>.json), verified against the chain before any later
use. The signing key comes from $EBL_KEYSTORE (password in $EBL_KEYSTORE_PASSWORD) or $EBL_PRIVATE_KEY; on
Ape's local network, from its first test account. Set EBL_REDEPLOY=1 to replace a live deployment,
EBL_ADMIN to give the consortium admin role to another account (e.g. a multisig), EBL_TEST_STABLECOIN=1 to
also deploy and allowlist the 6-decimal test stablecoin (dev chains only).

The suite's settings (deployment.Settings) come from the environment, each defaulting to the client's:
EBL_GRACE_DAYS (days after maturity before a financier may claim), EBL_MIN_TENOR_DAYS (shortest tenor of a
request or offer), EBL_RESERVATION_DAYS (how long a request reserves its invoice), EBL_MAX_VALIDITY_DAYS
(longest validity of a credit anchor).
"""

import os
from pathlib import Path

from ape import accounts, networks

from ebl_client import deployment, keys
from ebl_client.chain import Chain
from ebl_client.errors import InvalidInput
from ebl_client.networks import profile

#: environment variable -> deployment.Settings field
SETTINGS_ENV = {
    "EBL_GRACE_DAYS": "grace_days",
    "EBL_MIN_TENOR_DAYS": "min_tenor_days",
    "EBL_RESERVATION_DAYS": "reservation_days",
    "EBL_MAX_VALIDITY_DAYS": "max_validity_days",
}


def _signer(local: bool):
    if os.environ.get("EBL_KEYSTORE"):
        return keys.from_keystore(Path(os.environ["EBL_KEYSTORE"]), None)
    if os.environ.get(keys.DEFAULT_KEY_ENV) or not local:
        return keys.from_env()
    return keys.from_private_key(accounts.test_accounts[0].private_key)


def settings_from_env(environ=os.environ) -> deployment.Settings:
    """deployment.Settings with each field the environment sets (whole days, not negative)."""
    values = {}
    for variable, name in SETTINGS_ENV.items():
        text = environ.get(variable, "").strip()
        if not text:
            continue
        if not text.isdigit():
            raise InvalidInput(f"${variable} must be a whole number of days, not {text!r}")
        values[name] = int(text)
    return deployment.Settings(**values)


def main():
    provider = networks.provider
    local = provider.network.name == "local"
    chain = Chain.connect(provider.http_uri, profile("anvil" if local else "besu"))
    settings = settings_from_env()
    result = deployment.deploy_suite(
        chain,
        _signer(local),
        deployment.default_dir(),
        admin=os.environ.get("EBL_ADMIN") or None,
        redeploy=os.environ.get("EBL_REDEPLOY") == "1",
        settings=settings,
        test_stablecoin=os.environ.get("EBL_TEST_STABLECOIN") == "1",
    )
    for name, contract in result.contracts.items():
        print(f"{name}: {contract.address} (block {contract.block})")
    print(f"settings: grace {settings.grace_days} days, minimum tenor {settings.min_tenor_days} days, "
          f"reservation {settings.reservation_days} days, credit anchors valid at most "
          f"{settings.max_validity_days} days")
    for step in result.pending:
        print(f"still to do: {step}")
    print(f"manifest: {deployment.manifest_path(deployment.default_dir(), result.chain_id)}")
