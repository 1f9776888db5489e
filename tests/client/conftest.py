"""Client tests drive the real client against an Anvil that they start themselves (ebl_client.node),
as a bank embedding the client would. Each test that changes the chain runs inside an evm snapshot."""

from __future__ import annotations

import pytest

from ebl_client import deployment, keys, samples
from ebl_client.chain import Chain
from ebl_client.hashing import identifier_hash
from ebl_client.models import Role
from ebl_client.node import AnvilNode, dev_keys
from ebl_client.participants import Participants

from ..clirunner import cli_runner


@pytest.fixture(scope="session")
def anvil():
    with AnvilNode() as node:
        yield node


@pytest.fixture(scope="session")
def signers():
    return [keys.from_private_key(k) for k in dev_keys(20)]


@pytest.fixture(scope="session")
def admin(signers):
    return signers[0]


@pytest.fixture(scope="session")
def chain(anvil):
    return Chain.connect(anvil.url)


@pytest.fixture(scope="session")
def deployments_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("deployments")


@pytest.fixture(scope="session")
def suite(chain, admin, deployments_dir):
    return deployment.deploy_suite(chain, admin, deployments_dir)


@pytest.fixture
def snapshot(chain):
    """Run the test on a snapshot of the chain and roll back afterwards (test-only anvil method)."""
    snap = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    yield
    assert chain.w3.provider.make_request("evm_revert", [snap])["result"] is True


@pytest.fixture
def registry(chain, suite, snapshot):
    return Participants.of(chain, suite)


def people(registry) -> list:
    """The onboarded participants other than the suite's own escrow contract (onboarded at deployment)."""
    return [p for p in registry.list() if p.roles != Role.ESCROW]


def sample_hash(n: int = 0) -> bytes:
    return identifier_hash(f"5493001KJTIIGC8Y1R{n:02d}", bytes([n + 1]) * 32)


@pytest.fixture
def onboard(registry, admin, signers):
    """onboard(i, roles, jurisdiction="HK", institution=None) -> Participant for signers[i]."""

    def _onboard(i: int, roles: Role = Role.TRADER, jurisdiction: str = "HK", institution: str | None = None):
        return registry.onboard(signers[i].address, roles, jurisdiction, sample_hash(i), institution,
                                sender=admin).value

    return _onboard


def travel(chain, seconds: int) -> None:
    """Move the chain clock forward (test-only anvil methods)."""
    chain.w3.provider.make_request("evm_increaseTime", [seconds])
    chain.w3.provider.make_request("evm_mine", [])


@pytest.fixture
def credit_parties(onboard, signers):
    return onboard_credit_parties(onboard, signers)


def onboard_credit_parties(onboard, signers):
    """provider 1, subject 2 (the exporter), bank 3 with officers 4 and 5, bank 6 with officer 7."""
    onboard(1, Role.CREDIT_PROVIDER, "CN")
    onboard(2, Role.TRADER, "HK")
    onboard(3, Role.FINANCIER, "HK")
    onboard(6, Role.FINANCIER, "CN")
    onboard(4, Role.VERIFIER, "HK", institution=signers[3].address)
    onboard(5, Role.VERIFIER, "HK", institution=signers[3].address)
    onboard(7, Role.VERIFIER, "CN", institution=signers[6].address)
    names = ("provider", "subject", "bank", "maker", "checker", "other_bank", "other_officer")
    return dict(zip(names, (signers[i] for i in (1, 2, 3, 4, 5, 6, 7)), strict=True))


# --- the `ebl` command, in process ----------------------------------------------------------------------


@pytest.fixture
def run(anvil, admin, tmp_path, snapshot):
    """run(*args, key=admin_key, **env) -> click Result, against the session Anvil and a tmp manifest dir."""
    # imported here, not at the top: the library tests must not depend on the CLI importing cleanly
    from ebl_client.cli import cli

    runner = cli_runner()
    # COLUMNS unset: tables are as wide as their values (not a terminal), whatever the shell running the tests
    base_env = {"EBL_RPC_URL": anvil.url, "EBL_DEPLOYMENTS": str(tmp_path / "deployments"),
                keys.PASSWORD_ENV: "", "EBL_KEYSTORE": "", "COLUMNS": None}

    admin_key = admin.key.to_0x_hex()

    def _run(*args, key=admin_key, **env):
        return runner.invoke(cli, list(args), env={**base_env, keys.DEFAULT_KEY_ENV: key, **env},
                             catch_exceptions=False)

    _run.manifest = tmp_path / "deployments" / "31337.json"
    return _run


@pytest.fixture
def deployed(run):
    result = run("deploy")
    assert result.exit_code == 0, result.stderr
    return run


def one_error_line(result, *fragments):
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


# --- a trade-finance world: parties, a verified bank, stablecoin balances -------------------------------

TRADE_PARTIES = {"carrier": (1, Role.CARRIER), "exporter": (2, Role.TRADER), "importer": (3, Role.TRADER),
                 "bank_a": (4, Role.FINANCIER), "bank_b": (5, Role.FINANCIER), "provider": (6, Role.CREDIT_PROVIDER),
                 "maker": (7, Role.VERIFIER), "checker": (8, Role.VERIFIER), "payer": (9, Role.TRADER)}
DAY = 86_400


def trade_finance_world(chain, admin, signers, suite, *, days: int = 90) -> dict:
    """Onboard TRADE_PARTIES on `suite` (deployed with the test stablecoin; the officers work for bank A),
    give bank A an approved credit verification of the exporter valid for `days`, and mint stablecoins
    for both banks, the importer and the payer. Returns the parties, the facades and the coin."""
    from ebl_client import hashing
    from ebl_client.bills import Bills
    from ebl_client.credit import CreditRecords
    from ebl_client.financing import Financings

    registry = Participants.of(chain, suite)
    p = {name: signers[i] for name, (i, _) in TRADE_PARTIES.items()}
    for name, (i, role) in TRADE_PARTIES.items():
        institution = p["bank_a"].address if role == Role.VERIFIER else None
        registry.onboard(p[name].address, role, "HK", sample_hash(i), institution, sender=admin)

    def now() -> int:
        return chain.block_time()

    credit = CreditRecords.of(chain, suite)
    commitment = hashing.commit(hashing.load_json_file(samples.CREDIT_REPORT))
    provider = p["provider"].address
    credit.anchor(p["exporter"].address, commitment, now() + days * DAY, sender=p["provider"])
    credit.grant_consent(provider, commitment.root, p["bank_a"].address, now() + days * DAY, sender=p["exporter"])
    credit.record_verification(p["bank_a"].address, p["exporter"].address, provider, commitment.root,
                               sender=p["maker"])
    credit.approve_verification(p["bank_a"].address, p["exporter"].address, sender=p["checker"])
    coin = suite.address("TestStablecoin")
    stable = chain.contract("TestStablecoin", coin)
    for who in ("bank_a", "bank_b", "importer", "payer"):
        chain.transact(admin, stable, "mint", p[who].address, 10**15)
    return {"chain": chain, "p": p, "coin": coin, "stable": stable, "now": now, "bills": Bills.of(chain, suite),
            "fin": Financings.of(chain, suite), "credit": credit, "commitment": commitment}
