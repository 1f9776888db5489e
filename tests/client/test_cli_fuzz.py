"""No traceback, ever: every `ebl` command, found by walking the click group (so commands added later are covered
too), is run with generated bad arguments and files against a real Anvil with the suite deployed, a bill issued,
a financing requested and the index synced. Each invocation has at least one value that is certainly wrong
(a wrong type, a huge, negative or non-finite number, non-hex, an overlong or non-UTF-8 string, a missing,
unreadable, deeply nested or non-JSON file, a folder where a file is expected, a bad URL, an extra argument) and
the others plausible or noise, so every invocation must fail on purpose. Each must:

- exit with a documented code of failure (`errors.ExitCode`: not 0, not INTERNAL 70);
- print its failure as one line on stderr (`error: ...`, or the JSON error object under `--json`), and no
  traceback anywhere;
- leave the chain height and the local files (manifest, keystore, index, commitment, report...) as they were,
  and write no output file.

Examples are bounded and derandomized (hypothesis's `derandomize`), so a run is repeatable and takes a few
minutes. The long-running commands (`node`, `serve`, `index watch`, `demo`) are not run at random; their
argument errors are checked on their own. Then: the review's 30 malformed inputs, each with its exit code; the
JSON error shape; and the one path for a bug (exit 70, one line) with a command made to fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebl_client import deployment, hashing, keys, samples
from ebl_client.cli import cli
from ebl_client.cli.values import Address, Days, Hex32, Text, UInt, UnixDate
from ebl_client.errors import ExitCode
from ebl_client.financing import fingerprint
from ebl_client.node import free_port

from ..clirunner import cli_runner
from .conftest import DAY, trade_finance_world

#: leaf commands that run until stopped: never invoked at random (their argument errors: tests below)
LONG_RUNNING = {("node",), ("index", "watch"), ("demo",)}
#: groups that run something themselves when no subcommand is named (`ebl serve` serves): only their
#: subcommands are invoked at random
SERVING_GROUPS = {("serve",)}
#: examples per command (derandomized): enough to draw every kind of bad value for each parameter over a run
EXAMPLES = int(os.environ.get("EBL_FUZZ_EXAMPLES", "25"))
FINGERPRINT_KEY = "00112233445566778899aabbccddeeff"
FAILURE_CODES = {int(c) for c in ExitCode if c not in (ExitCode.OK, ExitCode.INTERNAL, ExitCode.PIPE)}


def leaf_commands(group: click.Group = cli, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command below `group`, as its path of names, recursively."""
    for name, command in sorted(group.commands.items()):
        where = (*path, name)
        if isinstance(command, click.Group):
            yield from leaf_commands(command, where)
        elif where not in LONG_RUNNING:
            yield where


def chain_of(path: tuple[str, ...]) -> list[click.Command]:
    """The commands from the root's child down to the leaf at `path`."""
    found, group = [], cli
    for name in path:
        command = group.commands[name]
        found.append(command)
        if isinstance(command, click.Group):
            group = command
    return found


COMMANDS = list(leaf_commands())


# --- the world: a deployed suite, a bill, a financing, files, a synced index ----------------------------------


@pytest.fixture(scope="module")
def world(anvil, chain, admin, signers, tmp_path_factory) -> Iterator[dict[str, Any]]:
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    base = tmp_path_factory.mktemp("fuzz")
    deployments = base / "deployments"
    suite = deployment.deploy_suite(chain, admin, deployments, test_stablecoin=True)
    w = trade_finance_world(chain, admin, signers, suite)
    p = w["p"]
    doc = hashing.load_json_file(samples.TRANSPORT_DOCUMENT)
    token = w["bills"].issue(doc, p["exporter"].address, sender=p["carrier"]).value.token_id
    invoice = hashing.load_json_file(samples.INVOICE)
    w["fin"].request(token, p["importer"].address, 10**12, w["coin"], w["now"]() + 60 * DAY,
                     fingerprint(invoice, bytes.fromhex(FINGERPRINT_KEY)), sender=p["exporter"])
    report = base / "report.json"
    report.write_bytes(samples.CREDIT_REPORT.read_bytes())
    commitment_file = base / "report.commitment.json"
    commitment = w["commitment"]
    commitment_file.write_text(json.dumps(commitment.to_json()))
    disclosure = base / "disclosure.json"
    disclosure.write_text(json.dumps(hashing.disclose(hashing.load_json_file(report), commitment,
                                                      "/rating/grade").to_json()))
    keystore = keys.write_keystore(p["exporter"], base / "exporter.keystore.json", "pw")
    bad = base / "bad"
    bad.mkdir()
    (bad / "a-folder").mkdir()
    (bad / "a-file").write_text("{}")
    (bad / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (bad / "deep.toml").write_text("a = " + "[" * 100_000 + "]" * 100_000)
    (bad / "not-utf8.json").write_bytes(b'{"a": "\xff\xfe\xfa"}')
    (bad / "nan.json").write_text('{"a": NaN}')
    (bad / "duplicate.json").write_text('{"a": 1, "a": 2}')
    (bad / "empty.json").write_text("")
    (bad / "array.json").write_text("[]")
    files = {"document": Path(samples.TRANSPORT_DOCUMENT), "report": report, "commitment": commitment_file,
             "disclosure": disclosure, "invoice": Path(samples.INVOICE), "keystore": keystore}
    mutants = {name: mutated(bad, name, files[name], fields) for name, fields in MUTABLE.items()}
    env = {"EBL_RPC_URL": w["chain"].url, "EBL_DEPLOYMENTS": str(deployments),
           "EBL_INDEX": f"sqlite:///{base / 'index.sqlite'}", keys.PASSWORD_ENV: "pw", "EBL_KEYSTORE": None,
           "EBL_FINGERPRINT_KEY": FINGERPRINT_KEY, "EBL_AS": p["exporter"].address, "EBL_NETWORK": None,
           "EBL_CHAIN_ID": None, "EBL_DIRECTORY": None, "EBL_SERVE_CONFIG": None, "COLUMNS": None,
           keys.DEFAULT_KEY_ENV: p["exporter"].key.to_0x_hex()}
    w.update(base=base, bad=bad, token=token, files=files, mutants=mutants, env=env,
             manifest=deployments / "31337.json", root="0x" + commitment.root.hex(), index=base / "index.sqlite",
             scratch=base / "scratch")
    w["scratch"].mkdir()
    synced = invoke(w, ["index", "sync"])
    assert synced.exit_code == 0, synced.stderr
    yield w
    assert chain.w3.provider.make_request("evm_revert", [snapshot])["result"] is True


#: the fields of each kind of file that no value of a wrong type leaves acceptable (every field of a document,
#: an invoice's identifying fields, ...), and those values: files with one field replaced are certainly wrong
MUTABLE: dict[str, tuple[str, ...] | None] = {
    "document": None, "invoice": ("sellerId", "buyerId", "invoiceNumber", "currency", "amount", "issueDate"),
    "commitment": ("version", "root", "fields"), "disclosure": None, "keystore": ("crypto", "version")}
WRONG_TYPES: list[Any] = [None, [], {}, -1, 2**300, 1e308, True, "x" * 100_000, [[[[]]]], {"": None}]
#: an invoice's identifiers are taken as text (`str(value)`, so a number is an identifier): only containers
#: and null are certainly wrong there
WRONG_TYPES_OF = {"invoice": [None, [], {}, [[[[]]]], {"": None}, [1, 2]]}


def mutated(folder: Path, name: str, original: Path, fields: tuple[str, ...] | None) -> list[Path]:
    """Copies of a valid file with one top-level field of a wrong type each (two per field), never equal to the
    original."""
    data = json.loads(original.read_text())
    wrong = WRONG_TYPES_OF.get(name, WRONG_TYPES)
    found = []
    for i, field in enumerate(fields or sorted(data)):
        candidates = [v for v in wrong if v != data.get(field)]
        for j in range(2):
            path = folder / f"{name}-{field}-{j}.json"
            path.write_text(json.dumps({**data, field: candidates[(2 * i + j) % len(candidates)]}))
            found.append(path)
    return found


#: which mutated files an input parameter gets among its wrong values
MUTANTS_OF = {"document": "document", "commitment_file": "commitment", "disclosure_file": "disclosure",
              "invoice": "invoice", "keystore": "keystore", "fingerprint_or_invoice": "invoice"}


def invoke(w: dict[str, Any], args: list[str], **env: Any) -> Any:
    """`ebl ARGS` in process, in the world's folder (where `.ebl/` defaults go), with the world's environment."""
    here = os.getcwd()
    os.chdir(w["base"])
    try:
        return cli_runner().invoke(cli, args, env={**w["env"], **env}, catch_exceptions=False)
    finally:
        os.chdir(here)


def fingerprint_of_state(w: dict[str, Any]) -> tuple[Any, ...]:
    """What no failed command may change: the chain's height, the bytes of every file the world keeps, the
    index's content (its file's bytes move when SQLite checkpoints its write-ahead log), the scratch folder."""
    watched = [w["manifest"], *w["files"].values()]
    index = sqlite3.connect(f"file:{w['index']}?mode=ro", uri=True)
    try:
        content = hashlib.sha256("\n".join(index.iterdump()).encode()).hexdigest()
    finally:
        index.close()
    return (w["chain"].w3.eth.block_number, content,
            *(hashlib.sha256(f.read_bytes()).hexdigest() for f in watched),
            sorted(p.name for p in w["scratch"].iterdir()))


# --- values: plausible ones, noise, and certainly wrong ones ----------------------------------------------------

ADDRESS_NAMES = {"subject", "provider", "financier", "importer", "to", "holder", "beneficiary", "nominee", "carrier",
                 "institution", "admin", "account", "as_account", "participant", "exporter", "new_holder",
                 "settlement_token"}
AMOUNT_NAMES = {"amount", "principal", "fee"}
OUTPUT_NAMES = {"out", "output", "path"}
#: free text: any value is acceptable, so it is filled with noise but never counted as the wrong value
NOISE = ["x", "", " ", "nan", "-1", "\udcff\udcfe", "é" * 300, "x" * 20_000, "0x", "--", "'; DROP TABLE bills; --"]

WRONG_NUMBERS = ["0", "-1", str(2**256), str(2**256 + 1), str(2**300), "1e3", "1.5", "0x", "0xzz", "nan", "inf",
                 "\uff11\uff12\uff13", "9" * 5000, "", " ", "\udcff", "1_000"]
WRONG_ADDRESSES = ["0x1234", "0x" + "g" * 40, "0x70997970C51812dc3A010C7d01b50e0d17dc79c8", "alice", "\udcff",
                   "0x" + "ab" * 10_000, "", str(2**256)]
WRONG_HEX32 = ["zz", "0x1234", "0x" + "00" * 33, "\udcff", "", "0x" + "g" * 64]
WRONG_DAYS = ["nan", "inf", "-inf", "0", "-1", "1e12", "36501", "abc", "1e999999999", "\udcff", ""]
WRONG_DATES = ["1900-01-01", "0001-01-01", "2030-13-01", "2030-02-30", "tomorrow", "\udcff", "", "99999-01-01",
               "1970-01-01"]
WRONG_AMOUNTS = ["1,000", "1e999999999", "nan", "-1", "abc", str(2**97), "0.0000001", "1.000,5", "Infinity",
                 "\udcff", "9" * 5000, "+5"]
WRONG_FINGERPRINTS = ["zz", "0x1234", "0x" + "00" * 32, "no-such-invoice.json", "\udcff", "0x" + "1" * 5000]
WRONG_INDEX_URLS = ["mysql://db/ebl", "not a url", "sqlite:", "\udcff://x"]


#: options of a group that only some of its subcommands use: no value of theirs is certainly wrong for all
UNUSED_BY_SOME = {("serve", "index_url"), ("serve", "directory"), ("serve", "database"), ("serve", "host"),
                  ("serve", "platform")}


def kind(param: click.Parameter, owner: str = "") -> str | None:
    """Which family of wrong values `param` takes; None for free text and flags (no value is wrong for them)."""
    t, name = param.type, param.name or ""
    if (isinstance(param, click.Option) and param.is_flag) or (owner, name) in UNUSED_BY_SOME:
        return None
    if isinstance(t, UInt):
        return "number"
    if isinstance(t, Address) or name in ADDRESS_NAMES:
        return "address"
    if isinstance(t, Hex32):
        return "hex32"
    if isinstance(t, Days):
        return "days"
    if isinstance(t, UnixDate):
        return "date"
    if isinstance(t, click.DateTime):  # a filter (`audit export --from`): any real date is one
        return "day"
    if isinstance(t, click.IntRange | click.FloatRange):
        return "range"
    if isinstance(t, click.Choice):
        return "choice"
    if name == "outbox_dir":  # a folder not made yet is an empty outbox; a file is never one
        return "folder"
    if isinstance(t, click.Path):
        return "config" if name == "config_file" else "output" if name in OUTPUT_NAMES else "input"
    if name in AMOUNT_NAMES:
        return "amount"
    special = {"index_url": "index", "fingerprint_or_invoice": "fingerprint", "roles": "roles",
               "jurisdiction": "jurisdiction", "status": "status", "path": "pointer", "key_env": "key_env"}
    if name in special:
        return special[name]
    if isinstance(t, click.types.IntParamType | click.types.FloatParamType):
        return "number"
    return None


def wrong_values(w: dict[str, Any], param: click.Parameter, family: str) -> list[str]:
    bad = w["bad"]
    below_a_file = str(bad / "a-file" / "x.json")
    inputs = [str(bad / "missing.json"), str(bad / "a-folder"), below_a_file, str(bad / "deep.json"),
              str(bad / "not-utf8.json"), str(bad / "nan.json"), str(bad / "duplicate.json"),
              str(bad / "empty.json"), str(bad / "array.json")]
    if family == "range":
        t = param.type
        assert isinstance(t, click.IntRange | click.FloatRange)
        edges = [str(t.min - 1) if t.min is not None else None, str(t.max + 1) if t.max is not None else None]
        return [e for e in edges if e is not None] + ["abc", "nan", str(2**300), "\udcff", ""]
    if family == "choice":
        return ["nope", "", "\udcff"]
    if family == "address" and not isinstance(param.type, Address):
        return [a for a in WRONG_ADDRESSES if a]  # an empty filter (`--holder ""`) is no filter
    if param.name in MUTANTS_OF and family in ("input", "fingerprint"):
        extra = [str(m) for m in w["mutants"][MUTANTS_OF[param.name]]]
        return [*(inputs if family == "input" else WRONG_FINGERPRINTS), *extra]
    return {
        "number": WRONG_NUMBERS, "address": WRONG_ADDRESSES, "hex32": WRONG_HEX32, "days": WRONG_DAYS,
        "date": WRONG_DATES, "day": ["2030-13-01", "2030-02-30", "tomorrow", "\udcff", "", "99999-01-01"],
        "amount": WRONG_AMOUNTS, "fingerprint": WRONG_FINGERPRINTS, "index": WRONG_INDEX_URLS,
        "input": inputs, "output": [below_a_file, str(bad / "a-folder")], "folder": [str(bad / "deep.json")],
        "config": [str(bad / "missing.toml"), str(bad / "a-folder"), below_a_file, str(bad / "deep.toml"),
                   str(bad / "not-utf8.json"), str(bad / "nan.json")],
        "roles": ["banker", "", "\udcff", "trader,banker"], "jurisdiction": ["HKG", "", "\udcff", "1"],
        "status": ["lost", "\udcff", "issued;"], "pointer": ["/no/such/field", "", "\udcff"],
        "key_env": ["EBL_FUZZ_UNSET_VARIABLE", "\udcff"],
    }[family]


def plausible(w: dict[str, Any], param: click.Parameter, draw: Any) -> str | None:
    """A value that could be right (it need not be: another value is wrong anyway), or None to leave it out."""
    t, name, p, files = param.type, param.name or "", w["p"], w["files"]
    parties = [p[n].address for n in ("exporter", "importer", "bank_a", "carrier", "provider", "checker")]
    by_name: dict[str, Any] = {
        "token": hex(w["token"]), "financing_id": "1", "callback_id": "1", "settlement_token": w["coin"],
        "document": str(files["document"]), "report": str(files["report"]), "commitment_file":
        str(files["commitment"]), "disclosure_file": str(files["disclosure"]), "invoice": str(files["invoice"]),
        "keystore": str(files["keystore"]), "key_env": keys.DEFAULT_KEY_ENV, "root": w["root"],
        "salt": "0x" + "11" * 32, "identifier_hash_hex": "0x" + "22" * 32, "expires": "2030-01-01",
        "since": "2026-01-01", "until": "2030-01-01", "fingerprint_or_invoice": str(files["invoice"]),
        "roles": "trader", "jurisdiction": "HK", "status": "issued", "path": "/rating/grade",
        "index_url": w["env"]["EBL_INDEX"], "interval": "1", "port": "8600",
    }
    if name in ("directory_file", "directory", "config_file", "file"):
        return None
    if isinstance(t, click.Path) and name in OUTPUT_NAMES:
        return str(w["scratch"] / f"out-{draw(st.integers(0, 10**9))}.json")
    if name in by_name and not (name == "path" and isinstance(t, click.Path)):
        return str(by_name[name])
    if name in AMOUNT_NAMES:
        return draw(st.sampled_from(["100", "0.5", "1000000"]))
    if isinstance(t, Address) or name in ADDRESS_NAMES:
        return str(draw(st.sampled_from(parties)))
    if isinstance(t, Days) or name in ("valid_days", "days") or name.endswith("_days"):
        low = getattr(t, "min", None)
        return str(max(int(low or 0), 1) if isinstance(t, click.IntRange) else 30)
    if isinstance(t, click.IntRange | click.FloatRange):
        return str(int(t.min) if t.min is not None else 1)
    if isinstance(t, click.Choice):
        return str(draw(st.sampled_from(list(t.choices))))
    if isinstance(t, click.DateTime):
        return "2030-01-01"
    if isinstance(t, UInt):
        return "1"
    if isinstance(t, click.Path):
        return str(files["invoice"])
    if isinstance(t, Text) or kind(param) is None:
        return str(draw(st.sampled_from(["x"] * len(NOISE) + NOISE)))  # plain text half of the time
    return "x"


def build(w: dict[str, Any], path: tuple[str, ...], draw: Any, *, wrong_value: bool = True) -> tuple[list[str], str]:
    """An invocation of `path` with exactly one certainly wrong value (or extra argument) and the rest drawn
    from plausible values and noise; returns the arguments and what was made wrong. Without `wrong_value`:
    plausible values and noise only."""
    commands = chain_of(path)
    params = [(level, param) for level, command in enumerate(commands) for param in command.params
              if param.name != "help" and not (isinstance(param, click.Option) and param.is_eager)]
    slots = [(level, param) for level, param in params if kind(param, path[level]) is not None]
    extra_ok = not any(isinstance(param, click.Argument) and param.nargs == -1 for _, param in params)
    # a wrong parameter value three times as often as an extra argument or a wrong root option
    choices: list[Any] = [*slots * 3, *(["extra argument"] if extra_ok else []), "root option"]
    wrong = draw(st.sampled_from(choices)) if wrong_value else None
    root: list[str] = []
    if wrong == "root option":
        option, value = draw(st.sampled_from([
            ("--rpc-url", "http://[::1"), ("--rpc-url", "http://127.0.0.1:99999"), ("--rpc-url", "ftp://x"),
            ("--rpc-url", "http://exa mple"), ("--rpc-url", "\udcff"), ("--rpc-url", "http://:8545"),
            ("--chain-id", "0"), ("--chain-id", str(2**64)), ("--chain-id", "abc"), ("--network", "mainnet")]))
        root = [option, value]
    levels: list[tuple[list[str], list[str]]] = [([], []) for _ in commands]
    for level, param in params:
        options, arguments = levels[level]
        if param.name == "keystore" and isinstance(wrong, tuple) and wrong[1].name == "key_env":
            continue  # a keystore would be used instead of the variable --key-env names
        if (level, param) == wrong:
            family = kind(param, path[level])
            assert family is not None
            value: str | None = draw(st.sampled_from(wrong_values(w, param, family)))
        elif isinstance(param, click.Option) and param.is_flag:
            if draw(st.booleans()):
                options.append(param.opts[0])
            continue
        elif param.required or draw(st.booleans()):
            value = plausible(w, param, draw)
        else:
            value = None
        if value is None:
            if isinstance(param, click.Argument) and param.required:
                value = "x"
            else:
                continue
        if isinstance(param, click.Argument):
            arguments.append(value)
        else:
            options.extend([param.opts[0], value])
    if wrong == "extra argument":
        levels[-1][1].append(draw(st.sampled_from(["extra", "0", "--", "\udcff"])))
    argv = [*root]
    for (options, arguments), name in zip(levels, path, strict=True):
        argv.append(name)
        argv.extend(options)
        if arguments:
            argv.extend(["--", *arguments] if any(a.startswith("-") for a in arguments) else arguments)
    if draw(st.booleans()):
        head = argv.index("--") if "--" in argv else len(argv)
        argv.insert(draw(st.integers(0, head)), "--json")
    label = f"{path[wrong[0]]} {wrong[1].name}" if isinstance(wrong, tuple) else str(wrong)
    return argv, label


def assert_one_line_failure(result: Any, *, as_json: bool, context: Any) -> None:
    """A documented failure code, one error line last on stderr (JSON under --json), no traceback anywhere."""
    assert result.exit_code in FAILURE_CODES, (result.exit_code, context, result.stdout[-500:], result.stderr[-2000:])
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream and 'File "' not in stream, (context, stream[-2000:])
    lines = result.stderr.strip().splitlines()
    assert lines, context
    errors = [line for line in lines if line.startswith(("error: ", '{"error"'))]
    assert errors == [lines[-1]], (context, result.stderr[-2000:])
    if as_json:
        error = json.loads(lines[-1])["error"]
        assert sorted(error) == ["code", "details", "exit", "message"], error
        assert error["exit"] == result.exit_code and error["code"] == ExitCode(result.exit_code).label, error
        assert isinstance(error["message"], str) and isinstance(error["details"], dict), error
    else:
        assert lines[-1].startswith("error: ") and "internal error" not in lines[-1], (context, lines[-1])


# --- the property ------------------------------------------------------------------------------------------


def test_the_walk_finds_every_command_group() -> None:
    groups = {path[0] for path in COMMANDS}
    assert groups >= {"audit", "bill", "credit", "deploy", "finance", "inbox", "index", "keys", "participants",
                      "serve"}
    assert ("bill", "history") in COMMANDS and ("serve", "keys", "add") in COMMANDS
    assert not any(path in LONG_RUNNING or path in SERVING_GROUPS for path in COMMANDS)
    assert len(COMMANDS) >= 70


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.differing_executors])
@given(data=st.data())
def test_every_command_refuses_bad_input_in_one_line(world: dict[str, Any], path: tuple[str, ...],
                                                     data: st.DataObject) -> None:
    argv, wrong = build(world, path, data.draw)
    key = data.draw(st.sampled_from(["exporter", "carrier", "bank_a", "importer"]))
    before = fingerprint_of_state(world)
    result = invoke(world, argv, **{keys.DEFAULT_KEY_ENV: world["p"][key].key.to_0x_hex()})
    assert_one_line_failure(result, as_json="--json" in argv[:argv.index("--")] if "--" in argv else "--json" in argv,
                            context=(wrong, argv))
    assert fingerprint_of_state(world) == before, (wrong, argv)


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
@settings(max_examples=max(EXAMPLES // 3, 2), derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.differing_executors])
@given(data=st.data())
def test_every_command_with_the_node_down_fails_in_one_line_or_works_offline(world: dict[str, Any],
                                                                             path: tuple[str, ...],
                                                                             data: st.DataObject) -> None:
    """Plausible values (and noise), the node unreachable: a command that needs the node fails as NODE (or on
    a value, first), one that does not may succeed; never a traceback, and nothing the world keeps changes."""
    argv, _ = build(world, path, data.draw, wrong_value=False)
    before = fingerprint_of_state(world)[:-1]
    result = invoke(world, argv, EBL_RPC_URL=f"http://127.0.0.1:{free_port()}")
    as_json = "--json" in (argv[:argv.index("--")] if "--" in argv else argv)
    if result.exit_code != 0:
        assert_one_line_failure(result, as_json=as_json, context=argv)
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream, (argv, stream[-2000:])
    assert fingerprint_of_state(world)[:-1] == before, argv


# --- the review's malformed inputs, each with its documented code ----------------------------------------------

U, INV, L = ExitCode.USAGE, ExitCode.INVALID, ExitCode.LOCAL
BIG = str(2**256 + 1)


def review_inputs(w: dict[str, Any]) -> list[tuple[str, list[str], ExitCode, str]]:
    """The independent review's 30 malformed inputs (17 ended in a traceback then), as (what, argv, exit code,
    a fragment of the one error line)."""
    bad, files, p, token = w["bad"], w["files"], w["p"], hex(w["token"])
    subject, exporter, coin = p["importer"].address, p["exporter"].address, w["coin"]
    a_file = str(bad / "a-file")
    return [
        ("token id above 2**256", ["bill", "show", BIG], U, "token id"),
        ("financing id above 2**256", ["finance", "show", BIG], U, "financing id"),
        ("non-hex --root", ["credit", "status", "--subject", subject, "--root", "zz"], U, "not 32 bytes of hex"),
        ("--valid-days inf", ["credit", "anchor", "--subject", exporter, "--commitment", str(files["commitment"]),
                              "--valid-days", "inf"], U, "--valid-days"),
        ("--valid-days nan", ["credit", "anchor", "--subject", exporter, "--commitment", str(files["commitment"]),
                              "--valid-days", "nan"], U, "not a finite number of days"),
        ("maturity beyond uint40", ["finance", "offer", "1", "--principal", "1", "--fee", "1", "--days", "1e12"], U,
         "--days"),
        ("fee beyond uint96", ["finance", "offer", "1", "--principal", "1", "--fee", str(2**97), "--days", "60"], INV,
         "too large"),
        ("amount 1e999999999", ["finance", "repay", "1", "--amount", "1e999999999"], INV, "exponent notation"),
        ("amount 1,000", ["finance", "request", token, "--importer", subject, "--amount", "1,000", "--token", coin,
                          "--invoice", str(files["invoice"]), "--days", "60"], INV, "ambiguous"),
        ("keys new onto an existing file", ["keys", "new", str(files["keystore"])], L, "refusing to overwrite"),
        ("--out into a missing folder", ["credit", "commit", str(files["report"]), "--out",
                                         str(bad / "no-folder" / "c.json")], L, "No such file or directory"),
        ("malformed IPv6 --rpc-url", ["--rpc-url", "http://[::1", "participants", "list"], U, "Invalid IPv6 URL"),
        ("--rpc-url port out of range", ["--rpc-url", "http://127.0.0.1:99999", "participants", "list"], U,
         "Port out of range"),
        ("--deployments pointing at a file", ["--deployments", a_file, "participants", "list"], L,
         "Not a directory"),
        ("deploy into a --deployments file", ["--deployments", a_file, "deploy"], L, "Not a directory"),
        ("--port 99999", ["serve", "--port", "99999", "keys", "list"], U, "from 1 to 65535"),
        ("report nested 100,000 deep", ["credit", "commit", str(bad / "deep.json"), "--out",
                                        str(w["scratch"] / "never.json")], INV, "nested more than 64 levels"),
        ("disclosure nested 100,000 deep", ["credit", "verify-field", str(bad / "deep.json"), "--subject",
                                            exporter], INV, "nested"),
        ("invoice nested 100,000 deep", ["finance", "fingerprint", str(bad / "deep.json")], INV, "nested"),
        ("keystore nested 100,000 deep", ["keys", "address", "--keystore", str(bad / "deep.json")], L, "nested"),
        ("configuration nested 100,000 deep", ["serve", "--config", str(bad / "deep.toml"), "keys", "list"], INV,
         "nested too deeply"),
        ("invoice that is a JSON array", ["finance", "fingerprint", str(bad / "array.json")], INV, "not an invoice"),
        ("remark not UTF-8", ["bill", "transfer", token, "--to", subject, "--remark", "\udcff"], U, "not UTF-8"),
        ("token id in full-width digits", ["bill", "show", "\uff11\uff12\uff13"], U, "not a number"),
        ("negative financing id", ["finance", "show", "--", "-5"], U, "must be positive"),
        ("expiry before 1970", ["credit", "anchor", "--subject", exporter, "--commitment", str(files["commitment"]),
                                "--expires", "1900-01-01"], U, "after 1970-01-01"),
        ("missing document", ["bill", "issue", str(bad / "missing.json"), "--holder", exporter], L,
         "No such file or directory"),
        ("folder as document", ["bill", "verify", token, str(bad / "a-folder")], L, "Is a directory"),
        ("index under a file", ["index", "sync", "--index", f"sqlite:///{a_file}/x.sqlite"], L, "a-file"),
        ("callback id above 2**63", ["serve", "callbacks", "retry", BIG], U, "callback id"),
    ]


def test_the_review_inputs_each_fail_on_purpose_with_their_code(world: dict[str, Any]) -> None:
    cases = review_inputs(world)
    assert len(cases) == 30
    for what, argv, code, fragment in cases:
        before = fingerprint_of_state(world)
        for as_json in (False, True):
            result = invoke(world, ["--json", *argv] if as_json else argv)
            assert result.exit_code == code, (what, result.exit_code, result.stderr)
            assert_one_line_failure(result, as_json=as_json, context=what)
            line = result.stderr.strip().splitlines()[-1]
            message = json.loads(line)["error"]["message"] if as_json else line
            assert fragment in message, (what, message)
        assert fingerprint_of_state(world) == before, what


def test_json_errors_carry_the_details_a_machine_needs(world: dict[str, Any]) -> None:
    p, token = world["p"], hex(world["token"])

    def error_of(*argv: str, **env: Any) -> dict[str, Any]:
        result = invoke(world, ["--json", *argv], **env)
        assert result.stdout == "" or not result.stdout.startswith('{"error"')
        error: dict[str, Any] = json.loads(result.stderr.strip().splitlines()[-1])["error"]
        assert error["exit"] == result.exit_code and error["code"] == ExitCode(result.exit_code).label
        return error

    refused = error_of("bill", "transfer", token, "--to", p["bank_a"].address,
                       **{keys.DEFAULT_KEY_ENV: p["importer"].key.to_0x_hex()})
    assert refused["code"] == "refused" and refused["details"]["error"] == "NotHolder"
    assert refused["details"]["values"]["tokenId"] == token
    assert refused["details"]["group"] == "BillError" and refused["details"]["signature"].startswith("NotHolder(")

    document = world["bad"] / "waybill.json"
    document.write_text(json.dumps({**hashing.load_json_file(samples.TRANSPORT_DOCUMENT),
                                    "transportDocumentTypeCode": "SWB"}))
    invalid = error_of("bill", "issue", str(document), "--holder", p["exporter"].address)
    assert invalid["code"] == "invalid" and invalid["details"]["path"] == "/transportDocumentTypeCode"

    missing = world["bad"] / "missing.json"
    local = error_of("bill", "issue", str(missing), "--holder", p["exporter"].address)
    assert local["code"] == "local"
    assert local["details"] == {"path": str(missing), "reason": "No such file or directory", "action": "read"}

    usage = error_of("finance", "offer", "1", "--principal", "1", "--fee", "1", "--days", "nan")
    assert usage["code"] == "usage" and usage["details"]["parameter"] == "--days"

    no = error_of("bill", "verify", token, str(world["files"]["invoice"]))
    assert no["code"] == "no" and no["exit"] == 1 and no["details"]["matches"] is False
    assert no["details"]["tokenId"] == token

    node = error_of("participants", "list", EBL_RPC_URL=f"http://127.0.0.1:{free_port()}")
    assert node["code"] == "node" and "cannot reach the node" in node["message"]


def test_a_bug_is_one_line_with_its_own_code(world: dict[str, Any]) -> None:
    """The one path no generated input may take: an exception the client did not raise on purpose."""

    @click.command("explode")
    def explode() -> None:
        raise ZeroDivisionError("a bug")

    cli.add_command(explode)
    try:
        plain = invoke(world, ["explode"])
        as_json = invoke(world, ["explode", "--json"])
    finally:
        cli.commands.pop("explode")
    assert plain.exit_code == as_json.exit_code == ExitCode.INTERNAL == 70
    assert plain.stderr.strip().splitlines() == [
        "error: internal error: ZeroDivisionError: a bug (please report it with the command line, at the "
        "project's issue tracker)"]
    error = json.loads(as_json.stderr)["error"]
    assert error["code"] == "internal" and error["details"] == {"type": "builtins.ZeroDivisionError"}


# --- the long-running commands: their argument errors, before anything starts ----------------------------------


@pytest.mark.parametrize("argv", [
    ["node", "--port", "99999"], ["node", "--port", "0"], ["node", "--port", "abc"], ["node", "--port", BIG],
    ["serve", "--port", "99999"], ["serve", "--port", "-1"], ["serve", "--port", "0"],
    ["index", "watch", "--interval", "nan"], ["index", "watch", "--interval", "0"],
    ["index", "watch", "--interval", "inf"], ["index", "watch", "--page-size", "0"],
    ["index", "watch", "--confirmations", "-1"], ["demo", "--chain-id", "abc"], ["demo", "--network", "mainnet"],
    ["node", "--state-file", "x", "extra"],
], ids=" ".join)
def test_long_running_commands_refuse_bad_arguments_before_starting(world: dict[str, Any], argv: list[str]) -> None:
    before = fingerprint_of_state(world)
    result = invoke(world, argv)
    assert result.exit_code == ExitCode.USAGE, (result.exit_code, result.stderr)
    assert_one_line_failure(result, as_json=False, context=argv)
    assert fingerprint_of_state(world) == before


@pytest.mark.parametrize("argv, code, fragment", [
    (["node", "--state-file", "{bad}/a-file/state.json"], ExitCode.LOCAL, "Not a directory"),
    (["node", "--state-file", "{bad}/a-folder"], ExitCode.LOCAL, "Is a directory"),
    (["serve", "--config", "{bad}/missing.toml"], ExitCode.LOCAL, "No such file or directory"),
    (["serve", "--config", "{bad}/deep.toml"], ExitCode.INVALID, "nested too deeply"),
    (["serve", "--config", "{bad}/not-utf8.json"], ExitCode.INVALID, "not UTF-8"),
    (["index", "watch", "--index", "mysql://db/ebl"], ExitCode.INVALID, "only sqlite and postgresql"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else str(v))
def test_long_running_commands_refuse_bad_files_before_starting(world: dict[str, Any], argv: list[str],
                                                                code: ExitCode, fragment: str) -> None:
    argv = [a.format(bad=world["bad"]) for a in argv]
    result = invoke(world, argv)
    assert result.exit_code == code, (result.exit_code, result.stderr)
    assert_one_line_failure(result, as_json=False, context=argv)
    assert fragment in result.stderr


def test_bytes_that_are_not_utf8_on_a_real_command_line(world: dict[str, Any]) -> None:
    """The console script, with argv bytes that are not UTF-8 (Python hands them over as surrogates)."""
    ebl = os.path.join(os.path.dirname(sys.executable), "ebl")
    below_a_file = str(world["bad"] / "a-file").encode() + b"/\xff.json"
    for argv in ([b"bill", b"show", b"\xff\xfe"], [b"bill", b"transfer", hex(world["token"]).encode(), b"--to",
                                                    world["p"]["bank_a"].address.encode(), b"--remark", b"\xff"],
                 [b"participants", b"show", b"\xc3\x28"], [b"--json", b"keys", b"new", below_a_file]):
        proc = subprocess.run([ebl.encode(), *argv], capture_output=True, cwd=world["base"], timeout=60,
                              env={**os.environ, **{k: v for k, v in world["env"].items() if v is not None}})
        stderr = proc.stderr.decode("utf-8", "backslashreplace")
        assert proc.returncode in FAILURE_CODES, (argv, proc.returncode, stderr)
        assert b"Traceback" not in proc.stderr and len(stderr.strip().splitlines()) == 1, (argv, stderr)
        if argv[0] == b"--json":
            assert json.loads(stderr)["error"]["exit"] == proc.returncode
        else:
            assert stderr.startswith("error: "), stderr
