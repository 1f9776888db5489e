"""`ebl bill ...`: the carrier's and the traders' commands, history and verification, one-line refusals."""

import json

import pytest

from ebl_client import deployment, samples
from ebl_client.models import Role
from ebl_client.participants import Participants

from .conftest import one_error_line, sample_hash

DOC = samples.TRANSPORT_DOCUMENT


@pytest.fixture
def trade(deployed, chain, admin, signers):
    registry = Participants.of(chain, deployment.load(deployed.manifest.parent, 31337))
    roles = {1: Role.CARRIER, 2: Role.TRADER, 3: Role.TRADER, 4: Role.TRADER}
    for i, role in roles.items():
        registry.onboard(admin, signers[i].address, role, "HK", sample_hash(i))
    run = deployed
    names = dict(zip(("carrier", "shipper", "bank", "importer"), (signers[i] for i in (1, 2, 3, 4)), strict=True))

    def as_(who, *args):
        return run(*args, key=names[who].key.to_0x_hex())

    issued = as_("carrier", "--json", "bill", "issue", str(DOC), "--holder", names["shipper"].address)
    assert issued.exit_code == 0, issued.stderr
    return {"run": run, "as": as_, "token": json.loads(issued.stdout)["token_id"], **names}


def test_issue_move_surrender_accept_and_history(trade):
    t, token = trade, str(trade["token"])
    bank, importer = t["bank"].address, t["importer"].address
    assert t["as"]("shipper", "bill", "endorse", token, "--to", bank).exit_code == 0
    moved = t["as"]("shipper", "--json", "bill", "transfer", token, "--to", bank, "--remark", "sold")
    assert json.loads(moved.stdout)["holder"] == bank
    both = t["as"]("bank", "bill", "transfer-owners", token, "--holder", importer, "--beneficiary", importer)
    assert both.exit_code == 0
    assert t["as"]("importer", "bill", "surrender", token, "--for", "delivery").exit_code == 0
    done = json.loads(t["as"]("carrier", "--json", "bill", "accept-surrender", token).stdout)
    assert done["status"] == "accomplished"
    history = json.loads(t["run"]("--json", "bill", "history", token).stdout)
    assert [h["action"] for h in history] == ["issue", "endorse", "transfer", "transfer_owners",
                                              "surrender_for_delivery", "surrender_accepted"]
    table = t["run"]("bill", "history", token)
    assert "SACC" in table.stdout and "chain of title" in table.stdout


def test_show_by_token_and_by_reference(trade):
    t = trade
    by_token = json.loads(t["run"]("--json", "bill", "show", str(t["token"])).stdout)
    by_ref = json.loads(t["run"]("--json", "bill", "show", "--carrier", t["carrier"].address,
                                 "--reference", "VHSL2611HKGSHA0007").stdout)
    assert by_token == by_ref and by_token["transport_document_reference"] == "VHSL2611HKGSHA0007"
    human = t["run"]("bill", "show", str(t["token"]))
    assert "to order" in human.stdout and "VHSL2611HKGSHA0007" in human.stdout


def test_verify_document(trade, tmp_path):
    t = trade
    ok = json.loads(t["run"]("--json", "bill", "verify", str(t["token"]), str(DOC)).stdout)
    assert ok["matches"] is True
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(DOC.read_bytes().replace(b"\"CNSHA\"", b"\"CNNGB\"", 1))
    one_error_line(t["run"]("bill", "verify", str(t["token"]), str(tampered)), "SHA-256 differs")


def test_refusals_are_one_line(trade, chain):
    t, token = trade, str(trade["token"])
    height = chain.w3.eth.block_number
    one_error_line(t["as"]("bank", "bill", "transfer", token, "--to", t["importer"].address), "NotHolder")
    one_error_line(t["as"]("shipper", "bill", "reject", token), "NothingToReject")
    one_error_line(t["as"]("carrier", "bill", "issue", str(DOC), "--holder", t["bank"].address), "BillAlreadyIssued",
                   "VHSL2611HKGSHA0007")
    one_error_line(t["as"]("shipper", "bill", "transfer", "not-a-token", "--to", t["bank"].address), "token id")
    one_error_line(t["as"]("shipper", "bill", "nominate", token), "--nominee")
    one_error_line(t["run"]("bill", "show"), "give TOKEN")
    assert chain.w3.eth.block_number == height


def test_amend_and_switch_to_paper(trade, tmp_path):
    t, token = trade, str(trade["token"])
    amended = tmp_path / "amended.json"
    doc = json.loads(DOC.read_text())
    doc["declaredValue"] = 1852000.0
    amended.write_text(json.dumps(doc))
    assert t["as"]("shipper", "bill", "surrender", token, "--for", "amendment").exit_code == 0
    successor = json.loads(t["as"]("carrier", "--json", "bill", "amend", token, "--document", str(amended)).stdout)
    assert successor["predecessor"] == token and successor["status"] == "issued"
    paper = json.loads(t["as"]("carrier", "--json", "bill", "switch-to-paper", str(successor["token_id"]),
                               "--reason", "consignee's bank requires paper").stdout)
    assert paper["status"] == "voided"


def test_verify_refuses_a_bill_that_no_longer_carries_title(trade):
    t, token = trade, str(trade["token"])
    assert t["as"]("shipper", "bill", "surrender", token, "--for", "amendment").exit_code == 0
    assert t["as"]("carrier", "bill", "amend", token, "--document", str(DOC)).exit_code == 0
    one_error_line(t["run"]("bill", "verify", token, str(DOC)), "voided", "no longer carries title")
