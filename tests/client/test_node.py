"""The embedded Anvil: free ports, state that survives a restart, clear errors."""

import re

import pytest

from ebl_client import deployment, errors
from ebl_client.chain import Chain
from ebl_client.node import AnvilNode, log_path


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


def test_a_busy_port_is_refused_naming_the_log(anvil, tmp_path):
    state = tmp_path / "state.json"
    with pytest.raises(errors.NodeError, match=f"already in use.*; see {re.escape(str(log_path(state)))}$"):
        AnvilNode(port=anvil.port, state_file=state).start()
    assert "already in use" in log_path(state).read_text()


def test_a_missing_binary_is_a_node_error_naming_the_log(monkeypatch, tmp_path):
    monkeypatch.setenv("EBL_ANVIL", "/nonexistent/anvil")
    node = AnvilNode(log_file=tmp_path / "anvil.log")
    with pytest.raises(errors.NodeError, match=f"cannot run anvil.*; see {re.escape(str(tmp_path / 'anvil.log'))}$"):
        node.start()
    assert "cannot run anvil" in (tmp_path / "anvil.log").read_text()


def test_a_state_file_serves_one_node_at_a_time(tmp_path):
    state = tmp_path / "state.json"
    with AnvilNode(state_file=state) as first:
        with pytest.raises(errors.NodeError, match="is in use by a running node"):
            AnvilNode(state_file=state, fresh=True).start()
        assert Chain.connect(first.url).w3.eth.block_number == 0  # the first node is untouched
    with AnvilNode(state_file=state):  # released when the first node stopped
        pass
