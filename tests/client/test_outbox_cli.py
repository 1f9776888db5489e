"""`ebl tx list|show|resend|forget`, `ebl bill issue-many` and `ebl credit anchor-many`, in process against
the session Anvil: tables by default, --json for machines, one `error:` line for every failure."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ebl_client import hashing, keys, samples
from ebl_client.errors import ExitCode

from ..clirunner import cli_runner
from .conftest import DAY
from .test_outbox import CARRIER, PROVIDER, SHIPPER, SUBJECT, document, onboard_parties


@pytest.fixture
def ebl(anvil, chain, suite, admin, signers, deployments_dir, tmp_path, snapshot):
    """ebl(*args, key=carrier) -> click Result; the suite deployed and the parties onboarded."""
    from ebl_client.cli import cli

    onboard_parties(chain, suite, admin, signers)
    runner = cli_runner()
    env = {"EBL_RPC_URL": anvil.url, "EBL_DEPLOYMENTS": str(deployments_dir), "EBL_OUTBOX": str(tmp_path / "outbox"),
           keys.PASSWORD_ENV: "", "EBL_KEYSTORE": "", "COLUMNS": None}

    def _run(*args, key=signers[CARRIER], **extra):
        return runner.invoke(cli, list(args), env={**env, keys.DEFAULT_KEY_ENV: key.key.to_0x_hex(), **extra},
                             catch_exceptions=False)

    _run.outbox = tmp_path / "outbox"
    return _run


def one_error(result, *fragments, code: ExitCode) -> str:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    [line] = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    if line.startswith("{"):  # --json: the same line as a JSON error
        error = json.loads(line)["error"]
        assert error["exit"] == code and error["code"] == code.label
        line = "error: " + error["message"]
    assert line.startswith("error: ")
    for fragment in fragments:
        assert fragment in line, line
    return line


def write_documents(folder, refs):
    folder.mkdir()
    for ref in refs:
        (folder / f"{ref}.json").write_text(json.dumps(document(ref)))


def test_issue_many_from_a_folder_and_a_manifest(ebl, signers, tmp_path, chain):
    folder = tmp_path / "documents"
    write_documents(folder, ["CLIMANY001", "CLIMANY002", "CLIMANY003", "CLIMANY004"])
    straight = document("CLIMANY005")
    straight["isToOrder"] = False
    (folder / "CLIMANY005.json").write_text(json.dumps(straight))
    (folder / "manifest.csv").write_text(
        "file,holder,beneficiary,remark\n"
        f"CLIMANY002.json,{signers[SUBJECT].address},,sea waybill for the subject\n"
        f"CLIMANY003.json,{signers[9].address},,\n")  # not onboarded: refused before sending
    start = chain.w3.eth.get_transaction_count(signers[CARRIER].address)

    result = ebl("--json", "bill", "issue-many", str(folder), "--holder", signers[SHIPPER].address)
    one_error(result, "2 of 5 documents did not succeed", "2 refused", code=ExitCode.REFUSED)
    report = json.loads(result.stdout)
    assert report["batch"].startswith("issue-many:")
    items = report["items"]
    assert [(i["file"], i["outcome"], i["errorType"]) for i in items] == [
        ("CLIMANY001.json", "mined", None), ("CLIMANY002.json", "mined", None),
        ("CLIMANY003.json", "refused", "RecipientNotActive"), ("CLIMANY004.json", "mined", None),
        ("CLIMANY005.json", "refused", "InvalidDocument")]
    assert items[1]["bill"]["holder"] == signers[SUBJECT].address
    assert "consignee" in items[4]["error"] and items[4]["reference"] == "CLIMANY005"
    assert chain.w3.eth.get_transaction_count(signers[CARRIER].address) == start + 3

    # the same folder again: what was issued is followed in the outbox, never issued twice
    again = ebl("bill", "issue-many", str(folder), "--holder", signers[SHIPPER].address)
    one_error(again, "2 of 5 documents did not succeed", code=ExitCode.REFUSED)
    assert again.stdout.count("mined (resumed)") == 3 and "RecipientNotActive" in again.stdout
    assert chain.w3.eth.get_transaction_count(signers[CARRIER].address) == start + 3

    listed = ebl("--json", "tx", "list")
    assert listed.exit_code == 0, listed.stderr
    entries = json.loads(listed.stdout)
    assert [(e["label"], e["state"]) for e in entries] == [
        (f"BillOfLadingRegistry.issue CLIMANY00{n}", "mined") for n in (1, 2, 4)]
    table = ebl("tx", "list")
    assert "BillOfLadingRegistry.issue CLIMANY004" in table.stdout and "mined" in table.stdout

    shown = ebl("--json", "tx", "show", entries[0]["hash"])
    detail = json.loads(shown.stdout)
    assert detail["raw"].startswith("0x02") and [r["record"] for r in detail["records"]] == ["signed", "sent", "mined"]
    assert "signed" in ebl("tx", "show", entries[0]["hash"]).stdout

    resent = ebl("tx", "resend")
    assert resent.exit_code == 0 and "nothing pending" in resent.stdout


def test_issue_many_refuses_a_bad_manifest_before_anything_is_signed(ebl, signers, tmp_path):
    folder = tmp_path / "documents"
    write_documents(folder, ["BADMAN0001"])
    (folder / "manifest.csv").write_text("file,holder,consignee\nBADMAN0001.json,0x1,\n")
    one_error(ebl("bill", "issue-many", str(folder)), "unknown column(s) consignee", code=ExitCode.INVALID)
    (folder / "manifest.csv").write_text(f"file,holder\nMISSING.json,{signers[SHIPPER].address}\n")
    one_error(ebl("bill", "issue-many", str(folder)), "line 2 names MISSING.json", code=ExitCode.INVALID)
    one_error(ebl("bill", "issue-many", str(tmp_path / "nowhere")), "is not a folder", code=ExitCode.INVALID)
    assert not (tmp_path / "outbox").exists()


def test_anchor_many_from_a_csv_and_from_a_folder(ebl, signers, tmp_path, chain):
    report = hashing.load_json_file(samples.CREDIT_REPORT)
    folder = tmp_path / "commitments"
    folder.mkdir()
    subjects = [signers[SUBJECT].address, signers[SHIPPER].address]
    for subject in subjects:
        hashing.commit(report).save(folder / f"{subject}.json")
    one = hashing.commit(report)
    one.save(tmp_path / "one.json")
    root = "0x" + hashing.commit(report).root.hex()
    csv = tmp_path / "anchors.csv"
    later = datetime.fromtimestamp(chain.block_time() + 200 * DAY, UTC).date()
    csv.write_text(f"subject,commitment,expires\n{subjects[0]},one.json,\n{subjects[1]},{root},{later}\n"
                   f"0xnot-a-subject,{root},\n{subjects[0]},one.json,\n")
    provider = signers[PROVIDER]

    result = ebl("--json", "credit", "anchor-many", str(csv), "--valid-days", "90", key=provider)
    one_error(result, "2 of 4 anchors did not succeed", "1 reverted", "1 refused", code=ExitCode.INVALID)
    items = json.loads(result.stdout)["items"]
    assert [(i["item"], i["outcome"]) for i in items] == [("line 2", "mined"), ("line 3", "mined"),
                                                          ("line 4", "refused"), ("line 5", "reverted")]
    assert items[0]["record"]["root"] == "0x" + one.root.hex() and items[1]["record"]["expires_at"] == int(
        datetime(later.year, later.month, later.day, tzinfo=UTC).timestamp())
    assert items[3]["errorType"] == "AlreadyAnchored"

    from_folder = ebl("credit", "anchor-many", str(folder), "--expires", str(later), key=provider)
    assert from_folder.exit_code == 0, from_folder.stderr
    assert from_folder.stdout.count("mined") == 2
    one_error(ebl("credit", "anchor-many", str(folder), key=provider), "give --expires DATE or --valid-days N",
              code=ExitCode.INVALID)


def test_tx_commands_fail_in_one_line(ebl, anvil, tmp_path):
    one_error(ebl("tx", "show", "0x" + "ab" * 32), "no transaction 0x" + "ab" * 32, code=ExitCode.INVALID)
    one_error(ebl("tx", "show", "0xdeadbeef"), "is not 32 bytes of hex", code=ExitCode.USAGE)
    down = ebl("tx", "resend", EBL_RPC_URL="http://127.0.0.1:9")
    one_error(down, "cannot reach the node at http://127.0.0.1:9", code=ExitCode.NODE)
    assert ebl("tx", "forget").exit_code == 2  # usage: forget only does --chain-replaced
    listed = ebl("--json", "tx", "list")
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []


def test_a_journal_for_a_replaced_chain_is_refused_then_forgotten_into_the_archive(ebl, signers, chain):
    sender = signers[CARRIER].address
    journal = ebl.outbox / "31337" / f"{sender}.jsonl"
    journal.parent.mkdir(parents=True)
    old = "0x" + "77" * 32
    journal.write_text(
        json.dumps({"record": "journal", "format": 1, "chainId": 31337, "genesis": old, "sender": sender}) + "\n"
        + json.dumps({"record": "signed", "hash": "0x" + "12" * 32, "nonce": 0, "label": "BillOfLadingRegistry.issue "
                      "GONE", "to": None, "raw": "0x00"}) + "\n"
        + '{"record":"sent","ha')  # and a torn last line
    listed = ebl("tx", "list", "--pending")
    assert listed.exit_code == 0 and "GONE" in listed.stdout
    assert "warning: line 3 of" in listed.stderr and "torn" in listed.stderr

    one_error(ebl("tx", "resend"), f"was written for chain 31337 with genesis {old}",
              f"this node's genesis is {chain.genesis_hash}: 1 transaction never reached this chain",
              "ebl tx forget --chain-replaced", code=ExitCode.NODE)
    forgotten = ebl("--json", "tx", "forget", "--chain-replaced")
    assert forgotten.exit_code == 0, forgotten.stderr
    [moved] = json.loads(forgotten.stdout)
    assert moved["pending"] == 1 and "/31337/archive/" in moved["archived"] and not journal.exists()
    assert "nothing pending" in ebl("tx", "resend").stdout
    assert "nothing to forget" in ebl("tx", "forget", "--chain-replaced").stdout
