"""The project's model of DCSA's TransportDocument against DCSA's own schema (openapi-core over the Issuance
spec): the model never accepts a document the schema refuses. Documents are the sample, made DCSA-valid, with
one value changed, removed or added anywhere (hypothesis, derandomized); no chain, no HTTP."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_core.datatypes import RequestParameters
from pydantic import ValidationError
from werkzeug.datastructures import Headers

from ebl_client.service.transport_document import TransportDocument

from . import dcsa_specs
from .world import document

SIGNED = "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"
ISSUE_TO = {"partyName": "Pearl River Electronics Ltd", "sendToPlatform": "GBAE",
            "identifyingCodes": [{"codeListProvider": "GLEIF", "partyCode": "5493001KJTIIGC8Y1R12"}]}
VALID = document("TDMODEL0001")


def dcsa_accepts(doc: Any) -> bool:
    body = json.dumps({"document": doc, "issueTo": ISSUE_TO, "issuanceManifestSignedContent": SIGNED}).encode()
    request = dcsa_specs._Request("http://127.0.0.1", "/v3/ebl-issuance-requests", "put", body, "application/json",
                                  RequestParameters(header=Headers()))
    try:
        dcsa_specs.spec(dcsa_specs.ISSUANCE).validate_request(request)
    except Exception:
        return False
    return True


def model_accepts(doc: Any) -> bool:
    try:
        TransportDocument.model_validate(doc)
    except ValidationError:
        return False
    return True


def _paths(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*path, i))
    return found


PATHS = [p for p in _paths(VALID) if p]
TRICKY_TEXT = ["", " ", "x ", " x", "a\nb", "ZZ", "zz", "ABCDE", "NLAMS", "NL1AM", "2026-13-01", "2026-02-30",
               "2026-11-30T25:00:00Z", "2026-11-30T12:00:00Z", "12345", "123456", "1234567890123", "2611N", "X" * 36,
               "Y" * 71, "é" * 35, "9999", "0123", "+852 1234", "a@b", "@b", "BOL", "SWB", "CY", "KGM", "TON", "SMDG"]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 2**31 + 3), st.floats(allow_nan=False,
                                                                                   allow_infinity=False),
                   st.sampled_from(TRICKY_TEXT), st.text(max_size=12), st.just({}), st.just([]),
                   st.just({"UNLocationCode": "NLAMS", "freeText": "both"}), st.just([{"number": "S1"}]))


def _mutated(path: tuple[str | int, ...], action: str, value: Any) -> Any:
    doc = copy.deepcopy(VALID)
    *parents, last = path
    holder = doc
    for step in parents:
        holder = holder[step]
    if action == "remove":
        del holder[last]
    elif action == "add" and isinstance(holder, dict):
        holder[f"x-{last}"] = value
    elif action == "append" and isinstance(holder, list):
        holder.append(value)
    else:
        holder[last] = value
    return doc


@settings(max_examples=400, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PATHS), st.sampled_from(["replace", "replace", "replace", "remove", "add", "append"]), VALUES)
def test_the_model_never_accepts_what_dcsa_refuses(path: tuple[str | int, ...], action: str, value: Any) -> None:
    doc = _mutated(path, action, value)
    if model_accepts(doc):
        assert dcsa_accepts(doc), f"the model accepts what DCSA refuses: {action} {path} = {value!r}"


def test_the_valid_document_is_valid_for_both() -> None:
    assert dcsa_accepts(VALID) and model_accepts(VALID)


def test_what_both_refuse_and_what_the_model_refuses_more() -> None:
    for path, value in ((("transportDocumentReference",), "R" * 21), (("isToOrder",), "true"),
                        (("invoicePayableAt",), {"UNLocationCode": "HKHKG", "freeText": "Hong Kong"}),
                        (("partyContactDetails", 0), {"name": "no way to reach"}),
                        (("documentParties", "shipper", "partyName"), None),
                        (("consignmentItems", 0, "HSCodes"), [])):
        doc = _mutated(path, "replace", value)
        assert not model_accepts(doc) and not dcsa_accepts(doc), (path, value)
    ours_only = _mutated(("documentParties", "shipper", "partyName"), "replace", "Pearl River\n")
    assert dcsa_accepts(ours_only) and not model_accepts(ours_only)  # `$` before a final newline: never here
