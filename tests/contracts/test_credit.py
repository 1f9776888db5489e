"""CreditHashRegistry: anchoring, revocation (own and supervisory), capped expiry, field proofs with the leaf
computed on chain, consent and maker-checker verification; records keyed by (provider, subject, root) and
valid only while their provider is an active credit provider.

The regression tests of the security review's findings are named after the finding and state what the old
code did; each performs the attack."""

import json
from pathlib import Path

import ape
import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

TRADER, FINANCIER, CREDIT_PROVIDER, VERIFIER, REGULATOR = 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5
ZERO = "0x" + "00" * 20
NO_REASON = b"\0" * 32
SCHEMA = keccak(text="gba-credit-report/v1")
ROOT = keccak(text="root of a salted credit report")
ROOT2 = keccak(text="another report")
DAY = 86_400
MAX_VALIDITY = 365 * DAY
VECTOR = json.loads((Path(__file__).parents[1] / "data" / "credit_vector.json").read_text())  # version-1 tree
VECTOR_V2 = json.loads((Path(__file__).parents[1] / "data" / "credit_vector_v2.json").read_text())  # OpenZeppelin's


@pytest.fixture
def parts(project, admin, accounts):
    """Providers A (1) and B (2); traders 3 and 8; financiers 4 and 5 with verifier officers 6, 7 (of 4) and
    9 (of 5); two regulators, the second suspended."""
    participants = admin.deploy(project.ParticipantRegistry, admin)
    credit = admin.deploy(project.CreditHashRegistry, participants, admin, MAX_VALIDITY)
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
def provider_b(accounts):
    return accounts[2]


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


@pytest.fixture(scope="session")
def regulator_accounts(accounts, admin):
    """Two funded accounts made for this module: an active and a (to be) suspended regulator."""
    made = [accounts.generate_test_account() for _ in range(2)]
    for account in made:
        admin.transfer(account, 10**19)
    return made


@pytest.fixture
def regulators(participants, admin, regulator_accounts):
    active, suspended = regulator_accounts
    for i, account in enumerate(regulator_accounts):
        participants.onboard((account, REGULATOR, b"HK", keccak((100 + i).to_bytes(32, "big")), ZERO), sender=admin)
    participants.suspend(suspended, keccak(text="licence withdrawn"), sender=admin)
    return active, suspended


def later(chain, seconds=30 * DAY):
    return chain.pending_timestamp + seconds


@pytest.fixture
def anchored(credit, provider, subject, chain):
    credit.anchor(subject, ROOT, SCHEMA, later(chain), sender=provider)
    return ROOT


@pytest.fixture
def consented(anchored, credit, provider, subject, bank, chain):
    credit.grantConsent(provider, ROOT, bank, later(chain, 7 * DAY), sender=subject)
    return ROOT


@pytest.fixture
def recorded(consented, credit, provider, bank, subject, maker):
    credit.recordVerification(bank, subject, provider, ROOT, sender=maker)
    return ROOT


# --- construction and settings ------------------------------------------------------------------------------


def test_constructor(project, credit, participants, admin, provider):
    assert credit.participantRegistry() == participants.address and credit.maxValidity() == MAX_VALIDITY
    assert credit.hasRole(NO_REASON, admin) and not credit.hasRole(NO_REASON, provider)
    for bad in (DAY - 1, 3650 * DAY + 1, 0):
        with ape.reverts(project.CreditHashRegistry.InvalidMaxValidity, maxValidity=bad):
            admin.deploy(project.CreditHashRegistry, participants, admin, bad)


# --- anchoring ------------------------------------------------------------------------------------------


def test_anchor_stores_one_record_and_emits(credit, provider, subject, chain):
    expires = later(chain)
    tx = credit.anchor(subject, ROOT, SCHEMA, expires, sender=provider)
    record = credit.record(provider, subject, ROOT)
    assert (record.provider, record.expiresAt, record.revoked) == (provider, expires, False)
    assert record.anchoredAt == chain.blocks[tx.block_number].timestamp
    assert tx.events == [credit.Anchored(subject, ROOT, provider, SCHEMA, expires)]
    assert credit.isValid(provider, subject, ROOT) and not credit.isValid(provider, subject, ROOT2)


def test_anchor_refusals(credit, participants, admin, provider, subject, chain):
    with ape.reverts(credit.NotCreditProvider, account=subject):
        credit.anchor(subject, ROOT, SCHEMA, later(chain), sender=subject)
    with ape.reverts(credit.NotCreditProvider, account=admin):  # the registry admin cannot anchor
        credit.anchor(subject, ROOT, SCHEMA, later(chain), sender=admin)
    with ape.reverts(credit.InvalidSubject, subject=ZERO):
        credit.anchor(ZERO, ROOT, SCHEMA, later(chain), sender=provider)
    with ape.reverts(credit.EmptyRoot):
        credit.anchor(subject, b"\0" * 32, SCHEMA, later(chain), sender=provider)
    with ape.reverts(credit.InvalidExpiry):
        credit.anchor(subject, ROOT, SCHEMA, chain.blocks.head.timestamp, sender=provider)
    credit.anchor(subject, ROOT, SCHEMA, later(chain), sender=provider)
    with ape.reverts(credit.AlreadyAnchored, provider=provider, subject=subject, root=ROOT):
        credit.anchor(subject, ROOT, SCHEMA, later(chain), sender=provider)
    participants.suspend(provider, NO_REASON, sender=admin)
    with ape.reverts(credit.NotCreditProvider, account=provider):
        credit.anchor(subject, ROOT2, SCHEMA, later(chain), sender=provider)


def test_the_same_root_may_be_anchored_for_another_subject(credit, provider, subject, accounts, chain):
    credit.anchor(subject, ROOT, SCHEMA, later(chain), sender=provider)
    credit.anchor(accounts[8], ROOT, SCHEMA, later(chain), sender=provider)
    assert credit.isValid(provider, accounts[8], ROOT)


def test_anchor_batch(credit, provider, accounts, chain):
    subjects = [accounts[3], accounts[8], accounts[3]]
    roots = [ROOT, ROOT, ROOT2]
    expires = later(chain)
    tx = credit.anchorBatch(subjects, roots, SCHEMA, expires, sender=provider)
    assert tx.events == [credit.BatchAnchored(provider, SCHEMA, expires, subjects, roots)]
    assert all(credit.isValid(provider, s, r) for s, r in zip(subjects, roots, strict=True))


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
    with ape.reverts(credit.ExpiryTooFar, expiresAt=2**40 - 1):
        credit.anchorBatch([subject], [ROOT], SCHEMA, 2**40 - 1, sender=provider)
    with ape.reverts(credit.AlreadyAnchored, provider=provider, subject=subject, root=ROOT):  # all or nothing
        credit.anchorBatch([accounts[8], subject, subject], [ROOT, ROOT, ROOT], SCHEMA, later(chain), sender=provider)
    assert not credit.isValid(provider, accounts[8], ROOT)


def test_expiry(credit, anchored, provider, subject, chain):
    chain.mine(deltatime=31 * DAY)
    assert not credit.isValid(provider, subject, ROOT)


def test_expiry_is_capped(credit, admin, provider, subject, outsider, chain):
    """Finding: an anchor could claim any expiry, up to 2**40 - 1 (the year 36812), so a record stayed valid for
    ever unless its provider revoked it. The old code stored it; now the expiry is capped by `maxValidity`, which
    only the registry admin sets, between one day and ten years."""
    with ape.reverts(credit.ExpiryTooFar, expiresAt=2**40 - 1):
        credit.anchor(subject, ROOT, SCHEMA, 2**40 - 1, sender=provider)
    hour = 3_600  # margins of an hour either side keep this independent of how fast blocks are mined
    with ape.reverts(credit.ExpiryTooFar, expiresAt=later(chain, MAX_VALIDITY + hour)):
        credit.anchor(subject, ROOT, SCHEMA, later(chain, MAX_VALIDITY + hour), sender=provider)
    credit.anchor(subject, ROOT, SCHEMA, later(chain, MAX_VALIDITY - hour), sender=provider)
    assert credit.record(provider, subject, ROOT).provider == provider

    # the bounds of the setting, and who sets it
    with ape.reverts(credit.AccessControlUnauthorizedAccount, account=provider):
        credit.setMaxValidity(10 * DAY, sender=provider)
    with ape.reverts(credit.AccessControlUnauthorizedAccount, account=outsider):
        credit.setMaxValidity(10 * DAY, sender=outsider)
    for bad in (0, DAY - 1, 3650 * DAY + 1, 2**40 - 1):
        with ape.reverts(credit.InvalidMaxValidity, maxValidity=bad):
            credit.setMaxValidity(bad, sender=admin)
    for good in (DAY, 3650 * DAY, 10 * DAY):
        tx = credit.setMaxValidity(good, sender=admin)
        assert tx.events == [credit.MaxValidityChanged(good)] and credit.maxValidity() == good
    # a lower cap applies to new anchors only: the record above keeps its expiry
    with ape.reverts(credit.ExpiryTooFar):
        credit.anchor(subject, ROOT2, SCHEMA, later(chain, 10 * DAY + hour), sender=provider)
    credit.anchor(subject, ROOT2, SCHEMA, later(chain, 10 * DAY - hour), sender=provider)
    chain.mine(deltatime=11 * DAY)
    assert credit.isValid(provider, subject, ROOT) and not credit.isValid(provider, subject, ROOT2)


# --- revocation -----------------------------------------------------------------------------------------


def test_revoke(credit, anchored, provider, subject):
    reason = keccak(text="report superseded after restatement")
    tx = credit.revoke(subject, ROOT, reason, sender=provider)
    assert tx.events == [credit.Revoked(subject, ROOT, provider, provider, reason)]
    assert credit.record(provider, subject, ROOT).revoked and not credit.isValid(provider, subject, ROOT)


def test_revoke_refusals(credit, participants, admin, anchored, provider, provider_b, subject, chain):
    # another provider only ever reaches its own (provider, subject, root): it has no such record
    with ape.reverts(credit.RecordNotFound, provider=provider_b, subject=subject, root=ROOT):
        credit.revoke(subject, ROOT, NO_REASON, sender=provider_b)
    with ape.reverts(credit.RecordNotFound, provider=provider, subject=subject, root=ROOT2):
        credit.revoke(subject, ROOT2, NO_REASON, sender=provider)
    with ape.reverts(credit.NotCreditProvider):
        credit.revoke(subject, ROOT, NO_REASON, sender=subject)
    credit.revoke(subject, ROOT, NO_REASON, sender=provider)
    with ape.reverts(credit.RecordRevoked, provider=provider, subject=subject, root=ROOT):
        credit.revoke(subject, ROOT, NO_REASON, sender=provider)
    # a suspended provider can no longer revoke (a supervisor can, see below)
    credit.anchor(subject, ROOT2, SCHEMA, later(chain), sender=provider)
    participants.suspend(provider, NO_REASON, sender=admin)
    with ape.reverts(credit.NotCreditProvider, account=provider):
        credit.revoke(subject, ROOT2, NO_REASON, sender=provider)


def test_supervisor_revokes_any_record(credit, participants, admin, provider, provider_b, subject, accounts,
                                       regulators, chain):
    """Finding: only the anchoring provider could revoke a record, so a record of a provider that was suspended
    or struck off (or that would not act) could not be revoked by anyone. The old code had no supervisory
    revocation; now the registry admin and any active regulator revoke any provider's record, with a reason,
    and nobody else can."""
    regulator, suspended_regulator = regulators
    credit.anchor(subject, ROOT, SCHEMA, later(chain), sender=provider)
    credit.anchor(subject, ROOT2, SCHEMA, later(chain), sender=provider)
    credit.anchor(accounts[8], ROOT, SCHEMA, later(chain), sender=provider_b)
    for stranger in (subject, provider_b, suspended_regulator, accounts[4], accounts[6]):
        with ape.reverts(credit.NotSupervisor, caller=stranger):
            credit.revokeAsSupervisor(provider, subject, ROOT, NO_REASON, sender=stranger)
    assert credit.isValid(provider, subject, ROOT)

    # the provider is suspended: its own revocation is refused, the supervisors' is not
    participants.suspend(provider, NO_REASON, sender=admin)
    decision = keccak(text="supervisory decision 2024/17")
    tx = credit.revokeAsSupervisor(provider, subject, ROOT, decision, sender=admin)
    assert tx.events == [credit.Revoked(subject, ROOT, provider, admin, decision)]
    tx = credit.revokeAsSupervisor(provider, subject, ROOT2, decision, sender=regulator)
    assert tx.events == [credit.Revoked(subject, ROOT2, provider, regulator, decision)]
    tx = credit.revokeAsSupervisor(provider_b, accounts[8], ROOT, decision, sender=regulator)
    assert tx.events == [credit.Revoked(accounts[8], ROOT, provider_b, regulator, decision)]
    participants.reinstate(provider, sender=admin)
    assert all(credit.record(p, s, r).revoked for p, s, r in
               ((provider, subject, ROOT), (provider, subject, ROOT2), (provider_b, accounts[8], ROOT)))
    assert not credit.isValid(provider, subject, ROOT) and not credit.isValid(provider_b, accounts[8], ROOT)
    with ape.reverts(credit.RecordRevoked, provider=provider, subject=subject, root=ROOT):
        credit.revokeAsSupervisor(provider, subject, ROOT, decision, sender=regulator)
    with ape.reverts(credit.RecordNotFound, provider=provider_b, subject=subject, root=ROOT):
        credit.revokeAsSupervisor(provider_b, subject, ROOT, decision, sender=admin)
    # a regulator that loses the role (or is reinstated without it) is no supervisor
    participants.reinstate(suspended_regulator, sender=admin)
    credit.anchor(subject, keccak(text="third"), SCHEMA, later(chain), sender=provider)
    participants.updateRoles(regulator, TRADER, ZERO, sender=admin)
    with ape.reverts(credit.NotSupervisor, caller=regulator):
        credit.revokeAsSupervisor(provider, subject, keccak(text="third"), NO_REASON, sender=regulator)
    credit.revokeAsSupervisor(provider, subject, keccak(text="third"), NO_REASON, sender=suspended_regulator)


def test_another_provider_cannot_take_over_a_record(credit, provider, provider_b, subject, bank, maker, checker,
                                                    chain):
    """Finding: records were keyed by (subject, root) alone. Provider B anchored A's (subject, root) first (the
    root is public in A's pending transaction or a copy of the report): A's anchor then reverted
    `AlreadyAnchored`, B owned the record and could revoke it or let it expire under A's clients. Now each
    provider's anchor is its own record."""
    credit.anchor(subject, ROOT, SCHEMA, later(chain, 2 * DAY), sender=provider_b)  # B squats A's root
    expires = later(chain)
    credit.anchor(subject, ROOT, SCHEMA, expires, sender=provider)  # A's anchor still succeeds
    a = credit.record(provider, subject, ROOT)
    assert (a.provider, a.expiresAt, a.revoked) == (provider, expires, False)
    assert credit.record(provider_b, subject, ROOT).provider == provider_b
    # what the subject consents to, and what the bank verifies, is A's record by name
    credit.grantConsent(provider, ROOT, bank, later(chain, 20 * DAY), sender=subject)
    assert credit.hasConsent(provider, subject, ROOT, bank) and not credit.hasConsent(provider_b, subject, ROOT, bank)
    credit.recordVerification(bank, subject, provider, ROOT, sender=maker)
    credit.approveVerification(bank, subject, sender=checker)
    assert credit.verification(bank, subject).provider == provider

    # B cannot revoke A's record: its revoke reaches only its own record, and it is no supervisor
    with ape.reverts(credit.NotSupervisor, caller=provider_b):
        credit.revokeAsSupervisor(provider, subject, ROOT, NO_REASON, sender=provider_b)
    credit.revoke(subject, ROOT, NO_REASON, sender=provider_b)
    assert credit.record(provider_b, subject, ROOT).revoked
    assert not credit.record(provider, subject, ROOT).revoked and credit.isValid(provider, subject, ROOT)
    # nor can B's record lapsing touch A's
    chain.mine(deltatime=3 * DAY)
    assert credit.isValid(provider, subject, ROOT) and credit.hasApprovedVerification(bank, subject)


# --- the provider's standing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["suspended", "role removed"])
def test_records_die_with_their_provider_in_every_check(credit, participants, admin, provider, recorded, bank,
                                                        subject, maker, checker, accounts, loss):
    """Finding: a suspended or struck-off provider's records stayed valid, and every consent and verification
    built on them kept counting. Now validity asks the participant registry each time: every check fails while
    the provider is not an active credit provider, and holds again when it is reinstated. The escrow side
    (`fund` refused) is in test_financing.py::test_records_die_with_their_provider."""
    credit.approveVerification(bank, subject, sender=checker)
    assert credit.hasApprovedVerification(bank, subject)
    if loss == "suspended":
        participants.suspend(provider, keccak(text="licence suspended"), sender=admin)
    else:
        participants.updateRoles(provider, TRADER, ZERO, sender=admin)
    assert not credit.isValid(provider, subject, ROOT)
    assert not credit.hasApprovedVerification(bank, subject)
    assert credit.hasConsent(provider, subject, ROOT, bank)  # the consent is intact, but the record does not count
    with ape.reverts(credit.ProviderNotActive, provider=provider):
        credit.grantConsent(provider, ROOT, accounts[5], 2**39, sender=subject)
    with ape.reverts(credit.ProviderNotActive, provider=provider):
        credit.recordVerification(bank, subject, provider, ROOT, sender=maker)
    if loss == "suspended":
        participants.reinstate(provider, sender=admin)
    else:
        participants.updateRoles(provider, CREDIT_PROVIDER, ZERO, sender=admin)
    assert credit.isValid(provider, subject, ROOT) and credit.hasApprovedVerification(bank, subject)


def test_approval_refused_when_the_provider_is_suspended_between_maker_and_checker(
        credit, participants, admin, provider, recorded, bank, subject, checker):
    participants.suspend(provider, NO_REASON, sender=admin)
    with ape.reverts(credit.ProviderNotActive, provider=provider):
        credit.approveVerification(bank, subject, sender=checker)


# --- field proofs and the test vector ---------------------------------------------------------------------


def vector_fields():
    return [(path, f["canonicalValue"].encode(), bytes.fromhex(f["salt"][2:]), bytes.fromhex(f["leaf"][2:]))
            for path, f in VECTOR["fields"].items()]


def test_vector_leaves_match_on_chain(credit):
    for path, value, salt, leaf in vector_fields():
        assert credit.fieldLeaf(path, value, salt) == leaf


def test_vector_fields_verify_on_chain(credit, participants, admin, provider, provider_b, subject, chain):
    """The version-1 vector (commitments written before the OpenZeppelin layout) still verifies on chain."""
    from ebl_client import hashing

    root = bytes.fromhex(VECTOR["root"][2:])
    fields = vector_fields()
    leaves = [leaf for *_, leaf in fields]
    credit.anchor(subject, root, SCHEMA, later(chain), sender=provider)
    for path, value, salt, leaf in fields:
        proof = hashing.merkle_proof(leaves, leaf, version=1)
        assert credit.verifyField(provider, subject, root, path, value, salt, proof)
    path, value, salt, leaf = fields[0]
    proof = hashing.merkle_proof(leaves, leaf, version=1)
    assert not credit.verifyField(provider, subject, root, path, value + b" ", salt, proof)  # tampered value
    assert not credit.verifyField(provider, subject, root, path + "x", value, salt, proof)  # another path
    assert not credit.verifyField(provider, subject, root, path, value, keccak(salt), proof)  # wrong salt
    assert not credit.verifyField(provider, subject, root, *fields[1][:3], proof)  # another field's proof
    assert not credit.verifyField(provider_b, subject, root, path, value, salt, proof)  # nobody else's record
    participants.suspend(provider, NO_REASON, sender=admin)
    assert not credit.verifyField(provider, subject, root, path, value, salt, proof)
    participants.reinstate(provider, sender=admin)
    credit.revoke(subject, root, NO_REASON, sender=provider)
    assert not credit.verifyField(provider, subject, root, path, value, salt, proof)


def test_openzeppelin_vector_verifies_on_chain(credit, provider, subject, chain):
    """The version-2 vector's proofs, as @openzeppelin/merkle-tree wrote them, pass MerkleProof on chain."""
    root = VECTOR_V2["root"]
    credit.anchor(subject, root, SCHEMA, later(chain), sender=provider)
    fields = list(VECTOR_V2["fields"].items())
    for path, field in fields:
        assert credit.verifyField(provider, subject, root, path, field["canonicalValue"].encode(), field["salt"],
                                  field["proof"])
    (path, first), (_, second) = fields[:2]
    assert not credit.verifyField(provider, subject, root, path, first["canonicalValue"].encode(), first["salt"],
                                  second["proof"])


def test_verify_field_refuses_the_root_and_internal_nodes(credit, provider, subject, chain):
    """Finding: `verifyField(subject, root, leaf, proof)` took the leaf from the caller, so anything in the tree
    passed for a field: the old code returned true for `leaf = root` with an empty proof, and for any internal
    node with the rest of its path. Now the contract computes the leaf from (path, canonical value, salt), a
    double hash that no internal node or root can equal; below, every encoding an attacker could choose to
    reproduce a node's preimage yields false, and a real field with its proof yields true."""
    from ebl_client import hashing

    root = bytes.fromhex(VECTOR["root"][2:])
    fields = vector_fields()
    leaves = [leaf for *_, leaf in fields]
    credit.anchor(subject, root, SCHEMA, later(chain), sender=provider)
    path, value, salt, leaf = fields[0]
    proof = hashing.merkle_proof(leaves, leaf, version=1)
    assert credit.verifyField(provider, subject, root, path, value, salt, proof)
    assert len(proof) >= 3

    # every node on the field's path to the root, with the rest of the path as its proof: what the old attack passed
    for level in range(1, len(proof) + 1):
        node, rest = hashing.process_proof(leaf, proof[:level]), proof[level:]
        assert hashing.process_proof(node, rest) == root  # the old verifyField(subject, root, node, rest) was true
        left, right = sorted([hashing.process_proof(leaf, proof[:level - 1]), proof[level - 1]])
        attempts = [
            ("", left + right, b"\0" * 32),  # the node's own preimage as the value
            ("", node, b"\0" * 32),  # the node as the value
            ("", b"", node),  # the node as the salt
            ("0x" + node.hex(), b"", b"\0" * 32),  # the node as the path
            ("", left, right),  # the preimage split over value and salt
            (path, left + right, salt),
        ]
        for attempt in attempts:
            assert credit.fieldLeaf(*attempt) != node
            assert not credit.verifyField(provider, subject, root, *attempt, rest)
        # the inner hash of a leaf is keccak(abi.encode(...)): passing the node's preimage there does not help
        assert keccak(abi_encode(["string", "bytes", "bytes32"], ["", left + right, b"\0" * 32])) != node
    assert not credit.verifyField(provider, subject, root, "", root, b"\0" * 32, [])
    assert not credit.verifyField(provider, subject, root, "", b"", root, [])
    assert credit.fieldLeaf("", b"", root) != root


# --- consent ----------------------------------------------------------------------------------------------


def test_grant_and_withdraw_consent(credit, anchored, provider, subject, bank, chain):
    expires = later(chain, 7 * DAY)
    tx = credit.grantConsent(provider, ROOT, bank, expires, sender=subject)
    assert tx.events == [credit.ConsentGranted(subject, ROOT, bank, provider, expires)]
    assert credit.hasConsent(provider, subject, ROOT, bank)
    c = credit.consent(provider, subject, ROOT, bank)
    assert (c.expiresAt, c.withdrawn) == (expires, False) and c.grantedAt == chain.blocks[tx.block_number].timestamp
    tx = credit.withdrawConsent(provider, ROOT, bank, sender=subject)
    assert tx.events == [credit.ConsentWithdrawn(subject, ROOT, bank, provider)]
    assert not credit.hasConsent(provider, subject, ROOT, bank)
    assert credit.consent(provider, subject, ROOT, bank).withdrawn


def test_consent_lapses(credit, consented, provider, subject, bank, chain):
    chain.mine(deltatime=8 * DAY)
    assert not credit.hasConsent(provider, subject, ROOT, bank)


def test_consent_refusals(credit, participants, admin, provider, provider_b, anchored, subject, bank, accounts,
                          chain):
    with ape.reverts(credit.SubjectNotActive, subject=admin):  # the admin is not a participant
        credit.grantConsent(provider, ROOT, bank, later(chain), sender=admin)
    with ape.reverts(credit.RecordNotFound, provider=provider, subject=subject, root=ROOT2):
        credit.grantConsent(provider, ROOT2, bank, later(chain), sender=subject)
    with ape.reverts(credit.RecordNotFound, provider=provider_b, subject=subject, root=ROOT):
        credit.grantConsent(provider_b, ROOT, bank, later(chain), sender=subject)
    with ape.reverts(credit.NotFinancier, financier=accounts[8]):
        credit.grantConsent(provider, ROOT, accounts[8], later(chain), sender=subject)
    with ape.reverts(credit.InvalidExpiry):
        credit.grantConsent(provider, ROOT, bank, 1, sender=subject)
    with ape.reverts(credit.ConsentMissing):
        credit.withdrawConsent(provider, ROOT, bank, sender=subject)
    credit.revoke(subject, ROOT, NO_REASON, sender=provider)
    with ape.reverts(credit.RecordRevoked, provider=provider, subject=subject, root=ROOT):
        credit.grantConsent(provider, ROOT, bank, later(chain), sender=subject)
    credit.anchor(subject, ROOT2, SCHEMA, later(chain, DAY), sender=provider)
    chain.mine(deltatime=2 * DAY)
    with ape.reverts(credit.RecordExpired, provider=provider, subject=subject, root=ROOT2):
        credit.grantConsent(provider, ROOT2, bank, later(chain), sender=subject)
    participants.suspend(subject, NO_REASON, sender=admin)
    with ape.reverts(credit.SubjectNotActive, subject=subject):
        credit.grantConsent(provider, ROOT, bank, later(chain), sender=subject)


def test_withdrawing_twice_is_refused_and_a_suspended_subject_may_withdraw(
        credit, participants, admin, provider, consented, subject, bank):
    participants.suspend(subject, NO_REASON, sender=admin)
    credit.withdrawConsent(provider, ROOT, bank, sender=subject)
    with ape.reverts(credit.ConsentMissing, subject=subject, root=ROOT, financier=bank):
        credit.withdrawConsent(provider, ROOT, bank, sender=subject)


# --- maker-checker verification ---------------------------------------------------------------------------


def test_maker_then_checker(credit, provider, consented, bank, subject, maker, checker):
    tx = credit.recordVerification(bank, subject, provider, ROOT, sender=maker)
    assert tx.events == [credit.VerificationRecorded(bank, subject, ROOT, provider, maker)]
    assert not credit.hasApprovedVerification(bank, subject)
    tx = credit.approveVerification(bank, subject, sender=checker)
    assert tx.events == [credit.VerificationApproved(bank, subject, ROOT, checker)]
    v = credit.verification(bank, subject)
    assert (v.root, v.maker, v.checker, v.status, v.provider) == (ROOT, maker, checker, 2, provider)
    assert credit.hasApprovedVerification(bank, subject)


def test_record_refusals(credit, participants, admin, provider, provider_b, consented, bank, subject, maker,
                         accounts, chain):
    with ape.reverts(credit.NotVerifierOf, officer=subject, financier=bank):
        credit.recordVerification(bank, subject, provider, ROOT, sender=subject)
    with ape.reverts(credit.NotVerifierOf, officer=accounts[9], financier=bank):  # officer of another bank
        credit.recordVerification(bank, subject, provider, ROOT, sender=accounts[9])
    with ape.reverts(credit.ConsentMissing, subject=subject, root=ROOT, financier=accounts[5]):
        credit.recordVerification(accounts[5], subject, provider, ROOT, sender=accounts[9])
    with ape.reverts(credit.RecordNotFound, provider=provider, subject=subject, root=ROOT2):
        credit.recordVerification(bank, subject, provider, ROOT2, sender=maker)
    # the consent names A's record: B's record of the same root does not carry it
    credit.anchor(subject, ROOT, SCHEMA, later(chain), sender=provider_b)
    with ape.reverts(credit.ConsentMissing, subject=subject, root=ROOT, financier=bank):
        credit.recordVerification(bank, subject, provider_b, ROOT, sender=maker)
    credit.withdrawConsent(provider, ROOT, bank, sender=subject)
    with ape.reverts(credit.ConsentMissing):
        credit.recordVerification(bank, subject, provider, ROOT, sender=maker)
    credit.revoke(subject, ROOT, NO_REASON, sender=provider)
    with ape.reverts(credit.RecordRevoked):
        credit.recordVerification(bank, subject, provider, ROOT, sender=maker)
    participants.suspend(maker, NO_REASON, sender=admin)
    with ape.reverts(credit.NotVerifierOf, officer=maker):
        credit.recordVerification(bank, subject, provider, ROOT, sender=maker)


def test_expired_record_cannot_be_verified(credit, provider, subject, bank, maker, chain):
    credit.anchor(subject, ROOT2, SCHEMA, later(chain, 2 * DAY), sender=provider)
    credit.grantConsent(provider, ROOT2, bank, later(chain, DAY), sender=subject)
    chain.mine(deltatime=3 * DAY)
    with ape.reverts(credit.RecordExpired, provider=provider, subject=subject, root=ROOT2):
        credit.recordVerification(bank, subject, provider, ROOT2, sender=maker)


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
    credit.withdrawConsent(provider, ROOT, bank, sender=subject)
    with ape.reverts(credit.ConsentMissing):
        credit.approveVerification(bank, subject, sender=checker)


def test_approval_rechecks_revocation(credit, provider, recorded, bank, subject, checker):
    credit.revoke(subject, ROOT, NO_REASON, sender=provider)
    with ape.reverts(credit.RecordRevoked):
        credit.approveVerification(bank, subject, sender=checker)


@pytest.mark.parametrize("lapse", ["revoke", "supervisor", "withdraw", "expire"])
def test_an_approved_verification_stops_counting_when_its_basis_lapses(
        credit, admin, provider, recorded, bank, subject, checker, chain, lapse):
    credit.approveVerification(bank, subject, sender=checker)
    assert credit.hasApprovedVerification(bank, subject)
    if lapse == "revoke":
        credit.revoke(subject, ROOT, NO_REASON, sender=provider)
    elif lapse == "supervisor":
        credit.revokeAsSupervisor(provider, subject, ROOT, NO_REASON, sender=admin)
    elif lapse == "withdraw":
        credit.withdrawConsent(provider, ROOT, bank, sender=subject)
    else:
        chain.mine(deltatime=8 * DAY)  # consent lapses at 7 days
    assert not credit.hasApprovedVerification(bank, subject)


def test_a_new_recording_needs_a_new_approval(credit, provider, recorded, bank, subject, maker, checker):
    credit.approveVerification(bank, subject, sender=checker)
    credit.recordVerification(bank, subject, provider, ROOT, sender=checker)
    assert credit.verification(bank, subject).status == 1
    assert not credit.hasApprovedVerification(bank, subject)
    credit.approveVerification(bank, subject, sender=maker)
    assert credit.hasApprovedVerification(bank, subject)


def interface_id(contract_type) -> bytes:
    selector = 0
    for abi in contract_type.abi:
        if abi.type == "function":
            selector ^= int.from_bytes(keccak(text=abi.selector)[:4], "big")
    return selector.to_bytes(4, "big")


def test_supports_interfaces(project, credit):
    assert credit.supportsInterface(interface_id(project.ICreditHashRegistry.contract_type))
    assert credit.supportsInterface(bytes.fromhex("01ffc9a7"))  # ERC-165
    assert credit.supportsInterface(bytes.fromhex("7965db0b"))  # IAccessControl
    assert not credit.supportsInterface(bytes.fromhex("ffffffff"))
