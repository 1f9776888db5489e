"""`ebl bill ...`: the carrier's and the traders' commands, history and verification, the admin's pause,
one-line refusals, and a document refused before any node is contacted."""

import json

import pytest

from ebl_client import deployment, samples
from ebl_client.errors import ExitCode
from ebl_client.models import Role
from ebl_client.participants import Participants

from .conftest import sample_hash
from .test_cli import one_error_line, sent, shows_transaction

DOC = samples.TRANSPORT_DOCUMENT
#: a port nothing listens on: a command that contacts the node fails with "cannot reach the node"
NO_NODE = "http://127.0.0.1:9"


@pytest.fixture
def trade(deployed, chain, admin, signers):
    registry = Participants.of(chain, deployment.load(deployed.manifest.parent, 31337))
    roles = {1: Role.CARRIER, 2: Role.TRADER, 3: Role.TRADER, 4: Role.TRADER}
    for i, role in roles.items():
        registry.onboard(signers[i].address, role, "HK", sample_hash(i), sender=admin)
    run = deployed
    names = dict(zip(("carrier", "shipper", "bank", "importer"), (signers[i] for i in (1, 2, 3, 4)), strict=True))

    def as_(who, *args, **env):
        return run(*args, key=names[who].key.to_0x_hex(), **env)

    issued = as_("carrier", "--json", "bill", "issue", str(DOC), "--holder", names["shipper"].address)
    bill = sent(issued, "bill", sender=names["carrier"].address)
    assert bill["straight"] is False and bill["holder"] == bill["beneficiary"] == names["shipper"].address
    return {"run": run, "as": as_, "token": bill["token_id"], "issued": json.loads(issued.stdout), **names}


def document(tmp_path, name="doc.json", **changes):
    """The sample transport document with `changes` (None removes a field), written to a file."""
    doc = json.loads(DOC.read_text())
    for key, value in changes.items():
        if value is None:
            doc.pop(key)
        else:
            doc[key] = value
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_issue_move_surrender_accept_and_history(trade):
    t, token = trade, str(trade["token"])
    bank, importer = t["bank"].address, t["importer"].address
    endorsed = t["as"]("shipper", "bill", "endorse", token, "--to", bank)
    endorse_tx = shows_transaction(endorsed)  # the table ends with the transaction's hash and block
    moved = sent(t["as"]("shipper", "--json", "bill", "transfer", token, "--to", bank, "--remark", "sold"), "bill",
                 sender=t["shipper"].address)
    assert moved["holder"] == bank
    both = t["as"]("bank", "bill", "transfer-owners", token, "--holder", importer, "--beneficiary", importer)
    assert both.exit_code == 0
    assert t["as"]("importer", "bill", "surrender", token, "--for", "delivery").exit_code == 0
    done = sent(t["as"]("carrier", "--json", "bill", "accept-surrender", token), "bill")
    assert done["status"] == "accomplished"
    history = json.loads(t["run"]("--json", "bill", "history", token).stdout)
    assert [h["action"] for h in history] == ["issue", "endorse", "transfer", "transfer_owners",
                                              "surrender_for_delivery", "surrender_accepted"]
    assert history[0]["tx_hash"] == t["issued"]["transaction"]["hash"]
    assert history[0]["block"] == t["issued"]["transaction"]["block"]
    assert history[1]["tx_hash"] == endorse_tx
    table = t["run"]("bill", "history", token)
    assert "SACC" in table.stdout and "chain of title" in table.stdout


def test_show_by_token_and_by_reference(trade):
    t = trade
    by_token = json.loads(t["run"]("--json", "bill", "show", str(t["token"])).stdout)
    by_ref = json.loads(t["run"]("--json", "bill", "show", "--carrier", t["carrier"].address,
                                 "--reference", "VHSL2611HKGSHA0007").stdout)
    assert by_token == by_ref and by_token["transport_document_reference"] == "VHSL2611HKGSHA0007"
    assert by_token == t["issued"]["bill"]  # a read shows the model alone, as the sending command did
    human = t["run"]("bill", "show", str(t["token"]))
    assert "to order" in human.stdout and "VHSL2611HKGSHA0007" in human.stdout
    one_error_line(t["run"]("bill", "show", "--carrier", t["carrier"].address, "--reference", "NOSUCHREF"),
                   ExitCode.INVALID, "no live bill")
    one_error_line(t["run"]("bill", "show", "0x1234"), ExitCode.INVALID, "no bill with token id 0x1234")


def test_verify_document(trade, tmp_path):
    t = trade
    ok = json.loads(t["run"]("--json", "bill", "verify", str(t["token"]), str(DOC)).stdout)
    assert ok["matches"] is True
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(DOC.read_bytes().replace(b"\"CNSHA\"", b"\"CNNGB\"", 1))
    one_error_line(t["run"]("bill", "verify", str(t["token"]), str(tampered)), ExitCode.NO, "SHA-256 differs")


def test_refusals_are_one_line(trade, chain):
    t, token = trade, str(trade["token"])
    height = chain.w3.eth.block_number
    one_error_line(t["as"]("bank", "bill", "transfer", token, "--to", t["importer"].address), ExitCode.REFUSED,
                   "NotHolder")
    one_error_line(t["as"]("shipper", "bill", "reject", token), ExitCode.REFUSED, "NothingToReject")
    one_error_line(t["as"]("carrier", "bill", "issue", str(DOC), "--holder", t["bank"].address), ExitCode.REFUSED,
                   "BillAlreadyIssued",
                   "VHSL2611HKGSHA0007")
    one_error_line(t["as"]("shipper", "bill", "transfer", "not-a-token", "--to", t["bank"].address), ExitCode.USAGE,
                   "token id")
    one_error_line(t["as"]("shipper", "bill", "nominate", token), ExitCode.INVALID, "--nominee")
    one_error_line(t["run"]("bill", "show"), ExitCode.USAGE, "give TOKEN")
    assert chain.w3.eth.block_number == height


def test_issue_refuses_a_bad_document_with_its_path_before_contacting_the_node(trade, tmp_path, chain):
    t = trade
    height = chain.w3.eth.block_number
    cases = [
        (document(tmp_path, "no-order.json", isToOrder=None), "invalid transport document at /isToOrder",
         "required"),
        (document(tmp_path, "waybill.json", transportDocumentTypeCode="SWB"),
         "at /transportDocumentTypeCode", "not a document of title"),
        (document(tmp_path, "long-ref.json", transportDocumentReference="X" * 21), "at /transportDocumentReference"),
    ]
    for path, *fragments in cases:
        # the node is not even contacted: the document error comes first, also without a key
        one_error_line(t["as"]("carrier", "bill", "issue", str(path), "--holder", t["shipper"].address,
                               EBL_RPC_URL=NO_NODE), ExitCode.INVALID, *fragments)
        one_error_line(t["run"]("--rpc-url", NO_NODE, "bill", "issue", str(path), "--holder", t["shipper"].address,
                                key=""), ExitCode.INVALID, *fragments)
    # the same refusal against the live node: nothing sent
    one_error_line(t["as"]("carrier", "bill", "issue", str(cases[0][0]), "--holder", t["shipper"].address),
                   ExitCode.INVALID, "/isToOrder")
    # an amendment's document too
    one_error_line(t["as"]("carrier", "bill", "amend", str(t["token"]), "--document", str(cases[1][0]),
                           EBL_RPC_URL=NO_NODE), ExitCode.INVALID, "/transportDocumentTypeCode")
    assert chain.w3.eth.block_number == height
    # a good document with an unreachable node is refused by the node check, after the document passed
    other = document(tmp_path, "other.json", transportDocumentReference="VHSL2611HKGSHA0099")
    one_error_line(t["as"]("carrier", "bill", "issue", str(other), "--holder", t["shipper"].address,
                           EBL_RPC_URL=NO_NODE), ExitCode.NODE, "cannot reach the node")


def test_the_document_alone_decides_straight_or_to_order(trade, tmp_path):
    t = trade
    consignee = {"partyName": "Shanghai Huaxin Trading Co., Ltd.",
                 "identifyingCodes": [{"codeListProvider": "SAMR", "partyCode": "91310000MA1FL4B24G"}]}
    doc = json.loads(DOC.read_text())
    doc.update(isToOrder=False, transportDocumentReference="VHSL2611HKGSHA0042")
    doc["documentParties"]["consignee"] = consignee
    straight = tmp_path / "straight.json"
    straight.write_text(json.dumps(doc))
    args = ("bill", "issue", str(straight), "--holder", t["shipper"].address)
    # a straight document needs the consignee's account; refused before the node is contacted
    one_error_line(t["as"]("carrier", *args, EBL_RPC_URL=NO_NODE), ExitCode.INVALID, "straight bill VHSL2611HKGSHA0042",
                   "--beneficiary")
    # the option that overrode the document is gone
    removed = t["as"]("carrier", *args, "--to-order")
    assert removed.exit_code == 2 and "--to-order" in removed.stderr
    bill = sent(t["as"]("carrier", "--json", *args, "--beneficiary", t["importer"].address), "bill")
    assert bill["straight"] is True and bill["beneficiary"] == t["importer"].address
    shown = t["run"]("bill", "show", bill["token_id"])
    assert "straight" in shown.stdout
    one_error_line(t["as"]("shipper", "bill", "endorse", bill["token_id"], "--to", t["bank"].address), ExitCode.REFUSED,
                   "StraightBillNotEndorsable")


def test_amend_and_switch_to_paper(trade, tmp_path, chain):
    t, token = trade, str(trade["token"])
    amended = tmp_path / "amended.json"
    doc = json.loads(DOC.read_text())
    doc["declaredValue"] = 1852000.0
    amended.write_text(json.dumps(doc))
    assert t["as"]("shipper", "bill", "surrender", token, "--for", "amendment").exit_code == 0
    successor = sent(t["as"]("carrier", "--json", "bill", "amend", token, "--document", str(amended)), "bill")
    assert successor["predecessor"] == token and successor["status"] == "issued"
    new = successor["token_id"]
    # the carrier cannot void a bill its holder still controls ...
    height = chain.w3.eth.block_number
    one_error_line(t["as"]("carrier", "bill", "switch-to-paper", new, "--reason", "paper requested"), ExitCode.REFUSED,
                   "InvalidStatus", "issued")
    assert chain.w3.eth.block_number == height
    # ... only once the holder surrendered it for amendment; --reason is required, --remark is not taken
    assert t["as"]("shipper", "bill", "surrender", new, "--for", "amendment").exit_code == 0
    assert t["as"]("carrier", "bill", "switch-to-paper", new).exit_code == 2
    assert t["as"]("carrier", "bill", "switch-to-paper", new, "--reason", "x", "--remark", "y").exit_code == 2
    one_error_line(t["as"]("shipper", "bill", "switch-to-paper", new, "--reason", "mine"), ExitCode.REFUSED,
                   "NotCarrier")
    paper = sent(t["as"]("carrier", "--json", "bill", "switch-to-paper", new,
                         "--reason", "consignee's bank requires paper"), "bill", sender=t["carrier"].address)
    assert paper["status"] == "voided"
    history = json.loads(t["run"]("--json", "bill", "history", new).stdout)
    assert [h["action"] for h in history] == ["issue", "surrender_for_amendment", "switch_to_paper"]


def test_verify_refuses_a_bill_that_no_longer_carries_title(trade):
    t, token = trade, str(trade["token"])
    assert t["as"]("shipper", "bill", "surrender", token, "--for", "amendment").exit_code == 0
    assert t["as"]("carrier", "bill", "amend", token, "--document", str(DOC)).exit_code == 0
    one_error_line(t["run"]("bill", "verify", token, str(DOC)), ExitCode.NO, "voided", "no longer carries title")


def test_pause_stops_every_bill_until_unpause(trade, chain, admin, tmp_path):
    t, token = trade, str(trade["token"])
    height = chain.w3.eth.block_number
    one_error_line(t["as"]("shipper", "bill", "pause"), ExitCode.REFUSED,
                   "AccessControlUnauthorizedAccount", t["shipper"].address)
    one_error_line(t["as"]("carrier", "bill", "unpause"), ExitCode.REFUSED, "AccessControlUnauthorizedAccount")
    assert chain.w3.eth.block_number == height

    paused = sent(t["run"]("--json", "bill", "pause"), "pause", sender=admin.address)
    assert paused == {"contract": "BillOfLadingRegistry", "paused": True}
    one_error_line(t["as"]("shipper", "bill", "transfer", token, "--to", t["bank"].address), ExitCode.REFUSED,
                   "EnforcedPause")
    other = document(tmp_path, transportDocumentReference="VHSL2611HKGSHA0077")
    one_error_line(t["as"]("carrier", "bill", "issue", str(other), "--holder", t["shipper"].address), ExitCode.REFUSED,
                   "EnforcedPause")
    one_error_line(t["run"]("bill", "pause"), ExitCode.REFUSED, "EnforcedPause")  # already paused

    table = t["run"]("bill", "unpause")
    shows_transaction(table)
    assert "BillOfLadingRegistry running" in table.stdout
    one_error_line(t["run"]("bill", "unpause"), ExitCode.REFUSED, "ExpectedPause")
    moved = sent(t["as"]("shipper", "--json", "bill", "transfer", token, "--to", t["bank"].address), "bill")
    assert moved["holder"] == t["bank"].address


def test_history_reads_the_index_when_current_and_verifies_it_against_the_chain(trade, tmp_path):
    t, token = trade, str(trade["token"])
    index, no_index = ({"EBL_INDEX": f"sqlite:///{tmp_path / name}"} for name in ("index.sqlite", "none.sqlite"))
    assert t["run"]("index", "sync", **index).exit_code == 0
    from_index = t["run"]("bill", "history", token, **index)
    assert from_index.exit_code == 0 and "(index)" in from_index.stdout, from_index.stderr
    assert json.loads(t["run"]("--json", "bill", "history", token, **index).stdout) == \
        json.loads(t["run"]("--json", "bill", "history", token, **no_index).stdout)

    # a new action: the index is behind, so the chain answers (and says why), and --verify finds the difference
    assert t["as"]("shipper", "bill", "transfer", token, "--to", t["bank"].address).exit_code == 0
    behind = t["run"]("--json", "bill", "history", token, **index)
    assert [e["action"] for e in json.loads(behind.stdout)] == ["issue", "transfer"]
    assert "note: the index is at block" in behind.stderr and "reading the chain" in behind.stderr
    differs = t["run"]("bill", "history", token, "--verify", **index)
    one_error_line(differs, ExitCode.NO, "differs from the chain's", "the index has 1 actions, the chain 2")
    as_json = json.loads(t["run"]("--json", "bill", "history", token, "--verify", **index).stderr)["error"]
    assert as_json["code"] == "no" and as_json["details"]["tokenId"] == t["token"]

    assert t["run"]("index", "sync", **index).exit_code == 0
    verified = t["run"]("bill", "history", token, "--verify", **index)
    assert verified.exit_code == 0 and "(index, verified)" in verified.stdout
    assert "verified: the index's 2 actions are the chain's" in verified.stderr
    one_error_line(t["run"]("bill", "history", token, "--verify", **no_index), ExitCode.INVALID, "there is no index")
