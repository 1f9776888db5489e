"""What the service serves from the index: DCSA's endorsement chains (EBL_END) and the back office's bills,
history, inbox, book and audit log, each party seeing what concerns it and the regulator everything."""

from __future__ import annotations

import httpx

from ebl_client.service.app import DCSA_VERSION
from ebl_client.service.dcsa import NO_PARTY

from .test_issuance import bill_of, issue
from .test_surrender import surrender_request
from .world import World, document


def test_the_endorsement_chain_of_a_bill_that_changed_hands(platform: World, carrier_api: httpx.Client,
                                                            api) -> None:  # type: ignore[no-untyped-def]
    reference = platform.reference("END")
    assert issue(platform, carrier_api, platform.request(document(reference), platform.issue_to("exporter")))[
        "issuanceResponseCode"] == "ISSU"
    bills, p = platform.client.bills, platform.signers
    token = bill_of(platform, reference).token_id
    bills.transfer_owners(token, platform.address("importer"), platform.address("importer"), sender=p["exporter"])
    bills.blank_endorse(token, sender=p["importer"])
    bills.transfer(token, platform.address("endorsee"), sender=p["importer"])
    bills.surrender(token, "delivery", sender=p["endorsee"])
    request = surrender_request(platform, reference)
    assert [link["actionCode"] for link in request["endorsementChain"]] == [
        "ISSUE", "ENDORSE", "TRANSFER", "BLANK_ENDORSE", "TRANSFER", "SURRENDER_FOR_DELIVERY"]
    assert carrier_api.post("/v3/ebl-surrender-responses", json={
        "surrenderRequestReference": request["surrenderRequestReference"], "action": "SURR"}).status_code == 204

    response = carrier_api.get(f"/endorsement-chains/{reference}")
    assert response.status_code == 200 and response.headers["API-Version"] == DCSA_VERSION
    [chain] = response.json()
    assert (chain["transportDocumentReference"], chain["carrierSCACCode"]) == (reference, "VHSL")
    links = chain["endorsementChain"]
    assert [(link["actionCode"], link["actor"]["partyName"], link.get("recipient", {}).get("partyName"))
            for link in links] == [
        ("ISSUE", "Victoria Harbour Shipping Line", "Pearl River Electronics Ltd"),
        ("ENDORSE", "Pearl River Electronics Ltd", "Shanghai Huaxin Trading Co"),
        ("TRANSFER", "Pearl River Electronics Ltd", "Shanghai Huaxin Trading Co"),
        ("BLANK_ENDORSE", "Shanghai Huaxin Trading Co", None),
        ("TRANSFER", "Shanghai Huaxin Trading Co", "Guangzhou Nansha Imports"),
        ("SURRENDER_FOR_DELIVERY", "Guangzhou Nansha Imports", "Victoria Harbour Shipping Line"),
        ("SURRENDERED", "Victoria Harbour Shipping Line", None)]
    on_chain = bills.history(token)
    assert [link["auditReference"] for link in links] == [on_chain[0].tx_hash, *[
        e.tx_hash for e in on_chain[1:2] for _ in (0, 1)], *[e.tx_hash for e in on_chain[2:]]]
    # the Surrender API requires a recipient: DCSA's "No Party" stands in where the Endorsement Chain API has none
    sent = [{k: v for k, v in link.items() if v != NO_PARTY} for link in request["endorsementChain"]]
    assert sent == links[:len(sent)]
    assert request["endorsementChain"][3]["recipient"] == NO_PARTY

    assert api("endorsee").get(f"/endorsement-chains/{reference}").status_code == 200  # a party to the bill
    assert api("regulator").get(f"/endorsement-chains/{reference}").json() == response.json()
    assert api("bank").get(f"/endorsement-chains/{reference}").status_code == 404  # not its bill: not there
    assert carrier_api.get(f"/endorsement-chains/{reference}", params={"carrierSCACCode": "MAEU"}).status_code == 404
    assert carrier_api.get("/endorsement-chains/NO-SUCH-REF").status_code == 404


def test_back_office_reads_follow_the_access_rules(platform: World, carrier_api: httpx.Client,
                                                   api) -> None:  # type: ignore[no-untyped-def]
    reference = platform.reference("BO")
    assert issue(platform, carrier_api, platform.request(document(reference), platform.issue_to("importer")))[
        "issuanceResponseCode"] == "ISSU"
    token = hex(bill_of(platform, reference).token_id)
    importer, bank, regulator, exporter = api("importer"), api("bank"), api("regulator"), api("exporter")

    me = importer.get("/v1/me").json()
    assert me == {"account": platform.address("importer"), "name": "Shanghai Huaxin Trading Co", "roles": ["trader"],
                  "regulator": False, "signsHere": True}
    assert regulator.get("/v1/me").json()["regulator"] is True

    mine = importer.get("/v1/bills").json()
    assert token in {b["tokenId"] for b in mine}
    assert all(platform.address("importer") in (b["holder"], b["beneficiary"]) or b["status"] != "issued"
               for b in mine)
    assert bank.get("/v1/bills").json() == []
    assert token in {b["tokenId"] for b in regulator.get("/v1/bills", params={"limit": 1000}).json()}
    bill = importer.get(f"/v1/bills/{token}").json()
    assert (bill["holderName"], bill["carrierName"], bill["status"]) == (
        "Shanghai Huaxin Trading Co", "Victoria Harbour Shipping Line", "issued")
    assert bank.get(f"/v1/bills/{token}").status_code == 404
    assert exporter.get(f"/v1/bills/{token}/history").status_code == 404
    history = importer.get(f"/v1/bills/{token}/history").json()
    assert [(e["action"], e["dcsaCode"]) for e in history] == [("issue", "ISSU")]
    assert importer.get("/v1/bills", params={"status": "bogus"}).status_code == 400

    platform.client.bills.surrender(int(token, 16), "delivery", sender=platform.signers["importer"])
    request = surrender_request(platform, reference)
    tasks = carrier_api.get("/v1/inbox").json()
    assert any(t["kind"] == "surrender" and t["subject"] == token for t in tasks)
    assert importer.get("/v1/inbox", params={"account": platform.address("carrier")}).status_code == 403
    assert regulator.get("/v1/inbox", params={"account": platform.address("carrier")}).status_code == 200
    assert set(regulator.get("/v1/book").json()) == {"lines", "exposure", "overdue", "defaulted"}
    assert importer.get("/v1/book").json()["lines"] == []

    own = importer.get("/v1/surrender-requests", params={"reference": reference}).json()
    assert [s["surrenderRequestReference"] for s in own] == [request["surrenderRequestReference"]]
    assert bank.get("/v1/surrender-requests", params={"reference": reference}).json() == []


def test_every_change_is_in_the_audit_log(platform: World, carrier_api: httpx.Client,
                                          api) -> None:  # type: ignore[no-untyped-def]
    reference = platform.reference("AUD")
    assert issue(platform, carrier_api, platform.request(document(reference), platform.issue_to("exporter")))[
        "issuanceResponseCode"] == "ISSU"
    issued = platform.client.bills.history(bill_of(platform, reference).token_id)[0]
    lines = [x for x in carrier_api.get("/v1/audit").json() if x["subject"] == reference]
    assert [(x["action"], x["status"], x["transactionHash"]) for x in lines] == [
        ("issue", 0, issued.tx_hash), ("issuance request (issue)", 204, None)]
    assert all(x["account"] == platform.address("carrier") for x in lines)
    refusal = carrier_api.put("/v3/ebl-issuance-requests",
                              json=platform.request(document(reference), platform.issue_to("exporter")))
    assert refusal.status_code == 409
    latest = carrier_api.get("/v1/audit", params={"limit": 1}).json()[0]
    assert (latest["action"], latest["status"]) == ("issuance request refused", 409)
    assert api("exporter").get("/v1/audit", params={"account": platform.address("carrier")}).status_code == 403
    everyone = api("regulator").get("/v1/audit", params={"limit": 5000}).json()
    assert {x["account"] for x in everyone} >= {platform.address("carrier")}


def test_the_openapi_document(platform: World, carrier_api: httpx.Client) -> None:
    document_ = carrier_api.get("/openapi.json").json()
    paths = document_["paths"]
    assert {"/v3/ebl-issuance-requests", "/v3/ebl-surrender-responses",
            "/endorsement-chains/{transportDocumentReference}", "/v1/bills", "/v1/inbox", "/v1/book"} <= set(paths)
    body = paths["/v3/ebl-issuance-requests"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/IssuanceRequest"}
    schemas = document_["components"]["schemas"]
    assert {"IssuanceRequest", "TransportDocument", "ErrorResponse", "SurrenderRequestAnswer"} <= set(schemas)
    for schema in schemas.values():  # every reference resolves
        for ref in _refs(schema):
            assert ref.removeprefix("#/components/schemas/") in schemas, ref


def _refs(value: object) -> list[str]:
    if isinstance(value, dict):
        return [str(value["$ref"])] if "$ref" in value else [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []
