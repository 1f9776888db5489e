"""DCSA's OpenAPI files (read from ../shared/dcsa/ beside the checkout, never copied into it) as the judge of
every message: what the service answers, what it accepts, and what it sends the carrier (openapi-core)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from ebl_client.service.carrier import Received

ROOT = Path(__file__).resolve().parents[2]
DIRECTORY = ROOT.parent / "shared" / "dcsa"
ISSUANCE, SURRENDER, ENDORSEMENT = "EBL_ISS_v3.0.4.yaml", "EBL_SUR_v3.0.4.yaml", "EBL_END_v3.0.4.yaml"


def spec_path(name: str) -> Path:
    path = DIRECTORY / name
    assert path.is_file(), f"DCSA's OpenAPI file {path} is missing (the tests read it from ../shared/dcsa/)"
    return path


@cache
def spec(name: str) -> OpenAPI:
    return OpenAPI.from_file_path(str(spec_path(name)))


def spec_for(path: str) -> str | None:
    """Which DCSA file describes `path` (served by the platform or the carrier), None for the back office."""
    if path in ("/v3/ebl-issuance-requests", "/v3/ebl-issuance-responses"):
        return ISSUANCE
    if path in ("/v3/ebl-surrender-requests", "/v3/ebl-surrender-responses"):
        return SURRENDER
    if path.startswith("/endorsement-chains/"):
        return ENDORSEMENT
    return None


@dataclass
class _Request:
    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters = field(default_factory=RequestParameters)

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


@dataclass
class _Response:
    status_code: int
    data: bytes
    content_type: str
    headers: Headers


def _request(method: str, url: str, headers: dict[str, str], body: bytes) -> _Request:
    parts = urlsplit(url)
    return _Request(f"{parts.scheme}://{parts.netloc}", parts.path, method.lower(), body or None,
                    headers.get("content-type", headers.get("Content-Type", "")).lower(),
                    RequestParameters(query=ImmutableMultiDict(parse_qsl(parts.query)), header=Headers(headers)))


def check_exchange(response: httpx.Response) -> None:
    """The response against DCSA's file for its path; the request too when the service accepted it (2xx)."""
    name = spec_for(response.request.url.path)
    if name is None:
        return
    response.read()
    try:
        sent = response.request.content
    except httpx.RequestNotRead:  # a streamed body (sent in chunks): only the answer can be checked
        sent = b""
    request = _request(response.request.method, str(response.request.url), dict(response.request.headers), sent)
    if 200 <= response.status_code < 300:
        spec(name).validate_request(request)
    spec(name).validate_response(request, _Response(response.status_code, response.content,
                                                    response.headers.get("content-type", ""),
                                                    Headers(dict(response.headers))))


def check_callback(received: Received, base_url: str = "http://127.0.0.1") -> dict:
    """A callback the carrier received, against DCSA's file for its path; its JSON."""
    name = spec_for(received.path)
    assert name is not None, f"unexpected callback to {received.path}"
    spec(name).validate_request(_request(received.method, base_url + received.path, received.headers, received.body))
    return json.loads(received.body)


def client(base_url: str, api_key: str | None) -> httpx.Client:
    """An HTTP client to the service whose every exchange on a DCSA path is checked against DCSA's files."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=120, event_hooks={"response": [check_exchange]})
