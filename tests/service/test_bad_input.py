"""What a carrier's system may get wrong, and what it gets back: a DCSA ErrorResponse with the right status
(checked against DCSA's files by the client), nothing issued (the chain's height unchanged), nothing stored,
nothing lost (the service keeps working, every callback it owes is delivered)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from ebl_client.service import manifest

from .test_issuance import bill_of, issue
from .world import World, document


def refused(platform: World, carrier_api: httpx.Client, status: int, code: int, *, reference: str | None = None,
            **request: Any) -> dict[str, Any]:
    """Send a PUT that must be refused with `status` and DCSA error `code`; nothing may change on chain or in
    the service's records."""
    before = platform.height()
    response = carrier_api.put("/v3/ebl-issuance-requests", **request)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["statusCode"] == status and {e["errorCode"] for e in error["errors"]} == {code}, error
    assert "Traceback" not in response.text
    assert platform.height() == before
    if reference is not None:
        assert bill_of(platform, reference) is None
        assert carrier_api.get("/v1/issuance-requests", params={"reference": reference}).json() == []
    return error


def test_malformed_json(platform: World, carrier_api: httpx.Client) -> None:
    for body in (b'{"document": ', b"\xff\xfe not utf-8", b'{"a": 1, "a": 2}', b"[" * 100_000, b"NaN"):
        refused(platform, carrier_api, 400, 7001, content=body, headers={"Content-Type": "application/json"})


def test_wrong_content_type(platform: World, carrier_api: httpx.Client) -> None:
    reference = platform.reference("CT")
    body = json.dumps(platform.request(document(reference), platform.issue_to("exporter")))
    for content_type in ("text/plain", "application/xml", "multipart/form-data; boundary=x"):
        refused(platform, carrier_api, 415, 7041, reference=reference, content=body,
                headers={"Content-Type": content_type})
    refused(platform, carrier_api, 415, 7041, reference=reference, content=body.encode())  # unlabelled


def test_oversize_bodies(platform: World, carrier_api: httpx.Client) -> None:
    big = b'{"document": "' + b"x" * 300_000 + b'"}'
    refused(platform, carrier_api, 413, 7040, content=big, headers={"Content-Type": "application/json"})

    def chunks() -> Iterator[bytes]:  # no Content-Length: the service counts while it reads
        for _ in range(30):
            yield b"x" * 10_000

    refused(platform, carrier_api, 413, 7040, content=chunks(), headers={"Content-Type": "application/json"})


def test_not_the_dcsa_schema(platform: World, carrier_api: httpx.Client) -> None:
    reference = platform.reference("SCH")
    body = platform.request(document(reference), platform.issue_to("exporter"))
    without = {k: v for k, v in body.items() if k != "issueTo"}
    error = refused(platform, carrier_api, 400, 7002, reference=reference, json=without)
    assert error["errors"][0]["jsonPath"] == "$.issueTo"
    nulled = {**body, "issueTo": {**body["issueTo"], "taxLegalReferences": None}}
    refused(platform, carrier_api, 400, 7002, reference=reference, json=nulled)
    too_long = document(reference)
    too_long["documentParties"]["shipper"]["partyName"] = "P" * 71
    error = refused(platform, carrier_api, 400, 7002, reference=reference,
                    json=platform.request(too_long, platform.issue_to("exporter")))
    assert error["errors"][0]["jsonPath"] == "$.document.documentParties.shipper.partyName"
    refused(platform, carrier_api, 400, 7002, json=["not", "an", "object"])


def test_a_document_that_may_not_become_title(platform: World, carrier_api: httpx.Client) -> None:
    reference = platform.reference("SWB")
    waybill = document(reference, transportDocumentTypeCode="SWB")
    error = refused(platform, carrier_api, 400, 7003, reference=reference,
                    json=platform.request(waybill, platform.issue_to("exporter")))
    assert error["errors"][0]["jsonPath"] == "$.document.transportDocumentTypeCode"


def test_a_manifest_signed_by_another_key(platform: World, carrier_api: httpx.Client) -> None:
    reference = platform.reference("SIG")
    body = platform.request(document(reference), platform.issue_to("exporter"), key=manifest.new_signing_key())
    error = refused(platform, carrier_api, 422, 7050, reference=reference, json=body)
    assert error["errors"][0]["jsonPath"] == "$.issuanceManifestSignedContent"
    rsa = platform.request(document(reference), platform.issue_to("exporter"), key=manifest.new_signing_key("RSA"))
    refused(platform, carrier_api, 422, 7050, reference=reference, json=rsa)
    _, payload, signature = body["issuanceManifestSignedContent"].split(".")
    unsigned = {**body, "issuanceManifestSignedContent": f"eyJhbGciOiJub25lIn0.{payload}.{signature}"}  # alg none
    refused(platform, carrier_api, 422, 7050, reference=reference, json=unsigned)


def test_checksums_that_do_not_match(platform: World, carrier_api: httpx.Client) -> None:
    reference = platform.reference("SUM")
    body = platform.request(document(reference), platform.issue_to("exporter"))
    changed = json.loads(json.dumps(body))
    changed["document"]["declaredValue"] = 1
    error = refused(platform, carrier_api, 422, 7051, reference=reference, json=changed)
    assert error["errors"][0]["jsonPath"] == "$.document"
    other_party = {**body, "issueTo": platform.issue_to("importer")}
    error = refused(platform, carrier_api, 422, 7051, reference=reference, json=other_party)
    assert error["errors"][0]["jsonPath"] == "$.issueTo"
    rendering = {**body, "eBLVisualisationByCarrier": {"name": "added.pdf", "content": "JVBERi0="}}
    refused(platform, carrier_api, 422, 7051, reference=reference, json=rendering)


def test_the_same_request_is_issued_once(platform: World, carrier_api: httpx.Client) -> None:
    """DCSA: the platform MUST NOT accept an issuance request twice. Sent twice at once: one 204, one 409; sent
    again later, or signed again: 409; one bill either way."""
    reference = platform.reference("RPL")
    body = platform.request(document(reference), platform.issue_to("exporter"))
    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(r.status_code for r in pool.map(
            lambda _: httpx.put(f"{platform.service.url}/v3/ebl-issuance-requests", json=body,
                                headers={"Authorization": f"Bearer {platform.api_keys['carrier']}"}, timeout=60),
            range(2)))
    assert statuses == [204, 409]
    token = bill_of_when_issued(platform, reference)
    height = platform.height()
    error = refused(platform, carrier_api, 409, 7030, json=body)
    assert error["errors"][0]["value"] == reference
    resigned = platform.request(document(reference), platform.issue_to("exporter"))  # another signature
    refused(platform, carrier_api, 409, 7030, json=resigned)
    assert platform.height() == height
    assert bill_of(platform, reference).token_id == token
    assert len(carrier_api.get("/v1/issuance-requests", params={"reference": reference}).json()) == 1


def bill_of_when_issued(platform: World, reference: str) -> int:
    platform.endpoint.wait_for(lambda r: r.path == "/v3/ebl-issuance-responses"
                               and r.json()["transportDocumentReference"] == reference)
    return int(bill_of(platform, reference).token_id)


def test_the_same_reference_with_another_document(platform: World, carrier_api: httpx.Client) -> None:
    reference = platform.reference("DUP")
    assert issue(platform, carrier_api, platform.request(document(reference), platform.issue_to("exporter")))[
        "issuanceResponseCode"] == "ISSU"
    other = document(reference, shippedOnBoardDate="2026-11-17")
    error = refused(platform, carrier_api, 409, 7031, json=platform.request(other, platform.issue_to("exporter")))
    assert error["errors"][0]["jsonPath"] == "$.document.transportDocumentReference"


def test_an_unknown_issue_to_party_is_refused_by_callback(platform: World, carrier_api: httpx.Client) -> None:
    """The request itself is sound, so it is accepted (204) and answered REFU by callback, as DCSA's own
    example of REFU does; nothing is issued, and sending it again is a replay (409)."""
    reference = platform.reference("UNK")
    unknown = {"partyName": "HHL Invest", "sendToPlatform": "GBAE",
               "identifyingCodes": [{"codeListProvider": "GLEIF", "partyCode": "529900T8BM49AURSDO55"}]}
    body = platform.request(document(reference), unknown)
    before = platform.height()
    assert issue(platform, carrier_api, body)["issuanceResponseCode"] == "REFU"
    assert platform.height() == before and bill_of(platform, reference) is None
    refused(platform, carrier_api, 409, 7030, json=body)


@pytest.mark.parametrize("header", [{}, {"Authorization": "Bearer ebl_000000000000_" + "x" * 43},
                                    {"Authorization": "Basic dXNlcjpwYXNz"}, {"X-API-Key": "nonsense"}])
def test_unauthenticated(platform: World, api, header: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    anonymous = api(None)
    reference = platform.reference("AUTH")
    body = platform.request(document(reference), platform.issue_to("exporter"))
    before = platform.height()
    for method, path, kwargs in (("PUT", "/v3/ebl-issuance-requests", {"json": body}),
                                 ("POST", "/v3/ebl-surrender-responses", {"json": {}}),
                                 ("GET", f"/endorsement-chains/{reference}", {}), ("GET", "/v1/bills", {}),
                                 ("GET", "/openapi.json", {})):
        response = anonymous.request(method, path, headers=header, **kwargs)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["errors"][0]["errorCode"] == 7010
    assert platform.height() == before


def test_forbidden(platform: World, api) -> None:  # type: ignore[no-untyped-def]
    """A trader may not request issuance; a carrier whose key the service does not hold cannot be served."""
    for handle in ("exporter", "other_carrier"):
        reference = platform.reference("FORB")
        body = platform.request(document(reference), platform.issue_to("exporter"))
        refused(platform, api(handle), 403, 7011, reference=reference, json=body)


def test_another_api_version(platform: World, carrier_api: httpx.Client) -> None:
    reference = platform.reference("VER")
    body = platform.request(document(reference), platform.issue_to("exporter"))
    refused(platform, carrier_api, 400, 7004, reference=reference, json=body, headers={"API-Version": "2"})
