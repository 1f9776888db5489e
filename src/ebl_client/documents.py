"""DCSA eBL 3.0 transport documents: check one before it becomes title, and read what the platform acts on
(reference, to order or straight, parties) as a typed `TransportDocumentInfo`, so callers never re-read dicts.

The model is the project's own, written from the `TransportDocument` schema of DCSA EBL_ISS v3.0.4, and it
is stricter than the schema where title is at stake. Every refusal names the wrong value by its RFC 6901 JSON
Pointer ("/documentParties/shipper/partyName"; "" is the whole document) and says why in one line.

Decisions (the schema allows more than may become title):

- Type: only a bill of lading (`BOL`). A sea waybill (`SWB`) is not a document of title.
- `isElectronic` must be true: a paper bill cannot also be an eBL.
- `isToOrder` is required and boolean; it alone decides to order (negotiable) or straight. No default.
- Status: only `ISSUED`. `DRAFT` is not final and `APPROVED` is approved by the shipper but not yet issued by
  the carrier; the token binds the document's digest forever, so a document whose own text says it is not
  issued never becomes title (DCSA's issuance conformance checks also require `ISSUED` in an issuance
  request). `PENDING_SURRENDER_FOR_*` and `SURRENDERED_FOR_*` describe a bill that already is or was title,
  and `VOIDED` one that is dead: issuing any of them would make a second original. Values outside the
  enumeration are refused.
- Once issued, the schema's conditions apply: `issueDate` is required, and exactly one of
  `shippedOnBoardDate` and `receivedForShipmentDate`. An eBL is one original: `numberOfOriginalsWithCharges`
  + `numberOfOriginalsWithoutCharges` is at most 1.
- Parties (`documentParties`): `shipper` and `issuingParty` (with its address) always, as the schema
  requires. Straight: the `consignee` (with identifying codes), and no `endorsee`. To order: an `endorsee`
  may be named (with identifying codes), never together with a `consignee`; none means blank endorsed in
  DCSA's terms. `issueTo` (who first possesses the bill) is not part of the document: it belongs to the
  issuance request, and on chain it is the `holder` given to `Bills.issue`. Notify parties are not
  required: they serve the arrival notice, not title, and DCSA's own examples omit them.
- JSON null is a wrong type (the schema declares nothing nullable): leave an absent party out.
- Cargo, equipment and routing (`consignmentItems`, `utilizedTransportEquipments`, `transports`) must be
  present with the schema's JSON types; their contents are bound by the digest and not modelled here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from .errors import InvalidDocument

TRIMMED = re.compile(r"\S(?:.*\S)?")  # the schema's ^\S(?:.*\S)?$: no leading or trailing blanks
NO_BLANKS = re.compile(r"\S+")
COUNTRY = re.compile(r"[A-Z]{2}")
UN_LOCATION = re.compile(r"[A-Z]{2}[A-Z2-9]{3}")
EMAIL = re.compile(r".+@\S+")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

BILL_OF_LADING, SEA_WAYBILL = "BOL", "SWB"
ISSUED = "ISSUED"
STATUS_REFUSALS = {
    "DRAFT": "a DRAFT transport document is not final: only an ISSUED document becomes title",
    "APPROVED": "an APPROVED document is not yet issued by the carrier: only an ISSUED document becomes title",
    "PENDING_SURRENDER_FOR_AMENDMENT": "the document is being surrendered for amendment: it already is title",
    "SURRENDERED_FOR_AMENDMENT": "the document was surrendered for amendment: issue the amended document",
    "PENDING_SURRENDER_FOR_DELIVERY": "the document is being surrendered for delivery: it already is title",
    "SURRENDERED_FOR_DELIVERY": "the document was surrendered for delivery: it cannot be title again",
    "VOIDED": "a VOIDED document cannot become title",
}
SERVICE_TYPES = ("CY", "SD", "CFS")
CODE_LIST_PROVIDERS = ("SMDG", "NMFTA")

# other DCSA eBL messages, recognised by a field only they carry, so the refusal says what was given
OTHER_MESSAGES = (
    ("issuanceResponseCode", "this is a DCSA issuance response (issuanceResponseCode), not a transport document"),
    ("document", "this is a DCSA issuance request: its /document is the transport document"),
    ("transportDocument", "this is a DCSA PINT envelope: its /transportDocument is the transport document"),
    ("surrenderRequestCode", "this is a DCSA surrender request (surrenderRequestCode), not a transport document"),
    ("surrenderRequestReference", "this is a DCSA surrender response (surrenderRequestReference), not a transport "
                                  "document"),
    ("errors", "this is a DCSA error response (errors), not a transport document"),
)


@dataclass(frozen=True)
class Problem:
    """One reason a document may not become title: the JSON Pointer of the wrong value and why."""

    path: str
    reason: str

    def error(self) -> InvalidDocument:
        """The problem as an InvalidDocument exception (returned, not raised)."""
        return InvalidDocument(self.path, self.reason)


@dataclass(frozen=True)
class TransportDocumentInfo:
    """What the platform reads from a valid transport document (a bill of lading, issued, electronic)."""

    reference: str
    sub_reference: str | None
    type_code: str
    status: str
    is_to_order: bool
    issue_date: date
    carrier_code: str
    issuing_party: str
    shipper: str
    consignee: str | None
    endorsee: str | None

    @property
    def is_straight(self) -> bool:
        """Whether the document is a straight (non-negotiable) bill of lading, i.e. not to order."""
        return not self.is_to_order


def validate_transport_document(document: Any) -> TransportDocumentInfo:
    """The document's info, or InvalidDocument naming the first problem (see `transport_document_problems`)."""
    info, problems = _read(document)
    if problems:
        raise problems[0].error()
    assert info is not None
    return info


def transport_document_problems(document: Any) -> list[Problem]:
    """Every reason the document may not become title, title rules first (the order the model reads the
    document; `validate_transport_document` raises the first); empty when it may become title."""
    return _read(document)[1]


# --- reading -------------------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Reader:
    """Collects problems while reading typed values; each getter returns None when the value is unusable."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def refuse(self, path: str, reason: str) -> None:
        self.problems.append(Problem(path, reason))

    def _get(self, obj: Mapping[str, Any], base: str, name: str, required: bool, what: str,
             missing: str | None = None) -> tuple[str, Any]:
        path = f"{base}/{name}"
        if name not in obj:
            if required:
                self.refuse(path, missing or f"required: {what} is missing")
            return path, None
        value = obj[name]
        if value is None:
            self.refuse(path, f"must be {what}, not null" + ("" if required else " (leave it out)"))
        return path, value

    def string(self, obj: Mapping[str, Any], base: str, name: str, *, required: bool = True,
               max_length: int | None = None, pattern: re.Pattern[str] | None = None,
               choices: tuple[str, ...] = (), missing: str | None = None) -> str | None:
        path, value = self._get(obj, base, name, required, "a string", missing)
        if value is None:
            return None
        if not isinstance(value, str):
            self.refuse(path, f"must be a string, not {_kind(value)}")
        elif choices and value not in choices:
            self.refuse(path, f"{_shown(value)} is not one of {', '.join(choices)}")
        elif max_length is not None and len(value) > max_length:
            self.refuse(path, f"is {len(value)} characters long, at most {max_length} allowed")
        elif pattern is not None and not pattern.fullmatch(value):
            self.refuse(path, f"{_shown(value)} does not match the pattern ^{pattern.pattern}$")
        else:
            return value
        return None

    def boolean(self, obj: Mapping[str, Any], base: str, name: str, *, required: bool = True,
                missing: str | None = None) -> bool | None:
        path, value = self._get(obj, base, name, required, "true or false", missing)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.refuse(path, f"must be true or false, not {_kind(value)} {_shown(value)}")
            return None
        return value

    def integer(self, obj: Mapping[str, Any], base: str, name: str, *, required: bool = False) -> int | None:
        path, value = self._get(obj, base, name, required, "a whole number")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.refuse(path, f"must be a whole number of at least 0, not {_kind(value)} {_shown(value)}")
            return None
        return value

    def day(self, obj: Mapping[str, Any], base: str, name: str, *, required: bool = False,
            missing: str | None = None) -> date | None:
        text = self.string(obj, base, name, required=required, missing=missing)
        if text is None:
            return None
        try:
            if ISO_DATE.fullmatch(text):
                return date.fromisoformat(text)
        except ValueError:
            pass
        self.refuse(f"{base}/{name}", f"{_shown(text)} is not a date (YYYY-MM-DD)")
        return None

    def object(self, obj: Mapping[str, Any], base: str, name: str, *, required: bool = True,
               what: str = "object") -> dict[str, Any] | None:
        path, value = self._get(obj, base, name, required, what)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.refuse(path, f"must be {what}, not {_kind(value)}")
            return None
        return value

    def objects(self, obj: Mapping[str, Any], base: str, name: str, *, required: bool = True,
                min_items: int = 0) -> list[tuple[str, dict[str, Any]]]:
        """(path, item) for each object in an array; problems for a non-array, too few items or non-objects."""
        path, value = self._get(obj, base, name, required, "an array")
        if value is None:
            return []
        if not isinstance(value, list):
            self.refuse(path, f"must be an array, not {_kind(value)}")
            return []
        if len(value) < min_items:
            self.refuse(path, f"must hold at least {min_items} item{'s' if min_items > 1 else ''}")
            return []
        items = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                items.append((f"{path}/{i}", item))
            else:
                self.refuse(f"{path}/{i}", f"must be an object, not {_kind(item)}")
        return items


def _read(document: Any) -> tuple[TransportDocumentInfo | None, list[Problem]]:
    r = _Reader()
    if not isinstance(document, dict):
        r.refuse("", f"a transport document is a JSON object, not {_kind(document)}")
        return None, r.problems
    for marker, message in OTHER_MESSAGES:
        if marker in document:
            r.refuse("", message)
            return None, r.problems
    d, root = document, ""

    reference = r.string(d, root, "transportDocumentReference", max_length=20, pattern=TRIMMED)
    if reference is not None and not (reference.isascii() and reference.isprintable()):
        r.refuse("/transportDocumentReference", "must be printable ASCII: the title registry keys bills by it")
        reference = None
    sub_reference = r.string(d, root, "transportDocumentSubReference", required=False, max_length=100,
                             pattern=TRIMMED)
    type_code = r.string(d, root, "transportDocumentTypeCode", choices=(BILL_OF_LADING, SEA_WAYBILL))
    if type_code == SEA_WAYBILL:
        r.refuse("/transportDocumentTypeCode", "a sea waybill (SWB) is not a document of title")
    status = r.string(d, root, "transportDocumentStatus", max_length=50)
    if status is not None and status != ISSUED:
        r.refuse("/transportDocumentStatus", STATUS_REFUSALS.get(
            status, f"{_shown(status)} is not a DCSA transport document status; only ISSUED becomes title"))
    is_electronic = r.boolean(d, root, "isElectronic")
    if is_electronic is False:
        r.refuse("/isElectronic", "a paper transport document (isElectronic false) cannot become an eBL")
    is_to_order = r.boolean(d, root, "isToOrder",
                            missing="required: isToOrder decides to order or straight and has no default")
    r.boolean(d, root, "isShippedOnBoardType")
    issue_date = r.day(d, root, "issueDate", required=True,
                       missing="required once issued: the date the carrier issued the bill")
    _shipped_or_received(r, d)
    _one_original(r, d)
    r.string(d, root, "termsAndConditions", max_length=50000)
    for name in ("receiptTypeAtOrigin", "deliveryTypeAtDestination"):
        r.string(d, root, name, choices=SERVICE_TYPES)
    for name in ("cargoMovementTypeAtOrigin", "cargoMovementTypeAtDestination"):
        r.string(d, root, name, max_length=3)
    carrier_code = r.string(d, root, "carrierCode", max_length=4, pattern=NO_BLANKS)
    r.string(d, root, "carrierCodeListProvider", choices=CODE_LIST_PROVIDERS)
    _invoice_payable_at(r, d)
    for path, contact in r.objects(d, root, "partyContactDetails", min_items=1):
        _contact(r, contact, path)
    r.object(d, root, "transports")
    for name in ("consignmentItems", "utilizedTransportEquipments"):
        r.objects(d, root, name, min_items=1)
    parties = _parties(r, d, is_to_order)

    if r.problems:
        return None, r.problems
    assert reference is not None and type_code is not None and status is not None and is_to_order is not None
    assert issue_date is not None and carrier_code is not None and parties is not None
    issuing_party, shipper, consignee, endorsee = parties
    return TransportDocumentInfo(
        reference=reference, sub_reference=sub_reference, type_code=type_code, status=status,
        is_to_order=is_to_order, issue_date=issue_date, carrier_code=carrier_code, issuing_party=issuing_party,
        shipper=shipper, consignee=consignee, endorsee=endorsee,
    ), []


def _shipped_or_received(r: _Reader, d: dict[str, Any]) -> None:
    shipped = "shippedOnBoardDate" in d
    received = "receivedForShipmentDate" in d
    r.day(d, "", "shippedOnBoardDate")
    r.day(d, "", "receivedForShipmentDate")
    if shipped and received:
        r.refuse("/receivedForShipmentDate", "an issued bill gives shippedOnBoardDate or receivedForShipmentDate, "
                                             "not both")
    elif not (shipped or received):
        r.refuse("/shippedOnBoardDate", "an issued bill gives shippedOnBoardDate or receivedForShipmentDate")


def _one_original(r: _Reader, d: dict[str, Any]) -> None:
    counts = [r.integer(d, "", name) for name in ("numberOfOriginalsWithCharges", "numberOfOriginalsWithoutCharges")]
    total = sum(c for c in counts if c is not None)
    if total > 1:
        r.refuse("/numberOfOriginalsWithCharges", f"an eBL is one original, not {total} "
                                                  "(with plus without charges)")


def _invoice_payable_at(r: _Reader, d: dict[str, Any]) -> None:
    place = r.object(d, "", "invoicePayableAt")
    if place is None:
        return
    given = [name for name in ("UNLocationCode", "freeText") if name in place]
    if len(given) != 1:
        r.refuse("/invoicePayableAt", "give exactly one of UNLocationCode and freeText")
    elif given == ["UNLocationCode"]:
        r.string(place, "/invoicePayableAt", "UNLocationCode", pattern=UN_LOCATION)
    else:
        r.string(place, "/invoicePayableAt", "freeText", max_length=35)


def _contact(r: _Reader, contact: dict[str, Any], path: str) -> None:
    r.string(contact, path, "name", max_length=35, pattern=TRIMMED)
    if "phone" not in contact and "email" not in contact:
        r.refuse(path, "a contact gives a phone or an email")
    r.string(contact, path, "phone", required=False, max_length=30, pattern=TRIMMED)
    r.string(contact, path, "email", required=False, max_length=100, pattern=EMAIL)


def _party_name(r: _Reader, party: dict[str, Any], path: str) -> str | None:
    return r.string(party, path, "partyName", max_length=70, pattern=TRIMMED)


def _identified(r: _Reader, party: dict[str, Any], path: str) -> None:
    """A consignee or endorsee is identified by at least one code (the schema requires identifyingCodes)."""
    for code_path, code in r.objects(party, path, "identifyingCodes", min_items=1):
        r.string(code, code_path, "codeListProvider", max_length=100)
        r.string(code, code_path, "partyCode", max_length=150)


def _parties(r: _Reader, d: dict[str, Any],
             is_to_order: bool | None) -> tuple[str, str, str | None, str | None] | None:
    """(issuing party, shipper, consignee, endorsee) names; None after a problem."""
    base = "/documentParties"
    parties = r.object(d, "", "documentParties")
    if parties is None:
        return None
    before = len(r.problems)

    shipper_name = None
    shipper = r.object(parties, base, "shipper", what="an object (the shipper party)")
    if shipper is not None:
        shipper_name = _party_name(r, shipper, f"{base}/shipper")

    issuer_name = None
    issuer = r.object(parties, base, "issuingParty", what="an object (the carrier issuing the document)")
    if issuer is not None:
        issuer_name = _party_name(r, issuer, f"{base}/issuingParty")
        address = r.object(issuer, f"{base}/issuingParty", "address")
        if address is not None:
            where = f"{base}/issuingParty/address"
            r.string(address, where, "street", max_length=70)
            r.string(address, where, "city", max_length=35, pattern=TRIMMED)
            r.string(address, where, "countryCode", pattern=COUNTRY)

    names: dict[str, str | None] = {}
    for role in ("consignee", "endorsee"):
        names[role] = None
        party = r.object(parties, base, role, required=False, what=f"an object (the {role} party)")
        if party is not None:
            names[role] = _party_name(r, party, f"{base}/{role}")
            _identified(r, party, f"{base}/{role}")

    if is_to_order is False and "consignee" not in parties:
        r.refuse(f"{base}/consignee", "a straight bill (isToOrder false) names its consignee")
    if is_to_order is False and parties.get("endorsee") is not None:
        r.refuse(f"{base}/endorsee", "a straight bill (isToOrder false) cannot name an endorsee")
    elif is_to_order is True and parties.get("consignee") is not None and parties.get("endorsee") is not None:
        r.refuse(f"{base}/endorsee", "a to-order bill names a consignee or an endorsee, not both")

    if len(r.problems) > before or shipper_name is None or issuer_name is None:
        return None
    return issuer_name, shipper_name, names["consignee"], names["endorsee"]
