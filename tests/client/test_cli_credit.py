"""`ebl credit ...`: the officer's, the subject's and the supervisors' commands, the provider of a record
(named or found), and their one-line refusals."""

import json
import shutil
from pathlib import Path

import pytest

from ebl_client import deployment, samples
from ebl_client.errors import ExitCode
from ebl_client.models import Role
from ebl_client.participants import Participants

from .conftest import onboard_credit_parties, sample_hash
from .test_cli import one_error_line, sent, shows_transaction


@pytest.fixture
def story(deployed, chain, admin, signers, tmp_path):
    """The CLI's deployment with the credit parties onboarded (plus a second provider, 8, and a regulator, 9),
    the exporter's report and a fresh commitment."""
    registry = Participants.of(chain, deployment.load(deployed.manifest.parent, 31337))

    def onboard(i, roles, jurisdiction="HK", institution=None):
        return registry.onboard(signers[i].address, roles, jurisdiction, sample_hash(i), institution, sender=admin)

    parties = onboard_credit_parties(onboard, signers)
    onboard(8, Role.CREDIT_PROVIDER, "HK")
    onboard(9, Role.REGULATOR, "HK")
    report = tmp_path / "report.json"
    shutil.copy(samples.CREDIT_REPORT, report)
    made = deployed("--json", "credit", "commit", str(report))
    assert made.exit_code == 0, made.stderr
    info = json.loads(made.stdout)
    return {"run": deployed, "report": report, "commitment": Path(info["commitment"]), "root": info["root"],
            "registry": registry, "second_provider": signers[8], "regulator": signers[9], **parties}


def key(account):
    return account.key.to_0x_hex()


def anchor(story, provider=None, days="90"):
    provider = provider or story["provider"]
    result = story["run"]("--json", "credit", "anchor", "--subject", story["subject"].address, "--commitment",
                          str(story["commitment"]), "--valid-days", days, key=key(provider))
    return sent(result, "record", sender=provider.address)


def test_commit_writes_the_file_and_refuses_to_overwrite(story):
    assert json.loads(story["commitment"].read_text())["root"] == story["root"]
    before = story["commitment"].read_bytes()
    one_error_line(story["run"]("credit", "commit", str(story["report"])), ExitCode.LOCAL, "refusing to overwrite")
    assert story["commitment"].read_bytes() == before


def test_the_story_through_the_cli(story, tmp_path):
    run, subject, bank = story["run"], story["subject"].address, story["bank"].address
    record = anchor(story)
    assert record["valid"] is True and record["provider"] == story["provider"].address

    checked = run("--json", "credit", "verify", str(story["report"]), "--commitment", str(story["commitment"]),
                  "--subject", subject)
    assert json.loads(checked.stdout)["anchoredAndValid"] is True
    assert json.loads(checked.stdout)["provider"] == story["provider"].address  # the one that anchored it

    disclosure = tmp_path / "grade.json"
    assert run("credit", "disclose", str(story["report"]), "--commitment", str(story["commitment"]),
               "--field", "/rating/grade", "--out", str(disclosure)).exit_code == 0
    field = run("--json", "credit", "verify-field", str(disclosure), "--subject", subject)
    assert json.loads(field.stdout)["value"] == "BBB+"
    assert json.loads(field.stdout)["provider"] == story["provider"].address

    consented = run("credit", "consent", "--root", story["root"], "--financier", bank, "--valid-days", "30",
                    key=key(story["subject"]))
    assert "live" in consented.stdout
    shows_transaction(consented)
    made = run("--json", "credit", "record-verification", "--financier", bank, "--subject", subject,
               "--report", str(story["report"]), "--commitment", str(story["commitment"]), key=key(story["maker"]))
    verification = sent(made, "verification", sender=story["maker"].address)
    assert verification["status"] == "recorded" and verification["provider"] == story["provider"].address
    one_error_line(run("credit", "approve-verification", "--financier", bank, "--subject", subject,
                       key=key(story["maker"])), ExitCode.REFUSED, "SameMakerAndChecker")
    approved = run("--json", "credit", "approve-verification", "--financier", bank, "--subject", subject,
                   key=key(story["checker"]))
    assert sent(approved, "verification", sender=story["checker"].address)["approved_and_valid"] is True
    again = ("credit", "record-verification", "--financier", bank, "--subject", subject, "--report",
             str(story["report"]), "--commitment", str(story["commitment"]))
    one_error_line(run(*again, key=key(story["maker"])), ExitCode.INVALID,
                   "already holds an approved verification", "--replace")
    status = json.loads(run("--json", "credit", "status", "--subject", subject, "--root", story["root"],
                            "--financier", bank).stdout)
    assert status["record"]["valid"] and status["consent"]["live"] and status["verification"]["status"] == "approved"
    table = run("credit", "status", "--subject", subject, "--financier", bank)
    assert "approved" in table.stdout and story["checker"].address in table.stdout

    withdrawn = run("--json", "credit", "withdraw-consent", "--root", story["root"], "--financier", bank,
                    key=key(story["subject"]))
    assert sent(withdrawn, "consent", sender=subject)["withdrawn"] is True
    status = json.loads(run("--json", "credit", "status", "--subject", subject, "--financier", bank).stdout)
    assert status["verification"]["approved_and_valid"] is False


def test_a_record_counts_only_while_its_provider_is_active(story, admin):
    run, subject = story["run"], story["subject"].address
    anchor(story)
    verify = ("credit", "verify", str(story["report"]), "--commitment", str(story["commitment"]), "--subject", subject)
    assert run(*verify).exit_code == 0
    assert run("participants", "suspend", story["provider"].address, "--reason", "licence withdrawn").exit_code == 0
    one_error_line(run(*verify), ExitCode.NO, "is not valid", "no longer an active credit provider")
    status = json.loads(run("--json", "credit", "status", "--subject", subject, "--root", story["root"]).stdout)
    assert status["record"]["valid"] is False and status["record"]["revoked"] is False
    # a suspended provider cannot revoke its own record any more
    one_error_line(run("credit", "revoke", "--subject", subject, "--root", story["root"], key=key(story["provider"])),
                   ExitCode.REFUSED, "NotCreditProvider")


def test_the_provider_is_found_when_only_one_anchored_the_root(story, chain):
    run, subject, root = story["run"], story["subject"].address, story["root"]
    anchor(story)
    anchor(story, story["second_provider"], days="30")  # the same root for the same subject, another provider
    status = ("--json", "credit", "status", "--subject", subject, "--root", root)
    one_error_line(run(*status), ExitCode.INVALID, "2 providers anchored root", "--provider", story["provider"].address,
                   story["second_provider"].address)
    one_error_line(run("credit", "verify", str(story["report"]), "--commitment", str(story["commitment"]),
                       "--subject", subject), ExitCode.INVALID, "--provider")
    height = chain.w3.eth.block_number
    one_error_line(run("credit", "consent", "--root", root, "--financier", story["bank"].address, "--valid-days", "9",
                       key=key(story["subject"])), ExitCode.INVALID, "2 providers", "--provider")
    assert chain.w3.eth.block_number == height
    second = json.loads(run(*status, "--provider", story["second_provider"].address).stdout)["record"]
    first = json.loads(run(*status, "--provider", story["provider"].address).stdout)["record"]
    assert second["provider"] == story["second_provider"].address and first["provider"] == story["provider"].address
    assert second["expires_at"] < first["expires_at"]
    consent = run("--json", "credit", "consent", "--root", root, "--financier", story["bank"].address,
                  "--provider", story["second_provider"].address, "--valid-days", "9", key=key(story["subject"]))
    assert sent(consent, "consent")["provider"] == story["second_provider"].address
    one_error_line(run(*status, "--provider", story["bank"].address), ExitCode.INVALID, "anchored no record")


def test_revoke_own_record(story, chain):
    run, subject, root = story["run"], story["subject"].address, story["root"]
    anchor(story)
    height = chain.w3.eth.block_number
    revoke = ("--json", "credit", "revoke", "--subject", subject, "--root", root, "--reason", "restated accounts")
    # another provider's plain revoke names its own (absent) record: the registry refuses
    one_error_line(run(*revoke, key=key(story["second_provider"])), ExitCode.REFUSED, "RecordNotFound")
    # naming someone else's record without --as-supervisor is refused before anything is sent
    one_error_line(run(*revoke, "--provider", story["provider"].address, key=key(story["second_provider"])),
                   ExitCode.INVALID, "only your own records", "--as-supervisor")
    assert chain.w3.eth.block_number == height
    record = sent(run(*revoke, key=key(story["provider"])), "record", sender=story["provider"].address)
    assert record["revoked"] is True and record["valid"] is False
    one_error_line(run("credit", "verify", str(story["report"]), "--commitment", str(story["commitment"]),
                       "--subject", subject), ExitCode.NO, "revoked")


def test_revoke_as_supervisor(story, chain, admin):
    run, subject, root = story["run"], story["subject"].address, story["root"]
    anchor(story)
    height = chain.w3.eth.block_number
    revoke = ("--json", "credit", "revoke", "--as-supervisor", "--subject", subject, "--root", root)
    # neither a bank nor another provider is a supervisor
    one_error_line(run(*revoke, "--reason", "dispute", key=key(story["bank"])), ExitCode.REFUSED,
                   "NotSupervisor", story["bank"].address)
    one_error_line(run(*revoke, "--provider", story["provider"].address, "--reason", "dispute",
                       key=key(story["second_provider"])), ExitCode.REFUSED, "NotSupervisor")
    one_error_line(run(*revoke, key=key(story["regulator"])), ExitCode.INVALID, "--reason")  # a supervisor says why
    one_error_line(run(*revoke, "--provider", story["bank"].address, "--reason", "x", key=key(story["regulator"])),
                   ExitCode.REFUSED, "RecordNotFound")
    assert chain.w3.eth.block_number == height
    # the regulator, the provider found from the anchor events
    record = sent(run(*revoke, "--reason", "HKMA case 2026-17", key=key(story["regulator"])), "record",
                  sender=story["regulator"].address)
    assert record["revoked"] is True and record["provider"] == story["provider"].address
    # the registry admin too, naming the provider; the table shows the transaction
    anchor(story, story["second_provider"])
    table = run("credit", "revoke", "--as-supervisor", "--provider", story["second_provider"].address,
                "--subject", subject, "--root", root, "--reason", "consortium decision 12")
    tx = shows_transaction(table)
    assert chain.w3.eth.get_transaction(tx)["from"] == admin.address
    assert "revoked" in table.stdout


def test_set_max_validity(story, chain):
    run = story["run"]
    height = chain.w3.eth.block_number
    one_error_line(run("credit", "set-max-validity", "--days", "30", key=key(story["provider"])), ExitCode.REFUSED,
                   "AccessControlUnauthorizedAccount")
    assert run("credit", "set-max-validity", "--days", "0").exit_code == 2
    assert run("credit", "set-max-validity", "--days", "3651").exit_code == 2
    assert chain.w3.eth.block_number == height
    setting = sent(run("--json", "credit", "set-max-validity", "--days", "30"), "setting")
    assert setting == {"contract": "CreditHashRegistry", "name": "max_validity", "seconds": 30 * 86_400, "days": 30}
    assert json.loads(run("--json", "credit", "settings").stdout)["max_validity"]["seconds"] == 30 * 86_400
    assert "30 days" in run("credit", "settings").stdout
    one_error_line(run("credit", "anchor", "--subject", story["subject"].address, "--commitment",
                       str(story["commitment"]), "--valid-days", "31", key=key(story["provider"])),
                   ExitCode.REFUSED, "ExpiryTooFar")
    assert anchor(story, days="29")["valid"] is True


def test_a_tampered_report_fails_verification(story):
    run = story["run"]
    doc = json.loads(story["report"].read_text())
    doc["score"] = 799
    story["report"].write_text(json.dumps(doc))
    one_error_line(run("credit", "verify", str(story["report"]), "--commitment", str(story["commitment"])), ExitCode.NO,
                   "does not reproduce root")
    one_error_line(run("credit", "record-verification", "--financier", story["bank"].address, "--subject",
                       story["subject"].address, "--report", str(story["report"]), "--commitment",
                       str(story["commitment"]), key=key(story["maker"])), ExitCode.NO, "nothing recorded")


def test_a_forged_disclosure_fails(story, tmp_path):
    run = story["run"]
    anchor(story, days="9")
    disclosure = tmp_path / "d.json"
    run("credit", "disclose", str(story["report"]), "--commitment", str(story["commitment"]), "--field", "/score",
        "--out", str(disclosure))
    forged = json.loads(disclosure.read_text())
    forged["value"] = 850
    disclosure.write_text(json.dumps(forged))
    one_error_line(run("credit", "verify-field", str(disclosure), "--subject", story["subject"].address), ExitCode.NO,
                   "do not lead to root")


def test_unanchored_root_and_bad_inputs(story, tmp_path):
    run = story["run"]
    one_error_line(run("credit", "verify", str(story["report"]), "--commitment", str(story["commitment"]),
                       "--subject", story["subject"].address), ExitCode.NO, "not anchored", "--provider")
    bad = tmp_path / "bad.json"
    bad.write_text('{"score": 1, "score": 2}')
    one_error_line(run("credit", "commit", str(bad)), ExitCode.INVALID, "duplicate key")
    bad.write_text("[1, 2, 3]")
    one_error_line(run("credit", "commit", str(bad), "--out", str(tmp_path / "x.json")), ExitCode.INVALID,
                   "JSON object")
    one_error_line(run("credit", "anchor", "--subject", story["subject"].address, "--commitment",
                       str(story["commitment"]), key=key(story["provider"])), ExitCode.INVALID, "--expires")
    one_error_line(run("credit", "anchor", "--subject", story["subject"].address, "--commitment",
                       str(story["commitment"]), "--valid-days", "3", key=key(story["subject"])),
                   ExitCode.REFUSED, "NotCreditProvider")
    one_error_line(run("credit", "anchor", "--subject", story["subject"].address, "--commitment",
                       str(story["commitment"]), "--valid-days", "401", key=key(story["provider"])),
                   ExitCode.REFUSED, "ExpiryTooFar")
    for days in ("nan", "inf", "-1", "0"):
        result = run("credit", "anchor", "--subject", story["subject"].address, "--commitment",
                     str(story["commitment"]), "--valid-days", days, key=key(story["provider"]))
        assert result.exit_code == 2 and "--valid-days" in result.stderr, (days, result.stderr)
    one_error_line(run("credit", "status", "--subject", story["subject"].address, "--root", "0x1234"), ExitCode.USAGE,
                   "32 bytes")
