"""The project's own models of the DCSA eBL 3.0 messages the platform serves and sends (Issuance, Surrender and
Endorsement Chain, v3.0.4), written from DCSA's schemas: what the service accepts is checked against them, and
what it sends is built with them. The transport document itself is checked by `documents` (stricter than
the schema where title is at stake) and kept as the JSON object it arrived as, since its checksum is over
those exact values.

Models parse strictly (no "1" for 1) and ignore properties they do not know, as DCSA's schemas allow them;
checksums are always computed over the JSON as received, never over a model.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from .transport_document import TransportDocument

TRIMMED = r"^\S(?:.*\S)?$"
NO_BLANKS = r"^\S+$"
CHECKSUM = r"^[0-9a-f]{64}$"
COMPACT_JWS = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"

Trimmed = Annotated[str, StringConstraints(pattern=TRIMMED)]
Reference = Annotated[str, StringConstraints(pattern=TRIMMED, max_length=20)]
SubReference = Annotated[str, StringConstraints(pattern=TRIMMED, max_length=100)]
PartyName = Annotated[str, StringConstraints(pattern=TRIMMED, max_length=70)]
PlatformCode = Annotated[str, StringConstraints(pattern=NO_BLANKS, max_length=4)]
Checksum = Annotated[str, StringConstraints(pattern=CHECKSUM, min_length=64, max_length=64)]
#: the "No Party" placeholder DCSA defines for a recipient of SIGN, BLANK ENDORSE and SURRENDERED
NO_PARTY: dict[str, Any] = {"eblPlatform": "NONE", "partyName": "NONE",
                            "identifyingCodes": [{"codeListProvider": "NONE", "partyCode": "NONE"}]}


def _base64(value: str) -> str:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not base64 (RFC 4648, with padding)") from None
    return value


Base64 = Annotated[str, AfterValidator(_base64)]


class Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True)

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:  # DCSA's schemas declare nothing nullable: leave a property out instead
            raise ValueError("must not be null (leave the property out)")
        return value

    @classmethod
    def make(cls, **values: Any) -> Self:
        """The message built by the platform: the values that are None are left out (never sent as null)."""
        return cls(**{k: v for k, v in values.items() if v is not None})

    def dump(self) -> dict[str, Any]:
        """The message as JSON, without the properties left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class IdentifyingCode(Model):
    codeListProvider: Annotated[str, StringConstraints(max_length=100)]
    partyCode: Annotated[str, StringConstraints(max_length=150)]
    codeListName: Annotated[str, StringConstraints(max_length=100)] | None = None


class TaxLegalReference(Model):
    type: Annotated[str, StringConstraints(pattern=TRIMMED, max_length=50)]
    countryCode: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$", min_length=2, max_length=2)]
    value: Annotated[str, StringConstraints(pattern=TRIMMED, max_length=35)]


# --- issuance ---------------------------------------------------------------------------------------------


class IssueToParty(Model):
    """Who first possesses the eBL once issued."""

    partyName: PartyName
    sendToPlatform: PlatformCode
    identifyingCodes: Annotated[list[IdentifyingCode], Field(min_length=1)]
    taxLegalReferences: list[TaxLegalReference] | None = None


class SupportingDocument(Model):
    """The carrier's own rendering of the eBL (a PDF unless `contentType` says otherwise)."""

    name: Annotated[str, StringConstraints(max_length=100)]
    content: Base64
    contentType: Annotated[str, StringConstraints(max_length=100)] = "application/pdf"


class TransportDocumentRelation(Model):
    transportDocumentReference: Reference
    transportDocumentSubReference: SubReference | None = None


class TransportDocumentReplacements(Model):
    oldTransportDocumentReferences: list[TransportDocumentRelation] | None = None
    newTransportDocumentReferences: list[TransportDocumentRelation] | None = None


class IssuanceRequest(Model):
    """PUT /v3/ebl-issuance-requests: the carrier asks the platform to issue `document` to `issueTo`."""

    document: TransportDocument
    transportDocumentReplacements: TransportDocumentReplacements | None = None
    issueTo: IssueToParty
    eBLVisualisationByCarrier: SupportingDocument | None = None
    issuanceManifestSignedContent: Annotated[str, StringConstraints(pattern=COMPACT_JWS)]


class IssuanceManifest(Model):
    """The payload the carrier signs (JWS): checksums of what it issued."""

    documentChecksum: Checksum
    eBLVisualisationByCarrierChecksum: Checksum | None = None
    issueToChecksum: Checksum


ResponseCode = Literal["ISSU", "BREQ", "REFU"]


class IssuanceError(Model):
    reason: Annotated[str, StringConstraints(pattern=TRIMMED, max_length=255)] | None = None
    errorCode: Annotated[str, StringConstraints(pattern=NO_BLANKS, max_length=50)] | None = None


class IssuanceResponse(Model):
    """POST /v3/ebl-issuance-responses (the carrier's endpoint): the platform's verdict."""

    transportDocumentReference: Reference
    transportDocumentSubReference: SubReference | None = None
    issuanceResponseCode: ResponseCode
    reason: Annotated[str, StringConstraints(pattern=TRIMMED, max_length=255)] | None = None
    errors: Annotated[list[IssuanceError], Field(max_length=255)] | None = None


# --- parties in endorsement chains ----------------------------------------------------------------------


class RepresentedParty(Model):
    partyName: PartyName
    identifyingCodes: list[IdentifyingCode] | None = None


class Party(Model):
    """An actor or recipient of an endorsement chain entry (DCSA's ActorParty and RecipientParty)."""

    eblPlatform: PlatformCode
    partyName: PartyName
    identifyingCodes: Annotated[list[IdentifyingCode], Field(min_length=1)]
    taxLegalReferences: list[TaxLegalReference] | None = None
    representedParty: RepresentedParty | None = None


ActionCode = Literal["ISSUE", "ENDORSE", "SIGN", "SURRENDER_FOR_DELIVERY", "SURRENDER_FOR_AMENDMENT", "BLANK_ENDORSE",
                     "ENDORSE_TO_ORDER", "TRANSFER", "SURRENDERED"]


class EndorsementChainLink(Model):
    """One action on the bill. `auditReference` is the transaction that recorded it on chain."""

    actionDateTime: str
    actionCode: ActionCode
    actor: Party
    recipient: Party | None = None  # the Surrender API requires one: the "No Party" placeholder when none
    auditReference: Annotated[str, StringConstraints(max_length=100)] | None = None


class EndorsementChain(Model):
    """GET /endorsement-chains/{transportDocumentReference}: one per bill with that reference."""

    transportDocumentReference: Reference
    transportDocumentSubReference: SubReference | None = None
    carrierSCACCode: Annotated[str, StringConstraints(pattern=NO_BLANKS, max_length=4)] | None = None
    endorsementChain: list[EndorsementChainLink] | None = None


# --- surrender --------------------------------------------------------------------------------------------


class SurrenderRequestDetails(Model):
    """POST /v3/ebl-surrender-requests (the carrier's endpoint): a holder surrendered a bill."""

    surrenderRequestReference: Annotated[str, StringConstraints(pattern=TRIMMED, max_length=100)]
    transportDocumentReference: Reference
    transportDocumentSubReference: SubReference | None = None
    surrenderRequestCode: Literal["SREQ", "AREQ"]
    reasonCode: Annotated[str, StringConstraints(max_length=4)] | None = None
    comments: Annotated[str, StringConstraints(pattern=TRIMMED, max_length=255)] | None = None
    endorsementChain: list[EndorsementChainLink] | None = None


class FeedbackElement(Model):
    severity: Annotated[str, StringConstraints(max_length=50)] | None = None
    message: Annotated[str, StringConstraints(max_length=5000)] | None = None
    propertyPath: Annotated[str, StringConstraints(max_length=1000)] | None = None


class SurrenderRequestAnswer(Model):
    """POST /v3/ebl-surrender-responses: the carrier accepts (SURR) or rejects (SREJ) a surrender."""

    surrenderRequestReference: Annotated[str, StringConstraints(pattern=TRIMMED, max_length=100)]
    action: Literal["SURR", "SREJ"]
    comments: Annotated[str, StringConstraints(pattern=TRIMMED, max_length=255)] | None = None
    feedbackElements: list[FeedbackElement] | None = None


# --- errors -------------------------------------------------------------------------------------------------


class DetailedError(Model):
    errorCode: Annotated[int, Field(ge=7000, le=9999)] | None = None
    property: Annotated[str, StringConstraints(max_length=100)] | None = None
    value: Annotated[str, StringConstraints(max_length=500)] | None = None
    jsonPath: Annotated[str, StringConstraints(max_length=500)] | None = None
    errorCodeText: Annotated[str, StringConstraints(max_length=100)]
    errorCodeMessage: Annotated[str, StringConstraints(max_length=5000)]


HttpMethod = Literal["GET", "HEAD", "POST", "PUT", "DELETE", "OPTION", "PATCH"]


class ErrorResponse(Model):
    """Every error the service answers, in DCSA's shape."""

    httpMethod: HttpMethod
    requestUri: str
    statusCode: int
    statusCodeText: Annotated[str, StringConstraints(max_length=50)]
    statusCodeMessage: Annotated[str, StringConstraints(max_length=200)] | None = None
    providerCorrelationReference: Annotated[str, StringConstraints(max_length=100)] | None = None
    errorDateTime: str
    errors: Annotated[list[DetailedError], Field(min_length=1)]


# --- helpers ------------------------------------------------------------------------------------------------


def json_path(location: tuple[str | int, ...] | list[str | int], root: str = "$") -> str:
    """A pydantic error location or a JSON Pointer's parts as a JSONPath: `$.issueTo.identifyingCodes[0]`."""
    path = root
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.isidentifier():
            path += f".{part}"
        else:
            path += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return path


def pointer_parts(pointer: str) -> list[str | int]:
    """The parts of an RFC 6901 JSON Pointer (array indices as ints)."""
    if not pointer:
        return []
    parts: list[str | int] = []
    for raw in pointer.lstrip("/").split("/"):
        text = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(text) if text.isdigit() else text)
    return parts


def problems(error: ValidationError, root: str = "$") -> list[tuple[str, str]]:
    """(JSONPath, message) for each problem pydantic found."""
    found = []
    for item in error.errors(include_url=False):
        location = tuple(p for p in item["loc"] if isinstance(p, (str, int)))
        message = str(item["msg"])
        found.append((json_path(location, root), message))
    return found
