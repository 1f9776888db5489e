"""The carrier's documentation system and the platform's `ebl serve`, as the demo runs them in its own process.

The carrier signs its issuance manifests with its own key (the public half published in the consortium's
directory) and receives the platform's callbacks at its DCSA endpoint on a loopback port. The service runs on
another loopback port (`service.runner.ServiceThread`) over the run's staged files: its database, the index it
keeps, the directory, and the carrier's keystore, so that it signs the carrier's transactions with the
carrier's own key. Every call between the two is kept as an `Exchange` for the report.

"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount

from ..chain import Chain
from ..client import Client
from ..database import sqlite_url
from ..service import auth, carrier, manifest, store
from ..service.config import DEFAULT_PLATFORM, Acting, CallbackSettings, ServiceConfig
from ..service.runner import ServiceThread
from .recorder import DemoError

#: the carrier's keystore is its development key (public anyway), so its password is public too
KEYSTORE_PASSWORD = "ebl demo keystore (development key: public)"
PASSWORD_ENV = "EBL_DEMO_CARRIER_PASSWORD"
#: how long the carrier waits for a callback before the demo gives up
CALLBACK_TIMEOUT = 60.0


@dataclass(frozen=True)
class Exchange:
    """One call between the carrier's system and the platform: who called, what, the DCSA code it carried, the
    HTTP status it got, and the transaction it caused (or reported)."""

    step: int
    caller: str  # "carrier" or "platform"
    method: str
    path: str
    message: str  # DCSA's name for the body
    reference: str  # the transport document reference
    code: str | None  # ISSU, SREQ, SURR, ...
    status: int
    detail: str
    transaction: str | None = None

    def json(self) -> dict[str, Any]:
        return asdict(self)


class CarrierSystem:
    """Victoria Harbour's documentation system: a manifest signing key, a DCSA endpoint for the platform's
    callbacks, and (once the platform runs) its API key to the platform."""

    def __init__(self, account: str, name: str) -> None:
        self.account = account
        self.name = name
        self.key = manifest.new_signing_key()
        self.endpoint = carrier.CallbackEndpoint()
        self.api: carrier.PlatformApi | None = None

    def start(self) -> CarrierSystem:
        self.endpoint.start()
        return self

    def stop(self) -> None:
        if self.api is not None:
            self.api.close()
            self.api = None
        self.endpoint.stop()

    @property
    def callback_url(self) -> str:
        return self.endpoint.url

    @property
    def public_key(self) -> str:
        """The JWK the directory publishes (`carrier.signingKey`)."""
        return json.dumps(manifest.public_jwk(self.key))

    @property
    def algorithm(self) -> str:
        return {"RSA": "RS256", "EC": "ES256", "OKP": "EdDSA"}[self.key.key_type]

    def connect(self, url: str, api_key: str) -> None:
        self.api = carrier.PlatformApi(url, api_key)

    def _api(self) -> carrier.PlatformApi:
        if self.api is None:
            raise DemoError("the carrier's system is not connected to the platform")
        return self.api

    def request_issuance(self, document: Mapping[str, Any], holder: str, holder_name: str) -> httpx.Response:
        """PUT /v3/ebl-issuance-requests for `document`, to be issued to `holder` (DCSA's issueTo, named by its
        account on this platform), the manifest signed with the carrier's key; DemoError unless 204."""
        body = carrier.issuance_request(document, carrier.issue_to(holder, holder_name, DEFAULT_PLATFORM), self.key)
        return _expect(self._api().request_issuance(body), 204, "PUT /v3/ebl-issuance-requests")

    def answer_surrender(self, reference: str, action: str) -> httpx.Response:
        """POST /v3/ebl-surrender-responses (SURR or SREJ); DemoError unless 204."""
        return _expect(self._api().answer_surrender(reference, action), 204, "POST /v3/ebl-surrender-responses")

    def issuance_response(self, reference: str, after: int) -> dict[str, Any]:
        """The platform's IssuanceResponse for `reference` among the callbacks received after the first `after`."""
        try:
            return self.endpoint.issuance_response(reference, CALLBACK_TIMEOUT, after=after)
        except TimeoutError:
            raise DemoError(f"the platform sent no issuance response for {reference} within "
                            f"{CALLBACK_TIMEOUT:g} s") from None

    def surrender_request(self, reference: str, after: int) -> dict[str, Any]:
        """The platform's surrender request for transport document `reference`, received after the first `after`."""
        try:
            return self.endpoint.surrender_request(reference, CALLBACK_TIMEOUT, after=after)
        except TimeoutError:
            raise DemoError(f"the platform sent no surrender request for {reference} within "
                            f"{CALLBACK_TIMEOUT:g} s") from None

    def received(self) -> int:
        """How many callbacks the endpoint has received so far."""
        return len(self.endpoint.received)

    def records(self, path: str, reference: str) -> list[dict[str, Any]]:
        """The platform's back-office records of `reference` (`/v1/issuance-requests`, `/v1/surrender-requests`)."""
        found = _expect(self._api().get(path, reference=reference), 200, f"GET {path}").json()
        if not isinstance(found, list) or not found:
            raise DemoError(f"the platform keeps no record at {path} of {reference}")
        return found


def _expect(response: httpx.Response, status: int, call: str) -> httpx.Response:
    if response.status_code != status:
        raise DemoError(f"the platform answered {response.status_code} to {call}, expected {status}: "
                        f"{response.text[:500]}")
    return response


class PlatformService:
    """`ebl serve` in this process on a loopback port, over the demo's own connection and the staged files,
    signing for the carrier (its `keystore` written here; the password handed over in memory)."""

    def __init__(self, chain: Chain, deployments_dir: Path, *, directory: Path, index_url: str, database: Path,
                 keystore: Path, signer: LocalAccount) -> None:
        self.chain = chain
        self.signer = signer
        self.database_url = sqlite_url(database)
        self.keystore = keystore
        self.config = ServiceConfig(
            host="127.0.0.1", port=0, platform=DEFAULT_PLATFORM, database=self.database_url,
            rpc_url=chain.url, network=chain.profile.name, chain_id=chain.chain_id, deployments=deployments_dir,
            index_url=index_url, index_sync=True, interval=0.2, directory=directory,
            callbacks=CallbackSettings(timeout=5.0, initial_backoff=0.2, max_backoff=1.0, max_attempts=50),
            participants=(Acting(signer.address, self.keystore, PASSWORD_ENV, password_value=KEYSTORE_PASSWORD),))
        self.client = Client(chain, deployments_dir)  # the demo's own connection (the Besu audit sees its calls)
        self.thread: ServiceThread | None = None

    @property
    def url(self) -> str:
        if self.thread is None:
            raise DemoError("the platform's service is not running")
        return self.thread.url

    def start(self, carrier_label: str) -> str:
        """Write the carrier's keystore, make its API key, start the service; the API key."""
        self.keystore.parent.mkdir(parents=True, exist_ok=True)
        encrypted = json.dumps(Account.encrypt(self.signer.key, KEYSTORE_PASSWORD, iterations=2**10))
        with os.fdopen(os.open(self.keystore, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
            fh.write(encrypted)
        engine = store.open_database(self.database_url)
        try:
            _, api_key = auth.add_key(engine, self.signer.address, carrier_label)
        finally:
            engine.dispose()
        self.thread = ServiceThread(self.config, client=self.client).start()
        return api_key

    def stop(self) -> None:
        """Stop the service (its workers finish their step; it closes its databases)."""
        thread, self.thread = self.thread, None
        if thread is not None:
            thread.stop()
