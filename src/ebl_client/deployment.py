"""Deploy the suite and keep its addresses in a manifest per chain id (`<dir>/<chainId>.json`).

The manifest is written once, atomically (write to a temporary file, then rename), and only after
every contract deployed: a failed deployment leaves the previous manifest exactly as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from . import artifacts
from .chain import Chain, to_address
from .errors import DeploymentError

#: Deployment order; each entry's constructor arguments come from `_constructor_args`.
SUITE: tuple[str, ...] = ("ParticipantRegistry", "BillOfLadingRegistry", "CreditHashRegistry")
DEFAULT_DIR = Path("deployments")
DIR_ENV = "EBL_DEPLOYMENTS"


def default_dir() -> Path:
    return Path(os.environ.get(DIR_ENV, DEFAULT_DIR))


@dataclass(frozen=True)
class DeployedContract:
    address: str
    tx_hash: str
    block: int


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    network: str
    deployer: str
    admin: str
    deployed_at: str
    source_digest: str
    contracts: dict[str, DeployedContract] = field(default_factory=dict)

    def address(self, name: str) -> str:
        try:
            return self.contracts[name].address
        except KeyError:
            raise DeploymentError(f"{name} is not in the deployment of chain {self.chain_id}: redeploy") from None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        contracts = {name: DeployedContract(**c) for name, c in data["contracts"].items()}
        return cls(**{**data, "contracts": contracts})


def manifest_path(directory: Path, chain_id: int) -> Path:
    return Path(directory) / f"{chain_id}.json"


def load(directory: Path, chain_id: int) -> Deployment:
    """The manifest for `chain_id`; DeploymentError when there is none or it is unreadable."""
    path = manifest_path(directory, chain_id)
    try:
        return Deployment.from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        raise DeploymentError(f"no deployment for chain {chain_id} in {directory}/: run `ebl deploy` first") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise DeploymentError(f"deployment manifest {path} is unreadable: {exc}") from None


def save(deployment: Deployment, directory: Path) -> Path:
    """Write the manifest atomically: a reader sees the old file or the new one, never half of one."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = manifest_path(directory, deployment.chain_id)
    fd, tmp = tempfile.mkstemp(prefix=f".{deployment.chain_id}.", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(deployment.to_json(), fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_for(chain: Chain, directory: Path) -> Deployment:
    """The manifest for the connected chain, checked against it: every contract must have code."""
    deployment = load(directory, chain.chain_id)
    for name, deployed in deployment.contracts.items():
        if not chain.has_code(deployed.address):
            raise DeploymentError(
                f"{name} at {deployed.address} has no code on chain {chain.chain_id} "
                f"(was the chain reset?): run `ebl deploy --redeploy`"
            )
    return deployment


def _constructor_args(name: str, admin: str, deployed: dict[str, DeployedContract]) -> list[Any]:
    if name == "ParticipantRegistry":
        return [admin]
    if name == "BillOfLadingRegistry":
        return [deployed["ParticipantRegistry"].address, admin]
    if name == "CreditHashRegistry":
        return [deployed["ParticipantRegistry"].address]
    raise DeploymentError(f"no constructor arguments known for {name}")


def deploy_suite(
    chain: Chain,
    signer: LocalAccount,
    directory: Path,
    *,
    admin: str | None = None,
    redeploy: bool = False,
) -> Deployment:
    """Deploy every contract of the suite and write the manifest for the chain.

    Refuses (DeploymentError) when a live deployment exists for this chain unless `redeploy`.
    `admin` (default: the deployer) receives the consortium admin role, e.g. a multisig.
    """
    chain_id = chain.chain_id
    admin = to_address(admin, what="admin") if admin else signer.address
    if not redeploy and manifest_path(directory, chain_id).exists():
        try:
            load_for(chain, directory)
        except DeploymentError:
            pass  # stale or unreadable manifest: replacing it is what the user needs
        else:
            raise DeploymentError(
                f"the suite is already deployed on chain {chain_id} ({manifest_path(directory, chain_id)}); "
                "pass --redeploy to replace it"
            )
    deployed: dict[str, DeployedContract] = {}
    for name in SUITE:
        receipt = chain.deploy(signer, name, *_constructor_args(name, admin, deployed))
        address = receipt["contractAddress"]
        if address is None:
            raise DeploymentError(f"deploying {name} returned no contract address")
        deployed[name] = DeployedContract(
            address=str(address), tx_hash=receipt["transactionHash"].to_0x_hex(), block=int(receipt["blockNumber"])
        )
    deployment = Deployment(
        chain_id=chain_id,
        network=chain.profile.name,
        deployer=signer.address,
        admin=admin,
        deployed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source_digest=str(artifacts.index()["sourceDigest"]),
        contracts=deployed,
    )
    save(deployment, directory)
    return deployment
