"""Start and stop the embedded Anvil (npm @foundry-rs/anvil) and serve it in the foreground for `ebl node`,
the chain kept in a state file across restarts and crashes (README: Persistence and recovery).

Beside a state file S, all under one lock:

- `S.lock`: an flock held exactly as long as the Anvil that writes the chain lives. The parent takes it and
  hands the locked descriptor to Anvil (pass_fds), so it outlives a parent killed with -9 and goes with
  Anvil. A second node, or a demo that would replace S, refuses while it is held (`StateLock`).
- `S.dump`: where Anvil writes the chain, every `STATE_INTERVAL` seconds and when it gets SIGTERM. Anvil
  truncates and rewrites that file in place, so a crash in mid-write leaves a partial file: S itself is
  only ever replaced by a complete dump (renamed when Anvil has stopped or at the next start, copied and
  renamed while it runs, see `AnvilNode.checkpoint`).
- `S.log`: Anvil's output, after one `ebl:` banner line per start and `ebl:` notes on how it ended;
  rotated to `S.log.1` at a start once it passes 5 MiB. Every start-up error names it.

Anvil gets SIGTERM when the thread that started it dies (Linux PR_SET_PDEATHSIG), so it never outlives
`ebl node` or a test; start a node from a thread that lives as long as the node (the main thread).
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType, MappingProxyType, TracebackType
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
#: seconds between Anvil's state dumps: its shortest (whole seconds only; 0 makes Anvil panic). A dump of
#: the demo's chain takes milliseconds, so a dump a second costs little; a crash of Anvil loses at most
#: the blocks since the last one (see README, Persistence and recovery)
STATE_INTERVAL = 1
LOG_ROTATE_BYTES = 5 * 1024 * 1024
#: how long a stopping Anvil may take to write its state before it is killed
STOP_TIMEOUT = 15.0


def find_anvil() -> str:
    """$EBL_ANVIL, then the npm package's binary in this checkout or the working directory, then PATH. It
    must be Anvil itself, not a wrapper script: the parent-death signal and SIGTERM reach that process only."""
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
    raise NodeError("anvil not found: `npm install @foundry-rs/anvil` here (or `make setup` in the project's "
                    "checkout), put Foundry's anvil on PATH, or set $EBL_ANVIL to its path")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it; nothing holds it afterwards)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_in_use(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def default_state_file(besu_like: bool = False) -> Path:
    """Where `ebl node` and the demo keep the embedded chain: one file for each kind of chain."""
    return BESU_LIKE_STATE_FILE if besu_like else STATE_FILE


def _beside(state_file: Path, suffix: str) -> Path:
    return state_file.with_name(state_file.name + suffix)


def log_path(state_file: Path) -> Path:
    """Where a node on `state_file` keeps Anvil's output."""
    return _beside(Path(state_file), ".log")


def dump_path(state_file: Path) -> Path:
    """Where Anvil writes the chain of a node on `state_file` while it runs (see the module docstring)."""
    return _beside(Path(state_file), ".dump")


class StateLock:
    """An exclusive lock on `<state_file>.lock` (flock): held by a running AnvilNode with that state file
    (by its Anvil process itself) and by the demo while it replaces the file. NodeError when another
    process (or node) holds it."""

    def __init__(self, state_file: Path) -> None:
        self.state_file = Path(state_file)
        self.path = _beside(self.state_file, ".lock")
        self._fd: int | None = None

    def acquire(self) -> StateLock:
        """Take the lock without waiting (creating the lock file if needed); returns self. NodeError when another
        process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise NodeError(f"{self.state_file} is in use by a running node (`ebl node`?): stop it first") from None
        self._fd = fd
        return self

    @property
    def fileno(self) -> int | None:
        """The locked descriptor (to hand to a child process that should hold the lock too)."""
        return self._fd

    def release(self) -> None:
        """Close the locked descriptor (no-op when not held); a child that inherited it keeps the lock till it exits."""
        # Closing, not LOCK_UN: a child that inherited the descriptor keeps the lock until it exits too.
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> StateLock:
        return self.acquire()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def _block_in(data: bytes) -> int | None:
    try:
        return int(json.loads(data)["best_block_number"])
    except (ValueError, KeyError, TypeError):
        return None


def saved_block(state_file: Path) -> int | None:
    """The latest block number in an Anvil state file; None when it is missing, partial or unreadable."""
    try:
        return _block_in(Path(state_file).read_bytes())
    except OSError:
        return None


def _holds(state_file: Path) -> str:
    block = saved_block(state_file)
    if block is not None:
        return f"{state_file} holds the chain up to block {block}"
    return f"{state_file} holds no chain" if not state_file.exists() else f"{state_file} is not a complete chain"


def _settle_dump(state_file: Path, stopped: bool = False) -> str | None:
    """Put a complete dump left by Anvil in place of the state file (by rename); drop a partial or stale
    one. Only with the state lock held, so that no Anvil is writing the dump. Returns a note on what it did,
    except on the normal path: the dump of an Anvil that was just `stopped` taken."""
    dump = dump_path(state_file)
    try:
        dumped = dump.stat()
    except FileNotFoundError:
        return None
    if saved_block(dump) is None:
        dump.unlink()
        return f"dropped {dump}: Anvil died while writing it; {_holds(state_file)}"
    try:
        if state_file.stat().st_mtime_ns > dumped.st_mtime_ns:  # replaced since (the demo puts its chain there)
            dump.unlink()
            return f"dropped {dump}: {state_file} is newer"
    except FileNotFoundError:
        pass
    os.replace(dump, state_file)
    return None if stopped else f"took {dump}, left by an Anvil whose starter was killed: {_holds(state_file)}"


def describe_exit(returncode: int) -> str:
    """'exited with code 2' or 'was killed by SIGKILL' (Popen's negative return codes are signals)."""
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


def _handles_sigterm(pid: int) -> bool | None:
    """Whether a process has its SIGTERM handler installed (Linux /proc); None when that cannot be known.
    Anvil binds its port before it installs the handler that writes its state: a SIGTERM in between
    would kill it without a word."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    except (OSError, ValueError):
        pass
    return None


PR_SET_PDEATHSIG = 1


def _exit_with_parent() -> Callable[[], None] | None:
    """A preexec_fn that arms SIGTERM for the child when its parent dies (Linux; None elsewhere). SIGTERM, so
    that Anvil still writes its state. If the parent died before the signal was armed, the child has
    already been adopted by another process: it exits instead of running Anvil as an orphan."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork: the child only calls it
    parent = os.getpid()

    def preexec() -> None:
        if prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGTERM), ctypes.c_ulong(0), ctypes.c_ulong(0),
                 ctypes.c_ulong(0)) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:
            os._exit(1)

    return preexec


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _last_error(log: Path, offset: int) -> str | None:
    """The line that explains Anvil's failure in its output after `offset` (its `error:` or panic message)."""
    try:
        with open(log, "rb") as f:
            f.seek(offset)
            text = _ANSI.sub("", f.read(1 << 20).decode(errors="replace"))
    except OSError:
        return None
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("ebl:")]
    explaining = [line for line in lines if line.lower().startswith(("error", "message:"))]
    chosen = explaining or lines
    return chosen[-1][:300] if chosen else None


@dataclass
class AnvilNode:
    """An Anvil process. `AnvilNode(...).start()` or `with AnvilNode(...) as node:`.

    Besu-like mode for the `besu` profile: chain_id=1337, gas_price=0, base_fee=0, block_time=1.
    Anvil's output goes to `log_file`: by default `<state file>.log`, or without a state file a temporary
    file that is deleted when the node stops cleanly.
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
    #: what the last start found and did about the files of an earlier run (a dump taken, a partial one dropped)
    notes: list[str] = field(default_factory=list, init=False)
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _lock: StateLock | None = field(default=None, init=False, repr=False)
    _pid: int | None = field(default=None, init=False, repr=False)
    _temporary_log: bool = field(default=False, init=False, repr=False)
    _checkpointed: bytes = field(default=b"", init=False, repr=False)

    @property
    def url(self) -> str:
        """The node's JSON-RPC URL on 127.0.0.1 (its port is chosen at start when `port` is 0)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """Anvil's process id (of the last start)."""
        return self._pid

    def command(self) -> list[str]:
        """The Anvil command line for these settings (NodeError when Anvil is not found); loads the state file when it
        exists and dumps to `<state file>.dump`."""
        cmd = [
            find_anvil(), "--host", "127.0.0.1", "--port", str(self.port), "--chain-id", str(self.chain_id),
            "--accounts", str(self.accounts), "--mnemonic", self.mnemonic, "--hardfork", self.hardfork,
        ]
        if self.state_file is not None:
            if self.state_file.exists():
                cmd += ["--load-state", str(self.state_file)]
            cmd += ["--dump-state", str(dump_path(self.state_file)), "--state-interval", str(STATE_INTERVAL)]
        if self.block_time is not None:
            cmd += ["--block-time", f"{self.block_time:g}"]
        if self.gas_price is not None:
            cmd += ["--gas-price", str(self.gas_price)]
        if self.base_fee is not None:
            cmd += ["--block-base-fee-per-gas", str(self.base_fee)]
        return cmd

    def start(self) -> AnvilNode:
        """Start Anvil and wait until it answers. NodeError (naming the log) when it cannot."""
        if self._process is not None:
            return self
        self.notes = []
        try:
            self._choose_log()
            self._launch()
        except (NodeError, OSError) as exc:
            self.stop(clean=False)
            reason = str(exc) if isinstance(exc, NodeError) else f"cannot start anvil: {exc}"
            self._note(f"not started: {reason}")
            raise NodeError(reason + (f"; see {self.log_file}" if self.log_file else "")) from None
        return self

    def _choose_log(self) -> None:
        if self.log_file is None and self.state_file is not None:
            self.log_file = log_path(self.state_file)
        elif self.log_file is None:
            fd, name = tempfile.mkstemp(prefix="ebl-anvil-", suffix=".log")
            os.close(fd)
            self.log_file, self._temporary_log = Path(name), True
        self.log_file.parent.mkdir(parents=True, exist_ok=True)

    def _note(self, text: str) -> None:
        """An `ebl:` line in Anvil's log, between Anvil's own lines."""
        if self.log_file is None:
            return
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            fd = os.open(self.log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, f"ebl: {stamp} {text}\n".encode())
            finally:
                os.close(fd)
        except OSError:
            pass  # the log is for diagnosis; never fail a start or stop for it

    def _launch(self) -> None:
        if self.port == 0:
            self.port = free_port()
        elif port_in_use(self.port):
            raise NodeError(f"port {self.port} is already in use (another node running?)")
        assert self.log_file is not None
        if self.state_file is not None:
            self._lock = StateLock(self.state_file).acquire()
            if self.fresh:
                self.state_file.unlink(missing_ok=True)
                dump_path(self.state_file).unlink(missing_ok=True)
            elif note := _settle_dump(self.state_file):
                self.notes.append(note)
            if not self._temporary_log and self.log_file.exists() and self.log_file.stat().st_size > LOG_ROTATE_BYTES:
                os.replace(self.log_file, _beside(self.log_file, ".1"))
        command = self.command()
        self._note(f"starting anvil on {self.url} for pid {os.getpid()}, state file {self.state_file}")
        for note in self.notes:
            self._note(note)
        offset = self.log_file.stat().st_size
        log = os.open(self.log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                pass_fds=() if self._lock is None or self._lock.fileno is None else (self._lock.fileno,),
                # Ctrl-C in a terminal reaches only the parent, which then stops Anvil with SIGTERM
                start_new_session=True, preexec_fn=_exit_with_parent())
        except (OSError, subprocess.SubprocessError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise NodeError(f"cannot run anvil ({reason}): run `make setup` or set ${BINARY_ENV}") from None
        finally:
            os.close(log)
        self._pid = self._process.pid
        self._checkpointed = b""
        self._wait_ready(offset)

    def _wait_ready(self, log_offset: int) -> None:
        deadline = time.monotonic() + self.startup_timeout
        request = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
        while time.monotonic() < deadline:
            assert self._process is not None and self.log_file is not None
            code = self._process.poll()
            if code is not None:
                reason = _last_error(self.log_file, log_offset)
                hint = ""
                if self.state_file is not None and self.state_file.exists() and saved_block(self.state_file) is None:
                    hint = (f" ({self.state_file} is not a complete Anvil state: truncated or corrupt? "
                            "move it aside to start an empty chain)")
                raise NodeError(f"anvil {describe_exit(code)} while starting{hint}" + (f": {reason}" if reason else ""))
            try:
                req = urllib.request.Request(self.url, request, {"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=1) as resp:
                    # ready: it answers, and a SIGTERM from now on makes it write its state
                    if json.loads(resp.read()).get("result") and _handles_sigterm(self._process.pid) is not False:
                        return
                time.sleep(0.01)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        raise NodeError(f"anvil did not answer on {self.url} within {self.startup_timeout:g} s")

    def poll(self, timeout: float = 0) -> int | None:
        """Anvil's return code once it has exited (negative: the signal), else None; waits up to `timeout` s."""
        if self._process is None:
            return None
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def checkpoint(self) -> int | None:
        """Copy Anvil's latest complete dump over the state file (write, then rename), so that the state file
        lags the running chain by one dump at most even if Anvil is later killed while writing the next.
        Returns the block the state file now holds, or None when there was nothing new and complete."""
        if self.state_file is None or self._process is None:
            return None
        dump = dump_path(self.state_file)
        try:
            dumped = dump.stat()
            data = dump.read_bytes()
        except FileNotFoundError:
            return None
        digest = hashlib.sha256(data).digest()
        block = None if digest == self._checkpointed else _block_in(data)
        if block is None:
            return None  # unchanged, or Anvil is writing it: the next call takes it
        staged = _beside(self.state_file, ".checkpoint")
        try:
            staged.write_bytes(data)
            # the dump's time, not now: a later dump is then newer than the state file and wins at a start
            os.utime(staged, ns=(dumped.st_atime_ns, dumped.st_mtime_ns))
            os.replace(staged, self.state_file)
        except OSError as exc:  # a full disk: the dump itself still holds the chain; try again next time
            self._note(f"could not copy {dump} to {self.state_file}: {exc}")
            return None
        self._checkpointed = digest
        return block

    def stop(self, clean: bool = True) -> None:
        """SIGTERM (Anvil writes its state), then SIGKILL if it hangs; put its last complete dump in place of
        the state file; then release the state lock. Without `clean` (a failed start) the log is kept."""
        process, self._process = self._process, None
        try:
            if process is not None:
                # stopped in mid-start: let Anvil install its SIGTERM handler first, so that it writes its state
                deadline = time.monotonic() + self.startup_timeout
                while (process.poll() is None and _handles_sigterm(process.pid) is False
                       and time.monotonic() < deadline):
                    time.sleep(0.01)
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        process.wait(timeout=STOP_TIMEOUT)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()
                clean = clean and process.returncode == 0
            if self.state_file is not None and self._lock is not None:
                try:
                    note = _settle_dump(self.state_file, stopped=True)
                except OSError as exc:  # the dump stays, and the next start takes it
                    note = f"could not put {dump_path(self.state_file)} in place: {exc}"
                if note:
                    self._note(note)
            if process is not None:
                kept = "" if self.state_file is None else f"; {_holds(self.state_file)}"
                self._note(f"anvil (pid {process.pid}) {describe_exit(process.returncode)}{kept}")
        finally:
            self._release_lock()
            if self._temporary_log and self.log_file is not None and clean:
                self.log_file.unlink(missing_ok=True)
                self.log_file, self._temporary_log = None, False

    def _release_lock(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    def wait(self) -> int:
        """Block until the process ends."""
        assert self._process is not None
        return self._process.wait()

    def info(self) -> dict[str, Any]:
        """What `ebl node` announces once the node answers."""
        return {"url": self.url, "chainId": self.chain_id, "pid": self.pid, "log": str(self.log_file),
                "stateFile": None if self.state_file is None else str(self.state_file)}

    def summary(self) -> str:
        """One line for people: URL, chain id, state file and log."""
        state = f"state in {self.state_file}" if self.state_file is not None else "no state file"
        return f"anvil listening on {self.url} (chain id {self.chain_id}), {state}, log in {self.log_file}"

    def exit_report(self, returncode: int) -> str:
        """One line on an Anvil that exited by itself: how, what the state file holds, where the log is."""
        if self.state_file is None:
            kept = "nothing was saved (no state file)"
        else:
            kept = f"{_holds(self.state_file)} (its last dump; later blocks are lost unless resent)"
        how = describe_exit(returncode)
        return f"anvil (pid {self.pid}) {how} while serving {self.url}; {kept}; see {self.log_file}"

    def __enter__(self) -> AnvilNode:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


class _StopRequested(BaseException):
    """SIGINT (Ctrl-C), SIGTERM or SIGHUP reached the process serving a node in the foreground. A
    BaseException, like KeyboardInterrupt, so that no `except Exception` on the way swallows it."""


def _request_stop(signum: int, frame: FrameType | None) -> None:
    raise _StopRequested(signum)


FOREGROUND_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run_in_foreground(node: AnvilNode, on_ready: Callable[[AnvilNode], None] | None = None) -> None:
    """`ebl node`: start the node, call `on_ready`, and serve until SIGINT (Ctrl-C), SIGTERM or SIGHUP, which
    stop Anvil cleanly (it writes its state) and return normally. Meanwhile the state file takes each new
    complete dump (`AnvilNode.checkpoint`). If Anvil exits by itself, NodeError says how (exit code or
    signal), what the state file holds and where the log is. Notes on an earlier run's files go to stderr.
    Main thread only (signal handlers)."""
    previous = {sig: signal.signal(sig, _request_stop) for sig in FOREGROUND_STOP_SIGNALS}
    returncode: int | None = None
    try:
        node.start()
        for note in node.notes:
            print(f"note: {note}", file=sys.stderr)
        if on_ready is not None:
            on_ready(node)
        while (returncode := node.poll(STATE_INTERVAL)) is None:
            node.checkpoint()
    except _StopRequested:
        returncode = None
    finally:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
        try:
            node.stop(clean=returncode is None)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, signal.SIG_DFL if handler is None else handler)
    if returncode is not None:
        raise NodeError(node.exit_report(returncode))


def dev_keys(count: int, mnemonic: str = DEV_MNEMONIC) -> list[str]:
    """The first `count` private keys (hex) of a development mnemonic, derived locally (BIP-44)."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    return [
        Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}").key.to_0x_hex() for i in range(count)
    ]
