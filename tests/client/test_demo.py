"""`make demo`: the whole Hong Kong -> Shanghai story on an embedded Anvil, its report, the chain it leaves
on disk, and the same story on a Besu-like Anvil with the besu profile and an audit of the JSON-RPC methods."""

import json
import re
import shlex

import pytest
import rlp
from click.testing import CliRunner
from rich.console import Console

from ebl_client import demo, hashing, keys
from ebl_client.cli import cli
from ebl_client.node import AnvilNode

ACTIONS = ["issue", "pledge", "transfer_owners", "surrender_for_delivery", "surrender_accepted"]
#: the steps that send nothing: two refusals at gas estimation and the regulator's check (reads only)
NOTHING_SENT = (8, 15, demo.STEPS)


def paths(tmp_path):
    return {"state": tmp_path / "state.json", "deployments": tmp_path / "deployments", "work": tmp_path / "work"}


def demo_args(p, *extra):
    return ["--state-file", str(p["state"]), "--deployments", str(p["deployments"]), "--work-dir", str(p["work"]),
            *extra]


def check_story(report):
    """What the report must show for the story to have happened as the rules say."""
    people = {p["handle"]: p for p in report["participants"]}
    label = {h: demo.MEMBERS[h].label for h in people}
    assert len(people) == len(demo.CONSORTIUM) == 11
    assert people["hk_maker"]["institution"] == people["hk_checker"]["institution"] == "Harbour Bank HK"

    steps = report["steps"]
    assert [s["n"] for s in steps] == list(range(1, demo.STEPS + 1))
    assert [(s["n"], s["refused"]) for s in steps if s["refused"]] == [(8, "SameMakerAndChecker"),
                                                                       (15, "DuplicateFinancing")]
    for s in steps:
        assert s["gasUsed"] == sum(t["gasUsed"] for t in s["transactions"])
        assert all(t["status"] == 1 and t["gasUsed"] > 21_000 and len(t["hash"]) == 66 for t in s["transactions"])
    assert [s["n"] for s in steps if not s["transactions"]] == list(NOTHING_SENT)  # refused at gas estimation
    assert len(steps[9]["transactions"]) == 1  # the pledge and the financing request: one transaction
    assert report["gasTotal"] == sum(s["gasUsed"] for s in steps)
    assert report["transactionCount"] == sum(len(s["transactions"]) for s in steps) == 37

    bill = report["bill"]
    assert bill["status"] == "accomplished" and bill["documentMatches"] is True
    history = bill["history"]
    assert [e["action"] for e in history] == ACTIONS
    assert [e["holderName"] for e in history] == [label["exporter"], "FinancingEscrow", label["importer"],
                                                  label["carrier"], label["carrier"]]
    assert [e["dcsa"] for e in history] == ["ISSU", "ENDO+TRNS(PLEDGE)", "ENDO+TRNS", "SURR(DELIVERY)", "SACC"]
    assert history[0]["actorName"] == label["carrier"] and history[2]["actorName"] == "FinancingEscrow"
    assert history[1]["actorName"] == label["exporter"]  # the exporter pledged ...
    assert history[1]["tx_hash"] == steps[9]["transactions"][0]["hash"]  # ... in the request's own transaction
    assert all(e["time"].endswith("UTC") for e in history)

    credit = report["credit"]
    assert credit["provider"] == label["credit_provider"]
    assert [c["matchesAnchor"] for c in credit["disclosedFields"]] == [True] * len(demo.DISCLOSED_FIELDS)
    assert (credit["maker"], credit["checker"]) == (label["hk_maker"], label["hk_checker"])
    assert credit["verification"]["status"] == "approved" and credit["approvedAndValid"] is True
    assert credit["consent"]["financier"] == people["hk_bank"]["address"] and credit["consent"]["live"]
    assert "cannot also approve" in credit["selfApprovalRefused"]

    fin = report["financing"]
    assert fin["state"] == "repaid" and fin["outstanding"] == 0
    assert (fin["principal"], fin["fee"], fin["repaid"]) == (demo.PRINCIPAL, demo.FEE, demo.PRINCIPAL + demo.FEE)
    assert fin["financierName"] == label["hk_bank"] and fin["releasedTo"] == label["importer"]
    assert fin["bill"] == bill["token_id"] and fin["fingerprintStatus"] == "financed"
    assert fin["withdrawnByFinancier"] == demo.PRINCIPAL + demo.FEE
    # the exporter accepted the terms it read, and they became the financing's
    assert fin["acceptedTerms"] == {"principal": fin["principal"], "fee": fin["fee"], "maturity": fin["maturity"]}
    assert fin["balanceChanges"] == {label["exporter"]: demo.PRINCIPAL, label["importer"]: -(demo.PRINCIPAL + demo.FEE),
                                     label["hk_bank"]: demo.FEE}

    dup = report["doubleFinancing"]
    assert dup["refused"] == "DuplicateFinancing" and dup["fingerprintStatusBeforeRequest"] == "financed"
    assert dup["invoiceAsPresented"]["invoiceNumber"] != fin["invoiceNumber"]  # another spelling, same invoice
    assert dup["secondBillHolder"] == label["exporter"]  # the refused pledge-and-request never moved it
    assert [e["action"] for e in report["secondBill"]["history"]] == ["issue"]

    # after the story, the regulator reads who anchored the record and that it counts while its provider is active
    sup = report["supervision"]
    assert steps[-1]["actor"] == label["regulator"] == sup["regulator"]
    assert sup["providers"] == [people["credit_provider"]["address"]]
    assert sup["providerNames"] == [label["credit_provider"]]
    assert sup["root"] == credit["record"]["root"] and sup["valid"] is True and credit["record"]["valid"] is True
    assert (sup["providerStatus"], sup["providerActive"], sup["regulatorMayRevoke"]) == ("active", True, True)


def test_demo_tells_the_story_and_leaves_the_chain_for_ebl_bill_history(tmp_path, capsys):
    p = paths(tmp_path)
    assert demo.main(["--json", *demo_args(p)]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    check_story(report)
    assert f"{demo.STEPS}/{demo.STEPS} Regulator checks on chain" in out.err  # progress goes to stderr
    assert report["chainId"] == 31337 and report["network"] == "anvil"
    assert report["stateFile"] == str(p["state"]) and p["state"].is_file()
    assert report["manifest"] == str(p["deployments"] / "31337.json")
    assert not (p["work"] / "staging").exists()

    # the credit provider's commitment is kept per chain: its root is the anchored one, and it still discloses
    assert report["credit"]["commitmentFile"] == str(p["work"] / "31337" / "commitment.json")
    commitment = hashing.Commitment.load(p["work"] / "31337" / "commitment.json")
    assert "0x" + commitment.root.hex() == report["credit"]["record"]["root"]
    report_doc = hashing.load_json_file(report["credit"]["reportFile"])
    assert hashing.disclose(report_doc, commitment, "/score").verify()

    # afterwards: the commands the report prints restart the same chain and show the story
    explore = report["explore"]
    assert explore["node"] == f"ebl node --state-file {p['state']}"
    history, show = explore["commands"]
    assert history == f"ebl --deployments {p['deployments']} bill history {report['bill']['token_id']}"
    with AnvilNode(state_file=p["state"]) as node:  # what `ebl node --state-file ...` runs
        runner, env = CliRunner(mix_stderr=False), {"EBL_RPC_URL": node.url, keys.DEFAULT_KEY_ENV: ""}
        shown = [runner.invoke(cli, ["--json", *shlex.split(c)[1:]], env=env, catch_exceptions=False)
                 for c in (history, show)]
    assert all(r.exit_code == 0 for r in shown), [r.stderr for r in shown]
    events = json.loads(shown[0].stdout)
    assert [e["action"] for e in events] == ACTIONS
    assert [(e["tx_hash"], e["timestamp"]) for e in events] == [
        (e["tx_hash"], e["timestamp"]) for e in report["bill"]["history"]]
    assert json.loads(shown[1].stdout)["state"] == "repaid"


def test_demo_prints_a_report_an_officer_can_read(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)  # captured output, no terminal: lines as long as their text
    assert demo.main(demo_args(paths(tmp_path))) == 0
    out = capsys.readouterr().out
    for title in ("Consortium", "Chain of title: bill VHSL2611HKGSHA0007", "Credit verification trail",
                  "Financing summary", "Regulator's check: Hong Kong Monetary Authority", "Steps and gas"):
        assert title in out
    assert "ENDO+TRNS(PLEDGE)" in out and "pledged into the escrow with the financing request" in out
    assert "only while its provider stays an active credit provider" in out
    assert "REFUSED: DuplicateFinancing" in out and "REFUSED: SameMakerAndChecker" in out
    assert "HKD 11,519,040.00 (80 % advance on the invoice) / HKD 172,785.60 (1.5 % flat for 90 days)" in out
    assert "bill history 0x" in out and "ebl node --state-file" in out
    assert "HKD 2,879,760.00: the rest of the invoice" in out


def test_ebl_demo_runs_the_story_with_tables_that_fit_the_terminal(tmp_path):
    p = paths(tmp_path)
    # $EBL_RPC_URL is for the other commands: the demo starts its own node
    env = {"COLUMNS": "100", "EBL_RPC_URL": "http://127.0.0.1:9"}
    result = CliRunner(mix_stderr=False).invoke(cli, ["demo", *demo_args(p)], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for title in ("Consortium", "Chain of title: bill VHSL2611HKGSHA0007", "Financing summary", "Steps and gas"):
        assert title in out
    table_lines = [line for line in out.splitlines() if line and line[0] in "┃│┏┡└"]
    assert table_lines and max(len(line.rstrip()) for line in table_lines) <= 100
    assert re.search(r"│ 0x[0-9a-f]{4}…[0-9a-f]{4} +│", out)  # a transaction hash, shortened to fit
    assert p["state"].is_file() and (p["deployments"] / "31337.json").is_file()


def test_demo_runs_twice_and_a_failed_run_keeps_the_previous_one(tmp_path, capsys, monkeypatch):
    p = paths(tmp_path)
    assert demo.main(["--json", *demo_args(p)]) == 0
    assert demo.main(["--json", *demo_args(p)]) == 0  # warm and repeatable: a fresh chain each run
    capsys.readouterr()
    kept_files = (p["state"], p["deployments"] / "31337.json", p["work"] / "31337" / "commitment.json")
    kept = {f: f.read_bytes() for f in kept_files}

    def fails(reason):
        assert demo.main(["--json", *demo_args(p)]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("error: ") and reason in err[-1], err[-1]
        assert {f: f.read_bytes() for f in kept_files} == kept
        assert sorted(f.name for f in tmp_path.rglob("*") if "staging" in f.name) == []
        monkeypatch.undo()

    # half-way through the story (step 10 reads the invoice)
    monkeypatch.setattr(demo.samples, "INVOICE", tmp_path / "missing-invoice.json")
    fails("missing-invoice.json")
    # after the story, while the files are prepared
    monkeypatch.setattr(demo.shutil, "copyfile", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left")))
    fails("cannot write the demo's files: [Errno 28] No space left")
    # Anvil stopped without saving the whole chain
    monkeypatch.setattr(demo, "saved_block", lambda path: 3)
    fails("anvil did not save the chain up to block")


def test_demo_refuses_while_a_node_serves_its_chain(tmp_path, capsys):
    p = paths(tmp_path)
    with AnvilNode(state_file=p["state"]):  # `ebl node` on the demo's state file
        assert demo.main(demo_args(p)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {p['state']} is in use by a running node (`ebl node`?): stop it first"]
    assert not p["deployments"].exists()


def test_demo_refuses_bad_options_and_unreachable_nodes(tmp_path, capsys):
    p = paths(tmp_path)
    for wrong in (["--besu-like", "--rpc-url", "http://127.0.0.1:9"], ["--network", "besu"]):
        with pytest.raises(SystemExit) as usage:
            demo.main([*wrong, *demo_args(p)])
        assert usage.value.code == 2
    capsys.readouterr()
    assert demo.main(["--rpc-url", "http://127.0.0.1:9", *demo_args(p)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cannot reach the node at http://127.0.0.1:9")
    assert not p["deployments"].exists() and not p["state"].exists()


def test_demo_on_a_given_node_checks_its_chain_id_before_sending(anvil, chain, tmp_path, capsys):
    p = paths(tmp_path)
    height = chain.w3.eth.block_number
    assert demo.main(["--rpc-url", anvil.url, "--chain-id", "1337", *demo_args(p)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: the node at {anvil.url} serves chain id 31337, expected 1337"]
    assert chain.w3.eth.block_number == height and not p["deployments"].exists()


# --- the besu profile, on Anvil started Besu-like ------------------------------------------------------

#: the ETH/NET/WEB3 methods of Besu's JSON-RPC API that a client signing its own transactions may use
#: (Besu has no eth_sendTransaction, eth_accounts or eth_sign*: it holds no account keys)
BESU_SERVES = {
    "eth_blockNumber", "eth_call", "eth_chainId", "eth_estimateGas", "eth_feeHistory", "eth_gasPrice",
    "eth_getBalance", "eth_getBlockByHash", "eth_getBlockByNumber", "eth_getCode", "eth_getLogs",
    "eth_getStorageAt", "eth_getTransactionByHash", "eth_getTransactionCount", "eth_getTransactionReceipt",
    "eth_maxPriorityFeePerGas", "eth_sendRawTransaction", "eth_syncing", "net_version", "net_listening",
    "net_peerCount", "web3_clientVersion",
}


def test_demo_story_runs_on_the_besu_profile_with_only_methods_besu_serves(tmp_path):
    calls = []
    options = demo.Options(state_file=tmp_path / "besu-like.json", deployments_dir=tmp_path / "deployments",
                           work_dir=tmp_path / "work", besu_like=True)
    report = demo.run(options, Console(quiet=True), lambda method, params: calls.append((method, params)))
    check_story(report)
    assert report["chainId"] == 1337 and report["network"] == "besu"

    methods = {m for m, _ in calls}
    assert sorted(methods - BESU_SERVES) == [], "methods a Besu node does not serve to this client"
    assert {"eth_sendRawTransaction", "eth_estimateGas", "eth_getTransactionReceipt", "eth_getLogs"} <= methods
    assert "eth_maxPriorityFeePerGas" not in methods and "eth_feeHistory" not in methods  # no EIP-1559 pricing

    # every transaction was signed here as a legacy (type 0) transaction at gas price 0 for chain 1337
    raw = [bytes.fromhex(params[0].removeprefix("0x")) for m, params in calls if m == "eth_sendRawTransaction"]
    assert len(raw) == report["transactionCount"]
    for tx in raw:
        assert tx[0] >= 0xC0, "a typed (EIP-2718) transaction was sent; the besu profile sends legacy ones"
        fields = rlp.decode(tx)  # nonce, gasPrice, gas, to, value, data, v, r, s
        gas_price, v = int.from_bytes(fields[1], "big"), int.from_bytes(fields[6], "big")
        assert gas_price == 0 and (v - 35) // 2 == 1337  # EIP-155 replay protection for chain 1337
