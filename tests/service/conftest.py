"""Service tests run on real parts: an Anvil they start, `ebl serve` as a process under uvicorn on a loopback
port, and a test carrier (a real HTTP server on loopback) that signs issuance manifests with its own key and
receives the callbacks. Every exchange with the service on a DCSA path, and every callback, is checked
against DCSA's OpenAPI files (`dcsa_specs`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ebl_client.index.pgserver import PostgresServer
from ebl_client.node import AnvilNode

from ..index.conftest import postgres_server  # noqa: F401  (the same throwaway PostgreSQL server)
from . import dcsa_specs, world


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilNode]:
    with AnvilNode() as node:
        yield node


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new service database on each back end."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()


@pytest.fixture(scope="session")
def platform(anvil: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> Iterator[world.World]:
    """The world of `world.build`, with `ebl serve` running; stopped (SIGTERM) at the end of the session."""
    w = world.build(anvil.url, tmp_path_factory.mktemp("service"))
    try:
        yield w
    finally:
        if w.service.process is not None:
            w.service.stop()
        w.endpoint.stop()


def _client(w: world.World, handle: str | None) -> Iterator[httpx.Client]:
    with dcsa_specs.client(w.service.url, w.api_keys[handle] if handle else None) as c:
        yield c


@pytest.fixture
def carrier_api(platform: world.World) -> Iterator[httpx.Client]:
    """The carrier's system calling the service (every DCSA exchange checked against DCSA's files)."""
    yield from _client(platform, "carrier")


@pytest.fixture
def api(platform: world.World):  # type: ignore[no-untyped-def]
    """`api(handle)`: a checked client for that participant's API key (`api(None)`: no key)."""
    opened: list[httpx.Client] = []

    def make(handle: str | None) -> httpx.Client:
        c = dcsa_specs.client(platform.service.url, platform.api_keys[handle] if handle else None)
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.close()
