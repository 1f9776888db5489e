"""BillOfLadingRegistry: every lifecycle action succeeds for the right party and is refused, with the named
custom error and its values, for each wrong party and each wrong state; the ERC-721 read side; the pledge
into an escrow; events; gas targets. Tests named after a finding of the security review perform its attack."""

import hashlib
from enum import IntEnum

import ape
import pytest
from eth_utils import function_signature_to_4byte_selector, keccak

from ebl_client.models import BillStatus, TitleAction

CARRIER_ROLE, TRADER_ROLE, ESCROW_ROLE = 1 << 0, 1 << 1, 1 << 6
ZERO = "0x" + "00" * 20
NO_REMARK = b"\0" * 32
REMARK = keccak(text="remark: see letter of credit HK-LC-2024-118")
ID_HASH = keccak(b"\x02" * 32 + b"91310000MA1FL3K52X")


# The client's enums, checked against the Solidity ones in tests/test_artifacts.py.
Status, Action = BillStatus, TitleAction


class Move(IntEnum):
    NONE = 0
    HOLDER = 1
    BENEFICIARY = 2
    OWNERS = 3
    OWNERS_FROM_BEARER = 4


def ref(text: str) -> bytes:
    """A DCSA transportDocumentReference (at most 20 characters), right-padded to bytes32."""
    return text.encode().ljust(32, b"\0")


def document(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


REF = ref("HKGSHA2411001")
DOC = document('{"transportDocumentReference":"HKGSHA2411001","portOfLoading":"HKHKG"}')
DOC_AMENDED = document('{"transportDocumentReference":"HKGSHA2411001","portOfLoading":"HKHKG","v":2}')


# ------------------------------------------------------------------ parties and contracts


@pytest.fixture(scope="module")
def carrier(accounts):
    return accounts[1]


@pytest.fixture(scope="module")
def other_carrier(accounts):
    return accounts[2]


@pytest.fixture(scope="module")
def shipper(accounts):
    return accounts[3]


@pytest.fixture(scope="module")
def bank(accounts):
    return accounts[4]


@pytest.fixture(scope="module")
def importer(accounts):
    return accounts[5]


@pytest.fixture(scope="module")
def agent(accounts):
    return accounts[6]


@pytest.fixture(scope="module")
def suspended(accounts):
    return accounts[7]


@pytest.fixture(scope="module")
def participants(project, admin, outsider, carrier, other_carrier, shipper, bank, importer, agent, suspended):
    """Every party onboarded except the outsider (never onboarded); `suspended` is onboarded, then suspended."""
    registry = admin.deploy(project.ParticipantRegistry, admin)
    onboard = [
        (carrier, CARRIER_ROLE),
        (other_carrier, CARRIER_ROLE),
        (shipper, TRADER_ROLE),
        (bank, TRADER_ROLE),
        (importer, TRADER_ROLE),
        (agent, TRADER_ROLE),
        (suspended, TRADER_ROLE),
    ]
    for account, roles in onboard:
        registry.onboard((account, roles, b"HK", ID_HASH, ZERO), sender=admin)
    registry.suspend(suspended, keccak(text="sanctions screening hit"), sender=admin)
    assert not registry.isActive(outsider, TRADER_ROLE)
    return registry


@pytest.fixture(scope="module")
def bills(project, admin, participants):
    return admin.deploy(project.BillOfLadingRegistry, participants, admin)


@pytest.fixture(scope="module")
def escrow(project, admin, participants, bills):
    """A pledge receiver onboarded with the ESCROW role, standing in for the financing escrow (which has its
    own tests): it accepts pledges unless told otherwise and can hand a bill on."""
    receiver = admin.deploy(project.TestPledgeReceiver, bills)
    participants.onboard((receiver, ESCROW_ROLE, b"HK", ID_HASH, ZERO), sender=admin)
    return receiver


PLEDGE_DATA = b"financing request"


def issue(bills, carrier, holder, beneficiary=None, straight=False, reference=REF, doc=DOC, remark=NO_REMARK):
    """Issues and returns the token id, found the way a client finds it: in the TitleAction event."""
    beneficiary = holder if beneficiary is None else beneficiary
    tx = bills.issue((reference, doc, holder, beneficiary, straight), remark, sender=carrier)
    (event,) = [e for e in tx.events if e.event_name == "TitleAction"]
    return event.tokenId


def token_id(carrier, reference=REF, generation=0):
    """Computed offline the way a client computes it: the reference hash plus the generation, then the carrier."""
    h = int.from_bytes(keccak(reference), "big") % 2**96
    return ((h + generation) % 2**96) << 160 | int(str(carrier), 16)


@pytest.fixture
def order_bill(bills, carrier, shipper):
    """A to-order bill held by the shipper, who is also its beneficiary."""
    return issue(bills, carrier, shipper)


@pytest.fixture
def straight_bill(bills, carrier, shipper, importer):
    """A straight bill held by the shipper, consigned to the importer."""
    return issue(bills, carrier, shipper, importer, straight=True, reference=ref("HKGSHA2411002"))


@pytest.fixture
def split_bill(bills, order_bill, shipper, bank):
    """Held by the shipper, title endorsed to the bank (holder is not the beneficiary)."""
    bills.endorse(order_bill, bank, NO_REMARK, sender=shipper)
    return order_bill


# ------------------------------------------------------------------ deployment and ERC-721 surface


def test_constructor(project, bills, participants, admin):
    assert bills.name() == "Electronic Bill of Lading" and bills.symbol() == "eBL"
    assert bills.participantRegistry() == participants.address
    assert bills.hasRole(b"\0" * 32, admin)
    assert not bills.paused()
    with ape.reverts(project.BillOfLadingRegistry.ZeroAddress):
        admin.deploy(project.BillOfLadingRegistry, ZERO, admin)
    with ape.reverts(project.BillOfLadingRegistry.ZeroAddress):
        admin.deploy(project.BillOfLadingRegistry, participants, ZERO)


def _interface_id(signatures):
    value = 0
    for signature in signatures:
        value ^= int.from_bytes(function_signature_to_4byte_selector(signature), "big")
    return value.to_bytes(4, "big")


def test_supports_interface(bills):
    bill_registry = _interface_id(
        [
            "issue((bytes32,bytes32,address,address,bool),bytes32)",
            "transferHolder(uint256,address,bytes32)",
            "nominate(uint256,address,bytes32)",
            "endorse(uint256,address,bytes32)",
            "transferOwners(uint256,address,address,bytes32)",
            "blankEndorse(uint256,bytes32)",
            "reject(uint256,bytes32)",
            "pledge(uint256,address,bytes,bytes32)",
            "surrenderForDelivery(uint256,bytes32)",
            "surrenderForAmendment(uint256,bytes32)",
            "acceptSurrender(uint256,bytes32)",
            "rejectSurrender(uint256,bytes32)",
            "amend(uint256,bytes32,bytes32,bytes32)",
            "switchToPaper(uint256,bytes32)",
            "pause()",
            "unpause()",
            "paused()",
            "bill(uint256)",
            "tokenOf(address,bytes32)",
            "participantRegistry()",
        ]
    )
    for interface in ("0x01ffc9a7", "0x80ac58cd", "0x7965db0b", bill_registry):
        assert bills.supportsInterface(interface), interface
    assert not bills.supportsInterface("0xffffffff")
    assert not bills.supportsInterface("0x780e9d63")  # not enumerable
    assert not bills.supportsInterface("0x5b5e139f")  # no metadata claimed: there is no token URI to give


def test_plain_erc721_transfers_and_approvals_are_disabled(bills, order_bill, shipper, bank):
    with ape.reverts(bills.TransferDisabled):
        bills.transferFrom(shipper, bank, order_bill, sender=shipper)
    with ape.reverts(bills.TransferDisabled):
        bills.safeTransferFrom(shipper, bank, order_bill, sender=shipper)
    with ape.reverts(bills.TransferDisabled):
        bills.safeTransferFrom(shipper, bank, order_bill, b"data", sender=shipper)
    with ape.reverts(bills.ApprovalDisabled):
        bills.approve(bank, order_bill, sender=shipper)
    with ape.reverts(bills.ApprovalDisabled):
        bills.setApprovalForAll(bank, True, sender=shipper)
    assert bills.getApproved(order_bill) == ZERO
    assert not bills.isApprovedForAll(shipper, bank)
    assert bills.ownerOf(order_bill) == shipper


def test_erc721_balances_follow_every_move(bills, carrier, shipper, bank, importer):
    """Finding (ERC-721): supportsInterface claimed ERC-721 while the mandatory balanceOf reverted. Now
    balanceOf counts the live bills each holder controls, through every kind of move."""
    assert bills.balanceOf(shipper) == 0
    first = issue(bills, carrier, shipper)
    second = issue(bills, carrier, shipper, reference=ref("HKGSHA2411005"))
    assert bills.balanceOf(shipper) == 2
    bills.transferHolder(first, bank, NO_REMARK, sender=shipper)
    assert (bills.balanceOf(shipper), bills.balanceOf(bank)) == (1, 1)
    bills.reject(first, NO_REMARK, sender=bank)
    assert (bills.balanceOf(shipper), bills.balanceOf(bank)) == (2, 0)
    bills.surrenderForDelivery(first, NO_REMARK, sender=shipper)  # the carrier controls it while it answers
    assert (bills.balanceOf(shipper), bills.balanceOf(carrier)) == (1, 1)
    bills.acceptSurrender(first, NO_REMARK, sender=carrier)  # accomplished: burned
    assert (bills.balanceOf(shipper), bills.balanceOf(carrier)) == (1, 0)
    bills.surrenderForAmendment(second, NO_REMARK, sender=shipper)
    bills.amend(second, ref("HKGSHA2411005"), DOC_AMENDED, NO_REMARK, sender=carrier)  # void + re-issue
    assert (bills.balanceOf(shipper), bills.balanceOf(carrier)) == (1, 0)
    bills.transferOwners(token_id(carrier, ref("HKGSHA2411005"), 1), importer, importer, NO_REMARK, sender=shipper)
    assert (bills.balanceOf(shipper), bills.balanceOf(importer)) == (0, 1)
    with ape.reverts(bills.ERC721InvalidOwner, owner=ZERO):
        bills.balanceOf(ZERO)


def test_unknown_token(bills, carrier, shipper):
    unknown = token_id(carrier, ref("NEVERISSUED"))
    with ape.reverts(bills.ERC721NonexistentToken, tokenId=unknown):
        bills.ownerOf(unknown)
    with ape.reverts(bills.ERC721NonexistentToken, tokenId=unknown):
        bills.bill(unknown)
    with ape.reverts(bills.ERC721NonexistentToken, tokenId=unknown):
        bills.transferHolder(unknown, shipper, NO_REMARK, sender=shipper)
    with ape.reverts(bills.ERC721NonexistentToken, tokenId=unknown):
        bills.acceptSurrender(unknown, NO_REMARK, sender=carrier)


# ------------------------------------------------------------------ issue


def test_issue_to_order(bills, carrier, shipper):
    tx = bills.issue((REF, DOC, shipper, shipper, False), REMARK, sender=carrier)
    tid = token_id(carrier)
    assert tx.return_value == tid
    assert tx.events == [
        bills.Transfer(ZERO, shipper, tid),
        bills.BillIssued(tid, REF, DOC, False),
        bills.TitleAction(tid, Action.ISSUE, carrier, shipper, shipper, REMARK),
    ]
    b = bills.bill(tid)
    assert (b.carrier, b.holder, b.beneficiary, b.nominee) == (carrier, shipper, shipper, ZERO)
    assert (b.status, b.straight, b.blankEndorsed) == (Status.ISSUED, False, False)
    assert b.issuedBlock == tx.block_number
    assert (b.documentHash, b.generation) == (DOC, 0)
    assert (b.predecessor, b.successor, b.previousParty, b.lastMove) == (0, 0, ZERO, Move.NONE)
    assert bills.ownerOf(tid) == shipper
    assert bills.tokenOf(carrier, REF) == tid
    assert bills.tokenURI(tid) == ""


def test_issue_straight_names_the_consignee_as_beneficiary(bills, carrier, shipper, importer):
    tx = bills.issue((REF, DOC, shipper, importer, True), NO_REMARK, sender=carrier)
    tid = token_id(carrier)
    assert tx.events == [
        bills.Transfer(ZERO, shipper, tid),
        bills.BillIssued(tid, REF, DOC, True),
        bills.TitleAction(tid, Action.ISSUE, carrier, shipper, importer, NO_REMARK),
    ]
    b = bills.bill(tid)
    assert (b.holder, b.beneficiary, b.straight, b.blankEndorsed) == (shipper, importer, True, False)


def test_issue_to_order_of_another_party(bills, carrier, shipper, bank):
    tid = issue(bills, carrier, shipper, bank)
    b = bills.bill(tid)
    assert (b.holder, b.beneficiary) == (shipper, bank)


def test_token_ids_derive_from_carrier_and_reference(bills, carrier, other_carrier, shipper):
    first = issue(bills, carrier, shipper)
    second = issue(bills, other_carrier, shipper)  # the same reference at another carrier is another bill
    third = issue(bills, carrier, shipper, reference=ref("HKGSHA2411009"))
    assert (first, second, third) == (
        token_id(carrier),
        token_id(other_carrier),
        token_id(carrier, ref("HKGSHA2411009")),
    )
    assert len({first, second, third}) == 3
    assert bills.bill(second).carrier == other_carrier
    assert bills.tokenOf(other_carrier, REF) == second


def test_escrow_receives_a_bill_only_by_pledge(bills, carrier, escrow, order_bill, shipper, bank):
    """Finding 10: a bill moved into the escrow without a financing request was stranded there (a
    beneficiary's nomination closed the window to reclaim it, a bearer bill endorsed to the escrow had no
    previous party, reclaim after transferOwners(escrow, X) took title back from X). Now no move, issue,
    endorsement or nomination may name an escrow: it receives bills only by `pledge`, accepting them."""
    with ape.reverts(bills.RecipientNotActive, recipient=escrow):
        bills.issue((ref("HKGSHA2411066"), DOC, escrow, shipper, False), NO_REMARK, sender=carrier)
    with ape.reverts(bills.RecipientNotActive, recipient=escrow):
        bills.issue((ref("HKGSHA2411066"), DOC, shipper, escrow, False), NO_REMARK, sender=carrier)
    with ape.reverts(bills.RecipientNotActive, recipient=escrow):
        bills.transferHolder(order_bill, escrow, NO_REMARK, sender=shipper)
    with ape.reverts(bills.RecipientNotActive, recipient=escrow):
        bills.transferOwners(order_bill, escrow, escrow, NO_REMARK, sender=shipper)
    with ape.reverts(bills.RecipientNotActive, recipient=escrow):
        bills.transferOwners(order_bill, escrow, bank, NO_REMARK, sender=shipper)  # the reclaim-from-X set-up
    with ape.reverts(bills.RecipientNotActive, recipient=escrow):
        bills.transferOwners(order_bill, bank, escrow, NO_REMARK, sender=shipper)
    with ape.reverts(bills.RecipientNotActive, recipient=escrow):
        bills.endorse(order_bill, escrow, NO_REMARK, sender=shipper)
    bills.blankEndorse(order_bill, NO_REMARK, sender=shipper)
    with ape.reverts(bills.RecipientNotActive, recipient=escrow):  # the bearer-bill set-up
        bills.endorse(order_bill, escrow, NO_REMARK, sender=shipper)
    bills.endorse(order_bill, bank, NO_REMARK, sender=shipper)
    with ape.reverts(bills.RecipientNotActive, recipient=escrow):
        bills.nominate(order_bill, escrow, NO_REMARK, sender=bank)
    assert bills.balanceOf(escrow) == 0


@pytest.mark.parametrize("who", ["shipper", "outsider", "admin"])
def test_issue_refused_for_a_non_carrier(request, bills, shipper, who):
    account = request.getfixturevalue(who)
    with ape.reverts(bills.CarrierNotActive, account=account):
        bills.issue((REF, DOC, shipper, shipper, False), NO_REMARK, sender=account)


def test_issue_refused_for_a_suspended_carrier(bills, participants, admin, carrier, shipper):
    participants.suspend(carrier, NO_REMARK, sender=admin)
    with ape.reverts(bills.CarrierNotActive, account=carrier):
        bills.issue((REF, DOC, shipper, shipper, False), NO_REMARK, sender=carrier)
    participants.reinstate(carrier, sender=admin)
    issue(bills, carrier, shipper)


@pytest.mark.parametrize("who", ["outsider", "suspended", "other_carrier", "zero"])
@pytest.mark.parametrize("as_holder", [True, False])
def test_issue_refused_to_an_inactive_party(request, bills, carrier, shipper, who, as_holder):
    party = ZERO if who == "zero" else request.getfixturevalue(who)
    request_ = (REF, DOC, party, shipper, False) if as_holder else (REF, DOC, shipper, party, False)
    with ape.reverts(bills.RecipientNotActive, recipient=party):
        bills.issue(request_, NO_REMARK, sender=carrier)
    with ape.reverts(bills.RecipientNotActive, recipient=party):  # also as a straight bill's consignee/holder
        bills.issue((*request_[:4], True), NO_REMARK, sender=carrier)


def test_issue_refuses_empty_reference_or_document_hash(bills, carrier, shipper):
    with ape.reverts(bills.EmptyReference):
        bills.issue((b"\0" * 32, DOC, shipper, shipper, False), NO_REMARK, sender=carrier)
    with ape.reverts(bills.EmptyDocumentHash):
        bills.issue((REF, b"\0" * 32, shipper, shipper, False), NO_REMARK, sender=carrier)


def test_singularity_while_live(bills, carrier, order_bill, shipper, bank):
    with ape.reverts(bills.BillAlreadyIssued, carrier=carrier, transportDocumentReference=REF):
        bills.issue((REF, DOC_AMENDED, bank, bank, False), NO_REMARK, sender=carrier)
    bills.surrenderForDelivery(order_bill, NO_REMARK, sender=shipper)  # surrendered is still live
    with ape.reverts(bills.BillAlreadyIssued, carrier=carrier, transportDocumentReference=REF):
        bills.issue((REF, DOC, shipper, shipper, False), NO_REMARK, sender=carrier)
    assert bills.tokenOf(carrier, REF) == order_bill


def test_reference_is_reusable_once_accomplished(bills, carrier, order_bill, shipper, bank):
    bills.surrenderForDelivery(order_bill, NO_REMARK, sender=shipper)
    bills.acceptSurrender(order_bill, NO_REMARK, sender=carrier)
    assert bills.tokenOf(carrier, REF) == 0
    again = issue(bills, carrier, bank, doc=DOC_AMENDED)
    assert again == token_id(carrier, REF, 1) and again != order_bill
    assert bills.tokenOf(carrier, REF) == again
    b = bills.bill(again)
    assert (b.generation, b.predecessor, b.holder) == (1, 0, bank)  # a new bill, not an amendment
    old = bills.bill(order_bill)
    assert (old.status, old.successor) == (Status.ACCOMPLISHED, 0)  # the old record is kept


def test_reference_is_not_reusable_after_switch_to_paper(bills, carrier, order_bill, shipper):
    bills.surrenderForAmendment(order_bill, NO_REMARK, sender=shipper)
    bills.switchToPaper(order_bill, keccak(text="paper original HKG-1"), sender=carrier)
    assert bills.tokenOf(carrier, REF) == 0
    with ape.reverts(bills.BillAlreadyIssued, carrier=carrier, transportDocumentReference=REF):
        bills.issue((REF, DOC, shipper, shipper, False), NO_REMARK, sender=carrier)


def test_tokens_of_unknown_references(bills, carrier):
    assert bills.tokenOf(carrier, REF) == 0


# ------------------------------------------------------------------ transferHolder


def test_transfer_holder(bills, order_bill, shipper, bank):
    tx = bills.transferHolder(order_bill, bank, REMARK, sender=shipper)
    assert tx.events == [
        bills.Transfer(shipper, bank, order_bill),
        bills.TitleAction(order_bill, Action.TRANSFER, shipper, bank, shipper, REMARK),
    ]
    b = bills.bill(order_bill)
    assert (b.holder, b.beneficiary, b.previousParty, b.lastMove) == (bank, shipper, shipper, Move.HOLDER)
    assert bills.ownerOf(order_bill) == bank


@pytest.mark.parametrize("who", ["bank", "importer", "carrier", "outsider", "admin"])
def test_transfer_holder_refused_for_a_non_holder(request, bills, split_bill, who, agent):
    # the bank is the beneficiary but not the holder: title does not give control
    account = request.getfixturevalue(who)
    with ape.reverts(bills.NotHolder, tokenId=split_bill, caller=account):
        bills.transferHolder(split_bill, agent, NO_REMARK, sender=account)


@pytest.mark.parametrize("who", ["outsider", "suspended", "other_carrier", "zero"])
def test_transfer_holder_refused_to_an_inactive_recipient(request, bills, order_bill, shipper, who):
    recipient = ZERO if who == "zero" else request.getfixturevalue(who)
    with ape.reverts(bills.RecipientNotActive, recipient=recipient):
        bills.transferHolder(order_bill, recipient, NO_REMARK, sender=shipper)


def test_transfer_holder_refused_to_its_own_carrier(bills, order_bill, shipper, carrier):
    # the carrier receives a bill only by a surrender
    with ape.reverts(bills.RecipientNotActive, recipient=carrier):
        bills.transferHolder(order_bill, carrier, NO_REMARK, sender=shipper)


def test_transfer_holder_refused_to_oneself(bills, order_bill, shipper):
    with ape.reverts(bills.SameParty, tokenId=order_bill, party=shipper):
        bills.transferHolder(order_bill, shipper, NO_REMARK, sender=shipper)


# ------------------------------------------------------------------ pledge


def test_pledge_and_its_hook_are_one_transaction(bills, escrow, order_bill, shipper):
    """Finding 11: pledging (a move into the escrow) and requesting were two transactions; a failure
    between them left the bill in the escrow. Now the registry moves the bill and calls the escrow's hook in
    one transaction."""
    tx = bills.pledge(order_bill, escrow, PLEDGE_DATA, REMARK, sender=shipper)
    assert tx.events == [
        bills.Transfer(shipper, escrow, order_bill),
        bills.TitleAction(order_bill, Action.PLEDGE, shipper, escrow, escrow, REMARK),
    ]
    b = bills.bill(order_bill)
    assert (b.holder, b.beneficiary, b.previousParty, b.lastMove) == (escrow, escrow, shipper, Move.NONE)
    assert (escrow.lastPledgor(), escrow.lastTokenId(), escrow.lastData()) == (shipper, order_bill, PLEDGE_DATA)
    assert (bills.balanceOf(shipper), bills.balanceOf(escrow)) == (0, 1)  # lastMove None: nothing to reject


@pytest.mark.parametrize("answer", [1, 2])  # TestPledgeReceiver.Answer: WrongSelector, Revert
def test_a_refused_pledge_leaves_the_bill_with_its_holder(bills, escrow, order_bill, shipper, answer):
    escrow.setAnswer(answer, sender=shipper)
    if answer == 1:
        with ape.reverts(bills.PledgeRefused, escrow=escrow, tokenId=order_bill):
            bills.pledge(order_bill, escrow, PLEDGE_DATA, NO_REMARK, sender=shipper)
    else:
        with ape.reverts(escrow.PledgeNotWanted, tokenId=order_bill):
            bills.pledge(order_bill, escrow, PLEDGE_DATA, NO_REMARK, sender=shipper)
    b = bills.bill(order_bill)
    assert (b.holder, b.beneficiary, b.lastMove) == (shipper, shipper, Move.NONE)
    assert bills.ownerOf(order_bill) == shipper and bills.balanceOf(escrow) == 0
    escrow.setAnswer(0, sender=shipper)


def test_pledge_refusals(bills, escrow, order_bill, straight_bill, shipper, bank, outsider):
    with ape.reverts(bills.NotEscrow, escrow=bank):  # a trader is no escrow
        bills.pledge(order_bill, bank, PLEDGE_DATA, NO_REMARK, sender=shipper)
    with ape.reverts(bills.NotEscrow, escrow=outsider):
        bills.pledge(order_bill, outsider, PLEDGE_DATA, NO_REMARK, sender=shipper)
    with ape.reverts(bills.StraightBillNotEndorsable, tokenId=straight_bill):
        bills.pledge(straight_bill, escrow, PLEDGE_DATA, NO_REMARK, sender=shipper)
    bills.endorse(order_bill, bank, NO_REMARK, sender=shipper)  # title with the bank, possession with the shipper
    with ape.reverts(bills.HolderWithoutTitle, tokenId=order_bill, holder=shipper):
        bills.pledge(order_bill, escrow, PLEDGE_DATA, NO_REMARK, sender=shipper)
    with ape.reverts(bills.NotHolder, tokenId=order_bill, caller=bank):
        bills.pledge(order_bill, escrow, PLEDGE_DATA, NO_REMARK, sender=bank)


def test_a_bearer_bill_may_be_pledged(bills, escrow, order_bill, shipper):
    bills.blankEndorse(order_bill, NO_REMARK, sender=shipper)
    bills.pledge(order_bill, escrow, PLEDGE_DATA, NO_REMARK, sender=shipper)
    assert bills.bill(order_bill).beneficiary == escrow


def test_a_rejected_delivery_returns_to_the_escrow(bills, escrow, order_bill, shipper, importer):
    """An escrow may take a bill back by restoration: the party it delivered to rejects the delivery."""
    bills.pledge(order_bill, escrow, PLEDGE_DATA, NO_REMARK, sender=shipper)
    escrow.deliver(order_bill, importer, sender=importer)
    assert bills.ownerOf(order_bill) == importer
    bills.reject(order_bill, NO_REMARK, sender=importer)
    b = bills.bill(order_bill)
    assert (b.holder, b.beneficiary, b.lastMove) == (escrow, escrow, Move.NONE)


def test_suspended_holder_can_still_hand_on_but_not_receive(
    bills, participants, admin, order_bill, shipper, bank
):
    bills.transferHolder(order_bill, bank, NO_REMARK, sender=shipper)
    participants.suspend(bank, NO_REMARK, sender=admin)
    bills.transferHolder(order_bill, shipper, NO_REMARK, sender=bank)  # never trapped with the bank
    with ape.reverts(bills.RecipientNotActive, recipient=bank):
        bills.transferHolder(order_bill, bank, NO_REMARK, sender=shipper)


def test_straight_bill_moves_only_to_its_consignee(bills, straight_bill, shipper, importer, bank):
    with ape.reverts(bills.NotConsignee, tokenId=straight_bill, recipient=bank):
        bills.transferHolder(straight_bill, bank, NO_REMARK, sender=shipper)
    tx = bills.transferHolder(straight_bill, importer, NO_REMARK, sender=shipper)
    assert tx.events == [
        bills.Transfer(shipper, importer, straight_bill),
        bills.TitleAction(straight_bill, Action.TRANSFER, shipper, importer, importer, NO_REMARK),
    ]
    with ape.reverts(bills.NotConsignee, tokenId=straight_bill, recipient=shipper):
        bills.transferHolder(straight_bill, shipper, NO_REMARK, sender=importer)
    with ape.reverts(bills.SameParty, tokenId=straight_bill, party=importer):
        bills.transferHolder(straight_bill, importer, NO_REMARK, sender=importer)


# ------------------------------------------------------------------ endorse and nominate


def test_endorse_in_one_step_when_the_holder_holds_title(bills, order_bill, shipper, bank):
    tx = bills.endorse(order_bill, bank, REMARK, sender=shipper)
    assert tx.events == [bills.TitleAction(order_bill, Action.ENDORSE, shipper, shipper, bank, REMARK)]
    b = bills.bill(order_bill)
    assert (b.holder, b.beneficiary, b.previousParty, b.lastMove) == (shipper, bank, shipper, Move.BENEFICIARY)
    assert bills.ownerOf(order_bill) == shipper


@pytest.mark.parametrize("who", ["bank", "importer", "carrier", "outsider"])
def test_endorse_refused_for_a_non_holder(request, bills, split_bill, who, agent):
    account = request.getfixturevalue(who)
    with ape.reverts(bills.NotHolder, tokenId=split_bill, caller=account):
        bills.endorse(split_bill, agent, NO_REMARK, sender=account)


@pytest.mark.parametrize("who", ["outsider", "suspended", "other_carrier", "zero"])
def test_endorse_refused_to_an_inactive_endorsee(request, bills, order_bill, shipper, who):
    endorsee = ZERO if who == "zero" else request.getfixturevalue(who)
    with ape.reverts(bills.RecipientNotActive, recipient=endorsee):
        bills.endorse(order_bill, endorsee, NO_REMARK, sender=shipper)


def test_endorse_refused_to_the_current_beneficiary(bills, order_bill, shipper):
    with ape.reverts(bills.SameParty, tokenId=order_bill, party=shipper):
        bills.endorse(order_bill, shipper, NO_REMARK, sender=shipper)


def test_holder_without_title_endorses_only_to_the_nominee(bills, split_bill, shipper, bank, importer, agent):
    with ape.reverts(bills.NotNominee, tokenId=split_bill, endorsee=importer):
        bills.endorse(split_bill, importer, NO_REMARK, sender=shipper)
    tx = bills.nominate(split_bill, importer, REMARK, sender=bank)
    assert tx.events == [bills.TitleAction(split_bill, Action.NOMINATE, bank, shipper, importer, REMARK)]
    assert bills.bill(split_bill).nominee == importer
    with ape.reverts(bills.NotNominee, tokenId=split_bill, endorsee=agent):
        bills.endorse(split_bill, agent, NO_REMARK, sender=shipper)
    tx = bills.endorse(split_bill, importer, NO_REMARK, sender=shipper)
    assert tx.events == [bills.TitleAction(split_bill, Action.ENDORSE, shipper, shipper, importer, NO_REMARK)]
    b = bills.bill(split_bill)
    assert (b.holder, b.beneficiary, b.nominee, b.previousParty) == (shipper, importer, ZERO, bank)


def test_nomination_lapses_when_the_beneficiary_changes(bills, split_bill, shipper, bank, importer, agent):
    bills.nominate(split_bill, importer, NO_REMARK, sender=bank)
    bills.transferHolder(split_bill, bank, NO_REMARK, sender=shipper)  # bank now holds title too
    bills.endorse(split_bill, agent, NO_REMARK, sender=bank)  # one step, not to the nominee
    assert bills.bill(split_bill).nominee == ZERO
    bills.transferHolder(split_bill, importer, NO_REMARK, sender=bank)
    with ape.reverts(bills.NotNominee, tokenId=split_bill, endorsee=importer):
        bills.endorse(split_bill, importer, NO_REMARK, sender=importer)  # the bank's old nomination is void


def test_nomination_can_be_withdrawn(bills, split_bill, shipper, bank, importer):
    bills.nominate(split_bill, importer, NO_REMARK, sender=bank)
    tx = bills.nominate(split_bill, ZERO, NO_REMARK, sender=bank)
    assert tx.events == [bills.TitleAction(split_bill, Action.NOMINATE, bank, shipper, ZERO, NO_REMARK)]
    with ape.reverts(bills.NotNominee, tokenId=split_bill, endorsee=importer):
        bills.endorse(split_bill, importer, NO_REMARK, sender=shipper)


@pytest.mark.parametrize("who", ["shipper", "importer", "carrier", "outsider"])
def test_nominate_refused_for_a_non_beneficiary(request, bills, split_bill, who, agent):
    account = request.getfixturevalue(who)  # the shipper is the holder, not the beneficiary
    with ape.reverts(bills.NotBeneficiary, tokenId=split_bill, caller=account):
        bills.nominate(split_bill, agent, NO_REMARK, sender=account)


@pytest.mark.parametrize("who", ["outsider", "suspended", "other_carrier"])
def test_nominate_refused_for_an_inactive_nominee(request, bills, split_bill, bank, who):
    nominee = request.getfixturevalue(who)
    with ape.reverts(bills.RecipientNotActive, recipient=nominee):
        bills.nominate(split_bill, nominee, NO_REMARK, sender=bank)


def test_nominate_refused_for_oneself(bills, split_bill, bank):
    with ape.reverts(bills.SameParty, tokenId=split_bill, party=bank):
        bills.nominate(split_bill, bank, NO_REMARK, sender=bank)


def test_straight_bill_is_never_endorsed(bills, straight_bill, shipper, importer, bank):
    with ape.reverts(bills.StraightBillNotEndorsable, tokenId=straight_bill):
        bills.endorse(straight_bill, bank, NO_REMARK, sender=shipper)
    with ape.reverts(bills.StraightBillNotEndorsable, tokenId=straight_bill):
        bills.nominate(straight_bill, bank, NO_REMARK, sender=importer)
    bills.transferHolder(straight_bill, importer, NO_REMARK, sender=shipper)
    with ape.reverts(bills.StraightBillNotEndorsable, tokenId=straight_bill):
        bills.endorse(straight_bill, bank, NO_REMARK, sender=importer)
    with ape.reverts(bills.StraightBillNotEndorsable, tokenId=straight_bill):
        bills.transferOwners(straight_bill, bank, bank, NO_REMARK, sender=importer)
    with ape.reverts(bills.StraightBillNotEndorsable, tokenId=straight_bill):
        bills.blankEndorse(straight_bill, NO_REMARK, sender=importer)
    assert bills.bill(straight_bill).beneficiary == importer


# ------------------------------------------------------------------ transferOwners


def test_transfer_owners(bills, order_bill, shipper, bank):
    tx = bills.transferOwners(order_bill, bank, bank, REMARK, sender=shipper)
    assert tx.events == [
        bills.Transfer(shipper, bank, order_bill),
        bills.TitleAction(order_bill, Action.TRANSFER_OWNERS, shipper, bank, bank, REMARK),
    ]
    b = bills.bill(order_bill)
    assert (b.holder, b.beneficiary, b.previousParty, b.lastMove) == (bank, bank, shipper, Move.OWNERS)


def test_transfer_owners_to_two_parties(bills, order_bill, shipper, bank, importer):
    bills.transferOwners(order_bill, importer, bank, NO_REMARK, sender=shipper)
    b = bills.bill(order_bill)
    assert (b.holder, b.beneficiary) == (importer, bank)


def test_transfer_owners_refused_without_title(bills, split_bill, shipper, importer):
    with ape.reverts(bills.HolderWithoutTitle, tokenId=split_bill, holder=shipper):
        bills.transferOwners(split_bill, importer, importer, NO_REMARK, sender=shipper)


@pytest.mark.parametrize("who", ["bank", "carrier", "outsider"])
def test_transfer_owners_refused_for_a_non_holder(request, bills, order_bill, who, importer):
    account = request.getfixturevalue(who)
    with ape.reverts(bills.NotHolder, tokenId=order_bill, caller=account):
        bills.transferOwners(order_bill, importer, importer, NO_REMARK, sender=account)


@pytest.mark.parametrize("who", ["outsider", "suspended", "zero"])
@pytest.mark.parametrize("as_holder", [True, False])
def test_transfer_owners_refused_to_an_inactive_party(request, bills, order_bill, shipper, bank, who, as_holder):
    party = ZERO if who == "zero" else request.getfixturevalue(who)
    new_holder, new_beneficiary = (party, bank) if as_holder else (bank, party)
    with ape.reverts(bills.RecipientNotActive, recipient=party):
        bills.transferOwners(order_bill, new_holder, new_beneficiary, NO_REMARK, sender=shipper)


def test_transfer_owners_refused_to_oneself(bills, order_bill, shipper, bank):
    with ape.reverts(bills.SameParty, tokenId=order_bill, party=shipper):
        bills.transferOwners(order_bill, shipper, bank, NO_REMARK, sender=shipper)


# ------------------------------------------------------------------ blank endorsement (bearer bill)


def test_blank_endorse_makes_possession_title(bills, carrier, order_bill, shipper, bank, importer):
    tx = bills.blankEndorse(order_bill, REMARK, sender=shipper)
    assert tx.events == [bills.TitleAction(order_bill, Action.BLANK_ENDORSE, shipper, shipper, ZERO, REMARK)]
    b = bills.bill(order_bill)
    assert (b.beneficiary, b.blankEndorsed, b.lastMove) == (ZERO, True, Move.NONE)
    # possession carries title: the next holder may surrender for delivery without any endorsement
    bills.transferHolder(order_bill, bank, NO_REMARK, sender=shipper)
    tx = bills.surrenderForDelivery(order_bill, NO_REMARK, sender=bank)
    assert tx.events == [
        bills.Transfer(bank, carrier, order_bill),
        bills.TitleAction(order_bill, Action.SURRENDER_FOR_DELIVERY, bank, carrier, ZERO, NO_REMARK),
    ]


def test_bearer_may_name_a_beneficiary_again(bills, order_bill, shipper, bank, importer):
    bills.blankEndorse(order_bill, NO_REMARK, sender=shipper)
    bills.transferHolder(order_bill, bank, NO_REMARK, sender=shipper)
    bills.endorse(order_bill, importer, NO_REMARK, sender=bank)  # special endorsement by the bearer
    b = bills.bill(order_bill)
    assert (b.holder, b.beneficiary, b.blankEndorsed) == (bank, importer, False)
    with ape.reverts(bills.HolderWithoutTitle, tokenId=order_bill, holder=bank):
        bills.surrenderForDelivery(order_bill, NO_REMARK, sender=bank)


def test_blank_endorse_refusals(bills, split_bill, shipper, bank):
    with ape.reverts(bills.HolderWithoutTitle, tokenId=split_bill, holder=shipper):
        bills.blankEndorse(split_bill, NO_REMARK, sender=shipper)
    with ape.reverts(bills.NotHolder, tokenId=split_bill, caller=bank):
        bills.blankEndorse(split_bill, NO_REMARK, sender=bank)
    bills.transferHolder(split_bill, bank, NO_REMARK, sender=shipper)
    bills.blankEndorse(split_bill, NO_REMARK, sender=bank)
    with ape.reverts(bills.AlreadyBlankEndorsed, tokenId=split_bill):
        bills.blankEndorse(split_bill, NO_REMARK, sender=bank)
    with ape.reverts(bills.NotBeneficiary, tokenId=split_bill, caller=bank):  # a bearer bill has no beneficiary
        bills.nominate(split_bill, shipper, NO_REMARK, sender=bank)


# ------------------------------------------------------------------ reject


def test_reject_a_transfer_restores_the_holder(bills, order_bill, shipper, bank):
    bills.transferHolder(order_bill, bank, NO_REMARK, sender=shipper)
    tx = bills.reject(order_bill, REMARK, sender=bank)
    assert tx.events == [
        bills.Transfer(bank, shipper, order_bill),
        bills.TitleAction(order_bill, Action.REJECT, bank, shipper, shipper, REMARK),
    ]
    b = bills.bill(order_bill)
    assert (b.holder, b.beneficiary, b.lastMove) == (shipper, shipper, Move.NONE)
    with ape.reverts(bills.NothingToReject, tokenId=order_bill):  # no ping-pong
        bills.reject(order_bill, NO_REMARK, sender=shipper)


def test_reject_an_endorsement_restores_the_beneficiary(bills, split_bill, shipper, bank):
    with ape.reverts(bills.NotLastRecipient, tokenId=split_bill, caller=shipper):  # the endorser
        bills.reject(split_bill, NO_REMARK, sender=shipper)
    tx = bills.reject(split_bill, NO_REMARK, sender=bank)
    assert tx.events == [bills.TitleAction(split_bill, Action.REJECT, bank, shipper, shipper, NO_REMARK)]
    assert bills.bill(split_bill).beneficiary == shipper


def test_reject_transfer_owners_restores_both(bills, order_bill, shipper, bank, importer):
    bills.transferOwners(order_bill, importer, bank, NO_REMARK, sender=shipper)
    with ape.reverts(bills.NotLastRecipient, tokenId=order_bill, caller=bank):  # the holder rejects both
        bills.reject(order_bill, NO_REMARK, sender=bank)
    tx = bills.reject(order_bill, NO_REMARK, sender=importer)
    assert tx.events == [
        bills.Transfer(importer, shipper, order_bill),
        bills.TitleAction(order_bill, Action.REJECT, importer, shipper, shipper, NO_REMARK),
    ]


def test_reject_transfer_owners_of_a_bearer_bill_restores_the_blank(bills, order_bill, shipper, bank):
    bills.blankEndorse(order_bill, NO_REMARK, sender=shipper)
    bills.transferOwners(order_bill, bank, bank, NO_REMARK, sender=shipper)
    assert bills.bill(order_bill).lastMove == Move.OWNERS_FROM_BEARER
    bills.reject(order_bill, NO_REMARK, sender=bank)
    b = bills.bill(order_bill)
    assert (b.holder, b.beneficiary, b.blankEndorsed) == (shipper, ZERO, True)


def test_reject_an_endorsement_from_blank_restores_the_blank(bills, order_bill, shipper, bank):
    bills.blankEndorse(order_bill, NO_REMARK, sender=shipper)
    bills.endorse(order_bill, bank, NO_REMARK, sender=shipper)
    bills.reject(order_bill, NO_REMARK, sender=bank)
    assert bills.bill(order_bill).blankEndorsed


def test_reject_a_straight_transfer(bills, straight_bill, shipper, importer):
    bills.transferHolder(straight_bill, importer, NO_REMARK, sender=shipper)
    bills.reject(straight_bill, NO_REMARK, sender=importer)
    assert bills.ownerOf(straight_bill) == shipper


def test_reject_refused_with_nothing_to_reject(bills, order_bill, shipper):
    with ape.reverts(bills.NothingToReject, tokenId=order_bill):
        bills.reject(order_bill, NO_REMARK, sender=shipper)


@pytest.mark.parametrize("who", ["shipper", "importer", "carrier", "outsider"])
def test_reject_refused_for_anyone_but_the_recipient(request, bills, order_bill, shipper, bank, who):
    bills.transferHolder(order_bill, bank, NO_REMARK, sender=shipper)
    account = request.getfixturevalue(who)
    with ape.reverts(bills.NotLastRecipient, tokenId=order_bill, caller=account):
        bills.reject(order_bill, NO_REMARK, sender=account)


def test_reject_only_as_the_next_action(bills, order_bill, shipper, bank, importer):
    bills.transferHolder(order_bill, bank, NO_REMARK, sender=shipper)
    bills.transferHolder(order_bill, importer, NO_REMARK, sender=bank)  # the bank acted: it accepted
    with ape.reverts(bills.NotLastRecipient, tokenId=order_bill, caller=bank):
        bills.reject(order_bill, NO_REMARK, sender=bank)
    bills.reject(order_bill, NO_REMARK, sender=importer)  # back to the bank, not further
    assert bills.ownerOf(order_bill) == bank
    with ape.reverts(bills.NothingToReject, tokenId=order_bill):
        bills.reject(order_bill, NO_REMARK, sender=bank)


def test_a_nomination_does_not_close_the_recipients_reject_window(bills, split_bill, shipper, bank, importer):
    """Finding 10: the beneficiary's nomination closed the window in which the recipient of a transfer may
    reject it (stranding a bill moved into the escrow). The recipient keeps its right to reject."""
    bills.transferHolder(split_bill, importer, NO_REMARK, sender=shipper)
    bills.nominate(split_bill, shipper, NO_REMARK, sender=bank)  # the beneficiary acts in between
    assert bills.bill(split_bill).lastMove == Move.HOLDER
    bills.reject(split_bill, NO_REMARK, sender=importer)
    assert bills.ownerOf(split_bill) == shipper


def test_any_other_action_closes_the_reject_window(bills, split_bill, shipper, bank, importer, agent):
    bills.transferHolder(split_bill, importer, NO_REMARK, sender=shipper)
    bills.nominate(split_bill, agent, NO_REMARK, sender=bank)
    bills.endorse(split_bill, agent, NO_REMARK, sender=importer)  # the recipient acts: it accepted
    with ape.reverts(bills.NotLastRecipient, tokenId=split_bill, caller=importer):
        bills.reject(split_bill, NO_REMARK, sender=importer)


@pytest.mark.parametrize("next_action", ["blankEndorse", "surrender rejected", "pledge"])
def test_the_recipients_own_action_accepts_the_move(
    bills, carrier, escrow, order_bill, shipper, bank, importer, next_action
):
    bills.transferOwners(order_bill, bank, bank, NO_REMARK, sender=shipper)
    if next_action == "blankEndorse":
        bills.blankEndorse(order_bill, NO_REMARK, sender=bank)
    elif next_action == "surrender rejected":
        bills.surrenderForAmendment(order_bill, NO_REMARK, sender=bank)
        bills.rejectSurrender(order_bill, NO_REMARK, sender=carrier)
    else:
        bills.pledge(order_bill, escrow, PLEDGE_DATA, NO_REMARK, sender=bank)
    assert bills.bill(order_bill).lastMove == Move.NONE
    with ape.reverts(bills.NothingToReject, tokenId=order_bill):
        bills.reject(order_bill, NO_REMARK, sender=bank)


@pytest.mark.parametrize("move", ["transferHolder", "endorse", "transferOwners"])
def test_reject_refused_when_the_previous_party_is_suspended(
    bills, participants, admin, order_bill, shipper, bank, move
):
    if move == "transferOwners":
        bills.transferOwners(order_bill, bank, bank, NO_REMARK, sender=shipper)
    else:
        getattr(bills, move)(order_bill, bank, NO_REMARK, sender=shipper)
    participants.suspend(shipper, NO_REMARK, sender=admin)
    with ape.reverts(bills.RecipientNotActive, recipient=shipper):
        bills.reject(order_bill, NO_REMARK, sender=bank)


# ------------------------------------------------------------------ surrender, accept, reject surrender


def test_surrender_for_delivery_and_accept(bills, carrier, order_bill, shipper):
    tx = bills.surrenderForDelivery(order_bill, REMARK, sender=shipper)
    assert tx.events == [
        bills.Transfer(shipper, carrier, order_bill),
        bills.TitleAction(order_bill, Action.SURRENDER_FOR_DELIVERY, shipper, carrier, shipper, REMARK),
    ]
    b = bills.bill(order_bill)
    assert (b.status, b.holder, b.previousParty) == (Status.SURRENDERED_FOR_DELIVERY, carrier, shipper)
    assert bills.ownerOf(order_bill) == carrier

    tx = bills.acceptSurrender(order_bill, REMARK, sender=carrier)
    assert tx.events == [
        bills.Transfer(carrier, ZERO, order_bill),
        bills.TitleAction(order_bill, Action.SURRENDER_ACCEPTED, carrier, carrier, shipper, REMARK),
    ]
    assert bills.bill(order_bill).status == Status.ACCOMPLISHED
    with ape.reverts(bills.ERC721NonexistentToken, tokenId=order_bill):
        bills.ownerOf(order_bill)


def test_surrender_for_delivery_needs_title(bills, split_bill, shipper, bank):
    with ape.reverts(bills.HolderWithoutTitle, tokenId=split_bill, holder=shipper):
        bills.surrenderForDelivery(split_bill, NO_REMARK, sender=shipper)
    with ape.reverts(bills.NotHolder, tokenId=split_bill, caller=bank):  # title alone is not control
        bills.surrenderForDelivery(split_bill, NO_REMARK, sender=bank)


def test_straight_bill_is_surrendered_by_its_consignee(bills, carrier, straight_bill, shipper, importer):
    with ape.reverts(bills.HolderWithoutTitle, tokenId=straight_bill, holder=shipper):
        bills.surrenderForDelivery(straight_bill, NO_REMARK, sender=shipper)
    bills.transferHolder(straight_bill, importer, NO_REMARK, sender=shipper)
    bills.surrenderForDelivery(straight_bill, NO_REMARK, sender=importer)
    bills.acceptSurrender(straight_bill, NO_REMARK, sender=carrier)
    assert bills.bill(straight_bill).status == Status.ACCOMPLISHED


@pytest.mark.parametrize("who", ["bank", "carrier", "outsider"])
def test_surrender_refused_for_a_non_holder(request, bills, order_bill, who):
    account = request.getfixturevalue(who)
    with ape.reverts(bills.NotHolder, tokenId=order_bill, caller=account):
        bills.surrenderForDelivery(order_bill, NO_REMARK, sender=account)
    with ape.reverts(bills.NotHolder, tokenId=order_bill, caller=account):
        bills.surrenderForAmendment(order_bill, NO_REMARK, sender=account)


@pytest.mark.parametrize("surrender", ["surrenderForDelivery", "surrenderForAmendment"])
def test_reject_surrender_restores_the_holder(bills, carrier, order_bill, shipper, surrender):
    getattr(bills, surrender)(order_bill, NO_REMARK, sender=shipper)
    tx = bills.rejectSurrender(order_bill, REMARK, sender=carrier)
    assert tx.events == [
        bills.Transfer(carrier, shipper, order_bill),
        bills.TitleAction(order_bill, Action.SURRENDER_REJECTED, carrier, shipper, shipper, REMARK),
    ]
    b = bills.bill(order_bill)
    assert (b.status, b.holder, b.lastMove) == (Status.ISSUED, shipper, Move.NONE)
    with ape.reverts(bills.NothingToReject, tokenId=order_bill):
        bills.reject(order_bill, NO_REMARK, sender=shipper)


@pytest.mark.parametrize("who", ["other_carrier", "shipper", "outsider", "admin"])
def test_carrier_actions_refused_for_anyone_but_the_issuing_carrier(request, bills, order_bill, shipper, who):
    account = request.getfixturevalue(who)
    bills.surrenderForDelivery(order_bill, NO_REMARK, sender=shipper)
    with ape.reverts(bills.NotCarrier, tokenId=order_bill, caller=account):
        bills.acceptSurrender(order_bill, NO_REMARK, sender=account)
    with ape.reverts(bills.NotCarrier, tokenId=order_bill, caller=account):
        bills.rejectSurrender(order_bill, NO_REMARK, sender=account)


@pytest.mark.parametrize("who", ["other_carrier", "shipper", "outsider"])
def test_amend_and_switch_refused_for_anyone_but_the_issuing_carrier(request, bills, order_bill, shipper, who):
    account = request.getfixturevalue(who)
    bills.surrenderForAmendment(order_bill, NO_REMARK, sender=shipper)
    with ape.reverts(bills.NotCarrier, tokenId=order_bill, caller=account):
        bills.amend(order_bill, REF, DOC_AMENDED, NO_REMARK, sender=account)
    with ape.reverts(bills.NotCarrier, tokenId=order_bill, caller=account):
        bills.switchToPaper(order_bill, NO_REMARK, sender=account)


def test_accept_refused_for_a_surrender_for_amendment(bills, carrier, order_bill, shipper):
    bills.surrenderForAmendment(order_bill, NO_REMARK, sender=shipper)
    with ape.reverts(bills.InvalidStatus, tokenId=order_bill, status=Status.SURRENDERED_FOR_AMENDMENT):
        bills.acceptSurrender(order_bill, NO_REMARK, sender=carrier)


def test_reject_surrender_refused_when_the_holder_was_suspended(
    bills, participants, admin, carrier, order_bill, shipper
):
    bills.surrenderForDelivery(order_bill, NO_REMARK, sender=shipper)
    participants.suspend(shipper, NO_REMARK, sender=admin)
    with ape.reverts(bills.RecipientNotActive, recipient=shipper):
        bills.rejectSurrender(order_bill, NO_REMARK, sender=carrier)


def test_suspended_carrier_can_answer_surrenders_but_not_issue_amend_or_void(
    bills, participants, admin, carrier, order_bill, shipper
):
    """Finding 2 (part): a suspended carrier, or one that lost its role, could still switch bills to paper.
    It may still accept or reject a surrender (so a holder is never trapped), but not void or re-issue."""
    straight = issue(bills, carrier, shipper, reference=ref("HKGSHA2411003"))
    bills.surrenderForDelivery(order_bill, NO_REMARK, sender=shipper)
    bills.surrenderForAmendment(straight, NO_REMARK, sender=shipper)
    participants.suspend(carrier, NO_REMARK, sender=admin)
    with ape.reverts(bills.CarrierNotActive, account=carrier):
        bills.amend(straight, ref("HKGSHA2411003"), DOC_AMENDED, NO_REMARK, sender=carrier)
    with ape.reverts(bills.CarrierNotActive, account=carrier):
        bills.switchToPaper(straight, NO_REMARK, sender=carrier)
    bills.acceptSurrender(order_bill, NO_REMARK, sender=carrier)
    bills.rejectSurrender(straight, NO_REMARK, sender=carrier)
    participants.reinstate(carrier, sender=admin)
    participants.updateRoles(carrier, TRADER_ROLE, ZERO, sender=admin)  # no longer a carrier at all
    bills.surrenderForAmendment(straight, NO_REMARK, sender=shipper)
    with ape.reverts(bills.CarrierNotActive, account=carrier):
        bills.switchToPaper(straight, NO_REMARK, sender=carrier)


# ------------------------------------------------------------------ amend and switch to paper


def test_surrender_for_amendment_does_not_need_title(bills, carrier, split_bill, shipper, bank):
    tx = bills.surrenderForAmendment(split_bill, REMARK, sender=shipper)
    assert tx.events == [
        bills.Transfer(shipper, carrier, split_bill),
        bills.TitleAction(split_bill, Action.SURRENDER_FOR_AMENDMENT, shipper, carrier, bank, REMARK),
    ]
    assert bills.bill(split_bill).status == Status.SURRENDERED_FOR_AMENDMENT


def test_amend_reissues_to_the_same_parties_and_links_both(bills, carrier, split_bill, shipper, bank):
    bills.surrenderForAmendment(split_bill, NO_REMARK, sender=shipper)
    tx = bills.amend(split_bill, REF, DOC_AMENDED, REMARK, sender=carrier)
    successor = token_id(carrier, REF, 1)
    assert tx.return_value == successor
    assert tx.events == [
        bills.Transfer(carrier, ZERO, split_bill),
        bills.TitleAction(split_bill, Action.AMEND, carrier, carrier, bank, REMARK),
        bills.Transfer(ZERO, shipper, successor),
        bills.BillIssued(successor, REF, DOC_AMENDED, False),
        bills.TitleAction(successor, Action.ISSUE, carrier, shipper, bank, REMARK),
    ]
    old, new = bills.bill(split_bill), bills.bill(successor)
    assert (old.status, old.successor, old.documentHash) == (Status.VOIDED, successor, DOC)
    assert (new.status, new.predecessor, new.documentHash) == (Status.ISSUED, split_bill, DOC_AMENDED)
    assert new.generation == 1
    assert (new.holder, new.beneficiary, new.straight, new.issuedBlock) == (shipper, bank, False, tx.block_number)
    assert bills.tokenOf(carrier, REF) == successor
    assert bills.ownerOf(successor) == shipper
    with ape.reverts(bills.ERC721NonexistentToken, tokenId=split_bill):
        bills.ownerOf(split_bill)
    with ape.reverts(bills.BillAlreadyIssued, carrier=carrier, transportDocumentReference=REF):
        bills.issue((REF, DOC, shipper, shipper, False), NO_REMARK, sender=carrier)


def test_generations_of_one_reference(bills, carrier, order_bill, shipper, bank):
    """Amend twice, accomplish, re-use: each bill is the next generation; tokenOf follows the live one."""
    bills.surrenderForAmendment(order_bill, NO_REMARK, sender=shipper)
    first_amendment = bills.amend(order_bill, REF, DOC_AMENDED, NO_REMARK, sender=carrier).return_value
    bills.surrenderForAmendment(first_amendment, NO_REMARK, sender=shipper)
    second_amendment = bills.amend(first_amendment, REF, DOC, NO_REMARK, sender=carrier).return_value
    assert (first_amendment, second_amendment) == (token_id(carrier, REF, 1), token_id(carrier, REF, 2))
    middle = bills.bill(first_amendment)
    assert (middle.predecessor, middle.successor, middle.status) == (order_bill, second_amendment, Status.VOIDED)
    assert bills.tokenOf(carrier, REF) == second_amendment
    with ape.reverts(bills.BillAlreadyIssued, carrier=carrier, transportDocumentReference=REF):
        bills.issue((REF, DOC, shipper, shipper, False), NO_REMARK, sender=carrier)

    bills.surrenderForDelivery(second_amendment, NO_REMARK, sender=shipper)
    bills.acceptSurrender(second_amendment, NO_REMARK, sender=carrier)
    assert bills.tokenOf(carrier, REF) == 0
    reused = issue(bills, carrier, bank)
    assert reused == token_id(carrier, REF, 3) and bills.tokenOf(carrier, REF) == reused
    assert bills.bill(second_amendment).successor == 0  # a re-use is not an amendment


def test_amend_keeps_a_straight_bill_straight(bills, carrier, straight_bill, shipper, importer):
    bills.surrenderForAmendment(straight_bill, NO_REMARK, sender=shipper)
    successor = bills.amend(straight_bill, ref("HKGSHA2411002"), DOC_AMENDED, NO_REMARK, sender=carrier).return_value
    b = bills.bill(successor)
    assert (b.straight, b.holder, b.beneficiary) == (True, shipper, importer)


def test_amend_keeps_a_blank_endorsement(bills, carrier, order_bill, shipper):
    """A bearer bill surrendered for amendment comes back as a bearer bill (regression: the zero
    beneficiary was checked as a recipient and the amendment always reverted)."""
    bills.blankEndorse(order_bill, NO_REMARK, sender=shipper)
    bills.surrenderForAmendment(order_bill, NO_REMARK, sender=shipper)
    successor = bills.amend(order_bill, REF, DOC_AMENDED, NO_REMARK, sender=carrier).return_value
    b = bills.bill(successor)
    assert (b.holder, b.beneficiary, b.blankEndorsed, b.status) == (shipper, ZERO, True, Status.ISSUED)


def test_issue_refuses_a_zero_beneficiary(bills, carrier, shipper):
    with ape.reverts(bills.RecipientNotActive, recipient=ZERO):
        bills.issue((REF, DOC, shipper, ZERO, False), NO_REMARK, sender=carrier)


def test_amend_refusals(bills, participants, admin, carrier, order_bill, shipper):
    with ape.reverts(bills.InvalidStatus, tokenId=order_bill, status=Status.ISSUED):
        bills.amend(order_bill, REF, DOC_AMENDED, NO_REMARK, sender=carrier)
    bills.surrenderForAmendment(order_bill, NO_REMARK, sender=shipper)
    with ape.reverts(bills.EmptyDocumentHash):
        bills.amend(order_bill, REF, b"\0" * 32, NO_REMARK, sender=carrier)
    other = ref("HKGSHA2411999")
    with ape.reverts(bills.ReferenceMismatch, tokenId=order_bill, transportDocumentReference=other):
        bills.amend(order_bill, other, DOC_AMENDED, NO_REMARK, sender=carrier)
    participants.suspend(shipper, NO_REMARK, sender=admin)  # the re-issue goes to the surrendering holder
    with ape.reverts(bills.RecipientNotActive, recipient=shipper):
        bills.amend(order_bill, REF, DOC_AMENDED, NO_REMARK, sender=carrier)


def test_amend_refused_for_a_surrender_for_delivery(bills, carrier, order_bill, shipper):
    bills.surrenderForDelivery(order_bill, NO_REMARK, sender=shipper)
    with ape.reverts(bills.InvalidStatus, tokenId=order_bill, status=Status.SURRENDERED_FOR_DELIVERY):
        bills.amend(order_bill, REF, DOC_AMENDED, NO_REMARK, sender=carrier)
    with ape.reverts(bills.InvalidStatus, tokenId=order_bill, status=Status.SURRENDERED_FOR_DELIVERY):
        bills.switchToPaper(order_bill, NO_REMARK, sender=carrier)


def test_carrier_cannot_void_a_bill_its_holder_controls(bills, carrier, escrow, order_bill, split_bill, shipper):
    """Finding 2: the issuing carrier could switch any issued bill to paper without the holder
    surrendering it, even one pledged in a funded financing, leaving the escrow stuck. A switch to paper
    now follows the holder's surrender for amendment (DCSA: an amendment with reason SWTP)."""
    with ape.reverts(bills.InvalidStatus, tokenId=split_bill, status=Status.ISSUED):
        bills.switchToPaper(split_bill, NO_REMARK, sender=carrier)
    pledged = issue(bills, carrier, shipper, reference=ref("HKGSHA2411004"))
    bills.pledge(pledged, escrow, PLEDGE_DATA, NO_REMARK, sender=shipper)
    with ape.reverts(bills.InvalidStatus, tokenId=pledged, status=Status.ISSUED):
        bills.switchToPaper(pledged, NO_REMARK, sender=carrier)
    assert bills.ownerOf(pledged) == escrow and bills.bill(pledged).status == Status.ISSUED


def test_switch_to_paper_after_a_surrender_for_amendment(bills, carrier, split_bill, shipper, bank):
    reason = keccak(text="holder request 2024-11-20; paper original HKGSHA2411001/1")
    bills.surrenderForAmendment(split_bill, NO_REMARK, sender=shipper)
    tx = bills.switchToPaper(split_bill, reason, sender=carrier)
    assert tx.events == [
        bills.Transfer(carrier, ZERO, split_bill),
        bills.TitleAction(split_bill, Action.SWITCH_TO_PAPER, carrier, carrier, bank, reason),
    ]
    b = bills.bill(split_bill)
    assert (b.status, b.holder, b.beneficiary, b.previousParty) == (Status.VOIDED, carrier, bank, shipper)
    assert bills.balanceOf(carrier) == 0
    with ape.reverts(bills.ERC721NonexistentToken, tokenId=split_bill):
        bills.ownerOf(split_bill)


# ------------------------------------------------------------------ nothing moves in a wrong state


def _to_state(bills, carrier, tid, shipper, state):
    if state == "surrendered for delivery":
        bills.surrenderForDelivery(tid, NO_REMARK, sender=shipper)
    elif state == "surrendered for amendment":
        bills.surrenderForAmendment(tid, NO_REMARK, sender=shipper)
    elif state == "accomplished":
        bills.surrenderForDelivery(tid, NO_REMARK, sender=shipper)
        bills.acceptSurrender(tid, NO_REMARK, sender=carrier)
    elif state == "voided by amendment":
        bills.surrenderForAmendment(tid, NO_REMARK, sender=shipper)
        bills.amend(tid, REF, DOC_AMENDED, NO_REMARK, sender=carrier)
    elif state == "switched to paper":
        bills.surrenderForAmendment(tid, NO_REMARK, sender=shipper)
        bills.switchToPaper(tid, NO_REMARK, sender=carrier)
    return bills.bill(tid).status


STATES = [
    "surrendered for delivery",
    "surrendered for amendment",
    "accomplished",
    "voided by amendment",
    "switched to paper",
]
TRADER_ACTIONS = {
    "transferHolder": lambda b, t, who, to: b.transferHolder(t, to, NO_REMARK, sender=who),
    "endorse": lambda b, t, who, to: b.endorse(t, to, NO_REMARK, sender=who),
    "transferOwners": lambda b, t, who, to: b.transferOwners(t, to, to, NO_REMARK, sender=who),
    "blankEndorse": lambda b, t, who, to: b.blankEndorse(t, NO_REMARK, sender=who),
    "surrenderForDelivery": lambda b, t, who, to: b.surrenderForDelivery(t, NO_REMARK, sender=who),
    "surrenderForAmendment": lambda b, t, who, to: b.surrenderForAmendment(t, NO_REMARK, sender=who),
    "nominate": lambda b, t, who, to: b.nominate(t, to, NO_REMARK, sender=who),
    "reject": lambda b, t, who, to: b.reject(t, NO_REMARK, sender=who),
    "pledge": lambda b, t, who, to: b.pledge(t, to, PLEDGE_DATA, NO_REMARK, sender=who),
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", list(TRADER_ACTIONS))
def test_trader_actions_refused_unless_issued(bills, carrier, order_bill, shipper, bank, state, action):
    status = _to_state(bills, carrier, order_bill, shipper, state)
    with ape.reverts(bills.InvalidStatus, tokenId=order_bill, status=status):
        TRADER_ACTIONS[action](bills, order_bill, shipper, bank)


@pytest.mark.parametrize("state", ["issued", "accomplished", "voided by amendment", "switched to paper"])
def test_carrier_actions_refused_in_a_wrong_state(bills, carrier, order_bill, shipper, state):
    status = _to_state(bills, carrier, order_bill, shipper, state)
    for call in (bills.acceptSurrender, bills.rejectSurrender):
        with ape.reverts(bills.InvalidStatus, tokenId=order_bill, status=status):
            call(order_bill, NO_REMARK, sender=carrier)
    with ape.reverts(bills.InvalidStatus, tokenId=order_bill, status=status):
        bills.switchToPaper(order_bill, NO_REMARK, sender=carrier)
    with ape.reverts(bills.InvalidStatus, tokenId=order_bill, status=status):
        bills.amend(order_bill, REF, DOC_AMENDED, NO_REMARK, sender=carrier)


# ------------------------------------------------------------------ pause


def test_pause_and_unpause_by_the_admin_only(admin, outsider, carrier, bills):
    with ape.reverts(bills.AccessControlUnauthorizedAccount, account=outsider, neededRole=b"\0" * 32):
        bills.pause(sender=outsider)
    with ape.reverts(bills.AccessControlUnauthorizedAccount, account=carrier, neededRole=b"\0" * 32):
        bills.pause(sender=carrier)
    tx = bills.pause(sender=admin)
    assert tx.events == [bills.Paused(admin)]
    with ape.reverts(bills.EnforcedPause):
        bills.pause(sender=admin)
    with ape.reverts(bills.AccessControlUnauthorizedAccount, account=outsider, neededRole=b"\0" * 32):
        bills.unpause(sender=outsider)
    tx = bills.unpause(sender=admin)
    assert tx.events == [bills.Unpaused(admin)]
    with ape.reverts(bills.ExpectedPause):
        bills.unpause(sender=admin)


PAUSED_CALLS = {
    "issue": lambda b, c, t, s, x: b.issue((ref("HKGSHA2411077"), DOC, s, s, False), NO_REMARK, sender=c),
    "transferHolder": lambda b, c, t, s, x: b.transferHolder(t, x, NO_REMARK, sender=s),
    "endorse": lambda b, c, t, s, x: b.endorse(t, x, NO_REMARK, sender=s),
    "transferOwners": lambda b, c, t, s, x: b.transferOwners(t, x, x, NO_REMARK, sender=s),
    "blankEndorse": lambda b, c, t, s, x: b.blankEndorse(t, NO_REMARK, sender=s),
    "nominate": lambda b, c, t, s, x: b.nominate(t, x, NO_REMARK, sender=s),
    "reject": lambda b, c, t, s, x: b.reject(t, NO_REMARK, sender=s),
    "surrenderForDelivery": lambda b, c, t, s, x: b.surrenderForDelivery(t, NO_REMARK, sender=s),
    "surrenderForAmendment": lambda b, c, t, s, x: b.surrenderForAmendment(t, NO_REMARK, sender=s),
    "acceptSurrender": lambda b, c, t, s, x: b.acceptSurrender(t, NO_REMARK, sender=c),
    "rejectSurrender": lambda b, c, t, s, x: b.rejectSurrender(t, NO_REMARK, sender=c),
    "amend": lambda b, c, t, s, x: b.amend(t, REF, DOC_AMENDED, NO_REMARK, sender=c),
    "switchToPaper": lambda b, c, t, s, x: b.switchToPaper(t, NO_REMARK, sender=c),
    "pledge": lambda b, c, t, s, x: b.pledge(t, x, PLEDGE_DATA, NO_REMARK, sender=s),
}


@pytest.mark.parametrize("action", list(PAUSED_CALLS))
def test_nothing_happens_while_paused(bills, admin, carrier, order_bill, shipper, bank, action):
    bills.pause(sender=admin)
    with ape.reverts(bills.EnforcedPause):
        PAUSED_CALLS[action](bills, carrier, order_bill, shipper, bank)
    assert bills.ownerOf(order_bill) == shipper and bills.bill(order_bill).status == Status.ISSUED  # views work
    bills.unpause(sender=admin)
    bills.transferHolder(order_bill, bank, NO_REMARK, sender=shipper)


# ------------------------------------------------------------------ the whole story and its gas

# The security issue's budgets: issue <= 160,000 and the lifecycle <= 500,000 including ERC-721 balances.
# A move to a party holding no bill yet pays 22,100 for its balance slot, so transferHolder and
# surrenderForDelivery carry that much above their earlier targets.
GAS_TARGETS = {
    "issue": 160_000,
    "transferHolder": 75_000,
    "endorse": 50_000,
    "surrenderForDelivery": 70_000,
    "acceptSurrender": 50_000,
}
LIFECYCLE_TARGET = 500_000


def test_lifecycle_history_and_gas(chain, bills, carrier, shipper, bank, importer):
    """Issue; endorse + transferHolder to the bank; endorse + transferHolder to the importer; surrender for
    delivery; accept. Gas is deterministic, so the targets are asserted exactly, per call and in total."""
    steps = [
        ("issue", lambda: bills.issue((REF, DOC, shipper, shipper, False), NO_REMARK, sender=carrier)),
        ("endorse", lambda: bills.endorse(tid, bank, NO_REMARK, sender=shipper)),
        ("transferHolder", lambda: bills.transferHolder(tid, bank, NO_REMARK, sender=shipper)),
        ("endorse", lambda: bills.endorse(tid, importer, NO_REMARK, sender=bank)),
        ("transferHolder", lambda: bills.transferHolder(tid, importer, NO_REMARK, sender=bank)),
        ("surrenderForDelivery", lambda: bills.surrenderForDelivery(tid, NO_REMARK, sender=importer)),
        ("acceptSurrender", lambda: bills.acceptSurrender(tid, NO_REMARK, sender=carrier)),
    ]
    tid = token_id(carrier)
    used, history = [], []
    for name, call in steps:
        tx = call()
        used.append((name, tx.gas_used))
        history += [(e.action, e.actor, e.holder, e.beneficiary) for e in tx.events if e.event_name == "TitleAction"]
    print("\n" + "\n".join(f"{name:22} {gas:>9,}" for name, gas in used))
    print(f"{'lifecycle.total':22} {sum(g for _, g in used):>9,}")

    for name, gas in used:
        assert gas <= GAS_TARGETS[name], (name, gas)
    assert sum(gas for _, gas in used) <= LIFECYCLE_TARGET

    assert history == [
        (Action.ISSUE, carrier, shipper, shipper),
        (Action.ENDORSE, shipper, shipper, bank),
        (Action.TRANSFER, shipper, bank, bank),
        (Action.ENDORSE, bank, bank, importer),
        (Action.TRANSFER, bank, importer, importer),
        (Action.SURRENDER_FOR_DELIVERY, importer, carrier, importer),
        (Action.SURRENDER_ACCEPTED, carrier, carrier, importer),
    ]
    # the history is one log query bounded by the issue block (the last call burned the token: read the
    # record, which stays)
    start = bills.bill(tid).issuedBlock
    logs = bills.TitleAction.range(start, chain.blocks.height + 1, search_topics={"tokenId": tid})
    assert [(log.action, log.actor, log.holder, log.beneficiary) for log in logs] == history


def test_gas_of_every_action(bills, carrier, shipper, bank, importer, agent):
    """Gas of the other actions, for the record, and of the transferOwners variant of the lifecycle."""
    gas = {}

    def run(name, tx):
        gas[name] = tx.gas_used

    run("issue (straight)", bills.issue((ref("S1"), DOC, shipper, importer, True), NO_REMARK, sender=carrier))
    run("issue (holder != beneficiary)", bills.issue((ref("S2"), DOC, shipper, bank, False), NO_REMARK, sender=carrier))
    run("issue", bills.issue((REF, DOC, shipper, shipper, False), NO_REMARK, sender=carrier))
    tid = token_id(carrier)
    run("transferOwners", bills.transferOwners(tid, bank, bank, NO_REMARK, sender=shipper))
    run("reject (owners)", bills.reject(tid, NO_REMARK, sender=bank))
    run("blankEndorse", bills.blankEndorse(tid, NO_REMARK, sender=shipper))
    run("endorse (from blank)", bills.endorse(tid, bank, NO_REMARK, sender=shipper))
    run("reject (endorse)", bills.reject(tid, NO_REMARK, sender=bank))
    run("endorse", bills.endorse(tid, bank, NO_REMARK, sender=shipper))
    run("nominate", bills.nominate(tid, importer, NO_REMARK, sender=bank))
    run("endorse (to nominee)", bills.endorse(tid, importer, NO_REMARK, sender=shipper))
    run("transferHolder", bills.transferHolder(tid, importer, NO_REMARK, sender=shipper))
    run("reject (transfer)", bills.reject(tid, NO_REMARK, sender=importer))
    run("surrenderForAmendment", bills.surrenderForAmendment(tid, NO_REMARK, sender=shipper))
    run("rejectSurrender", bills.rejectSurrender(tid, NO_REMARK, sender=carrier))
    bills.surrenderForAmendment(tid, NO_REMARK, sender=shipper)
    run("amend", bills.amend(tid, REF, DOC_AMENDED, NO_REMARK, sender=carrier))
    bills.surrenderForAmendment(token_id(carrier, REF, 1), NO_REMARK, sender=shipper)
    run("switchToPaper", bills.switchToPaper(token_id(carrier, REF, 1), NO_REMARK, sender=carrier))

    owners = [bills.issue((ref("S3"), DOC, shipper, shipper, False), NO_REMARK, sender=carrier).gas_used]
    tid = token_id(carrier, ref("S3"))
    owners.append(bills.transferOwners(tid, bank, bank, NO_REMARK, sender=shipper).gas_used)
    owners.append(bills.transferOwners(tid, importer, importer, NO_REMARK, sender=bank).gas_used)
    owners.append(bills.surrenderForDelivery(tid, NO_REMARK, sender=importer).gas_used)
    owners.append(bills.acceptSurrender(tid, NO_REMARK, sender=carrier).gas_used)
    gas["lifecycle.total (transferOwners x2)"] = sum(owners)
    print("\n" + "\n".join(f"{name:36} {value:>9,}" for name, value in gas.items()))

    assert gas["issue (straight)"] <= GAS_TARGETS["issue"]
    assert gas["issue (holder != beneficiary)"] <= GAS_TARGETS["issue"]
    assert gas["endorse (to nominee)"] <= GAS_TARGETS["endorse"]
    assert gas["lifecycle.total (transferOwners x2)"] <= LIFECYCLE_TARGET


def test_a_financier_may_hold_a_bill_but_a_regulator_may_not(bills, participants, admin, order_bill, shipper, agent):
    """A pledgee bank (FINANCIER only) can receive a bill, e.g. when it claims collateral after a default;
    a role that never holds title (REGULATOR) cannot."""
    participants.updateRoles(agent, 1 << 2, ZERO, sender=admin)  # FINANCIER only
    bills.transferOwners(order_bill, agent, agent, NO_REMARK, sender=shipper)
    assert bills.ownerOf(order_bill) == agent
    participants.updateRoles(shipper, 1 << 5, ZERO, sender=admin)  # REGULATOR only
    with ape.reverts(bills.RecipientNotActive, recipient=shipper):
        bills.transferHolder(order_bill, shipper, NO_REMARK, sender=agent)
