"""Deploy the suite and keep its addresses in a manifest per chain id (`<dir>/<chainId>.json`).

The manifest is written once, atomically (write to a temporary file, then rename), and only after
every contract deployed: a failed deployment leaves the previous manifest exactly as it was.

A manifest is not trusted as it stands: before anything is sent, `load_for` checks that each address runs
exactly the code of the shipped artifact (immutables masked) and that the contracts point at each other as
deployed, so a tampered manifest (an escrow address pointing at an attacker's contract) is refused.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from . import artifacts
from .chain import Chain, to_address
from .errors import DeploymentError, InvalidInput
from .models import Role

#: Deployment order; each entry's constructor arguments come from `_constructor_args`.
SUITE: tuple[str, ...] = ("ParticipantRegistry", "BillOfLadingRegistry", "CreditHashRegistry", "FinancingEscrow")
#: Days after maturity before a financier may claim the bill of a defaulted financing.
DEFAULT_GRACE_DAYS = 14
#: The shortest tenor (request or offer to maturity) the escrow accepts: no "maturity in two minutes" offer.
DEFAULT_MIN_TENOR_DAYS = 7
#: How long a financing request reserves its invoice fingerprint before another request may take it over.
DEFAULT_RESERVATION_DAYS = 30
#: The longest validity of a credit-report anchor.
DEFAULT_MAX_VALIDITY_DAYS = 400
DAY = 86_400
DEFAULT_DIR = Path("deployments")
DIR_ENV = "EBL_DEPLOYMENTS"


def default_dir() -> Path:
    """$EBL_DEPLOYMENTS, else deployments/ (relative to the working directory)."""
    return Path(os.environ.get(DIR_ENV, DEFAULT_DIR))


@dataclass(frozen=True)
class DeployedContract:
    """One contract of a deployment: its address, and the transaction and block that created it."""

    address: str
    tx_hash: str
    block: int


@dataclass(frozen=True)
class Deployment:
    """The manifest of a deployed suite (`deployments/<chainId>.json`): chain, network profile, deployer and admin,
    and each contract's address."""

    chain_id: int
    network: str
    deployer: str
    admin: str
    deployed_at: str
    source_digest: str
    contracts: dict[str, DeployedContract] = field(default_factory=dict)
    #: steps the admin still has to take (when the deployer is not the admin), for the operator
    pending: list[str] = field(default_factory=list)

    def address(self, name: str) -> str:
        """The address of contract `name`; DeploymentError when the manifest does not list it."""
        try:
            return self.contracts[name].address
        except KeyError:
            raise DeploymentError(f"{name} is not in the deployment of chain {self.chain_id}: redeploy") from None

    def to_json(self) -> dict[str, Any]:
        """The manifest as plain JSON values (what `save` writes)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        """A deployment from its manifest's JSON (`to_json`); KeyError or TypeError for missing or unknown fields."""
        contracts = {name: DeployedContract(**c) for name, c in data["contracts"].items()}
        return cls(**{**data, "contracts": contracts})


def manifest_path(directory: Path, chain_id: int) -> Path:
    """Where the manifest of chain `chain_id` lives in `directory`: `<directory>/<chainId>.json`."""
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
    """The manifest for the connected chain, verified against it (`verify`): DeploymentError otherwise."""
    deployment = load(directory, chain.chain_id)
    verify(chain, deployment, manifest_path(directory, chain.chain_id))
    return deployment


def verify(chain: Chain, deployment: Deployment, source: Path | str = "the manifest") -> None:
    """Refuse a deployment whose contracts are not the shipped ones or not wired to each other: each address
    must run the artifact's runtime code byte for byte (the constructor's immutables masked), and the title
    registry, credit registry and escrow must name the deployment's own contracts."""
    for name, deployed in deployment.contracts.items():
        if name not in artifacts.names():
            raise DeploymentError(f"{source} names {name!r}, no contract of this suite: it may have been tampered "
                                  "with; nothing was sent")
        code = bytearray(chain.w3.eth.get_code(to_address(deployed.address)))
        if not code:
            raise DeploymentError(
                f"{name} at {deployed.address} has no code on chain {chain.chain_id} "
                f"(was the chain reset?): run `ebl deploy --redeploy`"
            )
        artifact = artifacts.load(name)
        expected = bytes.fromhex(artifact.deployed_bytecode.removeprefix("0x"))
        if len(code) == len(expected):
            for references in artifact.immutable_references.values():
                for ref in references:
                    code[ref["start"]:ref["start"] + ref["length"]] = bytes(ref["length"])
        if bytes(code) != expected:
            raise DeploymentError(
                f"{name} at {deployed.address} does not run the {name} code this client ships (code hash "
                f"0x{keccak(bytes(code)).hex()[:16]}..., expected 0x{keccak(expected).hex()[:16]}...): "
                f"{source} may have been tampered with; nothing was sent"
            )
    _verify_wiring(chain, deployment, source)


def _verify_wiring(chain: Chain, deployment: Deployment, source: Path | str) -> None:
    registry = deployment.address("ParticipantRegistry")
    links = [("BillOfLadingRegistry", "participantRegistry", registry),
             ("CreditHashRegistry", "participantRegistry", registry),
             ("FinancingEscrow", "participantRegistry", registry),
             ("FinancingEscrow", "titleRegistry", deployment.address("BillOfLadingRegistry")),
             ("FinancingEscrow", "creditRegistry", deployment.address("CreditHashRegistry"))]
    for name, view, expected in links:
        if name not in deployment.contracts:
            continue
        actual = to_address(chain.call(chain.contract(name, deployment.address(name)), view))
        if actual != to_address(expected):
            raise DeploymentError(
                f"{name} at {deployment.address(name)} answers {view}() = {actual}, not the deployment's "
                f"{expected}: {source} mixes contracts of different deployments; nothing was sent"
            )


def _constructor_args(name: str, admin: str, deployed: dict[str, DeployedContract], settings: Settings) -> list[Any]:
    registry = deployed["ParticipantRegistry"].address if "ParticipantRegistry" in deployed else None
    if name == "ParticipantRegistry":
        return [admin]
    if name == "BillOfLadingRegistry":
        return [registry, admin]
    if name == "CreditHashRegistry":
        return [registry, admin, settings.max_validity_days * DAY]
    if name == "FinancingEscrow":
        return [registry, deployed["BillOfLadingRegistry"].address, deployed["CreditHashRegistry"].address, admin,
                settings.grace_days * DAY, settings.min_tenor_days * DAY, settings.reservation_days * DAY]
    if name == "TestStablecoin":
        return ["Test HKD Stablecoin", "tHKD", admin]
    raise DeploymentError(f"no constructor arguments known for {name}")


@dataclass(frozen=True)
class Settings:
    """The suite's parameters at deployment (the admin may change all but the grace period later). Checked
    against the contracts' bounds when built, so a bad value is refused before anything is deployed."""

    grace_days: int = DEFAULT_GRACE_DAYS
    min_tenor_days: int = DEFAULT_MIN_TENOR_DAYS
    reservation_days: int = DEFAULT_RESERVATION_DAYS
    max_validity_days: int = DEFAULT_MAX_VALIDITY_DAYS

    #: (field, least, most) in days, as FinancingEscrow and CreditHashRegistry check them
    BOUNDS: ClassVar[tuple[tuple[str, int, int], ...]] = (
        ("grace_days", 0, 3650), ("min_tenor_days", 0, 365), ("reservation_days", 1, 365),
        ("max_validity_days", 1, 3650))

    def __post_init__(self) -> None:
        for name, least, most in self.BOUNDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
                raise InvalidInput(f"{name.replace('_', ' ')} {value!r} must be a whole number from {least} to {most}")


def _escrow_onboarding(escrow: str) -> tuple[str, int, bytes, bytes, str]:
    """The escrow's onboarding: an ESCROW participant (that role alone) in the consortium's jurisdiction; its
    "legal identifier" hash commits to its own address, as a contract has no LEI."""
    return (escrow, int(Role.ESCROW), b"HK", keccak(b"ebl-financing-escrow:" + bytes.fromhex(escrow[2:])),
            "0x" + "00" * 20)


def deploy_suite(
    chain: Chain,
    signer: LocalAccount,
    directory: Path,
    *,
    admin: str | None = None,
    redeploy: bool = False,
    settings: Settings = Settings(),
    test_stablecoin: bool = False,
) -> Deployment:
    """Deploy every contract of the suite and write the manifest for the chain.

    Refuses (DeploymentError) when a live deployment exists for this chain unless `redeploy`.
    `admin` (default: the deployer) receives the consortium admin role, e.g. a multisig. When the deployer
    is the admin it also onboards the escrow (ESCROW role, so it may hold pledged bills) and, with
    `test_stablecoin`, deploys a 6-decimal test stablecoin issued by the admin and allowlists it; otherwise
    those steps are listed in `Deployment.pending` for the admin.
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
    for name in (*SUITE, *(("TestStablecoin",) if test_stablecoin else ())):
        receipt = chain.deploy(signer, name, *_constructor_args(name, admin, deployed, settings))
        address = receipt["contractAddress"]
        if address is None:
            raise DeploymentError(f"deploying {name} returned no contract address")
        deployed[name] = DeployedContract(
            address=str(address), tx_hash=receipt["transactionHash"].to_0x_hex(), block=int(receipt["blockNumber"])
        )
    escrow = deployed["FinancingEscrow"].address
    pending: list[str] = []
    if admin == signer.address:
        chain.transact(signer, chain.contract("ParticipantRegistry", deployed["ParticipantRegistry"].address),
                       "onboard", _escrow_onboarding(escrow))
        if test_stablecoin:
            chain.transact(signer, chain.contract("FinancingEscrow", escrow), "setTokenAllowed",
                           deployed["TestStablecoin"].address, True)
    else:
        pending.append(f"admin {admin}: onboard the escrow {escrow} with the escrow role "
                       f"(ebl participants add {escrow} --roles escrow --jurisdiction HK --identifier ESCROW)")
        pending.append(f"admin {admin}: allowlist the settlement token(s) (ebl finance allow-token TOKEN)")
    deployment = Deployment(
        chain_id=chain_id,
        network=chain.profile.name,
        deployer=signer.address,
        admin=admin,
        deployed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source_digest=str(artifacts.index()["sourceDigest"]),
        contracts=deployed,
        pending=pending,
    )
    save(deployment, directory)
    return deployment
