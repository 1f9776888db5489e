"""A throwaway PostgreSQL server in a temporary folder, for tests, benchmarks and trying the index with
PostgreSQL on a laptop (`with PostgresServer() as pg: pg.url`), like `node.AnvilNode` for the chain.

It runs the Debian `postgresql` package's binaries (`/usr/lib/postgresql/<version>/bin`, the newest, or
`$EBL_PG_BIN`) with trust authentication on 127.0.0.1 and a free port. PostgreSQL refuses to run as root:
under root the server runs as the `postgres` user, which owns the folder.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from ..errors import NodeError
from ..node import free_port

BIN_ENV = "EBL_PG_BIN"
DEBIAN_ROOT = Path("/usr/lib/postgresql")


def find_bin() -> Path:
    """$EBL_PG_BIN, else the newest /usr/lib/postgresql/<version>/bin; NodeError when there is none."""
    explicit = os.environ.get(BIN_ENV)
    if explicit:
        if not (Path(explicit) / "initdb").exists():
            raise NodeError(f"${BIN_ENV} is {explicit}, which has no initdb")
        return Path(explicit)
    versions = sorted((p for p in DEBIAN_ROOT.glob("*/bin") if (p / "initdb").exists()),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if not versions:
        raise NodeError(f"PostgreSQL is not installed (no {DEBIAN_ROOT}/<version>/bin/initdb): "
                        f"apt-get install -y postgresql, or set ${BIN_ENV}")
    return versions[-1]


class PostgresServer:
    """initdb + pg_ctl start on enter; pg_ctl stop and the folder removed on exit."""

    def __init__(self) -> None:
        self.bin = find_bin()
        self.port = 0
        self.base: Path | None = None
        self._databases = itertools.count()

    @property
    def url(self) -> str:
        """The server's `postgres` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        except OSError as exc:
            raise NodeError(f"cannot run PostgreSQL's {args[0]} ({exc.strerror or exc}): apt-get install -y "
                            f"postgresql, or set ${BIN_ENV}") from None
        if done.returncode != 0:
            log = self.base / "log" if self.base else None
            extra = log.read_text() if log and log.exists() else ""
            raise NodeError(f"PostgreSQL {args[0]} failed: {done.stdout}{done.stderr}{extra}".strip())

    def start(self) -> PostgresServer:
        """Create a temporary folder, initdb a cluster in it and start the server on a free port; returns self.
        NodeError when a step fails (the folder is removed)."""
        self.base = Path(tempfile.mkdtemp(prefix="ebl-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        self.port = free_port()
        data = self.base / "data"
        try:
            self._run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres")
            self._run("pg_ctl", "-D", str(data), "-o", f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1",
                      "-l", str(self.base / "log"), "-w", "start")
        except BaseException:
            shutil.rmtree(self.base, ignore_errors=True)
            raise
        return self

    def new_database(self) -> str:
        """A new empty database on this server; its URL."""
        from sqlalchemy import create_engine, text

        name = f"ebl_index_{next(self._databases)}"
        engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folder; a no-op when it is not running."""
        if self.base is None:
            return
        try:
            self._run("pg_ctl", "-D", str(self.base / "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
