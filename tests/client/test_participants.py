"""The participants facade: typed results, named exceptions with the contract's values, input checks."""

import pytest

from ebl_client import errors
from ebl_client.models import ParticipantStatus, Role
from ebl_client.participants import jurisdiction_code

from .conftest import people, sample_hash


def test_onboard_returns_the_record(onboard, signers):
    p = onboard(1, Role.TRADER | Role.FINANCIER, "cn")
    assert p.address == signers[1].address
    assert p.roles == Role.TRADER | Role.FINANCIER and p.roles.names() == ["trader", "financier"]
    assert p.jurisdiction == "CN" and p.status is ParticipantStatus.ACTIVE and p.active
    assert p.institution is None and p.identifier_hash == "0x" + sample_hash(1).hex()
    assert p.onboarded_at > 0


def test_verifier_officer_records_its_bank(onboard, registry, signers):
    onboard(2, Role.FINANCIER)
    officer = onboard(3, Role.VERIFIER, institution=signers[2].address.lower())
    assert officer.institution == signers[2].address
    assert registry.is_verifier_of(signers[3].address, signers[2].address)
    assert not registry.is_verifier_of(signers[3].address, signers[4].address)


def test_list_suspend_reinstate_and_roles(onboard, registry, admin, signers):
    onboard(1)
    onboard(2, Role.CARRIER)
    assert [p.address for p in people(registry)] == [signers[1].address, signers[2].address]
    assert registry.list()[0].roles == Role.ESCROW  # the suite's escrow, onboarded at deployment
    suspended, tx = registry.suspend(signers[1].address, "KYC refresh overdue", sender=admin)
    assert suspended.status is ParticipantStatus.SUSPENDED
    assert tx.sender == admin.address and tx.gas_used > 0 and tx.hash.startswith("0x") and len(tx.hash) == 66
    assert tx.block == registry.chain.w3.eth.block_number
    assert not registry.is_active(signers[1].address, Role.TRADER)
    assert registry.reinstate(signers[1].address, sender=admin).value.active
    updated = registry.update_roles(signers[2].address, Role.CARRIER | Role.TRADER, sender=admin).value
    assert updated.roles == Role.CARRIER | Role.TRADER
    assert registry.get(signers[2].address) == updated


def test_onboarding_twice_raises_already_onboarded_with_the_account(onboard, signers):
    onboard(1)
    with pytest.raises(errors.AlreadyOnboarded) as caught:
        onboard(1, Role.CARRIER)
    assert caught.value.account == signers[1].address
    assert str(caught.value) == f"AlreadyOnboarded: account {signers[1].address} is already onboarded"


def test_a_non_admin_is_refused_by_name(registry, signers):
    with pytest.raises(errors.AccessControlUnauthorizedAccount) as caught:
        registry.onboard(signers[6].address, Role.TRADER, "HK", sample_hash(6), sender=signers[5])
    assert caught.value.account == signers[5].address
    assert caught.value.neededRole == "0x" + "00" * 32
    assert people(registry) == []


def test_contract_refusals_arrive_as_named_exceptions(onboard, registry, admin, signers):
    with pytest.raises(errors.InstitutionRequired):
        onboard(3, Role.VERIFIER)
    with pytest.raises(errors.InvalidInstitution):
        onboard(3, Role.VERIFIER, institution=signers[4].address)
    onboard(1)
    with pytest.raises(errors.NotSuspended):
        registry.reinstate(signers[1].address, sender=admin)
    with pytest.raises(errors.NotOnboarded):
        registry.suspend(signers[7].address, sender=admin)
    registry.suspend(signers[1].address, sender=admin)
    with pytest.raises(errors.AlreadySuspended) as caught:
        registry.suspend(signers[1].address, sender=admin)
    assert caught.value.account == signers[1].address


def test_only_the_admin_suspends_reinstates_and_re_roles(onboard, registry, admin, signers):
    onboard(1)
    outsider = signers[1]  # an onboarded trader, not the admin
    for action in (lambda: registry.suspend(signers[1].address, sender=outsider),
                   lambda: registry.update_roles(signers[1].address, Role.CARRIER, sender=outsider)):
        with pytest.raises(errors.AccessControlUnauthorizedAccount) as caught:
            action()
        assert caught.value.account == outsider.address
    registry.suspend(signers[1].address, sender=admin)
    with pytest.raises(errors.AccessControlUnauthorizedAccount):
        registry.reinstate(signers[1].address, sender=outsider)
    assert not registry.get(signers[1].address).active


def test_refused_action_sends_nothing(onboard, chain, admin):
    onboard(1)
    nonce = chain.w3.eth.get_transaction_count(admin.address)
    block = chain.w3.eth.block_number
    with pytest.raises(errors.AlreadyOnboarded):
        onboard(1)
    assert chain.w3.eth.get_transaction_count(admin.address) == nonce
    assert chain.w3.eth.block_number == block


def test_get_of_an_unknown_account_is_participant_not_found(registry, signers):
    with pytest.raises(errors.ParticipantNotFound, match=signers[9].address) as caught:
        registry.get(signers[9].address)
    assert isinstance(caught.value, errors.NotFound) and isinstance(caught.value, LookupError)


@pytest.mark.parametrize("code", ["H", "HKG", "H1", "", "香港"])
def test_jurisdiction_is_checked_before_sending(code):
    with pytest.raises(errors.InvalidInput):
        jurisdiction_code(code)


def test_roles_parse():
    assert Role.parse("trader, credit-provider") == Role.TRADER | Role.CREDIT_PROVIDER
    with pytest.raises(errors.InvalidInput, match="unknown role 'banker'"):
        Role.parse("banker")
    with pytest.raises(errors.InvalidInput):
        Role.parse(" , ")


@pytest.mark.parametrize("bad", [b"\0" * 32, b"\1" * 31, "0x1234"])
def test_identifier_hash_must_be_32_nonzero_bytes(registry, admin, signers, bad):
    with pytest.raises(errors.InvalidInput):
        registry.onboard(signers[1].address, Role.TRADER, "HK", bad, sender=admin)
