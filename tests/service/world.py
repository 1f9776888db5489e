"""The platform world of the service tests, on real parts: an Anvil, the suite deployed and the consortium
onboarded with the real client, a directory file whose carrier publishes a manifest key (joserfc) and the
callback URL of a carrier endpoint (a real HTTP server on loopback), keystores for the participants the
service signs for, and `ebl serve` itself as a process on a loopback port.

Parties (development keys): admin 0, carrier 1 (the service signs for it), exporter 2 and importer 3 (the
service signs for them too: back-office surrenders), endorsee 4, a suspended trader 5, bank 6, regulator 7,
a second carrier 8 whose key the service does not hold, an onboarded trader 9 the directory does not list.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount

from ebl_client import Client, deployment, directory, keys, samples
from ebl_client.hashing import identifier_hash
from ebl_client.models import Role
from ebl_client.node import _exit_with_parent, dev_keys, free_port
from ebl_client.service import auth, carrier, manifest, store

PLATFORM = "GBAE"
PASSWORD = "service-test-password"
#: (handle, key index, roles, jurisdiction, legal name, identifier, identifying codes)
PARTIES: tuple[tuple[str, int, Role, str, str, str, list[dict[str, str]]], ...] = (
    ("carrier", 1, Role.CARRIER, "HK", "Victoria Harbour Shipping Line", "549300VHSL0CARR1ER7",
     [{"codeListProvider": "SMDG", "partyCode": "VHSL", "codeListName": "LCL"}]),
    ("exporter", 2, Role.TRADER, "HK", "Pearl River Electronics Ltd", "5493001KJTIIGC8Y1R12",
     [{"codeListProvider": "GLEIF", "partyCode": "5493001KJTIIGC8Y1R12", "codeListName": "LEI"}]),
    ("importer", 3, Role.TRADER, "CN", "Shanghai Huaxin Trading Co", "91310000MA1FL4B24G",
     [{"codeListProvider": "SAMR", "partyCode": "91310000MA1FL4B24G", "codeListName": "USCC"}]),
    ("endorsee", 4, Role.TRADER, "CN", "Guangzhou Nansha Imports", "91440101NANSHA0001",
     [{"codeListProvider": "SAMR", "partyCode": "91440101NANSHA0001", "codeListName": "USCC"}]),
    ("suspended", 5, Role.TRADER, "HK", "Kowloon Suspended Trading Ltd", "549300KOWLOONSUSP01",
     [{"codeListProvider": "GLEIF", "partyCode": "549300KOWLOONSUSP01", "codeListName": "LEI"}]),
    ("bank", 6, Role.FINANCIER, "HK", "Harbour Bank HK", "2138009HARBOURBANK51", []),
    ("regulator", 7, Role.REGULATOR, "HK", "Hong Kong Monetary Authority", "HKMAREGULATOR01", []),
    ("other_carrier", 8, Role.CARRIER, "CN", "Pudong Container Lines", "91310000PUDONGCL01", []),
    ("unlisted", 9, Role.TRADER, "CN", "Unlisted Trader", "91310000UNLISTED01", []),
)
#: the participants the service signs for
ACTING = ("carrier", "exporter", "importer")


def salt_of(index: int) -> bytes:
    return bytes([index + 40]) * 32


def document(reference: str, **changes: Any) -> dict[str, Any]:
    """The sample transport document (to order, no endorsee: blank) under another reference."""
    doc: dict[str, Any] = copy.deepcopy(json.loads(samples.TRANSPORT_DOCUMENT.read_text()))
    doc["transportDocumentReference"] = reference
    doc.update(changes)
    return doc


def party(handle: str) -> dict[str, Any]:
    """A document party (consignee, endorsee) named by the party's directory codes."""
    _, _, _, _, name, _, codes = next(p for p in PARTIES if p[0] == handle)
    return {"partyName": name, "identifyingCodes": codes}


@dataclass
class Service:
    """`ebl serve` as a process: started, stopped (SIGTERM), killed (SIGKILL) and started again."""

    config: Path
    env: dict[str, str]
    port: int
    log: Path
    probe_key: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> Service:
        assert self.process is None
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from ebl_client.cli import main; main()", "serve", "--config", str(self.config)],
            env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=self.config.parent,
            preexec_fn=_exit_with_parent())  # SIGTERM when the test session dies, as the Anvil it uses
        out.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                code, self.process = self.process.returncode, None
                raise RuntimeError(f"ebl serve exited with {code}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/v1/me", headers={"Authorization": f"Bearer {self.probe_key}"},
                             timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop(signal.SIGKILL)  # never left running behind a failed start
                raise RuntimeError(f"ebl serve did not answer within {timeout:g} s:\n{self.tail()}")
            time.sleep(0.2)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        """Signal the process and wait for it; its exit code."""
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        finally:
            self.process = None
        return code

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class World:
    client: Client
    signers: dict[str, LocalAccount]
    admin: LocalAccount
    carrier_key: Any  # the carrier's manifest signing key (private)
    endpoint: carrier.CallbackEndpoint
    service: Service
    api_keys: dict[str, str]
    database: str
    directory: Path
    workdir: Path
    references: list[str] = field(default_factory=list)

    def address(self, handle: str) -> str:
        return str(self.signers[handle].address)

    def issue_to(self, handle: str) -> dict[str, Any]:
        name = next(p[4] for p in PARTIES if p[0] == handle)
        return carrier.issue_to(self.address(handle), name, PLATFORM)

    def request(self, doc: dict[str, Any], to: dict[str, Any], key: Any = None,
                visualisation: dict[str, Any] | None = None) -> dict[str, Any]:
        return carrier.issuance_request(doc, to, key or self.carrier_key, visualisation)

    def height(self) -> int:
        return int(self.client.chain.w3.eth.block_number)

    def reference(self, tag: str) -> str:
        """A transport document reference no other test uses (at most 20 characters)."""
        ref = f"T{len(self.references):03d}{tag}"[:20]
        self.references.append(ref)
        return ref


def build(rpc_url: str, workdir: Path) -> World:
    """Deploy, onboard, write the directory, keystores and configuration, make API keys, start `ebl serve`."""
    deployments_dir = workdir / "deployments"
    client = Client.connect(rpc_url, deployments=deployments_dir)
    accounts = [keys.from_private_key(k) for k in dev_keys(10)]
    admin = accounts[0]
    deployment.deploy_suite(client.chain, admin, deployments_dir)
    signers = {handle: accounts[i] for handle, i, *_ in PARTIES}
    for handle, i, roles, jurisdiction, _name, identifier, _codes in PARTIES:
        client.participants.onboard(signers[handle].address, roles, jurisdiction,
                                    identifier_hash(identifier, salt_of(i)), sender=admin)
    client.participants.suspend(signers["suspended"].address, "test: a suspended trader", sender=admin)

    endpoint = carrier.CallbackEndpoint().start()
    carrier_key = manifest.new_signing_key()
    entries = []
    for handle, i, _roles, jurisdiction, name, identifier, codes in PARTIES:
        if handle == "unlisted":
            continue
        extra: dict[str, Any] = {}
        if handle == "carrier":
            extra = {"callback_url": endpoint.url, "signing_key": json.dumps(manifest.public_jwk(carrier_key))}
        entries.append(directory.entry(signers[handle].address, name, jurisdiction, identifier, salt_of(i),
                                       identifying_codes=codes, **extra))
    directory_file = directory.write(workdir / "directory.json", entries, chain_id=client.chain.chain_id)

    keystores = workdir / "keystores"
    keystores.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EBL_")}
    participants = []
    for handle in ACTING:
        path = keystores / f"{handle}.json"
        path.write_text(json.dumps(Account.encrypt(signers[handle].key, PASSWORD, iterations=2**10)))
        env[f"TEST_{handle.upper()}_PASSWORD"] = PASSWORD
        participants.append(f'[[participants]]\naccount = "{signers[handle].address}"\nkeystore = "{path}"\n'
                            f'password_env = "TEST_{handle.upper()}_PASSWORD"\n')
    database = f"sqlite:///{workdir / 'service.sqlite'}"
    port = free_port()
    config = workdir / "serve.toml"
    config.write_text(
        f'directory = "{directory_file}"\n\n'
        f'[service]\nport = {port}\nplatform = "{PLATFORM}"\ndatabase = "{database}"\nmax_body_bytes = 200000\n\n'
        f'[chain]\nrpc_url = "{rpc_url}"\nchain_id = {client.chain.chain_id}\ndeployments = "{deployments_dir}"\n\n'
        f'[index]\nurl = "sqlite:///{workdir / "index.sqlite"}"\ninterval = 0.2\n\n'
        f'[callbacks]\ntimeout = 5.0\ninitial_backoff = 0.2\nmax_backoff = 1.0\nmax_attempts = 1000\n\n'
        + "\n".join(participants))
    engine = store.open_database(database)
    api_keys = {handle: auth.add_key(engine, signers[handle].address, f"test {handle}")[1]
                for handle in ("carrier", "exporter", "importer", "endorsee", "bank", "regulator", "other_carrier")}
    engine.dispose()
    try:
        service = Service(config, env, port, workdir / "serve.log", api_keys["regulator"]).start()
    except BaseException:
        endpoint.stop()
        raise
    return World(client, signers, admin, carrier_key, endpoint, service, api_keys, database, directory_file, workdir)
