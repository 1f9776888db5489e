"""The embedded Anvil when processes die: real processes and signals, no mocks.

Anvil must not outlive the process that started it, the state lock lives exactly as long as the Anvil that
writes the chain, `ebl node` reports an Anvil that died, and a clean stop keeps the chain. Nothing here
asserts a duration: each wait polls with a generous deadline.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ebl_client import deployment, errors
from ebl_client.chain import Chain
from ebl_client.node import AnvilNode, dump_path, free_port, log_path, port_in_use, saved_block

DEADLINE = 60.0
EBL = str(Path(sys.executable).with_name("ebl"))

#: a Python process that starts a node and then just waits (to be killed)
STARTER = """
import sys, time
from pathlib import Path
from ebl_client.node import AnvilNode
node = AnvilNode(state_file=Path(sys.argv[1])).start()
print(node.pid, node.port, flush=True)
time.sleep(600)
"""


def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {DEADLINE:g} s: {what}")
        time.sleep(0.05)


PF_EXITING = 0x4


def alive(pid: int) -> bool:
    """Running (or stopped): not gone, not a zombie waiting for whoever adopted it, and not exiting (the
    kernel closes a process's files, and so drops its locks, while it exits, before it is a zombie)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] != "Z" and not int(fields[6]) & PF_EXITING


def lock_free(state: Path) -> bool:
    fd = os.open(f"{state}.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # releases the lock if this probe took it


def mine(url: str, blocks: int) -> int:
    chain = Chain.connect(url)
    chain.w3.provider.make_request("anvil_mine", [blocks])  # type: ignore[arg-type]
    return int(chain.w3.eth.block_number)


@pytest.fixture
def kill_on_exit() -> Iterator[list[int]]:
    """Process ids a failing test leaves behind; the fixture kills those still there."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def start_starter(state: Path, kill_on_exit: list[int]) -> tuple[subprocess.Popen[str], int, int]:
    starter = subprocess.Popen([sys.executable, "-c", STARTER, str(state)], stdout=subprocess.PIPE, text=True)
    kill_on_exit.append(starter.pid)
    assert starter.stdout is not None
    anvil_pid, port = map(int, starter.stdout.readline().split())
    kill_on_exit.append(anvil_pid)
    return starter, anvil_pid, port


def start_ebl_node(state: Path, kill_on_exit: list[int]) -> tuple[subprocess.Popen[str], dict[str, object]]:
    """`ebl --json node` on a free port; returns the process and what it announced (url, pid, log...)."""
    proc = subprocess.Popen([EBL, "--json", "node", "--port", str(free_port()), "--state-file", str(state)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    kill_on_exit.append(proc.pid)
    assert proc.stdout is not None
    lines = []
    while not lines or lines[-1] != "}\n":
        line = proc.stdout.readline()
        assert line, f"ebl node ended before announcing: {proc.wait()} {proc.stderr.read() if proc.stderr else ''}"
        lines.append(line)
    info = json.loads("".join(lines))
    kill_on_exit.append(int(info["pid"]))
    return proc, info


def test_anvil_dies_with_the_python_process_that_started_it(tmp_path, kill_on_exit):
    state = tmp_path / "chain.json"
    starter, anvil_pid, port = start_starter(state, kill_on_exit)
    assert alive(anvil_pid) and not lock_free(state)

    starter.kill()
    starter.wait()

    def gone() -> bool:
        if lock_free(state):  # the lock must never be free while that Anvil still runs
            assert not alive(anvil_pid), "the state lock was released while Anvil still ran"
        return not alive(anvil_pid)

    eventually(gone, "Anvil exits after its parent was killed with -9")
    eventually(lambda: not port_in_use(port), "the port is free")
    assert lock_free(state)


def test_the_lock_stays_with_anvil_until_it_has_written_the_chain(tmp_path, kill_on_exit):
    state = tmp_path / "chain.json"
    starter, anvil_pid, port = start_starter(state, kill_on_exit)
    height = mine(f"http://127.0.0.1:{port}", 5)
    os.kill(anvil_pid, signal.SIGSTOP)  # hold Anvil still, so that its parent's death cannot race the checks
    starter.kill()
    starter.wait()
    assert alive(anvil_pid)
    assert not lock_free(state), "the lock went with the killed parent, while its Anvil still runs"

    os.kill(anvil_pid, signal.SIGCONT)  # now the parent-death SIGTERM is delivered: Anvil dumps and exits
    eventually(lambda: not alive(anvil_pid), "Anvil exits once it may run")
    eventually(lambda: lock_free(state), "the lock is free once Anvil is gone")
    eventually(lambda: not port_in_use(port), "the port is free")

    with AnvilNode(state_file=state) as node:  # the next start takes the dump Anvil wrote at SIGTERM
        assert Chain.connect(node.url).w3.eth.block_number == height
        assert any("left by an Anvil whose starter was killed" in note for note in node.notes)


def test_ebl_node_reports_an_anvil_killed_under_it(tmp_path, kill_on_exit, signers):
    state = tmp_path / "chain.json"
    proc, info = start_ebl_node(state, kill_on_exit)
    chain = Chain.connect(str(info["url"]))
    tx = chain.w3.eth.send_transaction({"from": signers[1].address, "to": signers[2].address, "value": 1})
    block = chain.w3.eth.wait_for_transaction_receipt(tx, timeout=DEADLINE)["blockNumber"]
    # a crash loses what Anvil's last dump (every second) does not hold yet, and `ebl node` copies each complete
    # dump to the state file: wait until the state file holds the block
    eventually(lambda: (saved_block(state) or -1) >= block, f"the state file holds block {block}")

    os.kill(int(str(info["pid"])), signal.SIGKILL)
    proc.wait(timeout=DEADLINE)
    stderr = proc.stderr.read() if proc.stderr else ""

    assert proc.returncode != 0
    assert len(stderr.splitlines()) == 1, stderr
    assert "SIGKILL" in stderr and str(log_path(state)) in stderr, stderr
    assert f"holds the chain up to block {block}" in stderr, stderr
    assert Path(str(info["log"])) == log_path(state) and "was killed by SIGKILL" in log_path(state).read_text()
    assert lock_free(state)
    with AnvilNode(state_file=state) as node:
        assert Chain.connect(node.url).w3.eth.get_transaction_receipt(tx)["blockNumber"] == block


def test_a_corrupt_state_file_names_the_log_that_holds_anvils_output(tmp_path):
    state = tmp_path / "chain.json"
    state.write_text('{"block": {"number": ')  # what a write cut short leaves

    with pytest.raises(errors.NodeError) as raised:
        AnvilNode(state_file=state).start()

    log = log_path(state)
    assert f"see {log}" in str(raised.value)
    assert "not a complete Anvil state" in str(raised.value)
    assert "anvil exited with code" in str(raised.value)
    assert "failed to parse json file" in log.read_text()  # Anvil's own words, kept
    assert lock_free(state)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_stopped_ebl_node_keeps_the_chain(tmp_path, kill_on_exit, admin, stop):
    state = tmp_path / "chain.json"
    proc, info = start_ebl_node(state, kill_on_exit)
    chain = Chain.connect(str(info["url"]))
    if stop == signal.SIGTERM:
        contract = deployment.deploy_suite(chain, admin, tmp_path).address("ParticipantRegistry")
    else:
        contract = None
        mine(chain.url, 3)
    height = chain.w3.eth.block_number

    proc.send_signal(stop)
    proc.wait(timeout=DEADLINE)

    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    assert saved_block(state) == height and not dump_path(state).exists()
    assert not alive(int(str(info["pid"]))) and lock_free(state)
    with AnvilNode(state_file=state) as node:  # a restart serves the same chain
        again = Chain.connect(node.url)
        assert again.w3.eth.block_number == height
        if contract is not None:
            assert again.has_code(contract)


def test_a_checkpoint_keeps_the_chain_when_anvil_dies_in_mid_dump(tmp_path):
    state = tmp_path / "chain.json"
    node = AnvilNode(state_file=state).start()
    try:
        height = mine(node.url, 6)
        # Anvil rewrites its dump every second: a checkpoint that reads it in mid-write takes the next one
        eventually(lambda: node.checkpoint() == height, f"a checkpoint takes block {height} from Anvil's dump")
        assert saved_block(state) == height
        assert node.checkpoint() is None  # nothing new (or a dump in mid-write): the state file stays
        assert node.pid is not None
        os.kill(node.pid, signal.SIGKILL)
        eventually(lambda: node.poll() is not None, "Anvil is gone")
        dump_path(state).write_bytes(dump_path(state).read_bytes()[:1000])  # as if killed while writing it
    finally:
        node.stop()
    assert saved_block(state) == height and not dump_path(state).exists()
    assert "dropped" in log_path(state).read_text()


def test_sigterm_while_ebl_node_starts_still_writes_the_state_file(tmp_path):
    """Anvil listens before it handles SIGTERM, and a SIGTERM in between killed it without its state. The
    signal goes as soon as the port opens, which often but not always lands in that gap: a regression shows
    in most runs of this test (three tries each), not in every one."""
    for run in range(3):
        state, port = tmp_path / f"chain-{run}.json", free_port()
        proc = subprocess.Popen([EBL, "node", "--port", str(port), "--state-file", str(state)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + DEADLINE
        while not port_in_use(port) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)  # a tight poll: the gap is a few milliseconds
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=DEADLINE)
        assert proc.returncode == 0, stderr
        assert saved_block(state) == 0, log_path(state).read_text()


def test_a_partial_dump_is_dropped_and_the_state_file_kept(tmp_path):
    state = tmp_path / "chain.json"
    with AnvilNode(state_file=state) as node:
        height = mine(node.url, 4)
    dump_path(state).write_bytes(state.read_bytes()[:-100])  # as if Anvil was killed while writing its dump

    with AnvilNode(state_file=state) as node:
        assert Chain.connect(node.url).w3.eth.block_number == height
        assert any("dropped" in note for note in node.notes)


def test_a_dump_older_than_the_state_file_does_not_replace_it(tmp_path):
    state = tmp_path / "chain.json"
    with AnvilNode(state_file=state) as node:
        mine(node.url, 2)
    dump_path(state).write_bytes(state.read_bytes())  # a dump a killed node left behind...
    os.utime(dump_path(state), (1, 1))
    staged = tmp_path / "staged.json"
    with AnvilNode(state_file=staged) as node:  # ...then a newer chain replaced the file, as the demo does
        height = mine(node.url, 7)
    os.replace(staged, state)

    with AnvilNode(state_file=state) as node:
        assert Chain.connect(node.url).w3.eth.block_number == height
        assert any("is newer" in note for note in node.notes)
    assert not dump_path(state).exists()


def test_a_node_without_state_file_logs_to_a_temporary_file_removed_on_a_clean_stop():
    with AnvilNode() as node:
        log = node.log_file
        assert log is not None and "Listening on" in log.read_text()
    assert not log.exists()
