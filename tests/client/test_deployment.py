"""Deployment manifests: written atomically, only after success, checked against the chain."""

import json

import pytest

from ebl_client import deployment, errors, keys
from ebl_client.chain import Chain
from ebl_client.credit import CreditRecords
from ebl_client.financing import Financings
from ebl_client.models import Role
from ebl_client.node import AnvilNode
from ebl_client.participants import Participants

DAY = 86_400


def test_deploy_writes_a_manifest_that_loads_back(chain, admin, tmp_path, snapshot):
    result = deployment.deploy_suite(chain, admin, tmp_path)
    path = deployment.manifest_path(tmp_path, 31337)
    assert json.loads(path.read_text())["contracts"]["ParticipantRegistry"]["address"] == result.address(
        "ParticipantRegistry")
    assert deployment.load_for(chain, tmp_path) == result
    assert result.admin == admin.address and result.network == "anvil"
    assert [p.name for p in tmp_path.iterdir()] == ["31337.json"]  # no temporary file left behind


def test_a_second_deploy_is_refused_and_the_manifest_kept(chain, admin, tmp_path, snapshot):
    deployment.deploy_suite(chain, admin, tmp_path)
    before = deployment.manifest_path(tmp_path, 31337).read_bytes()
    with pytest.raises(errors.DeploymentError, match="already deployed"):
        deployment.deploy_suite(chain, admin, tmp_path)
    assert deployment.manifest_path(tmp_path, 31337).read_bytes() == before
    replaced = deployment.deploy_suite(chain, admin, tmp_path, redeploy=True)
    assert deployment.load(tmp_path, 31337) == replaced


def test_admin_can_be_another_account(chain, admin, signers, tmp_path, snapshot):
    result = deployment.deploy_suite(chain, admin, tmp_path, admin=signers[7].address, test_stablecoin=True)
    registry = Participants.of(chain, result)
    assert registry.is_admin(signers[7].address) and not registry.is_admin(admin.address)
    # the deployer cannot onboard the escrow or allowlist the coin for another admin: both are left to it
    assert result.pending and all(step.startswith(f"admin {signers[7].address}") for step in result.pending)
    escrow = result.address("FinancingEscrow")
    assert not registry.is_active(escrow, Role.ESCROW)
    assert not Financings.of(chain, result).is_allowed_token(result.address("TestStablecoin"))


def test_settings_reach_the_contracts(chain, admin, tmp_path, snapshot):
    settings = deployment.Settings(grace_days=3, min_tenor_days=2, reservation_days=10, max_validity_days=100)
    suite = deployment.deploy_suite(chain, admin, tmp_path, settings=settings)
    fin, credit = Financings.of(chain, suite), CreditRecords.of(chain, suite)
    assert (fin.grace_period(), fin.min_tenor(), fin.reservation_period()) == (3 * DAY, 2 * DAY, 10 * DAY)
    assert credit.max_validity() == 100 * DAY
    # another grace period is another immutable in the escrow's code: still the shipped code, masked
    assert deployment.load_for(chain, tmp_path) == suite


def test_defaults_are_the_documented_ones(chain, suite):
    fin, credit = Financings.of(chain, suite), CreditRecords.of(chain, suite)
    assert deployment.Settings() == deployment.Settings(grace_days=14, min_tenor_days=7, reservation_days=30,
                                                        max_validity_days=400)
    assert (fin.grace_period(), fin.min_tenor(), fin.reservation_period()) == (14 * DAY, 7 * DAY, 30 * DAY)
    assert credit.max_validity() == 400 * DAY


@pytest.mark.parametrize("settings", [{"reservation_days": 0}, {"min_tenor_days": 366}, {"reservation_days": 366},
                                      {"max_validity_days": 11 * 366}])
def test_settings_out_of_range_are_refused_and_the_manifest_kept(chain, admin, tmp_path, snapshot, settings):
    """Refused by the contract's constructor (InvalidSetting, InvalidMaxValidity) or, where the client checks
    the bounds first, as InvalidInput: either way no suite is deployed and the previous manifest stays."""
    deployment.deploy_suite(chain, admin, tmp_path)
    before = deployment.manifest_path(tmp_path, 31337).read_bytes()
    with pytest.raises((errors.InvalidSetting, errors.InvalidMaxValidity, errors.InvalidInput)):
        deployment.deploy_suite(chain, admin, tmp_path, redeploy=True, settings=deployment.Settings(**settings))
    assert deployment.manifest_path(tmp_path, 31337).read_bytes() == before


def test_missing_manifest(chain, tmp_path):
    with pytest.raises(errors.DeploymentError, match="run `ebl deploy` first"):
        deployment.load_for(chain, tmp_path)


def test_manifest_of_a_reset_chain_is_detected(admin, tmp_path):
    with AnvilNode() as node:
        deployment.deploy_suite(Chain.connect(node.url), admin, tmp_path)
    with AnvilNode() as fresh, pytest.raises(errors.DeploymentError, match="has no code"):  # same id, empty chain
        deployment.load_for(Chain.connect(fresh.url), tmp_path)


def test_unreadable_manifest(chain, tmp_path):
    deployment.manifest_path(tmp_path, 31337).write_text("{not json")
    with pytest.raises(errors.DeploymentError, match="unreadable"):
        deployment.load(tmp_path, 31337)


def test_a_failed_deploy_leaves_the_previous_manifest(chain, admin, tmp_path, snapshot):
    deployment.deploy_suite(chain, admin, tmp_path)
    before = deployment.manifest_path(tmp_path, 31337).read_bytes()
    pauper = keys.from_private_key("0x" + "42" * 32)  # holds no ether to pay for gas
    with pytest.raises(errors.EblError):
        deployment.deploy_suite(chain, pauper, tmp_path, redeploy=True)
    assert deployment.manifest_path(tmp_path, 31337).read_bytes() == before
