"""`make demo`: the whole Hong Kong -> Shanghai story on an embedded Anvil with the platform around it (the
carrier's system speaking DCSA to an `ebl serve` in the demo's process, the regulator's report and audit trail
from the index), its report, the files it leaves on disk and the explore commands it prints, a failed run that
leaves the previous run's files as they were, and the same story on a Besu-like Anvil with the besu profile and
an audit of every JSON-RPC method the demo and its service use."""

import csv
import io
import json
import re
import shlex
import sqlite3
import threading
from pathlib import Path

import pytest
import rlp
from rich.console import Console

from ebl_client import demo, directory, hashing, keys, samples
from ebl_client.chain import Chain
from ebl_client.cli import cli
from ebl_client.demo import carrier as demo_carrier
from ebl_client.demo import runner
from ebl_client.node import AnvilNode, dev_keys

from ..clirunner import cli_runner

ACTIONS = ["issue", "pledge", "transfer_owners", "surrender_for_delivery", "surrender_accepted"]
#: the steps, by number, that send nothing: the directory and the platform's start (off chain), two refusals at
#: gas estimation, and the regulator's check and audit (reads only)
NOTHING_SENT = (3, 9, 16, 21, 22)
REFUSED = [(9, "SameMakerAndChecker"), (16, "DuplicateFinancing")]
#: the steps whose transactions the platform's service sent with the carrier's key, answering its DCSA calls
THROUGH_THE_PLATFORM = (5, 15, 20)
#: (step, caller, call, DCSA code, HTTP status) of every call between the carrier's system and the platform
EXCHANGES = [
    (5, "carrier", "PUT /v3/ebl-issuance-requests", None, 204),
    (5, "platform", "POST /v3/ebl-issuance-responses", "ISSU", 204),
    (15, "carrier", "PUT /v3/ebl-issuance-requests", None, 204),
    (15, "platform", "POST /v3/ebl-issuance-responses", "ISSU", 204),
    (19, "platform", "POST /v3/ebl-surrender-requests", "SREQ", 204),
    (20, "carrier", "POST /v3/ebl-surrender-responses", "SURR", 204),
]
FILE_KEYS = {"stateFile", "manifest", "directory", "index", "creditReport", "commitment", "auditTrail",
             "serviceDatabase", "carrierKeystore"}


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
    assert [s["n"] for s in steps] == list(range(1, demo.STEPS + 1)) and demo.STEPS == 22
    assert [(s["n"], s["refused"]) for s in steps if s["refused"]] == REFUSED
    for s in steps:
        assert s["gasUsed"] == sum(t["gasUsed"] for t in s["transactions"])
        assert all(t["status"] == 1 and t["gasUsed"] > 21_000 and len(t["hash"]) == 66 for t in s["transactions"])
        # every transaction is signed with the acting party's own key (the carrier's by the platform's service)
        assert all(t["sender"] == s["account"] for t in s["transactions"]), s["title"]
    assert [s["n"] for s in steps if not s["transactions"]] == list(NOTHING_SENT)
    assert {s["account"] for s in steps if s["n"] in THROUGH_THE_PLATFORM} == {people["carrier"]["address"]}
    assert len(steps[10]["transactions"]) == 1  # the pledge and the financing request: one transaction
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
    assert history[1]["tx_hash"] == steps[10]["transactions"][0]["hash"]  # ... in the request's own transaction
    assert all(e["time"].endswith("UTC") for e in history)

    # the carrier's system spoke DCSA to the platform; each exchange names the transaction it caused
    exchanges = report["dcsa"]["exchanges"]
    assert [(x["step"], x["caller"], f"{x['method']} {x['path']}", x["code"], x["status"]) for x in exchanges] == \
        EXCHANGES
    assert report["dcsa"]["manifestAlgorithm"] == "ES256" and report["dcsa"]["platform"] == "GBAE"
    issued, _, second_issued, _, surrender_request, surrendered = exchanges
    assert issued["transaction"] is None and issued["reference"] == bill["transport_document_reference"]
    assert exchanges[1]["transaction"] == history[0]["tx_hash"] == steps[4]["transactions"][0]["hash"]
    assert second_issued["reference"] == report["secondBill"]["transport_document_reference"]
    assert exchanges[3]["transaction"] == report["secondBill"]["history"][0]["tx_hash"]
    assert surrender_request["transaction"] == history[3]["tx_hash"] == steps[18]["transactions"][0]["hash"]
    assert "SURRENDER_FOR_DELIVERY" in surrender_request["detail"]
    assert surrendered["transaction"] == history[4]["tx_hash"] == steps[19]["transactions"][0]["hash"]
    assert surrendered["detail"].startswith(surrender_request["detail"].split(";")[0])  # the request it answers

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
    assert fin["invoiceAmount"] == "HKD 14,398,800.00"
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
    assert steps[20]["actor"] == label["regulator"] == sup["regulator"]
    assert sup["providers"] == [people["credit_provider"]["address"]]
    assert sup["providerNames"] == [label["credit_provider"]]
    assert sup["root"] == credit["record"]["root"] and sup["valid"] is True and credit["record"]["valid"] is True
    assert (sup["providerStatus"], sup["providerActive"], sup["regulatorMayRevoke"]) == ("active", True, True)

    # ... and then audits from the index, naming everyone from the directory the chain proves
    audit = report["audit"]
    assert steps[21]["actor"] == label["regulator"] == audit["regulator"] and audit["asRegulator"] is True
    assert audit["directory"] == {"accepted": sorted(p["address"] for p in people.values()), "refused": []}
    last_block = max(t["block"] for s in steps for t in s["transactions"])
    # automine: the last transaction's block is the head; a Besu-like node mines a block a second, sent to or not,
    # so the index synced after the story may hold empty blocks past it
    if report["network"] == "besu":
        assert audit["index"]["lastBlock"] >= last_block
    else:
        assert audit["index"]["lastBlock"] == last_block
    assert audit["index"]["events"] > 37
    summary = audit["report"]
    assert summary["billsByStatusAndJurisdiction"] == {"accomplished": {"HK": 1}, "issued": {"HK": 1}}
    assert summary["exposureByBank"] == {} and summary["overdue"] == [] and summary["defaulted"] == []
    assert summary["maturitiesNext30Days"] == [] and summary["suspendedParticipants"] == []
    assert summary["verificationsByBank"] == {people["hk_bank"]["address"]: {"name": label["hk_bank"],
                                                                            "approved": 1}}
    trail = audit["billTrail"]
    assert {t["bill"] for t in trail} == {bill["token_id"]}
    assert [t["transaction"] for t in trail if t["event"] == "TitleAction"] == [e["tx_hash"] for e in history]
    assert {"BillIssued", "Requested", "Offered", "Accepted", "Funded", "Repaid", "Released"} <= \
        {t["event"] for t in trail}
    assert all(t["actorName"] for t in trail)  # every actor named: the directory's entries, the escrow built in
    assert {t["actorName"] for t in trail} >= {label["carrier"], label["exporter"], label["importer"],
                                               label["hk_bank"]}


def test_demo_tells_the_story_and_leaves_the_chain_for_the_explore_commands(tmp_path, capsys):
    p = paths(tmp_path)
    assert demo.main(["--json", *demo_args(p)]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out)  # nothing but the JSON on stdout
    check_story(report)
    assert f"{demo.STEPS}/{demo.STEPS} Regulator brings the index up to the chain" in out.err  # progress on stderr
    assert report["chainId"] == 31337 and report["network"] == "anvil"
    assert report["stateFile"] == str(p["state"]) and p["state"].is_file()
    assert report["manifest"] == str(p["deployments"] / "31337.json")
    assert not [f for f in tmp_path.rglob("*") if "staging" in f.name]

    # the files it leaves: the chain's directory and index beside its state file, the rest in the work dir
    chain_dir = p["work"] / "31337"
    assert report["files"] == {
        "stateFile": str(p["state"]), "manifest": str(p["deployments"] / "31337.json"),
        "directory": str(tmp_path / "directory-31337.json"), "index": str(tmp_path / "index-31337.sqlite"),
        "creditReport": str(chain_dir / "credit_report.json"), "commitment": str(chain_dir / "commitment.json"),
        "auditTrail": str(chain_dir / "audit-VHSL2611HKGSHA0007.csv"),
        "serviceDatabase": str(chain_dir / "service.sqlite"),
        "carrierKeystore": str(chain_dir / "keystores" / "carrier.json")}
    assert all(Path(f).is_file() for f in report["files"].values())
    assert sorted(f.name for f in tmp_path.iterdir()) == sorted([
        "deployments", "directory-31337.json", "index-31337.sqlite", "state.json", "state.json.lock",
        "state.json.log", "work"])

    # the credit provider's commitment is kept per chain: its root is the anchored one, and it still discloses
    commitment = hashing.Commitment.load(chain_dir / "commitment.json")
    assert "0x" + commitment.root.hex() == report["credit"]["record"]["root"]
    report_doc = hashing.load_json_file(report["credit"]["reportFile"])
    assert hashing.disclose(report_doc, commitment, "/score").verify()

    # the directory publishes every member with the salt it was onboarded with, the carrier with its DCSA endpoint
    # and manifest key; the service database holds the DCSA exchanges; the service signed with the carrier's keystore
    published = directory.load(tmp_path / "directory-31337.json")
    entries = {e["account"]: e for e in published["participants"]}
    people = {p_["handle"]: p_ for p_ in report["participants"]}
    assert len(entries) == 11 and published["chainId"] == 31337
    assert all(hashing.identifier_hash(e["identifier"]["value"], bytes.fromhex(e["salt"][2:])).hex()
               == people_by_address(report)[a]["identifierHash"][2:] for a, e in entries.items())
    carrier = entries[people["carrier"]["address"]]
    assert carrier["carrier"]["callbackUrl"].startswith("http://127.0.0.1:")
    assert json.loads(carrier["carrier"]["signingKey"])["kty"] == "EC"
    assert {"codeListProvider": "SMDG", "partyCode": "VHSL", "codeListName": "LCL"} in carrier["identifyingCodes"]
    with sqlite3.connect(chain_dir / "service.sqlite") as db:
        issued = db.execute("select reference, response_code, tx_hash from issuance_requests order by id").fetchall()
        surrendered = db.execute("select code, action, answer_tx from surrenders").fetchall()
    assert issued == [(x["reference"], "ISSU", x["transaction"]) for x in report["dcsa"]["exchanges"]
                      if x["code"] == "ISSU"]
    assert surrendered == [("SREQ", "SURR", report["dcsa"]["exchanges"][-1]["transaction"])]
    keystore = keys.from_keystore(chain_dir / "keystores" / "carrier.json", demo_carrier.KEYSTORE_PASSWORD)
    assert keystore.address == people["carrier"]["address"] == keys.from_private_key(dev_keys(4)[3]).address
    assert (chain_dir / "keystores" / "carrier.json").stat().st_mode & 0o077 == 0

    # afterwards: the commands the report prints restart the same chain and show the story, the inbox and the audit
    explore = report["explore"]
    assert explore["node"] == f"ebl node --state-file {p['state']}"
    reads = f" --index sqlite:///{tmp_path / 'index-31337.sqlite'} --directory {tmp_path / 'directory-31337.json'}"
    ebl = f"ebl --deployments {p['deployments']}"
    token, regulator = report["bill"]["token_id"], people["regulator"]["address"]
    assert explore["commands"] == [
        f"{ebl} bill history {token}", f"{ebl} finance show 1",
        f"{ebl} inbox --as {people['exporter']['address']}{reads}", f"{ebl} audit report --as {regulator}{reads}",
        f"{ebl} audit export --bill {token} --format csv --as {regulator}{reads}"]
    with AnvilNode(state_file=p["state"]) as node:  # what `ebl node --state-file ...` runs
        runner_, env = cli_runner(), {"EBL_RPC_URL": node.url, keys.DEFAULT_KEY_ENV: ""}
        shown = [runner_.invoke(cli, ["--json", *shlex.split(c)[1:]], env=env, catch_exceptions=False)
                 for c in explore["commands"]]
    assert all(r.exit_code == 0 for r in shown), [r.stderr for r in shown]
    assert not any(r.stderr for r in shown), [r.stderr for r in shown]  # no refused entry, an index up to date
    history, financing, inbox, audit_report, export = shown
    events = json.loads(history.stdout)
    assert [e["action"] for e in events] == ACTIONS
    assert [(e["tx_hash"], e["timestamp"]) for e in events] == [
        (e["tx_hash"], e["timestamp"]) for e in report["bill"]["history"]]
    assert json.loads(financing.stdout)["state"] == "repaid"
    assert json.loads(inbox.stdout) == {"account": people["exporter"]["address"], "accountName":
                                        "Pearl River Electronics Ltd", "asOf": report["audit"]["report"]["asOf"],
                                        "tasks": []}
    assert json.loads(audit_report.stdout)["billsByStatusAndJurisdiction"] == \
        report["audit"]["report"]["billsByStatusAndJurisdiction"]
    # the regulator's export from the command line is the trail the demo kept, byte for byte, names included
    assert export.stdout == (chain_dir / "audit-VHSL2611HKGSHA0007.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(export.stdout)))
    assert [r["transaction"] for r in rows] == [t["transaction"] for t in report["audit"]["billTrail"]]
    assert "Victoria Harbour Shipping Line" in {r["actorName"] for r in rows}


def people_by_address(report):
    return {p["address"]: p for p in report["participants"]}


def test_demo_json_has_one_shape(tmp_path, capsys):
    """The report's keys a machine reads: the same every run."""
    assert demo.main(["--json", *demo_args(paths(tmp_path))]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"chainId", "network", "rpcUrl", "contracts", "admin", "participants", "dcsa", "bill",
                           "secondBill", "credit", "financing", "doubleFinancing", "supervision", "audit", "steps",
                           "gasTotal", "transactionCount", "amountUnits", "stateFile", "manifest", "files", "explore",
                           "seconds"}
    assert set(report["files"]) == FILE_KEYS
    assert set(report["dcsa"]) == {"platform", "carrier", "manifestAlgorithm", "exchanges"}
    assert all(set(x) == {"step", "caller", "method", "path", "message", "reference", "code", "status", "detail",
                          "transaction"} for x in report["dcsa"]["exchanges"])
    assert set(report["audit"]) == {"regulator", "asRegulator", "index", "directory", "report", "billTrail"}
    assert all(set(s) == {"n", "title", "actor", "account", "outcome", "refused", "transactions", "gasUsed", "block",
                          "time"} for s in report["steps"])
    assert all(set(t) == {"hash", "block", "gasUsed", "status", "sender"} for s in report["steps"]
               for t in s["transactions"])
    # amounts are integers of minor units, never floats
    amounts = [report["financing"][k] for k in ("principal", "fee", "repaid", "outstanding", "withdrawnByFinancier")]
    assert all(type(a) is int for a in [*amounts, *report["financing"]["balanceChanges"].values()])
    assert isinstance(report["seconds"], float)


def test_demo_prints_a_report_an_officer_can_read(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)  # captured output, no terminal: lines as long as their text
    assert demo.main(demo_args(paths(tmp_path))) == 0
    out = capsys.readouterr().out
    for title in ("Consortium", "DCSA eBL 3.0 between the carrier's system (Victoria Harbour Shipping Line) and the "
                  "platform (GBAE)", "Chain of title: bill VHSL2611HKGSHA0007", "Credit verification trail",
                  "Financing summary", "Regulator's check on chain: Hong Kong Monetary Authority",
                  "Regulator's audit report from the index: Hong Kong Monetary Authority",
                  "Audit trail of bill VHSL2611HKGSHA0007, exported by the regulator", "Steps and gas",
                  "Files left behind"):
        assert title in out
    for call in ("carrier -> platform", "PUT /v3/ebl-issuance-requests", "POST /v3/ebl-issuance-responses",
                 "POST /v3/ebl-surrender-requests", "POST /v3/ebl-surrender-responses"):
        assert call in out
    assert re.search(r"│ 20 +│ carrier -> platform +│ SURR +│ 204 +│ SurrenderRequestAnswer VHSL2611HKGSHA0007", out)
    assert "ENDO+TRNS(PLEDGE): pledged into the escrow with the financing request" in out
    assert "only while its provider stays an active credit provider" in out
    assert "REFUSED: DuplicateFinancing" in out and "REFUSED: SameMakerAndChecker" in out
    assert "HKD 11,519,040.00 (80 % advance on the invoice) / HKD 172,785.60 (1.5 % flat for 90 days)" in out
    assert "HKD 2,879,760.00: the rest of the invoice" in out
    assert "accomplished: 1 held in HK; issued: 1 held in HK" in out and "Harbour Bank HK: 1 approved" in out
    assert "11 entries proved by their on-chain identifier hashes, 0 refused" in out
    assert re.search(r"│ \d+ +│ \S+ \S+ +│ BillIssued +│ Victoria Harbour Shipping Line", out)
    for command in ("bill history 0x", "ebl node --state-file", "inbox --as 0x", "audit report --as 0x",
                    "audit export --bill 0x"):
        assert command in out
    assert str(tmp_path / "work" / "31337" / "audit-VHSL2611HKGSHA0007.csv") in out


def test_ebl_demo_runs_the_story_with_tables_that_fit_the_terminal(tmp_path):
    p = paths(tmp_path)
    # $EBL_RPC_URL is for the other commands: the demo starts its own node
    env = {"COLUMNS": "100", "EBL_RPC_URL": "http://127.0.0.1:9"}
    result = cli_runner().invoke(cli, ["demo", *demo_args(p)], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for title in ("Consortium", "DCSA eBL 3.0", "Chain of title: bill VHSL2611HKGSHA0007", "Financing summary",
                  "Regulator's audit report", "Audit trail of bill", "Steps and gas"):
        assert title in out
    table_lines = [line for line in out.splitlines() if line and line[0] in "┃│┏┡└┌"]
    assert table_lines and max(len(line.rstrip()) for line in table_lines) <= 100
    assert re.search(r"│ 0x[0-9a-f]{4}…[0-9a-f]{4} +│", out)  # a transaction hash, shortened to fit
    assert p["state"].is_file() and (p["deployments"] / "31337.json").is_file()


def test_demo_runs_twice_and_a_failed_run_keeps_the_previous_one(tmp_path, capsys, monkeypatch):
    p = paths(tmp_path)
    assert demo.main(["--json", *demo_args(p)]) == 0
    assert demo.main(["--json", *demo_args(p)]) == 0  # warm and repeatable: a fresh chain each run
    capsys.readouterr()
    kept = {f: f.read_bytes() for f in tmp_path.rglob("*") if f.is_file() and not f.name.endswith((".log", ".lock"))}
    assert {f.name for f in kept} == {"state.json", "31337.json", "directory-31337.json", "index-31337.sqlite",
                                      "commitment.json", "credit_report.json", "audit-VHSL2611HKGSHA0007.csv",
                                      "service.sqlite", "carrier.json"}

    def fails(reason):
        assert demo.main(["--json", *demo_args(p)]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("error: ") and reason in err[-1], err[-1]
        assert {f: f.read_bytes() for f in kept} == kept
        assert not [f for f in tmp_path.rglob("*") if "staging" in f.name]
        assert not [t.name for t in threading.enumerate() if t.name.startswith(("ebl-serve", "carrier-endpoint"))]
        monkeypatch.undo()

    # half-way through the story (step 11 reads the invoice)
    monkeypatch.setattr(samples, "INVOICE", tmp_path / "missing-invoice.json")
    fails("missing-invoice.json")
    # the platform refuses the carrier's issuance request: the issueTo party is on another platform
    monkeypatch.setattr(demo_carrier.carrier, "issue_to", lambda account, name, platform: {
        "partyName": name, "sendToPlatform": "BOLE", "identifyingCodes": [
            {"codeListProvider": "BOLE", "partyCode": "BOLE001"}]})
    fails("the platform answered REFU to the issuance request for VHSL2611HKGSHA0007")
    # after the story, while the files are prepared
    monkeypatch.setattr(runner.shutil, "copyfile", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left")))
    fails("cannot write the demo's files: [Errno 28] No space left")
    # Anvil stopped without saving the whole chain
    monkeypatch.setattr(runner, "saved_block", lambda path: 3)
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


def test_demo_story_runs_on_the_besu_profile_with_only_methods_besu_serves(tmp_path, monkeypatch):
    """Every connection to the node in this process is recorded: the demo's (which the platform's service shares to
    send the carrier's transactions) and any other, e.g. an indexer's."""
    calls, connections = [], []
    connect = Chain.connect.__func__

    def recording_connect(cls, url=None, profile=None, *, expected_chain_id=None, make_request_hook=None):
        connections.append(url)
        return connect(cls, url, *([profile] if profile is not None else []), expected_chain_id=expected_chain_id,
                       make_request_hook=lambda method, params: calls.append((method, params)))

    monkeypatch.setattr(Chain, "connect", classmethod(recording_connect))
    options = demo.Options(state_file=tmp_path / "besu-like.json", deployments_dir=tmp_path / "deployments",
                           work_dir=tmp_path / "work", besu_like=True)
    report = demo.run(options, Console(quiet=True))
    check_story(report)
    assert report["chainId"] == 1337 and report["network"] == "besu"
    assert len(set(connections)) == 1  # one node: the platform's service sends through the demo's own connection

    methods = {m for m, _ in calls}
    assert sorted(methods - BESU_SERVES) == [], "methods a Besu node does not serve to this client"
    assert {"eth_sendRawTransaction", "eth_estimateGas", "eth_getTransactionReceipt", "eth_getLogs"} <= methods
    assert "eth_maxPriorityFeePerGas" not in methods and "eth_feeHistory" not in methods  # no EIP-1559 pricing

    # every transaction, the platform's included, was signed as a legacy (type 0) transaction at gas price 0
    raw = [bytes.fromhex(params[0].removeprefix("0x")) for m, params in calls if m == "eth_sendRawTransaction"]
    assert len(raw) == report["transactionCount"]
    for tx in raw:
        assert tx[0] >= 0xC0, "a typed (EIP-2718) transaction was sent; the besu profile sends legacy ones"
        fields = rlp.decode(tx)  # nonce, gasPrice, gas, to, value, data, v, r, s
        gas_price, v = int.from_bytes(fields[1], "big"), int.from_bytes(fields[6], "big")
        assert gas_price == 0 and (v - 35) // 2 == 1337  # EIP-155 replay protection for chain 1337
