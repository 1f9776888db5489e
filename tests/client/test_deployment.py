"""Deployment manifests: written atomically, only after success, checked against the chain."""

import json

import pytest

from ebl_client import deployment, errors, keys
from ebl_client.chain import Chain
from ebl_client.node import AnvilNode


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
    from ebl_client.participants import Participants

    result = deployment.deploy_suite(chain, admin, tmp_path, admin=signers[7].address)
    registry = Participants.of(chain, result)
    assert registry.is_admin(signers[7].address) and not registry.is_admin(admin.address)


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
