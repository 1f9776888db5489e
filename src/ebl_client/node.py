"""Start and stop the embedded Anvil (from the npm package @foundry-rs/anvil) on a free port.

With a state file the chain survives a restart: Anvil loads it at start and writes it back on a clean
stop (SIGTERM) and every few seconds, so `ebl node` after `make demo` serves the same chain. A running
node holds an exclusive lock on `<state file>.lock` (`StateLock`), so a second node, or a demo that
would replace the file, refuses instead of the two overwriting each other's chain.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any

from .errors import NodeError

#: Anvil's (and Hardhat's) public development mnemonic; its keys are for local chains only.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
ANVIL_CHAIN_ID = 31337
#: AnvilNode settings that make Anvil behave like the project's Besu QBFT network (networks/besu): chain id
#: 1337, free gas (gas price 0, base fee 0) and interval mining (a block every second; the QBFT network
#: makes one every 2 s) instead of a block per transaction
BESU_LIKE: Mapping[str, Any] = MappingProxyType({"chain_id": 1337, "gas_price": 0, "base_fee": 0, "block_time": 1})
#: where `ebl node` and `make demo` keep the embedded chain (and the Besu-like one)
STATE_FILE = Path(".ebl/anvil-state.json")
BESU_LIKE_STATE_FILE = Path(".ebl/anvil-besu-like-state.json")
BINARY_ENV = "EBL_ANVIL"


def find_anvil() -> str:
    """$EBL_ANVIL, then the npm package's binary in this checkout or the working directory, then PATH."""
    explicit = os.environ.get(BINARY_ENV)
    if explicit:
        return explicit
    relative = Path("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
    for base in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (base / relative).is_file():
            return str(base / relative)
    found = shutil.which("anvil")
    if found:
        return found
    raise NodeError("anvil not found: run `make setup` (npm ci) or set $EBL_ANVIL")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def default_state_file(besu_like: bool = False) -> Path:
    """Where `ebl node` and the demo keep the embedded chain: one file for each kind of chain."""
    return BESU_LIKE_STATE_FILE if besu_like else STATE_FILE


class StateLock:
    """An exclusive lock on `<state_file>.lock` (flock): held by a running AnvilNode with that state file
    and by the demo while it replaces the file. NodeError when another process (or node) holds it."""

    def __init__(self, state_file: Path) -> None:
        self.state_file = Path(state_file)
        self.path = self.state_file.with_name(self.state_file.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> StateLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise NodeError(f"{self.state_file} is in use by a running node (`ebl node`?): stop it first") from None
        self._fd = fd
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> StateLock:
        return self.acquire()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def saved_block(state_file: Path) -> int | None:
    """The latest block number in an Anvil state file; None when it is missing or unreadable."""
    try:
        return int(json.loads(Path(state_file).read_text())["best_block_number"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


@dataclass
class AnvilNode:
    """An Anvil process. `AnvilNode(...).start()` or `with AnvilNode(...) as node:`.

    Besu-like mode for the `besu` profile: chain_id=1337, gas_price=0, base_fee=0, block_time=1.
    """

    port: int = 0
    chain_id: int = ANVIL_CHAIN_ID
    state_file: Path | None = None
    block_time: float | None = None
    accounts: int = 20
    mnemonic: str = DEV_MNEMONIC
    gas_price: int | None = None
    base_fee: int | None = None
    hardfork: str = "cancun"
    #: start an empty chain: the state file is deleted, but only once the port is known to be free
    fresh: bool = False
    log_file: Path | None = None
    startup_timeout: float = 20.0
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _lock: StateLock | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            find_anvil(), "--host", "127.0.0.1", "--port", str(self.port), "--chain-id", str(self.chain_id),
            "--accounts", str(self.accounts), "--mnemonic", self.mnemonic, "--hardfork", self.hardfork,
        ]
        if self.state_file is not None:
            cmd += ["--state", str(self.state_file), "--state-interval", "2"]
        if self.block_time is not None:
            cmd += ["--block-time", f"{self.block_time:g}"]
        if self.gas_price is not None:
            cmd += ["--gas-price", str(self.gas_price)]
        if self.base_fee is not None:
            cmd += ["--block-base-fee-per-gas", str(self.base_fee)]
        return cmd

    def start(self) -> AnvilNode:
        if self._process is not None:
            return self
        if self.port == 0:
            self.port = free_port()
        elif port_in_use(self.port):
            raise NodeError(f"port {self.port} is already in use (another node running?)")
        if self.state_file is not None:
            self._lock = StateLock(self.state_file).acquire()
            if self.fresh:
                self.state_file.unlink(missing_ok=True)
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            self._process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        except OSError as exc:
            self._release_lock()
            reason = exc.strerror or exc
            raise NodeError(f"cannot run anvil ({reason}): run `make setup` or set ${BINARY_ENV}") from None
        finally:
            if self.log_file:
                log.close()  # type: ignore[union-attr]
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        request = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise NodeError(f"anvil exited with code {code} while starting (see {self.log_file or 'its log'})")
            try:
                req = urllib.request.Request(self.url, request, {"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=1) as resp:
                    if json.loads(resp.read()).get("result"):
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        self.stop()
        raise NodeError(f"anvil did not answer on {self.url} within {self.startup_timeout:g} s")

    def stop(self) -> None:
        """SIGTERM (Anvil writes its state file), then SIGKILL if it hangs; then release the state lock."""
        process, self._process = self._process, None
        try:
            if process is None or process.poll() is not None:
                return
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        finally:
            self._release_lock()

    def _release_lock(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    def wait(self) -> int:
        """Block until the process ends (for `ebl node` in the foreground)."""
        assert self._process is not None
        return self._process.wait()

    def __enter__(self) -> AnvilNode:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def dev_keys(count: int, mnemonic: str = DEV_MNEMONIC) -> list[str]:
    """The first `count` private keys (hex) of a development mnemonic, derived locally (BIP-44)."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    return [
        Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}").key.to_0x_hex() for i in range(count)
    ]
