"""The credit facade on a real chain: the cross-border story, records keyed by (provider, subject, root),
supervision, and each refusal as a named exception carrying the contract's values."""

from dataclasses import replace

import pytest

from ebl_client import errors, hashing, samples
from ebl_client.credit import CreditRecords
from ebl_client.models import Role, VerificationStatus

from .conftest import travel

DAY = 86_400


@pytest.fixture
def credit(chain, suite, registry):
    return CreditRecords.of(chain, suite)


@pytest.fixture
def report():
    return hashing.load_json_file(samples.CREDIT_REPORT)


def now(chain):
    return chain.block_time()


def test_cross_border_verification_story(credit, credit_parties, report, chain):
    p = credit_parties
    provider, subject, bank = p["provider"].address, p["subject"].address, p["bank"].address
    commitment = hashing.commit(report)  # the provider commits; the subject keeps report + commitment
    record, tx = credit.anchor(subject, commitment, now(chain) + 90 * DAY, sender=p["provider"])
    assert record.valid and record.provider == provider and record.subject == subject
    assert record.root == "0x" + commitment.root.hex() and not record.revoked
    assert record.anchored_at == chain.block_time(tx.block) and tx.sender == provider
    assert credit.get(provider, subject, commitment.root) == record

    # Across the border: the bank's client finds the provider, recomputes the root and checks one field on chain.
    assert credit.providers_of(subject, commitment.root) == [provider]
    assert hashing.recompute_root(report, commitment) == commitment.root
    grade = hashing.disclose(report, commitment, "/rating/grade")
    assert credit.verify_field(provider, subject, grade)
    assert not credit.verify_field(p["other_bank"].address, subject, grade)  # not that provider's record

    consent = credit.grant_consent(provider, commitment.root, bank, now(chain) + 30 * DAY, sender=p["subject"]).value
    assert consent.live and consent.provider == provider and consent.financier == bank
    made = credit.record_verification(bank, subject, provider, commitment.root, sender=p["maker"]).value
    assert made.status is VerificationStatus.RECORDED and not made.approved_and_valid
    assert made.provider == provider and made.root == "0x" + commitment.root.hex()
    checked = credit.approve_verification(bank, subject, sender=p["checker"]).value
    assert checked.status is VerificationStatus.APPROVED and checked.maker == p["maker"].address
    assert checked.checker == p["checker"].address and checked.approved_and_valid
    assert credit.has_approved_verification(bank, subject)
    assert not credit.has_approved_verification(p["other_bank"].address, subject)


def test_a_disclosed_field_is_checked_against_the_records_own_leaf(credit, credit_parties, report, chain):
    """The contract computes the leaf from (path, value, salt): a changed value, salt or path fails, and
    so does an inner node or the root passed off as a field."""
    p = credit_parties
    provider, subject = p["provider"].address, p["subject"].address
    commitment = hashing.commit(report)
    credit.anchor(subject, commitment, now(chain) + 90 * DAY, sender=p["provider"])
    grade = hashing.disclose(report, commitment, "/rating/grade")
    assert credit.verify_field(provider, subject, grade)
    for forged in (replace(grade, value="D"), replace(grade, salt=b"\7" * 32), replace(grade, path="/rating/x"),
                   replace(grade, proof=grade.proof[1:])):
        assert not credit.verify_field(provider, subject, forged)


def test_python_leaves_equal_the_contract_leaves(credit, report):
    commitment = hashing.commit(report)
    for path, value in hashing.flatten(report).items():
        on_chain = credit.field_leaf(path, hashing.canonical_json(value), commitment.salts[path])
        assert on_chain == commitment.leaves[path]


def test_a_record_belongs_to_its_provider(credit, credit_parties, report, chain, onboard, signers):
    """Two providers anchoring one root for one subject hold two records: neither can take the other's over,
    revoke it, or make it count."""
    p = credit_parties
    second = onboard(8, Role.CREDIT_PROVIDER, "HK").address
    subject, commitment = p["subject"].address, hashing.commit(report)
    credit.anchor(subject, commitment, now(chain) + 90 * DAY, sender=p["provider"])
    mine = credit.anchor(subject, commitment, now(chain) + 10 * DAY, sender=signers[8]).value
    assert mine.provider == second and mine.expires_at != credit.get(p["provider"].address, subject,
                                                                       commitment.root).expires_at
    assert credit.providers_of(subject, commitment.root) == [p["provider"].address, second]
    credit.revoke(subject, commitment.root, "superseded", sender=signers[8])  # revokes its own record only
    assert credit.get(second, subject, commitment.root).revoked
    assert credit.get(p["provider"].address, subject, commitment.root).valid
    with pytest.raises(errors.RecordNotFound) as caught:  # the second provider has no record of another subject
        credit.revoke(p["bank"].address, commitment.root, sender=signers[8])
    assert caught.value.provider == second


def test_refusals_are_named_with_their_values(credit, credit_parties, report, chain):
    p = credit_parties
    commitment = hashing.commit(report)
    provider, subject, bank = p["provider"].address, p["subject"].address, p["bank"].address
    with pytest.raises(errors.NotCreditProvider) as caught:
        credit.anchor(subject, commitment, now(chain) + DAY, sender=p["subject"])
    assert caught.value.account == subject
    credit.anchor(subject, commitment, now(chain) + 90 * DAY, sender=p["provider"])
    with pytest.raises(errors.AlreadyAnchored) as caught:
        credit.anchor(subject, commitment, now(chain) + DAY, sender=p["provider"])
    assert caught.value.root == "0x" + commitment.root.hex() and caught.value.provider == provider
    with pytest.raises(errors.ConsentMissing):
        credit.record_verification(bank, subject, provider, commitment.root, sender=p["maker"])
    with pytest.raises(errors.RecordNotFound) as caught:  # consent names the provider: another has no record
        credit.grant_consent(bank, commitment.root, bank, now(chain) + DAY, sender=p["subject"])
    assert caught.value.provider == bank
    credit.grant_consent(provider, commitment.root, bank, now(chain) + 30 * DAY, sender=p["subject"])
    with pytest.raises(errors.NotVerifierOf) as caught:
        credit.record_verification(bank, subject, provider, commitment.root, sender=p["other_officer"])
    assert caught.value.officer == p["other_officer"].address
    credit.record_verification(bank, subject, provider, commitment.root, sender=p["maker"])
    with pytest.raises(errors.SameMakerAndChecker):
        credit.approve_verification(bank, subject, sender=p["maker"])
    credit.withdraw_consent(provider, commitment.root, bank, sender=p["subject"])
    with pytest.raises(errors.ConsentMissing):
        credit.approve_verification(bank, subject, sender=p["checker"])
    with pytest.raises(errors.NotCreditProvider):  # only the provider role may revoke its own at all
        credit.revoke(subject, commitment.root, sender=p["subject"])


def test_expiry_is_capped_by_the_registry(credit, credit_parties, report, chain, admin):
    p = credit_parties
    subject, commitment = p["subject"].address, hashing.commit(report)
    assert credit.max_validity() == 400 * DAY
    with pytest.raises(errors.ExpiryTooFar) as caught:
        credit.anchor(subject, commitment, now(chain) + 401 * DAY, sender=p["provider"])
    assert 0 <= caught.value.latest - (now(chain) + 400 * DAY) <= 15  # judged on the next block's time
    with pytest.raises(errors.InvalidExpiry):
        credit.anchor(subject, commitment, now(chain) - 1, sender=p["provider"])
    with pytest.raises(errors.AccessControlUnauthorizedAccount):
        credit.set_max_validity(800 * DAY, sender=p["provider"])
    assert credit.set_max_validity(800 * DAY, sender=admin).value == 800 * DAY
    assert credit.anchor(subject, commitment, now(chain) + 700 * DAY, sender=p["provider"]).value.valid
    for out_of_range in (DAY - 1, 3651 * DAY):
        with pytest.raises(errors.InvalidMaxValidity):
            credit.set_max_validity(out_of_range, sender=admin)
    assert credit.max_validity() == 800 * DAY


def test_expiry_and_revocation(credit, credit_parties, report, chain):
    p = credit_parties
    a, b = hashing.commit(report), hashing.commit(report)
    provider, subject = p["provider"].address, p["subject"].address
    credit.anchor(subject, a, now(chain) + 2 * DAY, sender=p["provider"])
    credit.anchor(subject, b, now(chain) + 90 * DAY, sender=p["provider"])
    revoked = credit.revoke(subject, b.root, "restated accounts", sender=p["provider"]).value
    assert revoked.revoked and not revoked.valid
    with pytest.raises(errors.RecordRevoked):
        credit.revoke(subject, b.root, "again", sender=p["provider"])
    with pytest.raises(errors.RecordRevoked):
        credit.grant_consent(provider, b.root, p["bank"].address, now(chain) + DAY, sender=p["subject"])
    travel(chain, 3 * DAY)
    assert not credit.get(provider, subject, a.root).valid
    with pytest.raises(errors.RecordExpired):
        credit.grant_consent(provider, a.root, p["bank"].address, now(chain) + DAY, sender=p["subject"])


def test_supervisors_revoke_any_record_others_may_not(credit, credit_parties, report, chain, admin, onboard,
                                                      signers):
    p = credit_parties
    regulator = onboard(8, Role.REGULATOR, "CN")
    provider, subject = p["provider"].address, p["subject"].address
    a, b = hashing.commit(report), hashing.commit(report)
    credit.anchor(subject, a, now(chain) + 90 * DAY, sender=p["provider"])
    credit.anchor(subject, b, now(chain) + 90 * DAY, sender=p["provider"])
    for not_a_supervisor in (p["bank"], p["subject"], p["provider"]):  # not even the owner, by this route
        with pytest.raises(errors.NotSupervisor) as caught:
            credit.revoke_as_supervisor(provider, subject, a.root, "dispute", sender=not_a_supervisor)
        assert caught.value.caller == not_a_supervisor.address
    record, tx = credit.revoke_as_supervisor(provider, subject, a.root, "court order 2026/17", sender=admin)
    assert record.revoked and not record.valid and tx.sender == admin.address
    assert credit.revoke_as_supervisor(provider, subject, b.root, "PBoC notice", sender=signers[8]).value.revoked
    assert regulator.roles == Role.REGULATOR
    (event,) = credit.contract.events.Revoked().get_logs(from_block=tx.block, to_block=tx.block)
    assert event["args"]["revokedBy"] == admin.address and event["args"]["provider"] == provider
    assert event["args"]["reasonHash"] == hashing.text_hash("court order 2026/17")
    with pytest.raises(errors.RecordRevoked):
        credit.revoke_as_supervisor(provider, subject, a.root, "again", sender=admin)
    with pytest.raises(errors.RecordNotFound):
        credit.revoke_as_supervisor(provider, subject, b"\5" * 32, "no such record", sender=admin)


def test_anchor_batch(credit, credit_parties, report, signers, chain):
    commitments = [hashing.commit(report) for _ in range(5)]
    items = [(signers[10 + i].address, c.root) for i, c in enumerate(commitments)]
    provider = credit_parties["provider"]
    records = credit.anchor_batch(items, commitments[0].schema_id, now(chain) + DAY, sender=provider).value
    assert [r.valid for r in records] == [True] * 5 and {r.provider for r in records} == {provider.address}
    assert credit.providers_of(items[3][0], items[3][1]) == [provider.address]  # found in the batch event
    with pytest.raises(errors.AlreadyAnchored):
        credit.anchor_batch(items[:1], commitments[0].schema_id, now(chain) + DAY, sender=provider)
    with pytest.raises(errors.BatchSizeInvalid):
        credit.anchor_batch([], commitments[0].schema_id, now(chain) + DAY, sender=provider)


def test_get_of_an_unknown_record_is_credit_record_not_found(credit, credit_parties, report):
    p = credit_parties
    with pytest.raises(errors.CreditRecordNotFound) as caught:
        credit.get(p["provider"].address, p["subject"].address, hashing.commit(report).root)
    assert isinstance(caught.value, errors.NotFound)
    assert credit.providers_of(p["subject"].address, b"\1" * 32) == []
    assert not credit.is_valid(p["provider"].address, p["subject"].address, b"\1" * 32)


def test_input_checks_before_sending(credit, credit_parties):
    p = credit_parties
    with pytest.raises(errors.InvalidInput):
        credit.get(p["provider"].address, "0x1234", b"\1" * 32)
    with pytest.raises(errors.InvalidInput, match="32 bytes"):
        credit.get(p["provider"].address, p["subject"].address, "0xabcd")
    with pytest.raises(errors.InvalidInput, match="expiry"):
        credit.anchor(p["subject"].address, hashing.commit({"a": 1}), 0, sender=p["provider"])
