"""The bills facade: DCSA documents in, typed bills and chain of title out, refusals by name. Every write
takes `sender=` and returns `Result(bill, tx)`; each rule is exercised for the party it allows and refused,
by name, for the party it does not."""

import json

import pytest
from web3.logs import DISCARD

from ebl_client import errors, hashing, samples
from ebl_client.bills import Bills, carrier_of, parse_token_id, reference_bytes
from ebl_client.chain import Chain
from ebl_client.models import BillStatus, Result, Role, TitleAction, Transaction

DOC_PATH = samples.TRANSPORT_DOCUMENT
REFERENCE = "VHSL2611HKGSHA0007"
CARRIER, SHIPPER, BANK, IMPORTER, OTHER_CARRIER, OUTSIDER = 1, 2, 3, 4, 5, 9
ZERO = "0x" + "00" * 20


@pytest.fixture
def parties(onboard, signers):
    onboard(CARRIER, Role.CARRIER)
    onboard(OTHER_CARRIER, Role.CARRIER)
    for i in (SHIPPER, BANK, IMPORTER):
        onboard(i, Role.TRADER, "CN" if i == IMPORTER else "HK")
    return {name: signers[i] for name, i in
            (("carrier", CARRIER), ("shipper", SHIPPER), ("bank", BANK), ("importer", IMPORTER),
             ("other_carrier", OTHER_CARRIER), ("outsider", OUTSIDER))}


@pytest.fixture
def bills(chain, suite, registry):
    return Bills.of(chain, suite)


@pytest.fixture
def document():
    return json.loads(DOC_PATH.read_text())


CONSIGNEE = {"partyName": "Shanghai Huaxin Trading Co., Ltd.",
             "identifyingCodes": [{"codeListProvider": "ZZZ", "partyCode": "91310000MA1FL4B24G",
                                   "codeListName": "USCC"}]}


@pytest.fixture
def straight_document(document):
    """The sample as a straight bill (isToOrder false) consigned to the importer."""
    return {**document, "transportDocumentReference": "VHSL2611HKGSHA0009", "isToOrder": False,
            "documentParties": {**document["documentParties"], "consignee": CONSIGNEE}}


def issue(bills, parties, document=DOC_PATH, holder="shipper", beneficiary=None, **kw):
    """Issue by the carrier to `holder`; the bill (the Result's value)."""
    return bills.issue(document, parties[holder].address, beneficiary, sender=parties["carrier"], **kw).value


def test_issue_from_the_dcsa_document(bills, parties, document, chain):
    p = parties
    result = bills.issue(DOC_PATH, p["shipper"].address, sender=p["carrier"], remark="original issued at HKHKG")
    assert isinstance(result, Result)
    bill, tx = result
    assert bill.transport_document_reference == REFERENCE
    assert bill.status is BillStatus.ISSUED and not bill.straight and bill.live
    assert bill.holder == bill.beneficiary == p["shipper"].address and bill.carrier == p["carrier"].address
    assert bill.document_hash == "0x" + hashing.document_digest(document).hex()
    assert carrier_of(bill.token_id) == p["carrier"].address
    assert bills.token_of(p["carrier"].address, REFERENCE) == bill.token_id
    assert bills.get(hex(bill.token_id)) == bill
    # the transaction that made it, as an audit trail needs it
    assert isinstance(tx, Transaction) and tx.sender == p["carrier"].address
    receipt = chain.w3.eth.get_transaction_receipt(tx.hash)
    assert receipt["blockNumber"] == tx.block == bill.issued_block and receipt["gasUsed"] == tx.gas_used
    assert bills.history(bill.token_id)[0].remark_hash == "0x" + hashing.text_hash("original issued at HKHKG").hex()


def test_issue_to_order_of_another_party(bills, parties):
    """A to-order document may name a first beneficiary other than the holder (to order of the bank)."""
    bill = issue(bills, parties, beneficiary=parties["bank"].address)
    assert not bill.straight and bill.holder == parties["shipper"].address
    assert bill.beneficiary == parties["bank"].address


def test_the_reference_is_read_from_the_bill_issued_event(bills, parties, chain, document):
    """A bill issued without this client (a multisig, another tool) still reads with its reference: the
    facade takes it from the BillIssued event of the issue block, not from anything it remembered."""
    request = (reference_bytes("MULTISIG-0001"), hashing.document_digest(document), parties["shipper"].address,
               parties["shipper"].address, False)
    receipt = chain.transact(parties["carrier"], bills.contract, "issue", request, b"\0" * 32)
    (log,) = bills.contract.events.BillIssued().process_receipt(receipt, errors=DISCARD)
    bill = bills.get(log["args"]["tokenId"])
    assert bill.transport_document_reference == "MULTISIG-0001"
    assert bill.issued_block == receipt["blockNumber"]
    assert log["args"]["documentHash"] == hashing.document_digest(document)
    assert log["args"]["straight"] is False


def test_document_round_trip_and_a_one_byte_change(bills, parties, document, tmp_path):
    bill = issue(bills, parties, document)
    assert bills.verify_document(bill.token_id, DOC_PATH)
    reformatted = tmp_path / "reformatted.json"
    reformatted.write_text(json.dumps(document, indent=4, sort_keys=True))  # other bytes, same canonical form
    assert bills.verify_document(bill.token_id, reformatted)
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(DOC_PATH.read_bytes().replace(b"VICTORIA PEARL", b"VICTORIA PEARM", 1))
    assert not bills.verify_document(bill.token_id, tampered)


def test_history_equals_the_actions_in_order(bills, parties):
    p = parties
    token = issue(bills, parties).token_id
    bills.endorse(token, p["bank"].address, sender=p["shipper"])
    bills.transfer(token, p["bank"].address, sender=p["shipper"])
    bills.nominate(token, p["importer"].address, sender=p["bank"])
    bills.endorse(token, p["importer"].address, sender=p["bank"])
    bills.transfer(token, p["importer"].address, sender=p["bank"])
    bills.surrender(token, "delivery", sender=p["importer"])
    final, tx = bills.accept_surrender(token, sender=p["carrier"], remark="goods released at CNSHA")
    assert final.status is BillStatus.ACCOMPLISHED and not final.live
    s, b, i, c = (p[k].address for k in ("shipper", "bank", "importer", "carrier"))
    expected = [
        (TitleAction.ISSUE, c, s, s), (TitleAction.ENDORSE, s, s, b), (TitleAction.TRANSFER, s, b, b),
        (TitleAction.NOMINATE, b, b, i),  # a nomination's event carries the nominee as its beneficiary
        (TitleAction.ENDORSE, b, b, i), (TitleAction.TRANSFER, b, i, i),
        (TitleAction.SURRENDER_FOR_DELIVERY, i, c, i), (TitleAction.SURRENDER_ACCEPTED, c, c, i),
    ]
    history = bills.history(token)
    assert [(e.action, e.actor, e.holder, e.beneficiary) for e in history] == expected
    assert [e.block for e in history] == sorted(e.block for e in history)
    assert history[-1].block == tx.block and history[-1].tx_hash == tx.hash
    assert history[-1].remark_hash == "0x" + hashing.text_hash("goods released at CNSHA").hex()
    assert history[1].action.dcsa == "ENDO" and history[-1].action.dcsa == "SACC"
    assert all(e.timestamp > 0 for e in history)


def test_history_is_one_log_query_from_the_issue_block(anvil, suite, parties):
    calls: list[tuple[str, object]] = []
    recording = Chain.connect(anvil.url, make_request_hook=lambda method, params: calls.append((method, params)))
    bills = Bills.of(recording, suite)
    token = issue(bills, parties).token_id
    issued = bills.get(token).issued_block
    calls.clear()
    bills.history(token)
    log_queries = [params for method, params in calls if method == "eth_getLogs"]
    assert len(log_queries) == 1
    (query,) = log_queries[0]
    assert int(query["fromBlock"], 16) == issued and query["toBlock"] == "latest"


def test_refusals_are_named(bills, parties):
    p = parties
    token = issue(bills, parties).token_id
    with pytest.raises(errors.NotHolder) as caught:
        bills.transfer(token, p["importer"].address, sender=p["bank"])
    assert caught.value.tokenId == token and caught.value.caller == p["bank"].address
    assert hex(token) in str(caught.value)
    with pytest.raises(errors.RecipientNotActive) as caught:
        bills.transfer(token, p["outsider"].address, sender=p["shipper"])
    assert caught.value.recipient == p["outsider"].address
    with pytest.raises(errors.BillAlreadyIssued) as caught:
        bills.issue(DOC_PATH, p["bank"].address, sender=p["carrier"])
    assert REFERENCE in str(caught.value)
    with pytest.raises(errors.CarrierNotActive):
        bills.issue(DOC_PATH, p["bank"].address, sender=p["shipper"])
    bills.surrender(token, "delivery", sender=p["shipper"])
    with pytest.raises(errors.NotCarrier):
        bills.accept_surrender(token, sender=p["shipper"])
    with pytest.raises(errors.NotCarrier):  # another carrier is not this bill's carrier
        bills.accept_surrender(token, sender=p["other_carrier"])
    with pytest.raises(errors.InvalidStatus, match="surrendered for delivery"):
        bills.endorse(token, p["bank"].address, sender=p["carrier"])


def test_get_of_an_unknown_bill_is_bill_not_found(bills, parties):
    token = issue(bills, parties).token_id
    for lookup in (bills.get, bills.history):
        with pytest.raises(errors.BillNotFound, match=hex(token + 1)) as caught:
            lookup(token + 1)
        assert isinstance(caught.value, errors.NotFound)
    assert bills.token_of(parties["carrier"].address, "NEVER-ISSUED") is None


def test_straight_bill(bills, parties, straight_document):
    p = parties
    bill = issue(bills, parties, straight_document, beneficiary=p["importer"].address)
    assert bill.straight and bill.beneficiary == p["importer"].address
    with pytest.raises(errors.StraightBillNotEndorsable):
        bills.endorse(bill.token_id, p["bank"].address, sender=p["shipper"])
    with pytest.raises(errors.NotConsignee):
        bills.transfer(bill.token_id, p["bank"].address, sender=p["shipper"])
    assert bills.transfer(bill.token_id, p["importer"].address, sender=p["shipper"]).value.holder == \
        p["importer"].address


def test_amendment_links_and_keeps_the_reference(bills, parties, document):
    p = parties
    original = issue(bills, parties, document)
    bills.surrender(original.token_id, "amendment", sender=p["shipper"])
    amended_doc = {**document, "declaredValue": 1852000.0}
    with pytest.raises(errors.NotCarrier):
        bills.amend(original.token_id, amended_doc, sender=p["other_carrier"])
    successor, tx = bills.amend(original.token_id, amended_doc, sender=p["carrier"], remark="declared value corrected")
    assert successor.predecessor == original.token_id and successor.generation == 1
    assert successor.transport_document_reference == REFERENCE  # from the successor's own BillIssued event
    assert successor.holder == p["shipper"].address and successor.status is BillStatus.ISSUED
    assert successor.issued_block == tx.block
    voided = bills.get(original.token_id)
    assert voided.status is BillStatus.VOIDED and voided.successor == successor.token_id
    assert bills.token_of(p["carrier"].address, REFERENCE) == successor.token_id
    assert bills.verify_document(successor.token_id, amended_doc)
    assert not bills.verify_document(successor.token_id, document)
    with pytest.raises(errors.InvalidDocument, match="reference") as caught:
        bills.amend(successor.token_id, {**document, "transportDocumentReference": "OTHER"}, sender=p["carrier"])
    assert caught.value.path == "/transportDocumentReference"


def test_amend_names_the_reference_and_the_chain_checks_it(bills, parties, document, chain):
    """`amend` sends the bill's reference; the registry checks it against the token id itself, so a caller
    that bypasses the client's check is refused too (ReferenceMismatch)."""
    p = parties
    original = issue(bills, parties, document)
    bills.surrender(original.token_id, "amendment", sender=p["shipper"])
    wrong = reference_bytes("VHSL2611HKGSHA0008")
    with pytest.raises(errors.ReferenceMismatch) as caught:
        chain.transact(p["carrier"], bills.contract, "amend", original.token_id, wrong, b"\1" * 32, b"\0" * 32)
    assert caught.value.tokenId == original.token_id
    assert caught.value.transportDocumentReference == "0x" + wrong.hex()
    assert "'VHSL2611HKGSHA0008'" in str(caught.value)
    assert bills.get(original.token_id).status is BillStatus.SURRENDERED_FOR_AMENDMENT


def test_reject_restores_the_previous_holder(bills, parties):
    p = parties
    token = issue(bills, parties).token_id
    bills.transfer(token, p["bank"].address, sender=p["shipper"])
    with pytest.raises(errors.NotLastRecipient):
        bills.reject(token, sender=p["shipper"])
    assert bills.reject(token, sender=p["bank"], remark="not our shipment").value.holder == p["shipper"].address
    with pytest.raises(errors.NothingToReject):
        bills.reject(token, sender=p["bank"])


def test_a_nomination_keeps_the_recipients_reject_window(bills, parties):
    """Nominating changes nothing the recipient received, so the recipient may still reject afterwards;
    any other action closes the window."""
    p = parties
    token = issue(bills, parties).token_id
    bills.endorse(token, p["bank"].address, sender=p["shipper"])  # the bank receives title
    nominated = bills.nominate(token, p["importer"].address, sender=p["bank"]).value
    assert nominated.nominee == p["importer"].address
    restored = bills.reject(token, sender=p["bank"]).value  # still allowed after the nomination
    assert restored.beneficiary == p["shipper"].address and restored.nominee is None  # the nomination lapsed
    bills.endorse(token, p["bank"].address, sender=p["shipper"])
    bills.surrender(token, "amendment", sender=p["shipper"])  # any other action closes the window
    bills.reject_surrender(token, sender=p["carrier"])
    with pytest.raises(errors.NothingToReject):
        bills.reject(token, sender=p["bank"])


def test_nominate_only_by_the_beneficiary_and_withdrawn_with_none(bills, parties):
    p = parties
    token = issue(bills, parties).token_id
    bills.endorse(token, p["bank"].address, sender=p["shipper"])
    with pytest.raises(errors.NotBeneficiary):
        bills.nominate(token, p["importer"].address, sender=p["shipper"])
    with pytest.raises(errors.SameParty):
        bills.nominate(token, p["bank"].address, sender=p["bank"])
    assert bills.nominate(token, p["importer"].address, sender=p["bank"]).value.nominee == p["importer"].address
    with pytest.raises(errors.NotNominee):  # the holder without title endorses only to the nominee
        bills.endorse(token, p["other_carrier"].address, sender=p["shipper"])
    assert bills.nominate(token, None, sender=p["bank"]).value.nominee is None
    with pytest.raises(errors.NotNominee):
        bills.endorse(token, p["importer"].address, sender=p["shipper"])


def test_transfer_owners_and_blank_endorse(bills, parties):
    p = parties
    token = issue(bills, parties).token_id
    moved = bills.transfer_owners(token, p["bank"].address, p["importer"].address, sender=p["shipper"]).value
    assert (moved.holder, moved.beneficiary) == (p["bank"].address, p["importer"].address)
    with pytest.raises(errors.HolderWithoutTitle):
        bills.transfer_owners(token, p["shipper"].address, p["shipper"].address, sender=p["bank"])
    with pytest.raises(errors.HolderWithoutTitle):
        bills.blank_endorse(token, sender=p["bank"])
    bills.reject(token, sender=p["bank"])  # both restored
    bearer = bills.blank_endorse(token, sender=p["shipper"]).value
    assert bearer.blank_endorsed and bearer.beneficiary is None
    with pytest.raises(errors.AlreadyBlankEndorsed):
        bills.blank_endorse(token, sender=p["shipper"])
    assert bills.transfer(token, p["bank"].address, sender=p["shipper"]).value.holder == p["bank"].address


def test_switch_to_paper_only_after_a_surrender_for_amendment_by_an_active_carrier(bills, parties, registry, admin):
    p = parties
    token = issue(bills, parties).token_id
    with pytest.raises(errors.InvalidStatus, match="issued"):  # the holder still controls it: never voided
        bills.switch_to_paper(token, "carrier wants paper", sender=p["carrier"])
    bills.surrender(token, "delivery", sender=p["shipper"])
    with pytest.raises(errors.InvalidStatus, match="surrendered for delivery"):
        bills.switch_to_paper(token, "not for a delivery", sender=p["carrier"])
    bills.reject_surrender(token, sender=p["carrier"])
    bills.surrender(token, "amendment", sender=p["shipper"], remark="please issue on paper")
    with pytest.raises(errors.NotCarrier):
        bills.switch_to_paper(token, "holder asked for paper", sender=p["other_carrier"])
    with pytest.raises(errors.NotCarrier):
        bills.switch_to_paper(token, "holder asked for paper", sender=p["shipper"])
    registry.suspend(p["carrier"].address, "licence review", sender=admin)
    with pytest.raises(errors.CarrierNotActive):
        bills.switch_to_paper(token, "holder asked for paper", sender=p["carrier"])
    registry.reinstate(p["carrier"].address, sender=admin)
    voided, tx = bills.switch_to_paper(token, "holder asked for paper; paper B/L no. 0042", sender=p["carrier"])
    assert voided.status is BillStatus.VOIDED and not voided.live
    last = bills.history(token)[-1]
    assert last.action is TitleAction.SWITCH_TO_PAPER and last.action.dcsa == "SWTP" and last.tx_hash == tx.hash
    assert last.remark_hash == "0x" + hashing.text_hash("holder asked for paper; paper B/L no. 0042").hex()
    assert bills.token_of(p["carrier"].address, REFERENCE) is None
    with pytest.raises(errors.BillAlreadyIssued):  # the paper original carries title now
        bills.issue(DOC_PATH, p["shipper"].address, sender=p["carrier"])


def test_balance_of_counts_the_live_bills_each_holder_controls(bills, parties, document):
    p = parties
    shipper, bank, carrier = (p[k].address for k in ("shipper", "bank", "carrier"))
    assert bills.balance_of(shipper) == 0
    first = issue(bills, parties, document).token_id
    second = issue(bills, parties, {**document, "transportDocumentReference": "VHSL2611HKGSHA0008"}).token_id
    assert bills.balance_of(shipper) == 2
    bills.transfer(first, bank, sender=p["shipper"])
    assert (bills.balance_of(shipper), bills.balance_of(bank)) == (1, 1)
    bills.reject(first, sender=p["bank"])
    assert (bills.balance_of(shipper), bills.balance_of(bank)) == (2, 0)
    bills.surrender(second, "delivery", sender=p["shipper"])
    assert (bills.balance_of(shipper), bills.balance_of(carrier)) == (1, 1)  # surrendered: the carrier holds it
    bills.accept_surrender(second, sender=p["carrier"])
    assert (bills.balance_of(shipper), bills.balance_of(carrier)) == (1, 0)  # accomplished: burned
    with pytest.raises(errors.ERC721InvalidOwner):
        bills.balance_of(ZERO)
    with pytest.raises(errors.InvalidInput):
        bills.balance_of("0x1234")


def test_the_escrow_receives_a_bill_only_by_pledge(bills, parties, suite, chain, document):
    """Finding: a bill moved into the escrow without a financing was stuck there. Every move that would
    make the escrow holder, beneficiary or nominee is refused; only `pledge` (with the escrow's consent in
    the same transaction) reaches it."""
    p = parties
    escrow = suite.address("FinancingEscrow")
    token = issue(bills, parties).token_id
    moves = {
        "transfer": lambda: bills.transfer(token, escrow, sender=p["shipper"]),
        "endorse": lambda: bills.endorse(token, escrow, sender=p["shipper"]),
        "transfer owners": lambda: bills.transfer_owners(token, escrow, escrow, sender=p["shipper"]),
        "transfer owners, title only": lambda: bills.transfer_owners(token, p["bank"].address, escrow,
                                                                     sender=p["shipper"]),
        "issue": lambda: bills.issue({**document, "transportDocumentReference": "ESCROW-1"}, escrow,
                                     sender=p["carrier"]),
        "issue to its order": lambda: bills.issue({**document, "transportDocumentReference": "ESCROW-2"},
                                                  p["shipper"].address, escrow, sender=p["carrier"]),
        "nominate": lambda: bills.nominate(token, escrow, sender=p["shipper"]),
    }
    for name, move in moves.items():
        block = chain.w3.eth.block_number
        with pytest.raises(errors.RecipientNotActive) as caught:
            move()
        assert caught.value.recipient == escrow, name
        assert chain.w3.eth.block_number == block, name
    assert bills.balance_of(escrow) == 0 and bills.get(token).holder == p["shipper"].address


def test_pledge_refusals(bills, parties, suite, straight_document, chain):
    """Pledge: only the holder holding title of a live to-order bill, only into an active escrow, and the
    escrow must accept in the same transaction (else nothing happened)."""
    p = parties
    escrow = suite.address("FinancingEscrow")
    token = issue(bills, parties).token_id
    straight = issue(bills, parties, straight_document, beneficiary=p["importer"].address).token_id
    with pytest.raises(errors.NotHolder):
        bills.pledge(token, escrow, b"", sender=p["bank"])
    with pytest.raises(errors.NotEscrow) as caught:  # a trader is no escrow
        bills.pledge(token, p["bank"].address, b"", sender=p["shipper"])
    assert caught.value.escrow == p["bank"].address
    with pytest.raises(errors.StraightBillNotEndorsable):
        bills.pledge(straight, escrow, b"", sender=p["shipper"])
    bills.endorse(token, p["bank"].address, sender=p["shipper"])
    with pytest.raises(errors.HolderWithoutTitle):
        bills.pledge(token, escrow, b"", sender=p["shipper"])
    bills.reject(token, sender=p["bank"])
    block = chain.w3.eth.block_number
    with pytest.raises(errors.TransactionFailed):  # the escrow cannot read the request: the pledge is undone
        bills.pledge(token, escrow, b"not a financing request", sender=p["shipper"])
    assert chain.w3.eth.block_number == block
    assert bills.get(token).holder == p["shipper"].address and bills.balance_of(escrow) == 0


def test_pause_stops_every_action_and_only_the_admin_pauses(bills, parties, admin):
    p = parties
    token = issue(bills, parties).token_id
    with pytest.raises(errors.AccessControlUnauthorizedAccount):
        bills.pause(sender=p["carrier"])
    paused, tx = bills.pause(sender=admin)
    assert paused is True and bills.paused() and tx.sender == admin.address
    with pytest.raises(errors.EnforcedPause):
        bills.transfer(token, p["bank"].address, sender=p["shipper"])
    with pytest.raises(errors.EnforcedPause):
        bills.issue({**json.loads(DOC_PATH.read_text()), "transportDocumentReference": "PAUSED-1"},
                    p["shipper"].address, sender=p["carrier"])
    with pytest.raises(errors.EnforcedPause):
        bills.pause(sender=admin)
    with pytest.raises(errors.AccessControlUnauthorizedAccount):
        bills.unpause(sender=p["shipper"])
    assert bills.unpause(sender=admin).value is False
    with pytest.raises(errors.ExpectedPause):
        bills.unpause(sender=admin)
    assert bills.transfer(token, p["bank"].address, sender=p["shipper"]).value.holder == p["bank"].address


def test_input_checks():
    with pytest.raises(errors.InvalidInput):
        reference_bytes("X" * 21)
    with pytest.raises(errors.InvalidInput):
        reference_bytes("")
    assert reference_bytes("AB").startswith(b"AB\0")
    for bad in ("abc", "-1", "0", "0xZZ", 2**256):
        with pytest.raises(errors.InvalidInput):
            parse_token_id(bad)
    assert parse_token_id("0x10") == parse_token_id("16") == 16


def test_issue_input_checks(bills, parties, document, straight_document, chain):
    p = parties
    block = chain.w3.eth.block_number
    with pytest.raises(errors.InvalidInput, match="consignee's account as beneficiary"):
        bills.issue(straight_document, p["shipper"].address, sender=p["carrier"])
    with pytest.raises(errors.InvalidInput, match="holder"):
        bills.issue(document, "0x1234", sender=p["carrier"])
    with pytest.raises(errors.InvalidInput, match="surrender purpose"):
        bills.surrender(1, "lunch", sender=p["shipper"])
    with pytest.raises(TypeError):  # the signer is a keyword: no positional mix-up with a party
        bills.transfer(1, p["bank"].address, p["shipper"])  # type: ignore[misc]
    assert chain.w3.eth.block_number == block


# --- a document that may not become title is refused before anything is sent -----------------------------

ISSUANCE_RESPONSE = {"transportDocumentReference": REFERENCE, "issuanceResponseCode": "ISSU"}


def refused_documents(document):
    without_to_order = {k: v for k, v in document.items() if k != "isToOrder"}
    return {
        "issuance response": (ISSUANCE_RESPONSE, ""),
        "sea waybill": ({**document, "transportDocumentTypeCode": "SWB"}, "/transportDocumentTypeCode"),
        "no isToOrder": (without_to_order, "/isToOrder"),
        "isToOrder a string": ({**document, "isToOrder": "false"}, "/isToOrder"),
        "paper": ({**document, "isElectronic": False}, "/isElectronic"),
        "draft": ({**document, "transportDocumentStatus": "DRAFT"}, "/transportDocumentStatus"),
        "straight without consignee": ({**document, "isToOrder": False}, "/documentParties/consignee"),
        "only isToOrder": ({"isToOrder": True}, "/transportDocumentReference"),
    }


@pytest.mark.parametrize("case", ["issuance response", "sea waybill", "no isToOrder", "isToOrder a string", "paper",
                                  "draft", "straight without consignee", "only isToOrder"])
def test_issue_of_a_refused_document_sends_nothing(bills, parties, document, chain, case):
    doc, path = refused_documents(document)[case]
    carrier = parties["carrier"].address
    block, nonce = chain.w3.eth.block_number, chain.w3.eth.get_transaction_count(carrier)
    with pytest.raises(errors.InvalidDocument) as caught:
        bills.issue(doc, parties["shipper"].address, parties["importer"].address, sender=parties["carrier"])
    assert caught.value.path == path
    assert chain.w3.eth.block_number == block and chain.w3.eth.get_transaction_count(carrier) == nonce
    assert bills.token_of(carrier, REFERENCE) is None


def test_the_document_alone_decides_to_order_or_straight(bills, parties, document, straight_document):
    """`isToOrder` decides: there is no separate `straight` argument to contradict it."""
    p = parties
    with pytest.raises(TypeError):
        bills.issue(document, p["shipper"].address, sender=p["carrier"], straight=True)  # type: ignore[call-arg]
    to_order = issue(bills, parties, document, beneficiary=p["importer"].address)
    assert not to_order.straight and to_order.beneficiary == p["importer"].address
    straight = issue(bills, parties, straight_document, beneficiary=p["importer"].address)
    assert straight.straight and straight.beneficiary == p["importer"].address
    assert [e.action for e in bills.history(straight.token_id)] == [TitleAction.ISSUE]


def test_amend_validates_the_amended_document_before_sending(bills, parties, document, chain):
    p = parties
    original = issue(bills, parties, document)
    bills.surrender(original.token_id, "amendment", sender=p["shipper"])
    block = chain.w3.eth.block_number
    refusals = {
        "/transportDocumentStatus": {**document, "transportDocumentStatus": "DRAFT"},
        "/transportDocumentTypeCode": {**document, "transportDocumentTypeCode": "SWB"},
        "/isToOrder": {**document, "isToOrder": False,
                       "documentParties": {**document["documentParties"], "consignee": CONSIGNEE}},
        "/transportDocumentReference": {**document, "transportDocumentReference": "OTHER"},
    }
    for path, amended in refusals.items():
        with pytest.raises(errors.InvalidDocument) as caught:
            bills.amend(original.token_id, amended, sender=p["carrier"])
        assert caught.value.path == path, caught.value
    assert chain.w3.eth.block_number == block
    assert bills.get(original.token_id).status is BillStatus.SURRENDERED_FOR_AMENDMENT
