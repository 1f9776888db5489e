"""`ebl serve` as a process and a command: a callback still owed when the service dies is delivered after it
starts again; SIGTERM stops it cleanly; API keys made, listed and revoked with the command take effect on the
running service at once; one service per database; the service in a thread of another program."""

from __future__ import annotations

import dataclasses
import json
import signal
import time
from pathlib import Path

import httpx
import pytest

from ebl_client.cli import cli
from ebl_client.errors import ExitCode
from ebl_client.service import auth, store
from ebl_client.service import config as configs
from ebl_client.service.runner import ServiceThread
from ebl_client.service.store import ServiceDatabaseError

from ..clirunner import cli_runner
from .test_issuance import bill_of
from .world import World, document


def ebl(platform: World, *args: str) -> str:
    result = cli_runner().invoke(cli, ["--json", "serve", "--config", str(platform.service.config), *args],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_callback_pending_at_a_crash_is_delivered_after_the_restart(platform: World,
                                                                     carrier_api: httpx.Client) -> None:
    reference = platform.reference("RST")
    platform.endpoint.failing = True  # the carrier's system is down: every attempt fails
    try:
        response = carrier_api.put("/v3/ebl-issuance-requests",
                                   json=platform.request(document(reference), platform.issue_to("exporter")))
        assert response.status_code == 204
        pending: list[dict[str, object]] = []
        while not any(c["attempts"] >= 2 for c in pending):  # tried and failed, more than once
            time.sleep(0.1)
            pending = [c for c in json.loads(ebl(platform, "callbacks", "list", "--status", "pending"))
                       if c["subject"] == reference]
        assert bill_of(platform, reference) is not None  # issued: only the answer is owed
        assert platform.service.stop(signal.SIGKILL) == -signal.SIGKILL
    finally:
        platform.endpoint.failing = False
    platform.service.start()
    answer = platform.endpoint.issuance_response(reference)
    assert answer == {"transportDocumentReference": reference, "issuanceResponseCode": "ISSU"}
    [delivered] = [c for c in json.loads(ebl(platform, "callbacks", "list")) if c["subject"] == reference]
    assert delivered["status"] == "delivered" and delivered["attempts"] >= 3


def test_sigterm_stops_the_service_and_its_workers_cleanly(platform: World) -> None:
    assert platform.service.stop(signal.SIGTERM) == 0
    log = platform.service.tail(20)
    assert "workers stopped" in log and "Application shutdown complete" in log
    assert "Traceback" not in platform.service.log.read_text()
    platform.service.start()


def test_api_keys_from_the_command(platform: World, api) -> None:  # type: ignore[no-untyped-def]
    made = json.loads(ebl(platform, "keys", "add", platform.address("endorsee"), "--label", "endorsee back office"))
    assert made["account"] == platform.address("endorsee") and made["apiKey"].startswith("ebl_")
    listed = {k["keyId"]: k for k in json.loads(ebl(platform, "keys", "list"))}
    assert listed[made["keyId"]]["label"] == "endorsee back office"
    assert "apiKey" not in listed[made["keyId"]]
    headers = {"Authorization": f"Bearer {made['apiKey']}"}
    assert httpx.get(f"{platform.service.url}/v1/me", headers=headers).json()["account"] == platform.address(
        "endorsee")
    result = cli_runner().invoke(cli, ["serve", "--config", str(platform.service.config), "keys", "revoke",
                                      made["keyId"]])
    assert result.exit_code == 0 and "revoked" in result.output
    assert httpx.get(f"{platform.service.url}/v1/me", headers=headers).status_code == 401


def test_admin_commands_never_create_a_database_they_do_not_find(platform: World, tmp_path: Path) -> None:
    """A mistyped database URL in the config: listing keys or callbacks, revoking or retrying says there is no
    service database there and leaves none behind; `keys add` (like `ebl serve`) creates it."""
    mistyped = tmp_path / "servcie.sqlite"
    config = tmp_path / "service.toml"
    config.write_text(platform.service.config.read_text().replace(platform.database, f"sqlite:///{mistyped}"))
    for args in (["keys", "list"], ["keys", "revoke", "k1"], ["callbacks", "list"], ["callbacks", "retry", "1"]):
        result = cli_runner().invoke(cli, ["serve", "--config", str(config), *args])
        assert result.exit_code == ExitCode.INVALID, (args, result.stderr)
        assert result.stderr.startswith("error: there is no service database at ") and result.stderr.count("\n") == 1
        assert not mistyped.exists()
    result = cli_runner().invoke(cli, ["serve", "--config", str(config), "keys", "add", platform.address("endorsee")])
    assert result.exit_code == 0, result.stderr
    assert mistyped.exists()


def test_one_service_per_database_and_the_service_in_a_thread(platform: World, tmp_path: Path) -> None:
    settings = configs.load(platform.service.config, env={})
    with pytest.raises(ServiceDatabaseError, match="another ebl serve"):
        ServiceThread(settings.with_overrides(port=0)).start()
    database = f"sqlite:///{tmp_path / 'reader.sqlite'}"
    reader = dataclasses.replace(settings, port=0, database=database, index_url=f"sqlite:///{tmp_path / 'i.sqlite'}",
                                 participants=())  # signs for nobody: reads only
    engine = store.open_database(database)
    _, key = auth.add_key(engine, platform.address("regulator"))
    engine.dispose()
    with ServiceThread(reader) as service:
        assert service.url != platform.service.url
        me = httpx.get(f"{service.url}/v1/me", headers={"Authorization": f"Bearer {key}"}).json()
        assert me["regulator"] is True and me["signsHere"] is False
        assert httpx.get(f"{service.url}/v1/bills", headers={"Authorization": f"Bearer {key}"}).json()
