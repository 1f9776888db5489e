"""Deploy the suite with Ape: `ape run deploy --network ethereum:local:foundry` (or ethereum:besu:node).

Reuses the client's deployment code (ebl_client.deployment), so Ape and `ebl deploy` write the same
manifest (<EBL_DEPLOYMENTS or deployments>/<chainId>.json). The signing key comes from $EBL_KEYSTORE
(password in $EBL_KEYSTORE_PASSWORD) or $EBL_PRIVATE_KEY; on Ape's local network, from its first test
account. Set EBL_REDEPLOY=1 to replace a live deployment.
"""

import os
from pathlib import Path

from ape import accounts, networks

from ebl_client import deployment, keys
from ebl_client.chain import Chain
from ebl_client.networks import profile


def _signer(local: bool):
    if os.environ.get("EBL_KEYSTORE"):
        return keys.from_keystore(Path(os.environ["EBL_KEYSTORE"]), None)
    if os.environ.get(keys.DEFAULT_KEY_ENV) or not local:
        return keys.from_env()
    return keys.from_private_key(accounts.test_accounts[0].private_key)


def main():
    provider = networks.provider
    network_name = provider.network.name
    local = network_name == "local"
    chain = Chain.connect(provider.http_uri, profile("anvil" if local else "besu"))
    result = deployment.deploy_suite(
        chain,
        _signer(local),
        deployment.default_dir(),
        admin=os.environ.get("EBL_ADMIN") or None,
        redeploy=os.environ.get("EBL_REDEPLOY") == "1",
    )
    for name, contract in result.contracts.items():
        print(f"{name}: {contract.address} (block {contract.block})")
    print(f"manifest: {deployment.manifest_path(deployment.default_dir(), result.chain_id)}")
