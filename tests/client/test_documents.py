"""Transport documents before they become title: the DCSA eBL 3.0 examples, the demo's sample, every DCSA
message that is not a transport document, and one refusal per rule, each named by its JSON Pointer."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from ebl_client import errors, samples
from ebl_client.documents import (
    Problem,
    TransportDocumentInfo,
    transport_document_problems,
    validate_transport_document,
)

REPO = Path(__file__).resolve().parents[2]
DCSA = REPO.parent / "shared" / "dcsa"
SPEC_FILES = ("EBL_ISS_v3.0.4.yaml", "EBL_SUR_v3.0.4.yaml", "EBL_END_v3.0.4.yaml", "EBL_PINT_v3.0.0.yaml")
TD = "TransportDocument"


# --- the DCSA files: every example, sorted by the schema it illustrates -------------------------------------


def load_specs() -> dict[str, Any]:
    missing = [name for name in SPEC_FILES if not (DCSA / name).is_file()]
    assert not missing, f"the DCSA OpenAPI files are read from {DCSA}; missing: {missing}"
    return {name: yaml.safe_load((DCSA / name).read_text(encoding="utf-8")) for name in SPEC_FILES}


SPECS = load_specs()


def schema_name(schema: Any) -> str | None:
    ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
    return ref.rsplit("/", 1)[-1] if ref.startswith("#/components/schemas/") else None


def walk(node: Any, pointer: str) -> Iterator[tuple[str, Any]]:
    yield pointer, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{pointer}/{i}")


def all_examples() -> Iterator[tuple[str, str, Any]]:
    """(id, schema name, value) of every example in the DCSA files: the `examples:` of request and response
    bodies, and the object examples (`example:`) of component schemas."""
    for file, spec in SPECS.items():
        schemas = spec["components"]["schemas"]
        for pointer, node in walk(spec, ""):
            if not isinstance(node, dict):
                continue
            if isinstance(node.get("examples"), dict) and "schema" in node:
                name = schema_name(node["schema"]) or "(inline schema)"
                for example, body in node["examples"].items():
                    yield f"{file}#{pointer}/examples/{example}", name, body["value"]
            parent, _, key = pointer.rpartition("/")
            if parent == "/components/schemas" and isinstance(node.get("example"), dict):
                yield f"{file}#{pointer}/example", key, node["example"]
        for name in ("IssuanceResponse", "SurrenderRequestAnswer"):  # messages without a whole example
            if name in schemas:
                built = {p: s["example"] for p, s in schemas[name]["properties"].items() if "example" in s}
                yield f"{file}#/components/schemas/{name} (built from its property examples)", name, built


def properties_holding_documents(file: str, name: str) -> list[str]:
    """The properties of a message schema whose value is a TransportDocument (`document`, `transportDocument`)."""
    schema = SPECS[file]["components"]["schemas"].get(name, {})
    return [p for p, s in schema.get("properties", {}).items() if schema_name(s) == TD]


def split_examples() -> tuple[list[Any], list[Any]]:
    documents, others = [], []
    for example_id, name, value in all_examples():
        file = example_id.split("#", 1)[0]
        if name == TD:
            documents.append(pytest.param(value, id=example_id))
            continue
        others.append(pytest.param(name, value, id=example_id))
        for prop in properties_holding_documents(file, name):
            if isinstance(value, dict) and prop in value:
                documents.append(pytest.param(value[prop], id=f"{example_id}/{prop}"))
    return documents, others


DOCUMENT_EXAMPLES, OTHER_EXAMPLES = split_examples()


def test_the_dcsa_files_hold_the_examples_these_tests_expect():
    assert len(DOCUMENT_EXAMPLES) == 2  # the issuance request's document, the PINT envelope's transportDocument
    kinds = {p.values[0] for p in OTHER_EXAMPLES}
    assert {"IssuanceRequest", "IssuanceResponse", "ErrorResponse", "SurrenderRequestDetails",
            "SurrenderRequestAnswer", "EblEnvelope", "(inline schema)"} <= kinds
    assert len(OTHER_EXAMPLES) >= 20


def as_issued(example: dict[str, Any]) -> dict[str, Any]:
    """A DCSA example as its carrier issues it. The published examples are DRAFTs without an issueDate
    (DCSA notes they "cannot be used as is"); issuing sets the status and the date of issue."""
    return {**example, "transportDocumentStatus": "ISSUED", "issueDate": example["shippedOnBoardDate"]}


@pytest.mark.parametrize("example", DOCUMENT_EXAMPLES)
def test_dcsa_transport_document_examples_are_drafts_and_validate_once_issued(example):
    assert [p.path for p in transport_document_problems(example)] == ["/transportDocumentStatus", "/issueDate"]
    with pytest.raises(errors.InvalidDocument) as caught:
        validate_transport_document(example)
    assert caught.value.path == "/transportDocumentStatus" and "DRAFT" in caught.value.reason

    info = validate_transport_document(as_issued(example))
    parties = example["documentParties"]
    assert info == TransportDocumentInfo(
        reference=example["transportDocumentReference"], sub_reference=None, type_code="BOL", status="ISSUED",
        is_to_order=example["isToOrder"], issue_date=date.fromisoformat(example["shippedOnBoardDate"]),
        carrier_code=example["carrierCode"], issuing_party=parties["issuingParty"]["partyName"],
        shipper=parties["shipper"]["partyName"], consignee=None, endorsee=None,
    )
    assert (info.reference, info.is_to_order, info.is_straight, info.shipper, info.issuing_party) == (
        "62CD536BA8D34C469AFD", True, False, "DCSA CTK", "Mediterranean Shipping Company")


OTHER_MESSAGE_REASONS = {
    "IssuanceRequest": "issuance request: its /document is the transport document",
    "EblEnvelope": "PINT envelope: its /transportDocument is the transport document",
    "IssuanceResponse": "issuance response",
    "SurrenderRequestDetails": "surrender request",
    "SurrenderRequestAnswer": "surrender response",
    "ErrorResponse": "error response",
    "(inline schema)": "a JSON object, not an array",  # the endorsement chains of EBL_END
}


@pytest.mark.parametrize(("schema", "value"), OTHER_EXAMPLES)
def test_every_other_dcsa_example_is_refused_with_a_reason(schema, value):
    with pytest.raises(errors.InvalidDocument) as caught:
        validate_transport_document(value)
    error = caught.value
    assert str(error).count("\n") == 0 and error.reason
    if schema in OTHER_MESSAGE_REASONS:
        assert error.path == "" and OTHER_MESSAGE_REASONS[schema] in error.reason
    else:  # an example of a part (a contact, a place): not a document at all
        assert (error.path, error.reason) == ("/transportDocumentReference", "required: a string is missing")


def test_the_bare_issuance_response_is_refused():
    with pytest.raises(errors.InvalidDocument) as caught:
        validate_transport_document({"transportDocumentReference": "HHL7180000000", "issuanceResponseCode": "ISSU"})
    assert caught.value.path == ""
    assert str(caught.value) == ("invalid transport document: this is a DCSA issuance response "
                                 "(issuanceResponseCode), not a transport document")


# --- the demo's sample ---------------------------------------------------------------------------------------


@pytest.fixture
def sample() -> dict[str, Any]:
    return json.loads(samples.TRANSPORT_DOCUMENT.read_text(encoding="utf-8"))


def test_the_demo_sample_validates(sample):
    assert transport_document_problems(sample) == []
    assert validate_transport_document(sample) == TransportDocumentInfo(
        reference="VHSL2611HKGSHA0007", sub_reference=None, type_code="BOL", status="ISSUED", is_to_order=True,
        issue_date=date(2026, 11, 18), carrier_code="VHSL", issuing_party="Victoria Harbour Shipping Line",
        shipper="Pearl River Electronics Ltd", consignee=None, endorsee=None,
    )


def test_the_test_data_holds_no_other_transport_document():
    """tests/data holds no transport document today; one added there must validate."""
    for path in sorted((REPO / "tests" / "data").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "transportDocumentTypeCode" in data:
            assert transport_document_problems(data) == [], path


# --- one refusal per rule, each naming its JSON Pointer ---------------------------------------------------------


def pointer_parts(pointer: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in pointer.split("/")[1:]]


def changed(doc: dict[str, Any], pointer: str, value: Any) -> dict[str, Any]:
    """A deep copy of `doc` with the value at `pointer` replaced (or added)."""
    out = copy.deepcopy(doc)
    *parents, last = pointer_parts(pointer)
    node: Any = out
    for part in parents:
        node = node[part]
    node[last] = value
    return out


def without(doc: dict[str, Any], pointer: str) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    *parents, last = pointer_parts(pointer)
    node: Any = out
    for part in parents:
        node = node[part]
    del node[last]
    return out


def refusal(doc: Any) -> errors.InvalidDocument:
    with pytest.raises(errors.InvalidDocument) as caught:
        validate_transport_document(doc)
    error = caught.value
    assert isinstance(error, errors.InvalidInput) and isinstance(error, ValueError)
    where = f" at {error.path}" if error.path else ""
    assert str(error) == f"invalid transport document{where}: {error.reason}"
    return error


def only_problem(doc: Any) -> Problem:
    problems = transport_document_problems(doc)
    assert len(problems) == 1, problems
    error = refusal(doc)
    assert (error.path, error.reason) == (problems[0].path, problems[0].reason)
    return problems[0]


CONSIGNEE = {"partyName": "Shanghai Huaxin Trading Co., Ltd.",
             "identifyingCodes": [{"codeListProvider": "ZZZ", "partyCode": "91310000MA1FL4B24G",
                                   "codeListName": "USCC"}]}
ENDORSEE = {"partyName": "Harbour Bank HK", "identifyingCodes": [{"codeListProvider": "GLEIF",
                                                                   "partyCode": "5493001KJTIIGC8Y1R99"}]}


def straight(sample: dict[str, Any], consignee: Any = CONSIGNEE) -> dict[str, Any]:
    return changed(changed(sample, "/isToOrder", False), "/documentParties/consignee", consignee)


def test_a_sea_waybill_is_not_a_document_of_title(sample):
    problem = only_problem(changed(sample, "/transportDocumentTypeCode", "SWB"))
    assert problem == Problem("/transportDocumentTypeCode", "a sea waybill (SWB) is not a document of title")


def test_an_unknown_document_type_is_refused(sample):
    assert only_problem(changed(sample, "/transportDocumentTypeCode", "HBL")).path == "/transportDocumentTypeCode"


def test_is_to_order_is_required_and_has_no_default(sample):
    problem = only_problem(without(sample, "/isToOrder"))
    assert problem.path == "/isToOrder" and "no default" in problem.reason


@pytest.mark.parametrize("value", ["true", 1, 0, None, [], {}])
def test_is_to_order_must_be_a_boolean(sample, value):
    assert only_problem(changed(sample, "/isToOrder", value)).path == "/isToOrder"


def test_a_paper_document_does_not_become_an_ebl(sample):
    problem = only_problem(changed(sample, "/isElectronic", False))
    assert problem.path == "/isElectronic" and "paper" in problem.reason
    assert only_problem(without(sample, "/isElectronic")).path == "/isElectronic"
    assert only_problem(changed(sample, "/isElectronic", "true")).path == "/isElectronic"


def test_a_draft_is_refused(sample):
    problem = only_problem(changed(sample, "/transportDocumentStatus", "DRAFT"))
    assert problem.path == "/transportDocumentStatus" and "DRAFT" in problem.reason and "not final" in problem.reason


@pytest.mark.parametrize("status", ["APPROVED", "PENDING_SURRENDER_FOR_AMENDMENT", "SURRENDERED_FOR_AMENDMENT",
                                    "PENDING_SURRENDER_FOR_DELIVERY", "SURRENDERED_FOR_DELIVERY", "VOIDED",
                                    "issued", "CANCELLED", 3, None])
def test_only_an_issued_document_becomes_title(sample, status):
    assert only_problem(changed(sample, "/transportDocumentStatus", status)).path == "/transportDocumentStatus"


def test_once_issued_the_document_has_a_date_of_issue(sample):
    assert only_problem(without(sample, "/issueDate")).path == "/issueDate"
    for bad in ("18/11/2026", "2026-02-30", "20261118", 20261118):
        assert only_problem(changed(sample, "/issueDate", bad)).path == "/issueDate"


def test_shipped_on_board_or_received_for_shipment_exactly_once(sample):
    assert only_problem(without(sample, "/shippedOnBoardDate")).path == "/shippedOnBoardDate"
    both = changed(sample, "/receivedForShipmentDate", "2026-11-17")
    assert only_problem(both).path == "/receivedForShipmentDate"
    received = changed(without(sample, "/shippedOnBoardDate"), "/receivedForShipmentDate", "2026-11-17")
    assert transport_document_problems(received) == []


def test_an_ebl_is_one_original(sample):
    problem = only_problem(changed(sample, "/numberOfOriginalsWithoutCharges", 1))
    assert problem.path == "/numberOfOriginalsWithCharges" and "one original" in problem.reason
    assert transport_document_problems(changed(sample, "/numberOfOriginalsWithCharges", 0)) == []


@pytest.mark.parametrize("pointer", [
    "/documentParties/shipper", "/documentParties/shipper/partyName", "/documentParties/issuingParty",
    "/documentParties/issuingParty/partyName", "/documentParties/issuingParty/address",
    "/documentParties/issuingParty/address/city", "/documentParties",
])
def test_the_parties_every_bill_needs(sample, pointer):
    assert only_problem(without(sample, pointer)).path == pointer


def test_missing_shipper_is_named(sample):
    problem = only_problem(without(sample, "/documentParties/shipper"))
    assert problem == Problem("/documentParties/shipper", "required: an object (the shipper party) is missing")


@pytest.mark.parametrize(("value", "why"), [("", "pattern"), (" Pearl River", "pattern"), ("P" * 71, "at most 70"),
                                            (42, "string"), (None, "null")])
def test_a_party_name_is_a_trimmed_string_of_at_most_70(sample, value, why):
    problem = only_problem(changed(sample, "/documentParties/shipper/partyName", value))
    assert problem.path == "/documentParties/shipper/partyName" and why in problem.reason


def test_a_straight_bill_names_its_consignee(sample):
    problem = only_problem(changed(sample, "/isToOrder", False))
    assert problem == Problem("/documentParties/consignee", "a straight bill (isToOrder false) names its consignee")
    info = validate_transport_document(straight(sample))
    assert info.is_straight and not info.is_to_order and info.consignee == CONSIGNEE["partyName"]


def test_a_consignee_or_endorsee_is_identified_by_a_code(sample):
    unidentified = {"partyName": "Shanghai Huaxin Trading Co., Ltd."}
    assert only_problem(straight(sample, unidentified)).path == "/documentParties/consignee/identifyingCodes"
    empty = {**unidentified, "identifyingCodes": []}
    assert only_problem(straight(sample, empty)).path == "/documentParties/consignee/identifyingCodes"
    no_code = {**unidentified, "identifyingCodes": [{"codeListProvider": "ZZZ"}]}
    assert only_problem(straight(sample, no_code)).path == "/documentParties/consignee/identifyingCodes/0/partyCode"
    endorsee = changed(sample, "/documentParties/endorsee", {"partyName": "Harbour Bank HK"})
    assert only_problem(endorsee).path == "/documentParties/endorsee/identifyingCodes"


def test_a_straight_bill_has_no_endorsee(sample):
    problem = only_problem(changed(straight(sample), "/documentParties/endorsee", ENDORSEE))
    assert problem.path == "/documentParties/endorsee" and "straight" in problem.reason


def test_a_to_order_bill_may_name_an_endorsee_but_not_also_a_consignee(sample):
    endorsed = changed(sample, "/documentParties/endorsee", ENDORSEE)
    assert validate_transport_document(endorsed).endorsee == "Harbour Bank HK"
    to_order_of_consignee = changed(sample, "/documentParties/consignee", CONSIGNEE)
    assert validate_transport_document(to_order_of_consignee).consignee == CONSIGNEE["partyName"]
    both = changed(endorsed, "/documentParties/consignee", CONSIGNEE)
    assert only_problem(both).path == "/documentParties/endorsee"


@pytest.mark.parametrize("role", ["consignee", "endorsee"])
def test_an_absent_party_is_left_out_not_null(sample, role):
    problem = only_problem(changed(sample, f"/documentParties/{role}", None))
    assert problem.path == f"/documentParties/{role}" and "null" in problem.reason


REQUIRED = SPECS["EBL_ISS_v3.0.4.yaml"]["components"]["schemas"][TD]["required"]


@pytest.mark.parametrize("name", REQUIRED)
def test_every_field_the_schema_requires_is_required(sample, name):
    assert only_problem(without(sample, f"/{name}")).path == f"/{name}"


@pytest.mark.parametrize(("pointer", "value"), [
    ("/transportDocumentReference", 2611),
    ("/transportDocumentReference", "X" * 21),
    ("/transportDocumentReference", " VHSL2611HKGSHA0007"),
    ("/transportDocumentReference", "VHSL2611HKGSHA000\u00c4"),
    ("/transportDocumentSubReference", ["v1"]),
    ("/isShippedOnBoardType", "yes"),
    ("/termsAndConditions", 42),
    ("/receiptTypeAtOrigin", "DOOR"),
    ("/deliveryTypeAtDestination", None),
    ("/cargoMovementTypeAtOrigin", "FCLX"),
    ("/carrierCode", "VH SL"),
    ("/carrierCodeListProvider", "IATA"),
    ("/invoicePayableAt", "HKHKG"),
    ("/invoicePayableAt/UNLocationCode", "hkhkg"),
    ("/invoicePayableAt/freeText", "Hong Kong"),  # both UNLocationCode and freeText: oneOf
    ("/partyContactDetails", []),
    ("/partyContactDetails", {"name": "desk"}),
    ("/partyContactDetails/0", "edoc@victoriaharbourshipping.example"),
    ("/partyContactDetails/0/email", "not an address"),
    ("/consignmentItems", []),
    ("/consignmentItems", {}),
    ("/consignmentItems/0", "goods"),
    ("/utilizedTransportEquipments", []),
    ("/transports", []),
    ("/documentParties", []),
    ("/documentParties/shipper", "Pearl River Electronics Ltd"),
    ("/documentParties/issuingParty/address/countryCode", "HKG"),
    ("/numberOfOriginalsWithCharges", True),
    ("/numberOfOriginalsWithCharges", -1),
    ("/numberOfOriginalsWithCharges", 0.5),
])
def test_wrong_types_and_values_are_named(sample, pointer, value):
    path = only_problem(changed(sample, pointer, value)).path
    expected = "/invoicePayableAt" if pointer == "/invoicePayableAt/freeText" else pointer
    assert path == expected


def test_a_contact_gives_a_phone_or_an_email(sample):
    problem = only_problem(changed(sample, "/partyContactDetails/0", {"name": "Documentation desk"}))
    assert problem.path == "/partyContactDetails/0" and "phone or an email" in problem.reason


@pytest.mark.parametrize("value", [[], "a transport document", None, 7])
def test_a_document_is_a_json_object(value):
    assert only_problem(value).path == ""


def test_the_first_problem_in_document_order_is_raised(sample):
    doc = changed(changed(sample, "/transportDocumentTypeCode", "SWB"), "/isElectronic", False)
    assert [p.path for p in transport_document_problems(doc)] == ["/transportDocumentTypeCode", "/isElectronic"]
    assert refusal(doc).path == "/transportDocumentTypeCode"


def test_unknown_extra_fields_are_allowed(sample):
    """The schema does not forbid additional properties; the digest binds them like any other field."""
    assert transport_document_problems({**sample, "x-carrierNote": "stowed under deck"}) == []
