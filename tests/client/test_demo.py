"""`make demo`: the whole Hong Kong -> Shanghai story on an embedded Anvil, its report, the chain it leaves
on disk, and the same story on a Besu-like Anvil with the besu profile and an audit of the JSON-RPC methods."""

import json

import pytest
import rlp
from click.testing import CliRunner
from rich.console import Console

from ebl_client import demo, hashing, keys
from ebl_client.cli import cli
from ebl_client.node import AnvilNode

ACTIONS = ["issue", "transfer_owners", "transfer_owners", "surrender_for_delivery", "surrender_accepted"]


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
        assert s["refused"] == "SameMakerAndChecker" or s["transactions"], s  # only a refused estimate sends nothing
    assert report["gasTotal"] == sum(s["gasUsed"] for s in steps)
    assert report["transactions"] == sum(len(s["transactions"]) for s in steps) == 40

    bill = report["bill"]
    assert bill["status"] == "accomplished" and bill["documentMatches"] is True
    history = bill["history"]
    assert [e["action"] for e in history] == ACTIONS
    assert [e["holderName"] for e in history] == [label["exporter"], "FinancingEscrow", label["importer"],
                                                  label["carrier"], label["carrier"]]
    assert history[0]["actorName"] == label["carrier"] and history[2]["actorName"] == "FinancingEscrow"
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
    assert fin["balanceChanges"] == {label["exporter"]: demo.PRINCIPAL, label["importer"]: -(demo.PRINCIPAL + demo.FEE),
                                     label["hk_bank"]: demo.FEE}

    dup = report["doubleFinancing"]
    assert dup["refused"] == "DuplicateFinancing" and dup["fingerprintStatusSeenBySecondBank"] == "financed"
    assert dup["invoiceAsPresented"]["invoiceNumber"] != fin["invoiceNumber"]  # another spelling, same invoice
    assert dup["secondBillHolder"] == label["exporter"]  # the refused pledge gave the second bill back
    assert [e["action"] for e in report["secondBill"]["history"]] == ["issue", "transfer_owners", "reject"]


def test_demo_tells_the_story_and_leaves_the_chain_for_ebl_bill_history(tmp_path, capsys):
    p = paths(tmp_path)
    assert demo.main(["--json", *demo_args(p)]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    check_story(report)
    assert f"{demo.STEPS}/{demo.STEPS} Carrier accepts the surrender" in out.err  # progress goes to stderr
    assert report["chainId"] == 31337 and report["network"] == "anvil"
    assert report["stateFile"] == str(p["state"]) and p["state"].is_file()
    assert report["manifest"] == str(p["deployments"] / "31337.json")
    assert not (p["work"] / "staging").exists()

    # the credit provider's commitment is kept: its root is the anchored one, and it still discloses
    commitment = hashing.Commitment.load(p["work"] / "commitment.json")
    assert "0x" + commitment.root.hex() == report["credit"]["record"]["root"]
    report_doc = hashing.load_json_file(p["work"] / "credit_report.json")
    assert hashing.disclose(report_doc, commitment, "/score").verify()

    # afterwards: `ebl node` restarts the same chain and `ebl bill history <id>` shows the story
    with AnvilNode(state_file=p["state"]) as node:
        env = {"EBL_RPC_URL": node.url, "EBL_DEPLOYMENTS": str(p["deployments"]), keys.DEFAULT_KEY_ENV: ""}
        result = CliRunner(mix_stderr=False).invoke(cli, ["--json", "bill", "history", report["bill"]["token_id"]],
                                                    env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    events = json.loads(result.stdout)
    assert [e["action"] for e in events] == ACTIONS
    assert [e["tx_hash"] for e in events] == [e["tx_hash"] for e in report["bill"]["history"]]


def test_demo_prints_a_report_an_officer_can_read(tmp_path, capsys):
    assert demo.main(demo_args(paths(tmp_path))) == 0
    out = capsys.readouterr().out
    for title in ("Consortium", "Chain of title: bill VHSL2611HKGSHA0007", "Credit verification trail",
                  "Financing summary", "Steps and gas"):
        assert title in out
    assert "REFUSED: DuplicateFinancing" in out and "REFUSED: SameMakerAndChecker" in out
    assert "HKD 11,519,040.00 / HKD 172,785.60" in out  # principal / fee
    assert "ebl bill history 0x" in out


def test_demo_runs_twice_and_a_failed_run_keeps_the_previous_one(tmp_path, capsys, monkeypatch):
    p = paths(tmp_path)
    assert demo.main(["--json", *demo_args(p)]) == 0
    assert demo.main(["--json", *demo_args(p)]) == 0  # warm and repeatable: a fresh chain each run
    capsys.readouterr()
    kept = {f: f.read_bytes() for f in (p["state"], p["deployments"] / "31337.json", p["work"] / "commitment.json")}

    monkeypatch.setattr(demo.samples, "INVOICE", tmp_path / "missing-invoice.json")  # fails half-way (step 10)
    assert demo.main(["--json", *demo_args(p)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and "missing-invoice.json" in err[-1]
    assert {f: f.read_bytes() for f in kept} == kept
    assert not (p["work"] / "staging").exists()


def test_demo_refuses_bad_options_and_unreachable_nodes(tmp_path, capsys):
    p = paths(tmp_path)
    with pytest.raises(SystemExit) as usage:
        demo.main(["--besu-like", "--rpc-url", "http://127.0.0.1:9", *demo_args(p)])
    assert usage.value.code == 2
    capsys.readouterr()
    assert demo.main(["--rpc-url", "http://127.0.0.1:9", *demo_args(p)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cannot reach the node at http://127.0.0.1:9")
    assert not p["deployments"].exists() and not p["state"].exists()


def test_demo_on_a_given_node_checks_its_chain_id_before_sending(anvil, tmp_path, capsys):
    p = paths(tmp_path)
    height = anvil_height(anvil)
    assert demo.main(["--rpc-url", anvil.url, "--chain-id", "1337", *demo_args(p)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: the node at {anvil.url} serves chain id 31337, expected 1337"]
    assert anvil_height(anvil) == height and not p["deployments"].exists()


def anvil_height(node):
    from ebl_client.chain import Chain

    return Chain.connect(node.url).w3.eth.block_number


# --- the besu profile, on Anvil started Besu-like ------------------------------------------------------

#: what Besu's JSON-RPC serves to a client that signs its own transactions
BESU_NAMESPACES = ("eth_", "net_", "web3_")
#: eth_ methods that need keys held by the node, which Besu does not hold
NODE_SIGNING = {"eth_sendTransaction", "eth_accounts", "eth_sign", "eth_signTransaction", "eth_signTypedData"}


def test_demo_story_runs_on_the_besu_profile_with_only_methods_besu_serves(tmp_path):
    calls = []
    options = demo.Options(state_file=tmp_path / "besu-like.json", deployments_dir=tmp_path / "deployments",
                           work_dir=tmp_path / "work", besu_like=True)
    report = demo.run(options, Console(quiet=True), lambda method, params: calls.append((method, params)))
    check_story(report)
    assert report["chainId"] == 1337 and report["network"] == "besu"

    methods = {m for m, _ in calls}
    outside = sorted(m for m in methods if not m.startswith(BESU_NAMESPACES) or m in NODE_SIGNING)
    assert outside == [], f"methods Besu does not serve: {outside}"
    assert {"eth_sendRawTransaction", "eth_estimateGas", "eth_getTransactionReceipt", "eth_getLogs"} <= methods
    assert "eth_maxPriorityFeePerGas" not in methods and "eth_feeHistory" not in methods  # no EIP-1559 pricing

    # every transaction was signed here as a legacy (type 0) transaction at gas price 0 for chain 1337
    raw = [bytes.fromhex(params[0].removeprefix("0x")) for m, params in calls if m == "eth_sendRawTransaction"]
    assert len(raw) == report["transactions"]
    for tx in raw:
        assert tx[0] >= 0xC0, "a typed (EIP-2718) transaction was sent; the besu profile sends legacy ones"
        fields = rlp.decode(tx)  # nonce, gasPrice, gas, to, value, data, v, r, s
        gas_price, v = int.from_bytes(fields[1], "big"), int.from_bytes(fields[6], "big")
        assert gas_price == 0 and (v - 35) // 2 == 1337  # EIP-155 replay protection for chain 1337
