"""The credit facade on a real chain: the cross-border story and each refusal as a named exception."""


import pytest

from ebl_client import errors, hashing, samples
from ebl_client.credit import Credit
from ebl_client.models import VerificationStatus

from .conftest import travel

DAY = 86_400


@pytest.fixture
def credit(chain, suite, registry):
    return Credit.of(chain, suite)


@pytest.fixture
def report():
    return hashing.load_json_file(samples.CREDIT_REPORT)


def now(chain):
    return chain.block_time()


def test_cross_border_verification_story(credit, credit_parties, report, chain):
    p = credit_parties
    commitment = hashing.commit(report)  # the provider commits; the subject keeps report + commitment
    record = credit.anchor(p["provider"], p["subject"].address, commitment, now(chain) + 90 * DAY)
    assert record.valid and record.provider == p["provider"].address and record.root == "0x" + commitment.root.hex()

    # Across the border: the bank's client recomputes the root and checks one disclosed field on chain.
    assert hashing.recompute_root(report, commitment) == commitment.root
    grade = hashing.disclose(report, commitment, "/rating/grade")
    assert credit.verify_field(p["subject"].address, grade)

    consent = credit.grant_consent(p["subject"], commitment.root, p["bank"].address, now(chain) + 30 * DAY)
    assert consent.live
    made = credit.record_verification(p["maker"], p["bank"].address, p["subject"].address, commitment.root)
    assert made.status is VerificationStatus.RECORDED and not made.approved_and_valid
    checked = credit.approve_verification(p["checker"], p["bank"].address, p["subject"].address)
    assert checked.status is VerificationStatus.APPROVED and checked.maker == p["maker"].address
    assert checked.checker == p["checker"].address and checked.approved_and_valid
    assert credit.has_approved_verification(p["bank"].address, p["subject"].address)
    assert not credit.has_approved_verification(p["other_bank"].address, p["subject"].address)


def test_python_leaves_equal_the_contract_leaves(credit, report):
    commitment = hashing.commit(report)
    for path, value in hashing.flatten(report).items():
        on_chain = credit.field_leaf(path, hashing.canonical_json(value), commitment.salts[path])
        assert on_chain == commitment.leaves[path]


def test_refusals_are_named_with_their_values(credit, credit_parties, report, chain):
    p = credit_parties
    commitment = hashing.commit(report)
    subject, bank = p["subject"].address, p["bank"].address
    with pytest.raises(errors.NotCreditProvider) as caught:
        credit.anchor(p["subject"], subject, commitment, now(chain) + DAY)
    assert caught.value.account == subject
    credit.anchor(p["provider"], subject, commitment, now(chain) + 90 * DAY)
    with pytest.raises(errors.AlreadyAnchored) as caught:
        credit.anchor(p["provider"], subject, commitment, now(chain) + DAY)
    assert caught.value.root == "0x" + commitment.root.hex()
    with pytest.raises(errors.ConsentMissing):
        credit.record_verification(p["maker"], bank, subject, commitment.root)
    credit.grant_consent(p["subject"], commitment.root, bank, now(chain) + 30 * DAY)
    with pytest.raises(errors.NotVerifierOf) as caught:
        credit.record_verification(p["other_officer"], bank, subject, commitment.root)
    assert caught.value.officer == p["other_officer"].address
    credit.record_verification(p["maker"], bank, subject, commitment.root)
    with pytest.raises(errors.SameMakerAndChecker):
        credit.approve_verification(p["maker"], bank, subject)
    credit.withdraw_consent(p["subject"], commitment.root, bank)
    with pytest.raises(errors.ConsentMissing):
        credit.approve_verification(p["checker"], bank, subject)
    with pytest.raises(errors.NotCreditProvider):  # only the provider role may revoke at all
        credit.revoke(p["subject"], subject, commitment.root)


def test_expiry_and_revocation(credit, credit_parties, report, chain):
    p = credit_parties
    a, b = hashing.commit(report), hashing.commit(report)
    subject = p["subject"].address
    credit.anchor(p["provider"], subject, a, now(chain) + 2 * DAY)
    credit.anchor(p["provider"], subject, b, now(chain) + 90 * DAY)
    revoked = credit.revoke(p["provider"], subject, b.root, "restated accounts")
    assert revoked.revoked and not revoked.valid
    with pytest.raises(errors.RecordRevoked):
        credit.grant_consent(p["subject"], b.root, p["bank"].address, now(chain) + DAY)
    travel(chain, 3 * DAY)
    assert not credit.record(subject, a.root).valid
    with pytest.raises(errors.RecordExpired):
        credit.grant_consent(p["subject"], a.root, p["bank"].address, now(chain) + DAY)


def test_anchor_batch(credit, credit_parties, report, signers, chain):
    commitments = [hashing.commit(report) for _ in range(5)]
    items = [(signers[10 + i].address, c.root) for i, c in enumerate(commitments)]
    records = credit.anchor_batch(credit_parties["provider"], items, commitments[0].schema_id, now(chain) + DAY)
    assert [r.valid for r in records] == [True] * 5
    with pytest.raises(errors.AlreadyAnchored):
        credit.anchor_batch(credit_parties["provider"], items[:1], commitments[0].schema_id, now(chain) + DAY)


def test_input_checks_before_sending(credit, credit_parties):
    with pytest.raises(errors.InvalidInput):
        credit.record("0x1234", b"\1" * 32)
    with pytest.raises(errors.InvalidInput, match="32 bytes"):
        credit.record(credit_parties["subject"].address, "0xabcd")
