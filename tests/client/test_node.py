"""The embedded Anvil: free ports, state that survives a restart, clear errors."""

import pytest

from ebl_client import deployment, errors
from ebl_client.chain import Chain
from ebl_client.node import AnvilNode


def test_state_file_keeps_the_chain_across_a_restart(admin, tmp_path):
    state = tmp_path / "state" / "anvil.json"
    with AnvilNode(state_file=state) as node:
        chain = Chain.connect(node.url)
        deployed = deployment.deploy_suite(chain, admin, tmp_path)
        height = chain.w3.eth.block_number
    assert state.exists()
    with AnvilNode(state_file=state) as node:
        chain = Chain.connect(node.url)
        assert chain.has_code(deployed.address("ParticipantRegistry"))
        assert chain.w3.eth.block_number == height


def test_a_busy_port_is_refused(anvil):
    with pytest.raises(errors.NodeError, match="already in use"):
        AnvilNode(port=anvil.port).start()


def test_a_missing_binary_is_a_node_error(monkeypatch):
    monkeypatch.setenv("EBL_ANVIL", "/nonexistent/anvil")
    with pytest.raises(errors.NodeError, match="cannot run anvil"):
        AnvilNode().start()


def test_a_state_file_serves_one_node_at_a_time(tmp_path):
    state = tmp_path / "state.json"
    with AnvilNode(state_file=state) as first:
        with pytest.raises(errors.NodeError, match="is in use by a running node"):
            AnvilNode(state_file=state, fresh=True).start()
        assert Chain.connect(first.url).w3.eth.block_number == 0  # the first node is untouched
    with AnvilNode(state_file=state):  # released when the first node stopped
        pass
