"""The `ebl` command: tables and --json on success; on bad input one `error:` line, exit code 1, and
the manifest, keystore and chain exactly as they were. Every sending command prints one JSON shape:
`{"<what it acted on>": ..., "transaction": {"hash", "block", "gas_used", "sender"}}` (`sent` checks it)."""

import json
import os
import re
import subprocess
import sys

import pytest

from ebl_client import keys
from ebl_client.errors import ExitCode
from ebl_client.node import free_port

from .conftest import sample_hash

TX_HASH = re.compile(r"0x[0-9a-f]{64}")


def one_error_line(result, code, *fragments):
    """One `error: ...` line on stderr containing every fragment, and exit `code` (an `errors.ExitCode`)."""
    if os.environ.get("RECORD_CODES"):
        import inspect
        frame = inspect.stack()[1]
        with open(os.environ["RECORD_CODES"], "a") as fh:
            fh.write(f"{frame.filename}:{frame.lineno}:{result.exit_code}:{result.stderr.strip()[:300]!r}\n")
        code = result.exit_code
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    if lines[0].startswith("{"):  # under --json: {"error": {"code": name, "exit": N, "message", "details"}}
        error = json.loads(lines[0])["error"]
        assert (error["code"], error["exit"]) == (ExitCode(code).label, code) and isinstance(error["details"], dict)
        line = f"error: {error['message']}"
    else:
        line = lines[0]
    assert line.startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in line
    return line


def sent(result, key, *, sender=None, extra=()):
    """The value a sending command printed with --json under `key`, after checking the shape: exactly `key`,
    `transaction` and the `extra` keys, the transaction whole (hash, block, gas, sender)."""
    assert result.exit_code == 0, (result.stdout, result.stderr)
    out = json.loads(result.stdout)
    assert sorted(out) == sorted([key, "transaction", *extra]), out
    tx = out["transaction"]
    assert sorted(tx) == ["block", "gas_used", "hash", "sender"]
    assert TX_HASH.fullmatch(tx["hash"]) and tx["block"] > 0 and tx["gas_used"] > 21_000
    if sender is not None:
        assert tx["sender"] == sender
    return out[key]


def shows_transaction(result):
    """The table of a sending command ends with the transaction's hash and block; returns the hash."""
    assert result.exit_code == 0, (result.stdout, result.stderr)
    found = re.search(r"│ transaction +│ (0x[0-9a-f]{64}) +│\n│ block +│ (\d+) +│", result.stdout)
    assert found, result.stdout
    return found.group(1)


def state_of(chain, run):
    """Everything a failed command must leave alone: the manifest bytes, the chain height."""
    manifest = run.manifest.read_bytes() if run.manifest.exists() else None
    return manifest, chain.w3.eth.block_number


def test_deploy_prints_the_contracts_and_writes_the_manifest(run):
    result = run("deploy")
    assert result.exit_code == 0
    assert "ParticipantRegistry" in result.stdout and "manifest:" in result.stdout
    assert json.loads(run.manifest.read_text())["chain_id"] == 31337


def test_participant_lifecycle_through_the_cli(deployed, signers, admin, chain):
    bank, officer = signers[2].address, signers[3].address
    added = deployed("participants", "add", bank, "--roles", "financier", "--jurisdiction", "hk",
                     "--identifier", "2138009HARBOURBANK51")
    assert added.exit_code == 0, added.stderr
    assert "financier" in added.stdout and "identifier salt" in added.stdout
    assert chain.w3.eth.get_transaction(shows_transaction(added))["from"] == admin.address
    officer_json = deployed("--json", "participants", "add", officer, "--roles", "verifier", "--jurisdiction", "HK",
                            "--identifier-hash", "0x" + sample_hash(3).hex(), "--institution", bank)
    assert sent(officer_json, "participant", sender=admin.address)["institution"] == bank

    listed = [p for p in json.loads(deployed("--json", "participants", "list").stdout) if p["roles"] != ["escrow"]]
    assert [p["address"] for p in listed] == [bank, officer]
    assert listed[1]["roles"] == ["verifier"] and listed[1]["status"] == "active"

    suspended = sent(deployed("--json", "participants", "suspend", officer, "--reason", "left the bank"),
                     "participant")
    assert suspended["status"] == "suspended"
    shown = deployed("participants", "show", officer)
    assert "suspended" in shown.stdout and officer in shown.stdout
    assert sent(deployed("--json", "participants", "reinstate", officer), "participant")["status"] == "active"
    roles = sent(deployed("--json", "participants", "set-roles", bank, "--roles", "financier,trader"), "participant")
    assert roles["roles"] == ["trader", "financier"]


def test_given_salt_makes_the_identifier_hash_reproducible(deployed, signers):
    salt = "0x" + "07" * 32
    result = deployed("--json", "participants", "add", signers[4].address, "--roles", "trader",
                      "--jurisdiction", "CN", "--identifier", "91310000ma1fl4b24g", "--salt", salt)
    participant = sent(result, "participant", extra=["salt"])
    from ebl_client.hashing import identifier_hash

    assert participant["identifier_hash"] == "0x" + identifier_hash("91310000MA1FL4B24G",
                                                                    bytes.fromhex("07" * 32)).hex()
    assert json.loads(result.stdout)["salt"] == salt


def test_unreachable_node(run, chain):
    before = state_of(chain, run)
    result = run("deploy", EBL_RPC_URL=f"http://127.0.0.1:{free_port()}")
    one_error_line(result, ExitCode.NODE, "cannot reach the node")
    assert state_of(chain, run) == before


def test_wrong_chain_id(deployed, chain, signers):
    before = state_of(chain, deployed)
    result = deployed("--chain-id", "1337", "participants", "add", signers[1].address, "--roles", "trader",
                      "--jurisdiction", "HK", "--identifier", "X1")
    one_error_line(result, ExitCode.NODE, "chain id 31337, expected 1337")
    assert state_of(chain, deployed) == before


@pytest.mark.parametrize("address", ["0x1234", "0x70997970C51812dc3A010C7d01b50e0d17dc79c8", "alice"])
def test_malformed_address(deployed, chain, address):
    before = state_of(chain, deployed)
    result = deployed("participants", "add", address, "--roles", "trader", "--jurisdiction", "HK", "--identifier", "X1")
    one_error_line(result, ExitCode.USAGE, "account")
    assert state_of(chain, deployed) == before


def test_missing_key(deployed, chain, signers):
    before = state_of(chain, deployed)
    result = deployed("participants", "add", signers[1].address, "--roles", "trader", "--jurisdiction", "HK",
                      "--identifier", "X1", key="")
    one_error_line(result, ExitCode.LOCAL, "no signing key", "EBL_PRIVATE_KEY")
    assert state_of(chain, deployed) == before


def test_malformed_key_is_not_echoed(deployed, chain, signers):
    bad = "0x" + "ab" * 31
    result = deployed("participants", "suspend", signers[1].address, key=bad)
    line = one_error_line(result, ExitCode.LOCAL, "not a 32-byte hex private key")
    assert bad not in line and bad not in result.stdout


def test_wrong_keystore_password(deployed, chain, admin, signers, tmp_path):
    keystore = keys.write_keystore(admin, tmp_path / "admin.json", "right")
    before = state_of(chain, deployed)
    result = deployed("participants", "add", signers[1].address, "--roles", "trader", "--jurisdiction", "HK",
                      "--identifier", "X1", "--keystore", str(keystore), **{keys.PASSWORD_ENV: "wrong"})
    one_error_line(result, ExitCode.LOCAL, "wrong password")
    assert state_of(chain, deployed) == before
    ok = deployed("participants", "add", signers[1].address, "--roles", "trader", "--jurisdiction", "HK",
                  "--identifier", "X1", "--keystore", str(keystore), **{keys.PASSWORD_ENV: "right"})
    assert ok.exit_code == 0, ok.stderr


def test_onboarding_twice(deployed, chain, signers):
    args = ("participants", "add", signers[1].address, "--roles", "trader", "--jurisdiction", "HK",
            "--identifier", "X1")
    assert deployed(*args).exit_code == 0
    before = state_of(chain, deployed)
    one_error_line(deployed(*args), ExitCode.REFUSED, "AlreadyOnboarded", signers[1].address)
    assert state_of(chain, deployed) == before


def test_acting_as_a_non_admin(deployed, chain, signers):
    before = state_of(chain, deployed)
    result = deployed("participants", "add", signers[1].address, "--roles", "trader", "--jurisdiction", "HK",
                      "--identifier", "X1", key=signers[5].key.to_0x_hex())
    one_error_line(result, ExitCode.REFUSED, "AccessControlUnauthorizedAccount", signers[5].address)
    assert state_of(chain, deployed) == before


def test_bad_role_and_jurisdiction(deployed, signers):
    one_error_line(deployed("participants", "add", signers[1].address, "--roles", "banker", "--jurisdiction", "HK",
                            "--identifier", "X1"), ExitCode.INVALID, "unknown role")
    one_error_line(deployed("participants", "add", signers[1].address, "--roles", "trader", "--jurisdiction", "HKG",
                            "--identifier", "X1"), ExitCode.INVALID, "jurisdiction")


def test_deploying_twice_keeps_the_manifest(deployed, chain):
    before = state_of(chain, deployed)
    one_error_line(deployed("deploy"), ExitCode.INVALID, "already deployed", "--redeploy")
    assert state_of(chain, deployed) == before


def test_deploy_takes_the_suite_settings(run, chain):
    result = run("deploy", "--min-tenor-days", "3", "--reservation-days", "10", "--max-validity-days", "30",
                 "--grace-days", "5")
    assert result.exit_code == 0, result.stderr
    assert "minimum tenor 3 days, invoice reservation 10 days, grace period 5 days" in result.stdout
    escrow = json.loads(run("--json", "finance", "settings").stdout)
    assert escrow == {"min_tenor": 3 * 86_400, "reservation_period": 10 * 86_400, "grace_period": 5 * 86_400,
                      "paused": False, "title_registry_paused": False}
    assert json.loads(run("--json", "credit", "settings").stdout)["max_validity"]["days"] == 30
    table = run("finance", "settings")
    assert "minimum tenor" in table.stdout and "3 days" in table.stdout


def test_deploy_defaults_and_out_of_range_settings(run, chain):
    height = chain.w3.eth.block_number
    for option, value in (("--min-tenor-days", "366"), ("--reservation-days", "0"), ("--max-validity-days", "3651"),
                          ("--min-tenor-days", "-1")):
        result = run("deploy", option, value)
        assert result.exit_code == 2, (option, value, result.stderr)
    assert chain.w3.eth.block_number == height and not run.manifest.exists()  # refused before deploying anything
    assert run("deploy").exit_code == 0
    escrow = json.loads(run("--json", "finance", "settings").stdout)
    assert (escrow["min_tenor"], escrow["reservation_period"]) == (7 * 86_400, 30 * 86_400)
    assert json.loads(run("--json", "credit", "settings").stdout)["max_validity"]["seconds"] == 400 * 86_400


def test_no_deployment_yet(run):
    one_error_line(run("participants", "list"), ExitCode.INVALID, "run `ebl deploy` first")


def test_keys_new_and_address(run, tmp_path):
    path = tmp_path / "officer.json"
    made = run("--json", "keys", "new", str(path), **{keys.PASSWORD_ENV: "s3cret"})
    address = json.loads(made.stdout)["address"]
    shown = run("keys", "address", "--keystore", str(path), **{keys.PASSWORD_ENV: "s3cret"})
    assert shown.stdout.strip() == address
    before = path.read_bytes()
    one_error_line(run("keys", "new", str(path), **{keys.PASSWORD_ENV: "x"}), ExitCode.LOCAL, "refusing to overwrite")
    assert path.read_bytes() == before


def test_the_installed_console_script_exits_non_zero_with_one_line(tmp_path):
    ebl = os.path.join(os.path.dirname(sys.executable), "ebl")
    proc = subprocess.run([ebl, "--rpc-url", f"http://127.0.0.1:{free_port()}", "participants", "list"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == ExitCode.NODE
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and proc.stderr.startswith("error: ")


def _ebl(*args, cwd, env=None):
    ebl = os.path.join(os.path.dirname(sys.executable), "ebl")
    return subprocess.run([ebl, *args], capture_output=True, text=True, cwd=cwd, timeout=60,
                          env={**os.environ, **(env or {})})


def test_usage_errors_are_one_line_and_json_goes_anywhere(anvil, tmp_path):
    for args in (["participants", "lst"], ["--chain-id", "abc", "participants", "list"],
                 ["credit", "anchor", "--valid-days", "0"]):
        proc = _ebl(*args, cwd=tmp_path)
        assert proc.returncode == 2
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: ")
    proc = _ebl("participants", "list", "--json", cwd=tmp_path, env={"EBL_RPC_URL": anvil.url})
    assert proc.returncode == ExitCode.INVALID and "run `ebl deploy` first" in proc.stderr  # parsed: --json moved up
    # front


def test_node_refuses_a_busy_port_before_touching_the_state_file(anvil, tmp_path):
    state = tmp_path / "state.json"
    state.write_text("{}")
    proc = _ebl("node", "--port", str(anvil.port), "--fresh", "--state-file", str(state), cwd=tmp_path)
    assert proc.returncode == ExitCode.NODE and "already in use" in proc.stderr
    assert state.read_text() == "{}"


def test_a_reader_that_went_away_ends_the_command_quietly(tmp_path):
    """`ebl ... | head`: the reader closes the pipe before the output is written; the command exits 141, as a
    program killed by SIGPIPE, and prints no traceback."""
    from ebl_client import samples

    report = tmp_path / "report.json"
    report.write_text(samples.CREDIT_REPORT.read_text())
    assert _ebl("credit", "commit", str(report), cwd=tmp_path).returncode == 0
    read, write = os.pipe()
    os.close(read)
    try:
        ebl = os.path.join(os.path.dirname(sys.executable), "ebl")
        proc = subprocess.run([ebl, "credit", "disclose", str(report), "--commitment",
                               str(tmp_path / "report.commitment.json"), "--field", "/subject/name"],
                              stdout=write, stderr=subprocess.PIPE, text=True, cwd=tmp_path, timeout=60)
    finally:
        os.close(write)
    assert proc.returncode == ExitCode.PIPE
    assert proc.stderr == ""
    # a table (rich) as well as plain text (click): rich's own handling would exit 1, which means "no"
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([ebl, "credit", "commit", str(report), "--out", str(tmp_path / "again.json")],
                              stdout=write, stderr=subprocess.PIPE, text=True, cwd=tmp_path, timeout=60)
    finally:
        os.close(write)
    assert proc.returncode == ExitCode.PIPE
    assert proc.stderr == ""


def test_kill_stops_the_node_and_its_anvil(tmp_path):
    import signal
    import time

    from ebl_client.node import port_in_use

    port = free_port()
    ebl = os.path.join(os.path.dirname(sys.executable), "ebl")
    node = subprocess.Popen([ebl, "node", "--port", str(port), "--state-file", str(tmp_path / "s.json")],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not port_in_use(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert port_in_use(port)
    node.send_signal(signal.SIGTERM)
    node.wait(timeout=30)
    deadline = time.monotonic() + 10
    while port_in_use(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not port_in_use(port)
    assert (tmp_path / "s.json").exists()  # Anvil wrote its state on the way out


# --- version, table width, the demo command ----------------------------------------------------------


def test_version_names_the_package_and_the_contract_sources(run):
    from importlib.metadata import version

    from ebl_client import artifacts

    result = run("--version")
    assert result.exit_code == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith(f"ebl {version('ebl-client')} ") and artifacts.index()["sourceDigest"] in line
    assert _ebl("--version", cwd=".").stdout == result.stdout  # the console script, no node needed


def test_tables_fit_columns_and_json_keeps_every_hash_whole(deployed, signers):
    bank, officer = signers[2].address, signers[3].address
    assert deployed("participants", "add", bank, "--roles", "financier", "--jurisdiction", "HK",
                    "--identifier", "2138009HARBOURBANK51").exit_code == 0
    assert deployed("participants", "add", officer, "--roles", "verifier", "--jurisdiction", "HK",
                    "--identifier-hash", "0x" + sample_hash(3).hex(), "--institution", bank).exit_code == 0
    whole = "0x" + sample_hash(3).hex()
    short = f"{whole[:6]}…{whole[-4:]}"

    narrow = deployed("participants", "list", COLUMNS="100")
    assert narrow.exit_code == 0, narrow.stderr
    lines = narrow.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 100, narrow.stdout
    assert short in narrow.stdout and whole not in narrow.stdout
    assert f"{officer[:6]}…{officer[-4:]}" in narrow.stdout  # addresses too, when hashes alone are not enough

    as_json = deployed("--json", "participants", "list", COLUMNS="100")
    assert [p["identifier_hash"] for p in json.loads(as_json.stdout) if p["address"] == officer] == [whole]
    assert "…" not in as_json.stdout

    wide = deployed("participants", "list")  # no terminal and no COLUMNS (a pipe): every value whole
    assert whole in wide.stdout and officer in wide.stdout and "…" not in wide.stdout


def test_demo_help_and_usage_mistakes(tmp_path):
    shown = _ebl("demo", "--help", cwd=tmp_path)
    assert shown.returncode == 0 and "--besu-like" in shown.stdout and "--state-file" in shown.stdout
    for args in (["demo", "--besu-like", "--rpc-url", "http://127.0.0.1:9"],  # starts its own node
                 ["demo", "--network", "besu"],  # --network is for --rpc-url
                 ["--rpc-url", "http://127.0.0.1:9", "demo"]):  # the demo's node options go after `demo`
        proc = _ebl(*args, cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: ")
    assert not any(tmp_path.iterdir())  # refused before writing anything
