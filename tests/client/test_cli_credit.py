"""`ebl credit ...`: the officer's and the subject's commands, and their one-line refusals."""

import json
import shutil
from pathlib import Path

import pytest

from ebl_client import deployment, samples
from ebl_client.participants import Participants

from .conftest import onboard_credit_parties, one_error_line, sample_hash


@pytest.fixture
def story(deployed, chain, admin, signers, tmp_path):
    """The CLI's deployment with the credit parties onboarded, the exporter's report and a fresh commitment."""
    registry = Participants.of(chain, deployment.load(deployed.manifest.parent, 31337))
    parties = onboard_credit_parties(lambda i, roles, jurisdiction="HK", institution=None: registry.onboard(
        admin, signers[i].address, roles, jurisdiction, sample_hash(i), institution), signers)
    report = tmp_path / "report.json"
    shutil.copy(samples.CREDIT_REPORT, report)
    made = deployed("--json", "credit", "commit", str(report))
    assert made.exit_code == 0, made.stderr
    info = json.loads(made.stdout)
    return {"run": deployed, "report": report, "commitment": Path(info["commitment"]), "root": info["root"],
            **parties}


def key(account):
    return account.key.to_0x_hex()


def test_commit_writes_the_file_and_refuses_to_overwrite(story):
    assert json.loads(story["commitment"].read_text())["root"] == story["root"]
    before = story["commitment"].read_bytes()
    one_error_line(story["run"]("credit", "commit", str(story["report"])), "refusing to overwrite")
    assert story["commitment"].read_bytes() == before


def test_the_story_through_the_cli(story, tmp_path):
    run, subject, bank = story["run"], story["subject"].address, story["bank"].address
    anchored = run("--json", "credit", "anchor", "--subject", subject, "--commitment", str(story["commitment"]),
                   "--valid-days", "90", key=key(story["provider"]))
    assert anchored.exit_code == 0, anchored.stderr
    assert json.loads(anchored.stdout)["valid"] is True

    checked = run("--json", "credit", "verify", str(story["report"]), "--commitment", str(story["commitment"]),
                  "--subject", subject)
    assert json.loads(checked.stdout)["anchoredAndValid"] is True

    disclosure = tmp_path / "grade.json"
    assert run("credit", "disclose", str(story["report"]), "--commitment", str(story["commitment"]),
               "--field", "/rating/grade", "--out", str(disclosure)).exit_code == 0
    field = run("--json", "credit", "verify-field", str(disclosure), "--subject", subject)
    assert json.loads(field.stdout)["value"] == "BBB+"

    assert run("credit", "consent", "--root", story["root"], "--financier", bank, "--valid-days", "30",
               key=key(story["subject"])).exit_code == 0
    made = run("--json", "credit", "record-verification", "--financier", bank, "--subject", subject,
               "--report", str(story["report"]), "--commitment", str(story["commitment"]), key=key(story["maker"]))
    assert json.loads(made.stdout)["status"] == "recorded", made.stderr
    one_error_line(run("credit", "approve-verification", "--financier", bank, "--subject", subject,
                       key=key(story["maker"])), "SameMakerAndChecker")
    approved = run("--json", "credit", "approve-verification", "--financier", bank, "--subject", subject,
                   key=key(story["checker"]))
    assert json.loads(approved.stdout)["approved_and_valid"] is True
    again = ("credit", "record-verification", "--financier", bank, "--subject", subject, "--report",
             str(story["report"]), "--commitment", str(story["commitment"]))
    one_error_line(run(*again, key=key(story["maker"])), "already holds an approved verification", "--replace")
    status = json.loads(run("--json", "credit", "status", "--subject", subject, "--root", story["root"],
                            "--financier", bank).stdout)
    assert status["record"]["valid"] and status["consent"]["live"] and status["verification"]["status"] == "approved"
    table = run("credit", "status", "--subject", subject, "--financier", bank)
    assert "approved" in table.stdout and story["checker"].address in table.stdout

    assert run("credit", "withdraw-consent", "--root", story["root"], "--financier", bank,
               key=key(story["subject"])).exit_code == 0
    status = json.loads(run("--json", "credit", "status", "--subject", subject, "--financier", bank).stdout)
    assert status["verification"]["approved_and_valid"] is False


def test_a_tampered_report_fails_verification(story):
    run = story["run"]
    doc = json.loads(story["report"].read_text())
    doc["score"] = 799
    story["report"].write_text(json.dumps(doc))
    one_error_line(run("credit", "verify", str(story["report"]), "--commitment", str(story["commitment"])),
                   "does not reproduce root")
    one_error_line(run("credit", "record-verification", "--financier", story["bank"].address, "--subject",
                       story["subject"].address, "--report", str(story["report"]), "--commitment",
                       str(story["commitment"]), key=key(story["maker"])), "nothing recorded")


def test_a_forged_disclosure_fails(story, tmp_path):
    run = story["run"]
    run("credit", "anchor", "--subject", story["subject"].address, "--commitment", str(story["commitment"]),
        "--valid-days", "9", key=key(story["provider"]))
    disclosure = tmp_path / "d.json"
    run("credit", "disclose", str(story["report"]), "--commitment", str(story["commitment"]), "--field", "/score",
        "--out", str(disclosure))
    forged = json.loads(disclosure.read_text())
    forged["value"] = 850
    disclosure.write_text(json.dumps(forged))
    one_error_line(run("credit", "verify-field", str(disclosure), "--subject", story["subject"].address),
                   "do not lead to root")


def test_unanchored_root_and_bad_inputs(story, tmp_path):
    run = story["run"]
    one_error_line(run("credit", "verify", str(story["report"]), "--commitment", str(story["commitment"]),
                       "--subject", story["subject"].address), "not anchored")
    bad = tmp_path / "bad.json"
    bad.write_text('{"score": 1, "score": 2}')
    one_error_line(run("credit", "commit", str(bad)), "duplicate key")
    bad.write_text("[1, 2, 3]")
    one_error_line(run("credit", "commit", str(bad), "--out", str(tmp_path / "x.json")), "JSON object")
    one_error_line(run("credit", "anchor", "--subject", story["subject"].address, "--commitment",
                       str(story["commitment"]), key=key(story["provider"])), "--expires")
    one_error_line(run("credit", "anchor", "--subject", story["subject"].address, "--commitment",
                       str(story["commitment"]), "--valid-days", "3", key=key(story["subject"])), "NotCreditProvider")
