"""The service in a thread of the calling program (the demo, an embedding program's tests): the same app and
workers as `ebl serve`, under uvicorn on a loopback port, stopped when the `with` block ends.

    with ServiceThread(config) as service:       # config.port 0: any free port
        api = PlatformApi(service.url, api_key)
        ...
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn

from ..client import Client
from ..errors import EblError
from .app import create_app
from .config import ServiceConfig
from .runtime import Platform


class ServiceThread:
    """`ebl serve` inside this process: `start()` returns once it answers; `stop()` waits for its workers."""

    def __init__(self, config: ServiceConfig, *, startup_timeout: float = 60.0, client: Client | None = None) -> None:
        self.config = config
        self.startup_timeout = startup_timeout
        #: an embedding program's own client (its connection, request hook and outbox) for the service to use
        self.client = client
        self.platform: Platform | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None and self._server.servers, "the service is not running"
        return int(self._server.servers[0].sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    def start(self) -> ServiceThread:
        self.platform = Platform(self.config, self.client)
        app = create_app(self.platform)
        self._server = uvicorn.Server(uvicorn.Config(app, host=self.config.host, port=self.config.port,
                                                     lifespan="on", log_level="warning", server_header=False))
        self._thread = threading.Thread(target=self._server.run, name="ebl-serve", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                self.platform.close()
                raise EblError(f"the service could not start on {self.config.host}:{self.config.port}")
            if time.monotonic() > deadline:
                self.stop()
                raise EblError(f"the service did not start within {self.startup_timeout:g} s")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> ServiceThread:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
