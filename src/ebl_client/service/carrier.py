"""The carrier's side of the DCSA conversation, for a carrier's documentation system written in Python, the
demo and the tests: a signing key to publish in the directory, signed issuance requests, a client for the
platform's endpoints, and a small HTTP endpoint that receives the platform's callbacks.

    key = manifest.new_signing_key()                      # publish manifest.public_jwk(key) in the directory
    api = PlatformApi("http://127.0.0.1:8600", api_key)   # the key from `ebl serve keys add <carrier>`
    with CallbackEndpoint() as endpoint:                   # its .url is the directory's carrier.callbackUrl
        api.request_issuance(issuance_request(document, issue_to(shipper, "Pearl River Electronics Ltd"), key))
        response = endpoint.wait_for(lambda c: c.path == ISSUANCE_RESPONSES)   # ISSU, BREQ or REFU
        ...
        api.answer_surrender(reference, "SURR")
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import httpx

from . import manifest
from .config import DEFAULT_PLATFORM
from .parties import ACCOUNT_CODE_LIST

ISSUANCE_RESPONSES = "/v3/ebl-issuance-responses"
SURRENDER_REQUESTS = "/v3/ebl-surrender-requests"


def issue_to(account: str, name: str, platform: str = DEFAULT_PLATFORM) -> dict[str, Any]:
    """The DCSA issueTo party for a participant of this platform, named by its account."""
    return {"partyName": name, "sendToPlatform": platform, "identifyingCodes": [
        {"codeListProvider": platform, "partyCode": account, "codeListName": ACCOUNT_CODE_LIST}]}


def issuance_request(document: Mapping[str, Any], to: Mapping[str, Any], key: Any,
                     visualisation: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A DCSA IssuanceRequest for `document`, its manifest signed with the carrier's private `key`."""
    body: dict[str, Any] = {"document": dict(document), "issueTo": dict(to)}
    if visualisation is not None:
        body["eBLVisualisationByCarrier"] = dict(visualisation)
    body["issuanceManifestSignedContent"] = manifest.sign(manifest.manifest_of(document, to, visualisation), key)
    return body


class PlatformApi:
    """The platform's endpoints as a carrier (or any participant with an API key) calls them."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 30.0) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout,
                                 headers={"Authorization": f"Bearer {api_key}"})

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> PlatformApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request_issuance(self, body: Mapping[str, Any]) -> httpx.Response:
        """PUT /v3/ebl-issuance-requests: 204 when accepted (the verdict follows by callback)."""
        return self.http.put("/v3/ebl-issuance-requests", json=dict(body), headers={"API-Version": "3"})

    def answer_surrender(self, reference: str, action: str, comments: str | None = None) -> httpx.Response:
        """POST /v3/ebl-surrender-responses: SURR (accept) or SREJ (reject, with comments)."""
        body: dict[str, Any] = {"surrenderRequestReference": reference, "action": action}
        if comments:
            body["comments"] = comments
        return self.http.post("/v3/ebl-surrender-responses", json=body, headers={"API-Version": "3"})

    def endorsement_chains(self, reference: str) -> httpx.Response:
        return self.http.get(f"/endorsement-chains/{reference}")

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params={k: v for k, v in params.items() if v is not None})

    def surrender(self, token: str, purpose: str, reason_code: str | None = None,
                  comments: str | None = None) -> httpx.Response:
        """POST /v1/bills/{token}/surrender (a holder, whose key the service holds)."""
        body: dict[str, Any] = {"purpose": purpose}
        if reason_code:
            body["reasonCode"] = reason_code
        if comments:
            body["comments"] = comments
        return self.http.post(f"/v1/bills/{token}/surrender", json=body)


@dataclass(frozen=True)
class Received:
    """One call the platform made to the carrier's endpoint."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class CallbackEndpoint:
    """A carrier's DCSA endpoints on loopback (a real HTTP server in a thread) that record what the platform
    sends them and answer 204. `failing` makes them answer 503 instead (a carrier that is down), `token` makes
    them require that Authorization header value."""

    host: str = "127.0.0.1"
    port: int = 0
    token: str | None = None
    failing: bool = False
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = field(default=None, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)
    _changed: threading.Condition = field(default_factory=threading.Condition, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> CallbackEndpoint:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if endpoint.failing:
                    self._answer(503)
                    return
                if endpoint.token is not None and self.headers.get("Authorization") != endpoint.token:
                    self._answer(401)
                    return
                if self.path not in (ISSUANCE_RESPONSES, SURRENDER_REQUESTS):
                    self._answer(404)
                    return
                with endpoint._changed:
                    endpoint.received.append(Received("POST", self.path, dict(self.headers.items()), body))
                    endpoint._changed.notify_all()
                self._answer(204)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="carrier-endpoint", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> CallbackEndpoint:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def wait_for(self, match: Callable[[Received], bool], timeout: float = 60.0, *, after: int = 0) -> Received:
        """The first received call `match` accepts (among those after the first `after`), waiting for it up to
        `timeout` seconds (TimeoutError)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for item in self.received[after:]:
                    if match(item):
                        return item
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no matching callback within {timeout:g} s ({len(self.received)} received)")
                self._changed.wait(left)

    def issuance_response(self, reference: str, timeout: float = 60.0, *, after: int = 0) -> dict[str, Any]:
        """The platform's IssuanceResponse for `reference` (the first after the first `after` calls received)."""
        return self._about(ISSUANCE_RESPONSES, reference, timeout, after)

    def surrender_request(self, reference: str, timeout: float = 60.0, *, after: int = 0) -> dict[str, Any]:
        """The platform's SurrenderRequestDetails for transport document `reference` (the first after the first
        `after` calls received)."""
        return self._about(SURRENDER_REQUESTS, reference, timeout, after)

    def _about(self, path: str, reference: str, timeout: float, after: int) -> dict[str, Any]:
        found = self.wait_for(lambda r: r.path == path and r.json().get("transportDocumentReference") == reference,
                              timeout, after=after)
        body: dict[str, Any] = found.json()
        return body
