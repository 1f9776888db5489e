"""Every error the service answers is a DCSA `ErrorResponse` with the right status and one of the platform's
error codes below (DCSA leaves `errorCode` to the implementer, within 7000-9999).

| status | code | when |
|---|---|---|
| 400 | 7001 | the body is not JSON (or JSON with duplicate keys, NaN) |
| 400 | 7002 | the message does not fit DCSA's schema (every problem listed, with its JSONPath) |
| 400 | 7003 | the transport document may not become title (`documents`: JSONPath of the value, why) |
| 400 | 7004 | a parameter or header is wrong (API-Version of another major version, a malformed id) |
| 401 | 7010 | no API key, or an unknown or revoked one |
| 403 | 7011 | the authenticated participant may not do this (not a carrier, not its bill, no key on this host) |
| 404 | 7020 | nothing the caller may see has that reference |
| 405 | 7021 | the path does not take that method |
| 409 | 7030 | the same issuance request again: it is never accepted twice |
| 409 | 7031 | the reference is taken (a live bill, a request being processed) or the answer was given already |
| 409 | 7032 | the chain refused the action as things stand (the bill moved, a party was suspended) |
| 413 | 7040 | the body is larger than the service accepts |
| 415 | 7041 | the body is not application/json |
| 422 | 7050 | the issuance manifest's signature does not verify with the carrier's registered key |
| 422 | 7051 | a checksum in the manifest is not the one of what was sent |
| 500 | 7090 | the service failed: the details are in its log under the correlation reference, never in the answer |
| 503 | 7091 | the node or the index cannot be reached: try again |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .dcsa import DetailedError, ErrorResponse, problems

M = TypeVar("M", bound=BaseModel)

MALFORMED_JSON = 7001
SCHEMA = 7002
INVALID_DOCUMENT = 7003
BAD_PARAMETER = 7004
UNAUTHENTICATED = 7010
FORBIDDEN = 7011
NOT_FOUND = 7020
METHOD_NOT_ALLOWED = 7021
REPLAY = 7030
CONFLICT = 7031
CHAIN_REFUSED = 7032
TOO_LARGE = 7040
MEDIA_TYPE = 7041
BAD_SIGNATURE = 7050
CHECKSUM_MISMATCH = 7051
INTERNAL = 7090
UNAVAILABLE = 7091

#: DCSA's httpMethod enumeration spells OPTIONS without its S
_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"}


@dataclass(frozen=True)
class Detail:
    """One cause: what it is (`text`, short) and the explanation; where in the message when known."""

    text: str
    message: str
    json_path: str | None = None
    value: str | None = None

    def model(self, code: int) -> DetailedError:
        return DetailedError.make(errorCode=code, errorCodeText=_clip(self.text, 100),
                             errorCodeMessage=_clip(self.message, 5000),
                             jsonPath=_clip(self.json_path, 500) if self.json_path else None,
                             value=_clip(self.value, 500) if self.value is not None else None)


@dataclass
class ApiError(Exception):
    """An answer other than success: raised anywhere below a route, turned into an ErrorResponse once."""

    status: int
    code: int
    message: str
    details: list[Detail] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def response(self, method: str, uri: str, correlation: str) -> ErrorResponse:
        return error_response(self.status, self.code, self.message, method, uri, correlation, self.details)


def error_response(status: int, code: int, message: str, method: str, uri: str, correlation: str,
                   details: list[Detail] | None = None) -> ErrorResponse:
    text = _phrase(status)
    causes = details or [Detail(text, message)]
    return ErrorResponse.make(
        httpMethod=_method(method), requestUri=uri, statusCode=status, statusCodeText=_clip(text, 50),
        statusCodeMessage=_clip(message, 200), providerCorrelationReference=correlation,
        errorDateTime=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        errors=[d.model(code) for d in causes],
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _method(method: str) -> str:
    upper = method.upper()
    if upper in _METHODS:
        return upper
    return "OPTION" if upper == "OPTIONS" else "GET"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


# --- the ones raised in several places ---------------------------------------------------------------------


def unauthenticated(message: str = "an API key is required: Authorization: Bearer <key>") -> ApiError:
    return ApiError(401, UNAUTHENTICATED, message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, FORBIDDEN, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, NOT_FOUND, message)


def bad_parameter(message: str, json_path: str | None = None) -> ApiError:
    return ApiError(400, BAD_PARAMETER, message, [Detail("Invalid parameter", message, json_path)])


def parsed(model: type[M], raw: Any, what: str) -> M:
    """`raw` as `model`, or a 400 listing every problem with its JSONPath (`what` names the message)."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        details = [Detail("Invalid request", message, path) for path, message in problems(exc)]
        raise ApiError(400, SCHEMA, f"the {what} does not fit its schema", details) from None


def unavailable(message: str) -> ApiError:
    return ApiError(503, UNAVAILABLE, message)
