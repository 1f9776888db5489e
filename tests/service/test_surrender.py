"""DCSA's conformance scenarios for a platform's surrenders: a holder surrenders (with the client, the `ebl`
command or the back-office API), the carrier gets the surrender request with the endorsement chain and
answers; the answer is applied on chain. For delivery accepted and rejected; for amendment accepted, the
amended document then issued as an amendment of the bill; a switch to paper."""

from __future__ import annotations

from typing import Any

import httpx

from ebl_client.cli import cli
from ebl_client.models import BillStatus

from ..clirunner import cli_runner
from .test_issuance import bill_of, callback, issue
from .world import World, document


def issued(platform: World, carrier_api: httpx.Client, tag: str, holder: str = "exporter") -> tuple[str, Any]:
    reference = platform.reference(tag)
    answer = issue(platform, carrier_api, platform.request(document(reference), platform.issue_to(holder)))
    assert answer["issuanceResponseCode"] == "ISSU"
    return reference, bill_of(platform, reference)


def accept(request: dict[str, Any]) -> dict[str, Any]:
    """The carrier's SURR to a surrender request."""
    return {"surrenderRequestReference": request["surrenderRequestReference"], "action": "SURR"}


def surrender_request(platform: World, reference: str) -> dict[str, Any]:
    """The surrender request the carrier received for transport document `reference` (checked against DCSA)."""
    return callback(platform, "/v3/ebl-surrender-requests", reference)


def test_surrender_for_delivery_accepted(platform: World, carrier_api: httpx.Client) -> None:
    """The holder surrenders with the client (not through the service): the service sees it on chain."""
    reference, bill = issued(platform, carrier_api, "SDA")
    _, surrendered = platform.client.bills.surrender(bill.token_id, "delivery", sender=platform.signers["exporter"])
    request = surrender_request(platform, reference)
    assert request["surrenderRequestCode"] == "SREQ"
    chain = request["endorsementChain"]
    assert [link["actionCode"] for link in chain] == ["ISSUE", "SURRENDER_FOR_DELIVERY"]
    assert chain[1]["auditReference"] == surrendered.hash
    assert chain[1]["actor"]["identifyingCodes"][0]["partyCode"] == platform.address("exporter")
    assert chain[1]["recipient"]["partyName"] == "Victoria Harbour Shipping Line"

    answer = carrier_api.post("/v3/ebl-surrender-responses", json=accept(request))
    assert answer.status_code == 204, answer.text
    assert platform.client.bills.get(bill.token_id).status is BillStatus.ACCOMPLISHED
    again = carrier_api.post("/v3/ebl-surrender-responses",
                             json={**accept(request), "action": "SREJ", "comments": "changed my mind"})
    assert again.status_code == 409
    assert platform.client.bills.get(bill.token_id).status is BillStatus.ACCOMPLISHED


def test_surrender_for_delivery_rejected(platform: World, carrier_api: httpx.Client) -> None:
    """The holder surrenders with the `ebl` command; the carrier rejects: the bill goes back to the holder."""
    reference, bill = issued(platform, carrier_api, "SDR")
    result = cli_runner().invoke(cli, ["--rpc-url", platform.client.chain.url, "--deployments",
                                      str(platform.workdir / "deployments"), "bill", "surrender", hex(bill.token_id),
                                      "--for", "delivery"],
                                env={"EBL_PRIVATE_KEY": platform.signers["exporter"].key.to_0x_hex()})
    assert result.exit_code == 0, result.output
    request = surrender_request(platform, reference)
    missing = carrier_api.post("/v3/ebl-surrender-responses", json={**accept(request), "action": "SREJ"})
    assert missing.status_code == 400  # DCSA: comments must be provided for rejections
    answer = carrier_api.post("/v3/ebl-surrender-responses", json={
        "surrenderRequestReference": request["surrenderRequestReference"], "action": "SREJ",
        "comments": "Freight not paid"})
    assert answer.status_code == 204, answer.text
    back = platform.client.bills.get(bill.token_id)
    assert (back.status, back.holder) == (BillStatus.ISSUED, platform.address("exporter"))


def test_surrender_for_amendment_accepted_then_the_amended_document_amends_the_bill(
        platform: World, carrier_api: httpx.Client, api) -> None:  # type: ignore[no-untyped-def]
    reference, bill = issued(platform, carrier_api, "SAA")
    exporter = api("exporter")
    made = exporter.post(f"/v1/bills/{hex(bill.token_id)}/surrender",
                         json={"purpose": "amendment", "reasonCode": "COD", "comments": "Change of destination"})
    assert made.status_code == 201, made.text
    request = surrender_request(platform, reference)
    assert (request["surrenderRequestCode"], request["reasonCode"], request["comments"]) == (
        "AREQ", "COD", "Change of destination")
    assert request["surrenderRequestReference"] == made.json()["surrenderRequestReference"]

    amended = document(reference, shippedOnBoardDate="2026-11-19")
    early = carrier_api.put("/v3/ebl-issuance-requests",
                            json=platform.request(amended, platform.issue_to("exporter")))
    assert early.status_code == 409  # the surrender is not accepted yet

    answer = carrier_api.post("/v3/ebl-surrender-responses", json=accept(request))
    assert answer.status_code == 204, answer.text
    assert platform.client.bills.get(bill.token_id).status is BillStatus.SURRENDERED_FOR_AMENDMENT

    renamed = platform.request(document(platform.reference("SAN")), platform.issue_to("exporter"))
    renamed["transportDocumentReplacements"] = {"oldTransportDocumentReferences": [
        {"transportDocumentReference": reference}]}  # DCSA allows it; the registry amends under the same reference
    blocked = issue(platform, carrier_api, renamed)
    assert (blocked["issuanceResponseCode"], blocked["errors"][0]["errorCode"]) == ("BREQ", "AMEND-REFERENCE")

    response = issue(platform, carrier_api, platform.request(amended, platform.issue_to("exporter")))
    assert response["issuanceResponseCode"] == "ISSU"
    old = platform.client.bills.get(bill.token_id)
    new = platform.client.bills.get(old.successor)
    assert (old.status, new.status, new.predecessor, new.holder) == (
        BillStatus.VOIDED, BillStatus.ISSUED, bill.token_id, platform.address("exporter"))
    assert platform.client.bills.verify_document(new.token_id, amended)
    kinds = [r["kind"] for r in carrier_api.get("/v1/issuance-requests", params={"reference": reference}).json()]
    assert kinds == ["issue", "amend"]
    states = carrier_api.get("/v1/surrender-requests", params={"reference": reference}).json()
    assert [(s["action"], s["outcome"]) for s in states] == [("SURR", "amended")]


def test_surrender_for_amendment_to_switch_to_paper(platform: World, carrier_api: httpx.Client,
                                                   api) -> None:  # type: ignore[no-untyped-def]
    reference, bill = issued(platform, carrier_api, "SWTP")
    made = api("exporter").post(f"/v1/bills/{hex(bill.token_id)}/surrender",
                                json={"purpose": "amendment", "reasonCode": "SWTP", "comments": "Paper original"})
    assert made.status_code == 201, made.text
    request = surrender_request(platform, reference)
    assert (request["surrenderRequestCode"], request["reasonCode"]) == ("AREQ", "SWTP")
    answer = carrier_api.post("/v3/ebl-surrender-responses", json=accept(request))
    assert answer.status_code == 204, answer.text
    assert platform.client.bills.get(bill.token_id).status is BillStatus.VOIDED
    state = carrier_api.get("/v1/surrender-requests", params={"reference": reference}).json()[0]
    assert (state["outcome"], state["answerTransactionHash"] is not None) == ("switched to paper", True)


def test_answers_only_from_the_carrier_addressed_and_for_known_requests(platform: World, carrier_api: httpx.Client,
                                                                        api) -> None:  # type: ignore[no-untyped-def]
    reference, bill = issued(platform, carrier_api, "SOWN")
    platform.client.bills.surrender(bill.token_id, "delivery", sender=platform.signers["exporter"])
    request = surrender_request(platform, reference)
    body = {"surrenderRequestReference": request["surrenderRequestReference"], "action": "SURR"}
    assert api("other_carrier").post("/v3/ebl-surrender-responses", json=body).status_code == 403
    assert api("exporter").post("/v3/ebl-surrender-responses", json=body).status_code == 403
    unknown = carrier_api.post("/v3/ebl-surrender-responses",
                               json={"surrenderRequestReference": "SR-NO-SUCH-REQUEST", "action": "SURR"})
    assert unknown.status_code == 404
    assert platform.client.bills.get(bill.token_id).status is BillStatus.SURRENDERED_FOR_DELIVERY
    assert carrier_api.post("/v3/ebl-surrender-responses", json=body).status_code == 204


def test_a_holder_whose_key_the_service_does_not_hold_surrenders_itself(platform: World, carrier_api: httpx.Client,
                                                                        api) -> None:  # type: ignore[no-untyped-def]
    _, bill = issued(platform, carrier_api, "SKEY", holder="exporter")
    response = api("endorsee").post(f"/v1/bills/{hex(bill.token_id)}/surrender", json={"purpose": "delivery"})
    assert response.status_code == 403
    refused = api("importer").post(f"/v1/bills/{hex(bill.token_id)}/surrender", json={"purpose": "delivery"})
    assert refused.status_code == 409  # the importer's key is here, but it does not hold the bill
    assert platform.client.bills.get(bill.token_id).status is BillStatus.ISSUED
