"""CreditHashRegistry: anchoring, revocation, field proofs, consent and maker-checker verification."""

import json
from pathlib import Path

import ape
import pytest
from eth_utils import keccak

TRADER, FINANCIER, CREDIT_PROVIDER, VERIFIER = 1 << 1, 1 << 2, 1 << 3, 1 << 4
ZERO = "0x" + "00" * 20
SCHEMA = keccak(text="gba-credit-report/v1")
ROOT = keccak(text="root of a salted credit report")
ROOT2 = keccak(text="another report")
DAY = 86_400
VECTOR = json.loads((Path(__file__).parents[1] / "data" / "credit_vector.json").read_text())  # version-1 tree
VECTOR_V2 = json.loads((Path(__file__).parents[1] / "data" / "credit_vector_v2.json").read_text())  # OpenZeppelin's


@pytest.fixture
def parts(project, admin, accounts):
    participants = admin.deploy(project.ParticipantRegistry, admin)
    credit = admin.deploy(project.CreditHashRegistry, participants)
    roles = {1: CREDIT_PROVIDER, 2: CREDIT_PROVIDER, 3: TRADER, 4: FINANCIER, 5: FINANCIER, 8: TRADER}
    for i, role in roles.items():
        participants.onboard((accounts[i], role, b"CN", keccak(i.to_bytes(32, "big")), ZERO), sender=admin)
    for i, bank in ((6, 4), (7, 4), (9, 5)):
        request = (accounts[i], VERIFIER, b"HK", keccak(i.to_bytes(32, "big")), accounts[bank])
        participants.onboard(request, sender=admin)
    return participants, credit


@pytest.fixture
def credit(parts):
    return parts[1]


@pytest.fixture
def participants(parts):
    return parts[0]


@pytest.fixture
def provider(accounts):
    return accounts[1]


@pytest.fixture
def subject(accounts):
    return accounts[3]


@pytest.fixture
def bank(accounts):
    return accounts[4]


@pytest.fixture
def maker(accounts):
    return accounts[6]


@pytest.fixture
def checker(accounts):
    return accounts[7]


def later(chain, seconds=30 * DAY):
    return chain.pending_timestamp + seconds


@pytest.fixture
def anchored(credit, provider, subject, chain):
    credit.anchor(subject, ROOT, SCHEMA, later(chain), sender=provider)
    return ROOT


@pytest.fixture
def consented(anchored, credit, subject, bank, chain):
    credit.grantConsent(ROOT, bank, later(chain, 7 * DAY), sender=subject)
    return ROOT


@pytest.fixture
def recorded(consented, credit, bank, subject, maker):
    credit.recordVerification(bank, subject, ROOT, sender=maker)
    return ROOT


# --- anchoring ------------------------------------------------------------------------------------------


def test_anchor_stores_one_record_and_emits(credit, provider, subject, chain):
    expires = later(chain)
    tx = credit.anchor(subject, ROOT, SCHEMA, expires, sender=provider)
    record = credit.record(subject, ROOT)
    assert (record.provider, record.expiresAt, record.revoked) == (provider, expires, False)
    assert record.anchoredAt == chain.blocks[tx.block_number].timestamp
    assert tx.events == [credit.Anchored(subject, ROOT, provider, SCHEMA, expires)]
    assert credit.isValid(subject, ROOT) and not credit.isValid(subject, ROOT2)


def test_anchor_refusals(credit, participants, admin, provider, subject, accounts, chain):
    with ape.reverts(credit.NotCreditProvider, account=subject):
        credit.anchor(subject, ROOT, SCHEMA, later(chain), sender=subject)
    with ape.reverts(credit.InvalidSubject, subject=ZERO):
        credit.anchor(ZERO, ROOT, SCHEMA, later(chain), sender=provider)
    with ape.reverts(credit.EmptyRoot):
        credit.anchor(subject, b"\0" * 32, SCHEMA, later(chain), sender=provider)
    with ape.reverts(credit.InvalidExpiry):
        credit.anchor(subject, ROOT, SCHEMA, chain.blocks.head.timestamp, sender=provider)
    credit.anchor(subject, ROOT, SCHEMA, later(chain), sender=provider)
    with ape.reverts(credit.AlreadyAnchored, subject=subject, root=ROOT):
        credit.anchor(subject, ROOT, SCHEMA, later(chain), sender=accounts[2])  # not even another provider
    participants.suspend(provider, b"\0" * 32, sender=admin)
    with ape.reverts(credit.NotCreditProvider, account=provider):
        credit.anchor(subject, ROOT2, SCHEMA, later(chain), sender=provider)


def test_the_same_root_may_be_anchored_for_another_subject(credit, provider, subject, accounts, chain):
    credit.anchor(subject, ROOT, SCHEMA, later(chain), sender=provider)
    credit.anchor(accounts[8], ROOT, SCHEMA, later(chain), sender=provider)
    assert credit.isValid(accounts[8], ROOT)


def test_anchor_batch(credit, provider, accounts, chain):
    subjects = [accounts[3], accounts[8], accounts[3]]
    roots = [ROOT, ROOT, ROOT2]
    expires = later(chain)
    tx = credit.anchorBatch(subjects, roots, SCHEMA, expires, sender=provider)
    assert tx.events == [credit.BatchAnchored(provider, SCHEMA, expires, subjects, roots)]
    assert all(credit.isValid(s, r) for s, r in zip(subjects, roots, strict=True))


def test_anchor_batch_refusals(credit, provider, subject, accounts, chain):
    with ape.reverts(credit.BatchSizeInvalid, size=0):
        credit.anchorBatch([], [], SCHEMA, later(chain), sender=provider)
    with ape.reverts(credit.BatchSizeInvalid, size=2):
        credit.anchorBatch([subject, subject], [ROOT], SCHEMA, later(chain), sender=provider)
    too_many = 257
    with ape.reverts(credit.BatchSizeInvalid, size=too_many, max=256):
        credit.anchorBatch([subject] * too_many, [ROOT] * too_many, SCHEMA, later(chain), sender=provider)
    with ape.reverts(credit.NotCreditProvider):
        credit.anchorBatch([subject], [ROOT], SCHEMA, later(chain), sender=subject)
    with ape.reverts(credit.InvalidExpiry):
        credit.anchorBatch([subject], [ROOT], SCHEMA, 1, sender=provider)
    with ape.reverts(credit.AlreadyAnchored, subject=subject, root=ROOT):  # all or nothing
        credit.anchorBatch([accounts[8], subject, subject], [ROOT, ROOT, ROOT], SCHEMA, later(chain), sender=provider)
    assert not credit.isValid(accounts[8], ROOT)


def test_expiry(credit, anchored, subject, chain):
    chain.mine(deltatime=31 * DAY)
    assert not credit.isValid(subject, ROOT)


# --- revocation -----------------------------------------------------------------------------------------


def test_revoke(credit, anchored, provider, subject):
    reason = keccak(text="report superseded after restatement")
    tx = credit.revoke(subject, ROOT, reason, sender=provider)
    assert tx.events == [credit.Revoked(subject, ROOT, provider, reason)]
    assert credit.record(subject, ROOT).revoked and not credit.isValid(subject, ROOT)


def test_revoke_refusals(credit, participants, admin, anchored, provider, subject, accounts):
    with ape.reverts(credit.NotRecordProvider, caller=accounts[2], provider=provider):
        credit.revoke(subject, ROOT, b"\0" * 32, sender=accounts[2])
    with ape.reverts(credit.RecordNotFound, subject=subject, root=ROOT2):
        credit.revoke(subject, ROOT2, b"\0" * 32, sender=provider)
    with ape.reverts(credit.NotCreditProvider):
        credit.revoke(subject, ROOT, b"\0" * 32, sender=subject)
    credit.revoke(subject, ROOT, b"\0" * 32, sender=provider)
    with ape.reverts(credit.RecordRevoked, subject=subject, root=ROOT):
        credit.revoke(subject, ROOT, b"\0" * 32, sender=provider)


# --- field proofs and the test vector ---------------------------------------------------------------------


def test_vector_leaves_match_on_chain(credit):
    for path, field in VECTOR["fields"].items():
        assert credit.fieldLeaf(path, field["canonicalValue"].encode(), field["salt"]).hex() == field["leaf"][2:]


def test_vector_fields_verify_on_chain(credit, provider, subject, chain):
    """The version-1 vector (commitments written before the OpenZeppelin layout) still verifies on chain."""
    from ebl_client import hashing

    root = bytes.fromhex(VECTOR["root"][2:])
    leaves = [bytes.fromhex(f["leaf"][2:]) for f in VECTOR["fields"].values()]
    credit.anchor(subject, root, SCHEMA, later(chain), sender=provider)
    for leaf in leaves:
        assert credit.verifyField(subject, root, leaf, hashing.merkle_proof(leaves, leaf, version=1))
    tampered = keccak(leaves[0])
    assert not credit.verifyField(subject, root, tampered, hashing.merkle_proof(leaves, leaves[0], version=1))
    assert not credit.verifyField(subject, root, leaves[1], hashing.merkle_proof(leaves, leaves[0], version=1))
    credit.revoke(subject, root, b"\0" * 32, sender=provider)
    assert not credit.verifyField(subject, root, leaves[0], hashing.merkle_proof(leaves, leaves[0], version=1))


def test_openzeppelin_vector_verifies_on_chain(credit, provider, subject, chain):
    """The version-2 vector's proofs, as @openzeppelin/merkle-tree wrote them, pass MerkleProof on chain."""
    root = VECTOR_V2["root"]
    credit.anchor(subject, root, SCHEMA, later(chain), sender=provider)
    for field in VECTOR_V2["fields"].values():
        assert credit.verifyField(subject, root, field["leaf"], field["proof"])
    first, second = list(VECTOR_V2["fields"].values())[:2]
    assert not credit.verifyField(subject, root, second["leaf"], first["proof"])


# --- consent ----------------------------------------------------------------------------------------------


def test_grant_and_withdraw_consent(credit, anchored, subject, bank, chain):
    expires = later(chain, 7 * DAY)
    tx = credit.grantConsent(ROOT, bank, expires, sender=subject)
    assert tx.events == [credit.ConsentGranted(subject, ROOT, bank, expires)]
    assert credit.hasConsent(subject, ROOT, bank)
    tx = credit.withdrawConsent(ROOT, bank, sender=subject)
    assert tx.events == [credit.ConsentWithdrawn(subject, ROOT, bank)]
    assert not credit.hasConsent(subject, ROOT, bank) and credit.consent(subject, ROOT, bank).withdrawn


def test_consent_lapses(credit, consented, subject, bank, chain):
    chain.mine(deltatime=8 * DAY)
    assert not credit.hasConsent(subject, ROOT, bank)


def test_consent_refusals(credit, participants, admin, provider, anchored, subject, bank, accounts, chain):
    with ape.reverts(credit.SubjectNotActive, subject=admin):  # the admin is not a participant
        credit.grantConsent(ROOT, bank, later(chain), sender=admin)
    with ape.reverts(credit.RecordNotFound):
        credit.grantConsent(ROOT2, bank, later(chain), sender=subject)
    with ape.reverts(credit.NotFinancier, financier=accounts[8]):
        credit.grantConsent(ROOT, accounts[8], later(chain), sender=subject)
    with ape.reverts(credit.InvalidExpiry):
        credit.grantConsent(ROOT, bank, 1, sender=subject)
    with ape.reverts(credit.ConsentMissing):
        credit.withdrawConsent(ROOT, bank, sender=subject)
    credit.revoke(subject, ROOT, b"\0" * 32, sender=provider)
    with ape.reverts(credit.RecordRevoked):
        credit.grantConsent(ROOT, bank, later(chain), sender=subject)
    credit.anchor(subject, ROOT2, SCHEMA, later(chain, DAY), sender=provider)
    chain.mine(deltatime=2 * DAY)
    with ape.reverts(credit.RecordExpired):
        credit.grantConsent(ROOT2, bank, later(chain), sender=subject)
    participants.suspend(subject, b"\0" * 32, sender=admin)
    with ape.reverts(credit.SubjectNotActive, subject=subject):
        credit.grantConsent(ROOT, bank, later(chain), sender=subject)


def test_withdrawing_twice_is_refused_and_a_suspended_subject_may_withdraw(
        credit, participants, admin, consented, subject, bank):
    participants.suspend(subject, b"\0" * 32, sender=admin)
    credit.withdrawConsent(ROOT, bank, sender=subject)
    with ape.reverts(credit.ConsentMissing, subject=subject, root=ROOT, financier=bank):
        credit.withdrawConsent(ROOT, bank, sender=subject)


# --- maker-checker verification ---------------------------------------------------------------------------


def test_maker_then_checker(credit, consented, bank, subject, maker, checker):
    tx = credit.recordVerification(bank, subject, ROOT, sender=maker)
    assert tx.events == [credit.VerificationRecorded(bank, subject, ROOT, maker)]
    assert not credit.hasApprovedVerification(bank, subject)
    tx = credit.approveVerification(bank, subject, sender=checker)
    assert tx.events == [credit.VerificationApproved(bank, subject, ROOT, checker)]
    v = credit.verification(bank, subject)
    assert (v.root.hex(), v.maker, v.checker, v.status) == (ROOT.hex(), maker, checker, 2)
    assert credit.hasApprovedVerification(bank, subject)


def test_record_refusals(credit, participants, admin, provider, consented, bank, subject, maker, accounts):
    with ape.reverts(credit.NotVerifierOf, officer=subject, financier=bank):
        credit.recordVerification(bank, subject, ROOT, sender=subject)
    with ape.reverts(credit.NotVerifierOf, officer=accounts[9], financier=bank):  # officer of another bank
        credit.recordVerification(bank, subject, ROOT, sender=accounts[9])
    with ape.reverts(credit.ConsentMissing, subject=subject, root=ROOT, financier=accounts[5]):
        credit.recordVerification(accounts[5], subject, ROOT, sender=accounts[9])
    with ape.reverts(credit.RecordNotFound):
        credit.recordVerification(bank, subject, ROOT2, sender=maker)
    credit.withdrawConsent(ROOT, bank, sender=subject)
    with ape.reverts(credit.ConsentMissing):
        credit.recordVerification(bank, subject, ROOT, sender=maker)
    credit.revoke(subject, ROOT, b"\0" * 32, sender=provider)
    with ape.reverts(credit.RecordRevoked):
        credit.recordVerification(bank, subject, ROOT, sender=maker)
    participants.suspend(maker, b"\0" * 32, sender=admin)
    with ape.reverts(credit.NotVerifierOf, officer=maker):
        credit.recordVerification(bank, subject, ROOT, sender=maker)


def test_expired_record_cannot_be_verified(credit, provider, subject, bank, maker, chain):
    credit.anchor(subject, ROOT2, SCHEMA, later(chain, 2 * DAY), sender=provider)
    credit.grantConsent(ROOT2, bank, later(chain, DAY), sender=subject)
    chain.mine(deltatime=3 * DAY)
    with ape.reverts(credit.RecordExpired):
        credit.recordVerification(bank, subject, ROOT2, sender=maker)


def test_approve_refusals(credit, recorded, bank, subject, maker, checker, accounts):
    with ape.reverts(credit.SameMakerAndChecker, officer=maker):
        credit.approveVerification(bank, subject, sender=maker)
    with ape.reverts(credit.NotVerifierOf, officer=accounts[9], financier=bank):
        credit.approveVerification(bank, subject, sender=accounts[9])
    with ape.reverts(credit.VerificationNotRecorded, financier=bank, subject=accounts[8]):
        credit.approveVerification(bank, accounts[8], sender=checker)
    credit.approveVerification(bank, subject, sender=checker)
    with ape.reverts(credit.VerificationAlreadyApproved):
        credit.approveVerification(bank, subject, sender=checker)


def test_approval_rechecks_consent_and_record(credit, provider, recorded, bank, subject, checker):
    credit.withdrawConsent(ROOT, bank, sender=subject)
    with ape.reverts(credit.ConsentMissing):
        credit.approveVerification(bank, subject, sender=checker)


def test_approval_rechecks_revocation(credit, provider, recorded, bank, subject, checker):
    credit.revoke(subject, ROOT, b"\0" * 32, sender=provider)
    with ape.reverts(credit.RecordRevoked):
        credit.approveVerification(bank, subject, sender=checker)


@pytest.mark.parametrize("lapse", ["revoke", "withdraw", "expire"])
def test_an_approved_verification_stops_counting_when_its_basis_lapses(
        credit, provider, recorded, bank, subject, checker, chain, lapse):
    credit.approveVerification(bank, subject, sender=checker)
    assert credit.hasApprovedVerification(bank, subject)
    if lapse == "revoke":
        credit.revoke(subject, ROOT, b"\0" * 32, sender=provider)
    elif lapse == "withdraw":
        credit.withdrawConsent(ROOT, bank, sender=subject)
    else:
        chain.mine(deltatime=8 * DAY)  # consent lapses at 7 days
    assert not credit.hasApprovedVerification(bank, subject)


def test_a_new_recording_needs_a_new_approval(credit, recorded, bank, subject, maker, checker):
    credit.approveVerification(bank, subject, sender=checker)
    credit.recordVerification(bank, subject, ROOT, sender=checker)
    assert credit.verification(bank, subject).status == 1
    assert not credit.hasApprovedVerification(bank, subject)
    credit.approveVerification(bank, subject, sender=maker)
    assert credit.hasApprovedVerification(bank, subject)
