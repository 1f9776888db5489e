"""DCSA's conformance scenarios for a platform's issuance, through the running service: straight, negotiable and
blank eBLs issued (ISSU), a blocked (BREQ) and a refused (REFU) request, an error in DCSA's shape. Every
request, answer and callback is checked against DCSA's OpenAPI files; the chain is read with the client."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx

from ebl_client.models import BillStatus

from . import dcsa_specs
from .world import World, document, party


def issue(platform: World, carrier_api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    """PUT the request (204), then the carrier's callback for its reference (checked against DCSA's file)."""
    reference = body["document"]["transportDocumentReference"]
    seen = len(platform.endpoint.received)
    response = carrier_api.put("/v3/ebl-issuance-requests", json=body)
    assert response.status_code == 204, response.text
    assert response.headers["API-Version"] == "3.0.4"
    return callback(platform, "/v3/ebl-issuance-responses", reference, after=seen)


def callback(platform: World, path: str, reference: str, *, after: int = 0) -> dict[str, Any]:
    """The first callback to `path` about transport document `reference` among those received after the first
    `after` ones, checked against DCSA's file."""
    received = platform.endpoint.wait_for(
        lambda r: r.path == path and r.json()["transportDocumentReference"] == reference, after=after)
    return dcsa_specs.check_callback(received)


def bill_of(platform: World, reference: str) -> Any:
    bills = platform.client.bills
    token = bills.token_of(platform.address("carrier"), reference)
    return bills.get(token) if token else None


def test_negotiable_ebl_issued_to_order_of_its_endorsee(platform: World, carrier_api: httpx.Client) -> None:
    reference = platform.reference("NEG")
    doc = document(reference)
    doc["documentParties"]["endorsee"] = party("endorsee")
    answer = issue(platform, carrier_api, platform.request(doc, platform.issue_to("exporter")))
    assert answer == {"transportDocumentReference": reference, "issuanceResponseCode": "ISSU"}
    bill = bill_of(platform, reference)
    assert (bill.holder, bill.beneficiary, bill.straight, bill.status) == (
        platform.address("exporter"), platform.address("endorsee"), False, BillStatus.ISSUED)
    assert platform.client.bills.verify_document(bill.token_id, doc)


def test_straight_ebl_issued_to_the_shipper_for_its_named_consignee(platform: World,
                                                                    carrier_api: httpx.Client) -> None:
    reference = platform.reference("STR")
    doc = document(reference, isToOrder=False)
    doc["documentParties"]["consignee"] = party("importer")
    answer = issue(platform, carrier_api, platform.request(doc, platform.issue_to("exporter")))
    assert answer["issuanceResponseCode"] == "ISSU"
    bill = bill_of(platform, reference)
    assert (bill.holder, bill.beneficiary, bill.straight) == (platform.address("exporter"),
                                                               platform.address("importer"), True)


def test_blank_ebl_is_issued_to_the_order_of_its_first_holder(platform: World, carrier_api: httpx.Client) -> None:
    """To order, no endorsee, no consignee: DCSA's blank eBL. Holder and title holder are the issueTo party,
    named here by its LEI rather than its account."""
    reference = platform.reference("BLK")
    doc = document(reference)
    assert "endorsee" not in doc["documentParties"] and "consignee" not in doc["documentParties"]
    to = {"partyName": "Pearl River Electronics Ltd", "sendToPlatform": "GBAE", "identifyingCodes": [
        {"codeListProvider": "GLEIF", "partyCode": "5493001KJTIIGC8Y1R12", "codeListName": "LEI"}]}
    answer = issue(platform, carrier_api, platform.request(doc, to))
    assert answer["issuanceResponseCode"] == "ISSU"
    bill = bill_of(platform, reference)
    assert (bill.holder, bill.beneficiary, bill.straight) == (platform.address("exporter"),
                                                               platform.address("exporter"), False)


def test_the_carriers_rendering_is_checked_and_kept_out_of_the_title(platform: World,
                                                                     carrier_api: httpx.Client) -> None:
    reference = platform.reference("VIS")
    rendering = {"name": f"{reference}.pdf", "content": base64.b64encode(b"%PDF-1.7 test rendering").decode()}
    body = platform.request(document(reference), platform.issue_to("importer"), visualisation=rendering)
    assert issue(platform, carrier_api, body)["issuanceResponseCode"] == "ISSU"
    assert bill_of(platform, reference).holder == platform.address("importer")


def _nothing_issued(platform: World, reference: str, send: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    before = platform.height()
    answer = send()
    assert platform.height() == before
    assert bill_of(platform, reference) is None
    return answer


def test_blocked_when_the_issue_to_party_is_onboarded_but_suspended(platform: World,
                                                                   carrier_api: httpx.Client) -> None:
    reference = platform.reference("BREQ")
    body = platform.request(document(reference), platform.issue_to("suspended"))
    answer = _nothing_issued(platform, reference, lambda: issue(platform, carrier_api, body))
    assert answer["issuanceResponseCode"] == "BREQ"
    assert "suspended" in answer["reason"]
    assert answer["errors"][0]["errorCode"] == "PARTY-SUSPENDED"


def test_blocked_when_a_straight_bills_consignee_is_not_on_the_platform(platform: World,
                                                                       carrier_api: httpx.Client) -> None:
    reference = platform.reference("BREQC")
    doc = document(reference, isToOrder=False)
    doc["documentParties"]["consignee"] = {"partyName": "Nobody Here Ltd", "identifyingCodes": [
        {"codeListProvider": "GLEIF", "partyCode": "000000NOBODYHERE0000", "codeListName": "LEI"}]}
    answer = _nothing_issued(platform, reference, lambda: issue(
        platform, carrier_api, platform.request(doc, platform.issue_to("exporter"))))
    assert answer["issuanceResponseCode"] == "BREQ"
    assert "consignee" in answer["reason"]


def test_refused_when_the_issue_to_party_is_unknown_here(platform: World, carrier_api: httpx.Client) -> None:
    """DCSA's own example of REFU: the issueTo party's codes name nobody on the platform."""
    reference = platform.reference("REFU")
    unknown = {"partyName": "HHL Invest", "sendToPlatform": "GBAE",
               "identifyingCodes": [{"codeListProvider": "GBAE", "partyCode": "0x" + "ab" * 20}]}
    answer = _nothing_issued(platform, reference, lambda: issue(
        platform, carrier_api, platform.request(document(reference), unknown)))
    assert answer["issuanceResponseCode"] == "REFU"
    assert answer["reason"] == "IssueTo party not recognized by this platform"
    assert answer["errors"] == [{"reason": f'"HHL Invest" with partyCode {"0x" + "ab" * 20} (GBAE) is unknown',
                                 "errorCode": "PARTY-UNKNOWN"}]


def test_refused_when_the_issue_to_party_is_on_another_platform(platform: World,
                                                               carrier_api: httpx.Client) -> None:
    reference = platform.reference("REFUP")
    elsewhere = {"partyName": "HHL Invest", "sendToPlatform": "BOLE",
                 "identifyingCodes": [{"codeListProvider": "BOLE", "partyCode": "BOLE001"}]}
    answer = _nothing_issued(platform, reference, lambda: issue(
        platform, carrier_api, platform.request(document(reference), elsewhere)))
    assert answer["issuanceResponseCode"] == "REFU"
    assert "BOLE" in answer["reason"]


def test_a_revised_request_after_a_refusal_is_issued(platform: World, carrier_api: httpx.Client) -> None:
    """The refused request was handled; the carrier fixes it and sends it again for the same reference."""
    reference = platform.reference("REV")
    unknown = {"partyName": "Typo Ltd", "sendToPlatform": "GBAE",
               "identifyingCodes": [{"codeListProvider": "GLEIF", "partyCode": "5493001KJTIIGC8Y1R1X"}]}
    assert issue(platform, carrier_api, platform.request(document(reference), unknown))[
        "issuanceResponseCode"] == "REFU"
    revised = platform.request(document(reference), platform.issue_to("exporter"))
    assert issue(platform, carrier_api, revised)["issuanceResponseCode"] == "ISSU"
    requests = carrier_api.get("/v1/issuance-requests", params={"reference": reference}).json()
    assert [r["issuanceResponseCode"] for r in requests] == ["REFU", "ISSU"]


def test_an_error_is_a_dcsa_error_response(platform: World, carrier_api: httpx.Client) -> None:
    """An issuance request the platform cannot accept: DCSA's ErrorResponse (checked against the file by the
    client), every problem with its JSONPath, the correlation reference in the header too."""
    reference = platform.reference("ERR")
    body = platform.request(document(reference, transportDocumentStatus="DRAFT"), platform.issue_to("exporter"))
    response = carrier_api.put("/v3/ebl-issuance-requests", json=body)
    assert response.status_code == 400
    error = response.json()
    assert set(error) >= {"httpMethod", "requestUri", "statusCode", "statusCodeText", "errorDateTime", "errors",
                          "providerCorrelationReference"}
    assert (error["httpMethod"], error["requestUri"], error["statusCode"]) == ("PUT", "/v3/ebl-issuance-requests", 400)
    assert error["providerCorrelationReference"] == response.headers["X-Correlation-ID"]
    assert error["errors"][0]["jsonPath"] == "$.document.transportDocumentStatus"
    assert error["errors"][0]["errorCode"] == 7003
    assert "DRAFT" in error["errors"][0]["errorCodeMessage"]
