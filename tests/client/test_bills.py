"""The bills facade: DCSA documents in, typed bills and chain of title out, refusals by name."""

import json

import pytest

from ebl_client import errors, hashing, samples
from ebl_client.bills import Bills, carrier_of, parse_token_id, reference_bytes
from ebl_client.chain import Chain
from ebl_client.models import BillStatus, Role, TitleAction

DOC_PATH = samples.TRANSPORT_DOCUMENT
CARRIER, SHIPPER, BANK, IMPORTER, OUTSIDER = 1, 2, 3, 4, 9


@pytest.fixture
def parties(onboard, signers):
    onboard(CARRIER, Role.CARRIER)
    for i in (SHIPPER, BANK, IMPORTER):
        onboard(i, Role.TRADER, "CN" if i == IMPORTER else "HK")
    return {name: signers[i] for name, i in
            (("carrier", CARRIER), ("shipper", SHIPPER), ("bank", BANK), ("importer", IMPORTER),
             ("outsider", OUTSIDER))}


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


def test_issue_from_the_dcsa_document(bills, parties, document):
    p = parties
    bill = bills.issue(p["carrier"], DOC_PATH, p["shipper"].address, remark="original issued at HKHKG")
    assert bill.transport_document_reference == "VHSL2611HKGSHA0007"
    assert bill.status is BillStatus.ISSUED and not bill.straight and bill.live
    assert bill.holder == bill.beneficiary == p["shipper"].address and bill.carrier == p["carrier"].address
    assert bill.document_hash == "0x" + hashing.document_digest(document).hex()
    assert carrier_of(bill.token_id) == p["carrier"].address
    assert bills.token_of(p["carrier"].address, "VHSL2611HKGSHA0007") == bill.token_id
    assert bills.get(hex(bill.token_id)) == bill


def test_document_round_trip_and_a_one_byte_change(bills, parties, document, tmp_path):
    bill = bills.issue(parties["carrier"], document, parties["shipper"].address)
    assert bills.verify_document(bill.token_id, DOC_PATH)
    reformatted = tmp_path / "reformatted.json"
    reformatted.write_text(json.dumps(document, indent=4, sort_keys=True))  # other bytes, same canonical form
    assert bills.verify_document(bill.token_id, reformatted)
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(DOC_PATH.read_bytes().replace(b"VICTORIA PEARL", b"VICTORIA PEARM", 1))
    assert not bills.verify_document(bill.token_id, tampered)


def test_history_equals_the_actions_in_order(bills, parties, chain):
    p = parties
    token = bills.issue(p["carrier"], DOC_PATH, p["shipper"].address).token_id
    bills.endorse(p["shipper"], token, p["bank"].address)
    bills.transfer(p["shipper"], token, p["bank"].address)
    bills.endorse(p["bank"], token, p["importer"].address)
    bills.transfer(p["bank"], token, p["importer"].address)
    bills.surrender(p["importer"], token, "delivery")
    final = bills.accept_surrender(p["carrier"], token, "goods released at CNSHA")
    assert final.status is BillStatus.ACCOMPLISHED and not final.live
    s, b, i, c = (p[k].address for k in ("shipper", "bank", "importer", "carrier"))
    expected = [
        (TitleAction.ISSUE, c, s, s), (TitleAction.ENDORSE, s, s, b), (TitleAction.TRANSFER, s, b, b),
        (TitleAction.ENDORSE, b, b, i), (TitleAction.TRANSFER, b, i, i),
        (TitleAction.SURRENDER_FOR_DELIVERY, i, c, i), (TitleAction.SURRENDER_ACCEPTED, c, c, i),
    ]
    history = bills.history(token)
    assert [(e.action, e.actor, e.holder, e.beneficiary) for e in history] == expected
    assert [e.block for e in history] == sorted(e.block for e in history)
    assert history[-1].remark_hash == "0x" + hashing.text_hash("goods released at CNSHA").hex()
    assert history[1].action.dcsa == "ENDO" and history[-1].action.dcsa == "SACC"


def test_history_is_one_log_query_from_the_issue_block(anvil, suite, parties):
    calls: list[tuple[str, object]] = []
    recording = Chain.connect(anvil.url, make_request_hook=lambda method, params: calls.append((method, params)))
    bills = Bills.of(recording, suite)
    token = bills.issue(parties["carrier"], DOC_PATH, parties["shipper"].address).token_id
    issued = bills.get(token).issued_block
    calls.clear()
    bills.history(token)
    log_queries = [params for method, params in calls if method == "eth_getLogs"]
    assert len(log_queries) == 1
    (query,) = log_queries[0]
    assert int(query["fromBlock"], 16) == issued and query["toBlock"] == "latest"


def test_refusals_are_named(bills, parties):
    p = parties
    token = bills.issue(p["carrier"], DOC_PATH, p["shipper"].address).token_id
    with pytest.raises(errors.NotHolder) as caught:
        bills.transfer(p["bank"], token, p["importer"].address)
    assert caught.value.tokenId == token and caught.value.caller == p["bank"].address
    assert hex(token) in str(caught.value)
    with pytest.raises(errors.RecipientNotActive):
        bills.transfer(p["shipper"], token, p["outsider"].address)
    with pytest.raises(errors.BillAlreadyIssued) as caught:
        bills.issue(p["carrier"], DOC_PATH, p["bank"].address)
    assert "VHSL2611HKGSHA0007" in str(caught.value)
    with pytest.raises(errors.CarrierNotActive):
        bills.issue(p["shipper"], DOC_PATH, p["bank"].address)
    bills.surrender(p["shipper"], token, "delivery")
    with pytest.raises(errors.NotCarrier):
        bills.accept_surrender(p["shipper"], token)
    with pytest.raises(errors.InvalidStatus, match="surrendered for delivery"):
        bills.endorse(p["carrier"], token, p["bank"].address)
    with pytest.raises(errors.ERC721NonexistentToken):
        bills.get(token + 1)


def test_straight_bill(bills, parties, straight_document):
    p = parties
    bill = bills.issue(p["carrier"], straight_document, p["shipper"].address, p["importer"].address)
    assert bill.straight and bill.beneficiary == p["importer"].address
    with pytest.raises(errors.StraightBillNotEndorsable):
        bills.endorse(p["shipper"], bill.token_id, p["bank"].address)
    with pytest.raises(errors.NotConsignee):
        bills.transfer(p["shipper"], bill.token_id, p["bank"].address)
    assert bills.transfer(p["shipper"], bill.token_id, p["importer"].address).holder == p["importer"].address


def test_amendment_links_and_keeps_the_reference(bills, parties, document):
    p = parties
    original = bills.issue(p["carrier"], document, p["shipper"].address)
    bills.surrender(p["shipper"], original.token_id, "amendment")
    amended_doc = {**document, "declaredValue": 1852000.0}
    successor = bills.amend(p["carrier"], original.token_id, amended_doc, "declared value corrected")
    assert successor.predecessor == original.token_id and successor.generation == 1
    assert successor.transport_document_reference == "VHSL2611HKGSHA0007"
    assert successor.holder == p["shipper"].address and successor.status is BillStatus.ISSUED
    voided = bills.get(original.token_id)
    assert voided.status is BillStatus.VOIDED and voided.successor == successor.token_id
    assert bills.verify_document(successor.token_id, amended_doc)
    assert not bills.verify_document(successor.token_id, document)
    with pytest.raises(errors.InvalidDocument, match="reference") as caught:
        bills.amend(p["carrier"], successor.token_id, {**document, "transportDocumentReference": "OTHER"})
    assert caught.value.path == "/transportDocumentReference"


def test_reject_restores_the_previous_holder(bills, parties):
    p = parties
    token = bills.issue(p["carrier"], DOC_PATH, p["shipper"].address).token_id
    bills.transfer(p["shipper"], token, p["bank"].address)
    assert bills.reject(p["bank"], token, "not our shipment").holder == p["shipper"].address
    with pytest.raises(errors.NothingToReject):
        bills.reject(p["bank"], token)


def test_input_checks():
    with pytest.raises(errors.InvalidInput):
        reference_bytes("X" * 21)
    with pytest.raises(errors.InvalidInput):
        reference_bytes("")
    assert reference_bytes("AB").startswith(b"AB\0")
    for bad in ("abc", "-1", "0", "0xZZ"):
        with pytest.raises(errors.InvalidInput):
            parse_token_id(bad)
    assert parse_token_id("0x10") == parse_token_id("16") == 16


def test_issue_input_checks(bills, parties, document, straight_document, chain):
    p = parties
    block = chain.w3.eth.block_number
    with pytest.raises(errors.InvalidInput, match="consignee's account as beneficiary"):
        bills.issue(p["carrier"], straight_document, p["shipper"].address)
    with pytest.raises(errors.InvalidInput, match="surrender purpose"):
        bills.surrender(p["shipper"], 1, "lunch")
    assert chain.w3.eth.block_number == block


# --- a document that may not become title is refused before anything is sent -----------------------------

ISSUANCE_RESPONSE = {"transportDocumentReference": "VHSL2611HKGSHA0007", "issuanceResponseCode": "ISSU"}


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
        bills.issue(parties["carrier"], doc, parties["shipper"].address, parties["importer"].address)
    assert caught.value.path == path
    assert chain.w3.eth.block_number == block and chain.w3.eth.get_transaction_count(carrier) == nonce
    assert bills.token_of(carrier, "VHSL2611HKGSHA0007") is None


def test_the_document_alone_decides_to_order_or_straight(bills, parties, document, straight_document, chain):
    p = parties
    block = chain.w3.eth.block_number
    with pytest.raises(errors.InvalidDocument, match="the document decides") as caught:
        bills.issue(p["carrier"], document, p["shipper"].address, p["importer"].address, straight=True)
    assert caught.value.path == "/isToOrder"
    with pytest.raises(errors.InvalidDocument) as caught:
        bills.issue(p["carrier"], straight_document, p["shipper"].address, p["importer"].address, straight=False)
    assert caught.value.path == "/isToOrder"
    assert chain.w3.eth.block_number == block
    assert not bills.issue(p["carrier"], document, p["shipper"].address, straight=False).straight
    assert bills.issue(p["carrier"], straight_document, p["shipper"].address, p["importer"].address).straight


def test_amend_validates_the_amended_document_before_sending(bills, parties, document, chain):
    p = parties
    original = bills.issue(p["carrier"], document, p["shipper"].address)
    bills.surrender(p["shipper"], original.token_id, "amendment")
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
            bills.amend(p["carrier"], original.token_id, amended)
        assert caught.value.path == path, caught.value
    assert chain.w3.eth.block_number == block
    assert bills.get(original.token_id).status is BillStatus.SURRENDERED_FOR_AMENDMENT
