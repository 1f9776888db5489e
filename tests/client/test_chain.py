"""Connection, addresses, nonces, fee profiles and revert decoding in ebl_client.chain."""

import threading

import pytest
from eth_abi import encode

from ebl_client import artifacts, errors
from ebl_client.chain import Chain, RevertDecoder, to_address, transaction_of
from ebl_client.models import Role
from ebl_client.networks import BESU, profile
from ebl_client.node import BESU_LIKE, AnvilNode, free_port
from ebl_client.participants import Participants

from .conftest import people, sample_hash


def test_unreachable_node_is_connection_failed():
    with pytest.raises(errors.ConnectionFailed, match="cannot reach the node"):
        Chain.connect(f"http://127.0.0.1:{free_port()}")


def test_wrong_chain_id(anvil):
    with pytest.raises(errors.WrongChain, match="serves chain id 31337, expected 1337"):
        Chain.connect(anvil.url, expected_chain_id=1337)
    assert Chain.connect(anvil.url, expected_chain_id=31337).chain_id == 31337


@pytest.mark.parametrize("url", ["127.0.0.1:8545", "ftp://node", "http://", "ws://127.0.0.1:8546"])
def test_malformed_url(url):
    with pytest.raises(errors.InvalidInput):
        Chain.connect(url)


def test_unknown_profile():
    with pytest.raises(errors.InvalidInput, match="unknown network profile"):
        profile("geth")


def test_addresses():
    lower = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
    assert to_address(lower) == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert to_address(" 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 ") == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    with pytest.raises(errors.InvalidInput, match="checksum"):
        to_address("0x70997970C51812dc3A010C7d01b50e0d17dc79c8")
    for bad in ("0x1234", "hello", "70997970c51812dc3a010c7d01b50e0d17dc79c8zz", ""):
        with pytest.raises(errors.InvalidInput):
            to_address(bad)


def test_every_contract_error_has_a_named_exception():
    names = RevertDecoder.for_suite().error_names()
    missing = sorted(n for n in names if n not in errors.ContractRevert.registry)
    assert names and missing == []


def test_decoder_handles_unknown_panic_and_string_reverts():
    decoder = RevertDecoder([artifacts.load("ParticipantRegistry").abi])
    unknown = decoder.decode(bytes.fromhex("deadbeef"))
    assert isinstance(unknown, errors.UnknownContractError)
    panic = decoder.decode(bytes.fromhex("4e487b71") + encode(["uint256"], [0x32]))
    assert isinstance(panic, errors.TransactionFailed) and "0x32" in str(panic)
    text = decoder.decode(bytes.fromhex("08c379a0") + encode(["string"], ["nope"]))
    assert str(text) == "reverted: nope"


def test_struct_results_decode_by_field_name_and_writes_return_their_transaction(chain, suite, admin, signers,
                                                                                snapshot):
    registry = Participants.of(chain, suite)
    participant, tx = registry.onboard(signers[1].address, Role.TRADER, "HK", sample_hash(1), sender=admin)
    raw = chain.call(registry.contract, "participant", signers[1].address)
    assert raw.roles == int(Role.TRADER) and raw.jurisdiction == b"HK" and raw.identifierHash == sample_hash(1)
    receipt = chain.w3.eth.get_transaction_receipt(tx.hash)
    assert transaction_of(receipt) == tx and tx.sender == admin.address and tx.gas_used == receipt["gasUsed"]
    with chain.journal() as receipts:
        registry.suspend(signers[1].address, sender=admin)
        with pytest.raises(errors.AlreadySuspended):  # refused at estimation: nothing mined, nothing journaled
            registry.suspend(signers[1].address, sender=admin)
    assert len(receipts) == 1 and participant.active


def test_many_transactions_in_a_row_from_one_key(chain, suite, admin, signers, snapshot):
    registry = Participants.of(chain, suite)
    start = chain.w3.eth.get_transaction_count(admin.address)
    threads = [
        threading.Thread(target=registry.onboard, args=(signers[i].address, Role.TRADER, "HK", sample_hash(i)),
                         kwargs={"sender": admin})
        for i in range(1, 9)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(people(registry)) == 8
    assert chain.w3.eth.get_transaction_count(admin.address) == start + 8


def test_nonce_recovers_after_the_chain_rolls_back(chain, suite, admin, signers, snapshot):
    registry = Participants.of(chain, suite)
    inner = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    registry.onboard(signers[1].address, Role.TRADER, "HK", sample_hash(1), sender=admin)
    assert chain.w3.provider.make_request("evm_revert", [inner])["result"] is True
    # our last transaction is gone: the client must not leave a nonce gap
    assert registry.onboard(signers[1].address, Role.TRADER, "HK", sample_hash(1), sender=admin).value.active


@pytest.fixture(scope="module")
def besu_like():
    with AnvilNode(**BESU_LIKE) as node:
        yield node


def test_besu_profile_legacy_zero_price_interval_mining(besu_like, admin, signers, tmp_path):
    from ebl_client import deployment

    chain = Chain.connect(besu_like.url, BESU, expected_chain_id=1337)
    suite = deployment.deploy_suite(chain, admin, tmp_path)
    registry = Participants.of(chain, suite)
    _, mined = registry.onboard(signers[1].address, Role.TRADER, "HK", sample_hash(1), sender=admin)
    tx = chain.w3.eth.get_transaction(mined.hash)
    assert tx["type"] == 0 and tx["gasPrice"] == 0 and tx["blockNumber"] == mined.block


def test_a_race_lost_after_estimation_is_still_named(besu_like, admin, signers, tmp_path):
    """Two onboardings of one account sent into the same 1-second block: one wins, the other is
    refused as AlreadyOnboarded, whether at estimation or by replaying the mined failure."""
    from ebl_client import deployment

    chain = Chain.connect(besu_like.url, BESU)
    registry = Participants.of(chain, deployment.deploy_suite(chain, admin, tmp_path))
    outcomes: list[object] = []

    def attempt():
        try:
            outcomes.append(registry.onboard(signers[2].address, Role.TRADER, "HK", sample_hash(2), sender=admin).value)
        except errors.EblError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["AlreadyOnboarded", "Participant"]
