"""ParticipantRegistry: every function succeeds for the admin and is refused for each wrong party/state."""

import ape
import pytest
from eth_utils import keccak

CARRIER, TRADER, FINANCIER, CREDIT_PROVIDER, VERIFIER, REGULATOR, ESCROW = (1 << i for i in range(7))
ALL = (1 << 7) - 1
ZERO = "0x" + "00" * 20
ADMIN_ROLE = b"\0" * 32
ID_HASH = keccak(b"\x01" * 32 + b"5493001KJTIIGC8Y1R12")
SUSPENDED, ACTIVE = 2, 1


@pytest.fixture
def registry(project, admin):
    return admin.deploy(project.ParticipantRegistry, admin)


@pytest.fixture
def trader(accounts):
    return accounts[1]


@pytest.fixture
def bank(registry, admin, accounts):
    registry.onboard((accounts[2], FINANCIER, b"HK", ID_HASH, ZERO), sender=admin)
    return accounts[2]


def request(account, roles=TRADER, jurisdiction=b"HK", id_hash=ID_HASH, institution=ZERO):
    return (account, roles, jurisdiction, id_hash, institution)


def test_constructor_grants_admin_and_refuses_zero_admin(project, registry, admin):
    assert registry.hasRole(ADMIN_ROLE, admin)
    with ape.reverts(project.ParticipantRegistry.ZeroAddress):
        admin.deploy(project.ParticipantRegistry, ZERO)


def test_onboard_stores_the_packed_record_and_emits(registry, admin, trader, chain):
    tx = registry.onboard(request(trader), sender=admin)
    record = registry.participant(trader)
    assert (record.roles, record.jurisdiction, record.status) == (TRADER, b"HK", ACTIVE)
    assert record.onboardedAt == chain.blocks[tx.block_number].timestamp
    assert record.institution == ZERO and record.identifierHash == ID_HASH
    assert tx.events == [registry.ParticipantOnboarded(trader, TRADER, b"HK", ID_HASH, ZERO)]
    assert registry.participantCount() == 1 and registry.accountAt(0) == trader
    assert registry.isActive(trader, TRADER)


def test_onboard_several_roles(registry, admin, trader):
    registry.onboard(request(trader, roles=TRADER | FINANCIER), sender=admin)
    assert registry.isActive(trader, TRADER) and registry.isActive(trader, FINANCIER)
    assert registry.isActive(trader, TRADER | FINANCIER)
    assert not registry.isActive(trader, CARRIER)


def test_onboard_refuses_a_non_admin(registry, trader, outsider):
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=outsider, neededRole=ADMIN_ROLE):
        registry.onboard(request(trader), sender=outsider)
    assert registry.participantCount() == 0


def test_onboard_refuses_the_zero_address(registry, admin):
    with ape.reverts(registry.ZeroAddress):
        registry.onboard(request(ZERO), sender=admin)


def test_onboard_refuses_twice(registry, admin, trader):
    registry.onboard(request(trader), sender=admin)
    with ape.reverts(registry.AlreadyOnboarded, account=trader):
        registry.onboard(request(trader, roles=CARRIER), sender=admin)
    assert registry.participant(trader).roles == TRADER


@pytest.mark.parametrize("roles", [0, 1 << 7, 1 << 15, TRADER | (1 << 8), ESCROW | (1 << 7)])
def test_onboard_refuses_empty_or_undefined_roles(registry, admin, trader, roles):
    with ape.reverts(registry.InvalidRoles, roles=roles):
        registry.onboard(request(trader, roles=roles), sender=admin)


@pytest.mark.parametrize("other", [CARRIER, TRADER, FINANCIER, CREDIT_PROVIDER, REGULATOR])
def test_escrow_role_stands_alone(registry, admin, accounts, trader, other):
    """Finding: a contract holding pledged bills must be nothing else. The title registry lets an ESCROW receive a
    bill only by `pledge` (which opens a financing in the same transaction); a TRADER or FINANCIER role on the same
    account would let a bill be moved into the escrow as to any trader, with no financing. The old registry
    accepted ESCROW combined with any role; now onboarding and re-roling both refuse it."""
    escrow = accounts[5]
    with ape.reverts(registry.InvalidRoles, roles=ESCROW | other):
        registry.onboard(request(escrow, roles=ESCROW | other), sender=admin)
    registry.onboard(request(escrow, roles=ESCROW), sender=admin)
    assert registry.isActive(escrow, ESCROW) and not registry.isActiveAny(escrow, ALL & ~ESCROW)
    with ape.reverts(registry.InvalidRoles, roles=ESCROW | other):
        registry.updateRoles(escrow, ESCROW | other, ZERO, sender=admin)
    registry.onboard(request(trader), sender=admin)
    with ape.reverts(registry.InvalidRoles, roles=ESCROW | TRADER):
        registry.updateRoles(trader, ESCROW | TRADER, ZERO, sender=admin)
    assert registry.participant(escrow).roles == ESCROW and registry.participant(trader).roles == TRADER


def test_escrow_with_a_verifier_role_is_refused_before_its_institution_is_looked_at(registry, admin, accounts, bank):
    with ape.reverts(registry.InvalidRoles, roles=ESCROW | VERIFIER):
        registry.onboard(request(accounts[5], roles=ESCROW | VERIFIER, institution=bank), sender=admin)


@pytest.mark.parametrize("code", [b"hk", b"H1", b"\x00\x00", b"H ", b"[K"])
def test_onboard_refuses_a_malformed_jurisdiction(registry, admin, trader, code):
    with ape.reverts(registry.InvalidJurisdiction):
        registry.onboard(request(trader, jurisdiction=code), sender=admin)


def test_onboard_refuses_an_empty_identifier_hash(registry, admin, trader):
    with ape.reverts(registry.EmptyIdentifierHash, account=trader):
        registry.onboard(request(trader, id_hash=b"\0" * 32), sender=admin)


def test_verifier_belongs_to_an_active_financier(registry, admin, accounts, bank):
    officer = accounts[3]
    registry.onboard(request(officer, roles=VERIFIER, institution=bank), sender=admin)
    assert registry.participant(officer).institution == bank
    assert registry.isVerifierOf(officer, bank)
    assert not registry.isVerifierOf(officer, accounts[4])


def test_verifier_without_institution_is_refused(registry, admin, accounts):
    with ape.reverts(registry.InstitutionRequired, account=accounts[3]):
        registry.onboard(request(accounts[3], roles=VERIFIER), sender=admin)


def test_verifier_of_a_non_financier_is_refused(registry, admin, accounts, trader):
    registry.onboard(request(trader), sender=admin)
    with ape.reverts(registry.InvalidInstitution, institution=trader):
        registry.onboard(request(accounts[3], roles=VERIFIER, institution=trader), sender=admin)
    with ape.reverts(registry.InvalidInstitution, institution=accounts[4]):  # never onboarded
        registry.onboard(request(accounts[3], roles=VERIFIER, institution=accounts[4]), sender=admin)


def test_verifier_of_a_suspended_financier_is_refused(registry, admin, accounts, bank):
    registry.suspend(bank, keccak(text="licence review"), sender=admin)
    with ape.reverts(registry.InvalidInstitution, institution=bank):
        registry.onboard(request(accounts[3], roles=VERIFIER, institution=bank), sender=admin)


def test_a_financier_cannot_verify_for_itself(registry, admin, bank):
    with ape.reverts(registry.InvalidInstitution, institution=bank):
        registry.updateRoles(bank, FINANCIER | VERIFIER, bank, sender=admin)


def test_non_verifier_naming_an_institution_is_refused(registry, admin, trader, bank):
    with ape.reverts(registry.UnexpectedInstitution, account=trader, institution=bank):
        registry.onboard(request(trader, institution=bank), sender=admin)


def test_update_roles(registry, admin, trader, bank):
    registry.onboard(request(trader), sender=admin)
    tx = registry.updateRoles(trader, TRADER | VERIFIER, bank, sender=admin)
    assert tx.events == [registry.ParticipantRolesUpdated(trader, TRADER, TRADER | VERIFIER, bank)]
    assert registry.isVerifierOf(trader, bank)
    registry.updateRoles(trader, CARRIER, ZERO, sender=admin)
    assert registry.isActive(trader, CARRIER) and not registry.isActive(trader, TRADER)
    assert registry.participant(trader).institution == ZERO


def test_update_roles_refusals(registry, admin, trader, outsider, bank):
    with ape.reverts(registry.NotOnboarded, account=trader):
        registry.updateRoles(trader, CARRIER, ZERO, sender=admin)
    registry.onboard(request(trader), sender=admin)
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.updateRoles(trader, CARRIER, ZERO, sender=outsider)
    with ape.reverts(registry.InvalidRoles, roles=0):
        registry.updateRoles(trader, 0, ZERO, sender=admin)
    with ape.reverts(registry.InstitutionRequired, account=trader):
        registry.updateRoles(trader, VERIFIER, ZERO, sender=admin)
    with ape.reverts(registry.UnexpectedInstitution):
        registry.updateRoles(trader, CARRIER, bank, sender=admin)
    assert registry.participant(trader).roles == TRADER


def test_suspend_deactivates_every_role(registry, admin, trader):
    registry.onboard(request(trader, roles=TRADER | FINANCIER), sender=admin)
    reason = keccak(text="sanctions screening hit")
    tx = registry.suspend(trader, reason, sender=admin)
    assert tx.events == [registry.ParticipantSuspended(trader, reason)]
    assert registry.participant(trader).status == SUSPENDED
    assert not registry.isActive(trader, TRADER) and not registry.isActive(trader, FINANCIER)


def test_suspending_a_financier_disables_its_verifiers(registry, admin, accounts, bank):
    registry.onboard(request(accounts[3], roles=VERIFIER, institution=bank), sender=admin)
    registry.suspend(bank, b"\0" * 32, sender=admin)
    assert not registry.isVerifierOf(accounts[3], bank)


def test_suspend_refusals(registry, admin, trader, outsider):
    with ape.reverts(registry.NotOnboarded, account=trader):
        registry.suspend(trader, b"\0" * 32, sender=admin)
    registry.onboard(request(trader), sender=admin)
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.suspend(trader, b"\0" * 32, sender=outsider)
    registry.suspend(trader, b"\0" * 32, sender=admin)
    with ape.reverts(registry.AlreadySuspended, account=trader):
        registry.suspend(trader, b"\0" * 32, sender=admin)


def test_reinstate(registry, admin, trader):
    registry.onboard(request(trader), sender=admin)
    registry.suspend(trader, b"\0" * 32, sender=admin)
    tx = registry.reinstate(trader, sender=admin)
    assert tx.events == [registry.ParticipantReinstated(trader)]
    assert registry.isActive(trader, TRADER)


def test_reinstate_refusals(registry, admin, trader, outsider):
    with ape.reverts(registry.NotOnboarded, account=trader):
        registry.reinstate(trader, sender=admin)
    registry.onboard(request(trader), sender=admin)
    with ape.reverts(registry.NotSuspended, account=trader):
        registry.reinstate(trader, sender=admin)
    registry.suspend(trader, b"\0" * 32, sender=admin)
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.reinstate(trader, sender=outsider)
    assert registry.participant(trader).status == SUSPENDED


def test_is_active_any(registry, admin, trader, outsider):
    registry.onboard(request(trader, roles=TRADER | REGULATOR), sender=admin)
    assert registry.isActiveAny(trader, TRADER | ESCROW) and registry.isActiveAny(trader, REGULATOR)
    assert not registry.isActiveAny(trader, CARRIER | FINANCIER) and not registry.isActiveAny(trader, 0)
    assert not registry.isActiveAny(outsider, TRADER)
    registry.suspend(trader, b"\0" * 32, sender=admin)
    assert not registry.isActiveAny(trader, TRADER | ESCROW)


def test_is_active_needs_a_role(registry, admin, trader, outsider):
    registry.onboard(request(trader), sender=admin)
    assert not registry.isActive(trader, 0)
    assert not registry.isActive(outsider, TRADER)


def test_listing_in_onboarding_order(registry, admin, accounts):
    for i in (5, 3, 4):
        registry.onboard(request(accounts[i]), sender=admin)
    listed = [registry.accountAt(i) for i in range(registry.participantCount())]
    assert listed == [accounts[5], accounts[3], accounts[4]]
    with ape.reverts():
        registry.accountAt(3)


def test_admin_role_can_move_to_a_multisig(registry, admin, accounts, trader):
    multisig = accounts[8]
    registry.grantRole(ADMIN_ROLE, multisig, sender=admin)
    registry.renounceRole(ADMIN_ROLE, admin, sender=admin)
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.onboard(request(trader), sender=admin)
    registry.onboard(request(trader), sender=multisig)
    assert registry.isActive(trader, TRADER)


def test_only_the_admin_grants_roles(registry, outsider):
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.grantRole(ADMIN_ROLE, outsider, sender=outsider)
