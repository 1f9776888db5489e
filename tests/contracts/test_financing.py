"""FinancingEscrow: the financing lifecycle against the real participant, title and credit registries;
every wrong party and wrong state refused with the named custom error and its values; double financing;
custody of the pledged bill through rejections; malicious tokens; the balance invariant after every step."""

from enum import IntEnum

import ape
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from ebl_client.models import FinancingState

CARRIER, TRADER, FINANCIER, CREDIT_PROVIDER, VERIFIER, ESCROW = 1, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 6
ZERO = "0x" + "00" * 20
NO_REMARK = b"\0" * 32
DAY = 86_400
GRACE = 7 * DAY
USD = 10**6  # the test stablecoin has 6 decimals
AMOUNT, PRINCIPAL, FEE = 100_000 * USD, 95_000 * USD, 1_500 * USD
DUE = PRINCIPAL + FEE
ROOT = keccak(text="root of the exporter's salted credit report")
SCHEMA = keccak(text="gba-credit-report/v1")
INVOICE = keccak(text="fingerprint: seller|buyer|INV-2024-0042|USD|100000000000|2024-11-02")
INVOICE2 = keccak(text="fingerprint: seller|buyer|INV-2024-0043|USD|50000000000|2024-11-03")
REENTRANCY = keccak(text="ReentrancyGuardReentrantCall()")[:4]
GAS: dict[str, int] = {}


# The client's enum, checked against the Solidity one in tests/test_artifacts.py.
State = FinancingState


class Fingerprint(IntEnum):
    NONE = 0
    RESERVED = 1
    FINANCED = 2


def ref(text: str) -> bytes:
    return text.encode().ljust(32, b"\0")


def gas(name: str, tx) -> None:
    GAS[name] = max(GAS.get(name, 0), tx.gas_used)


# ------------------------------------------------------------------ parties and contracts


@pytest.fixture(scope="module")
def carrier(accounts):
    return accounts[1]


@pytest.fixture(scope="module")
def exporter(accounts):
    return accounts[2]


@pytest.fixture(scope="module")
def importer(accounts):
    return accounts[3]


@pytest.fixture(scope="module")
def bank_a(accounts):
    return accounts[4]


@pytest.fixture(scope="module")
def bank_b(accounts):
    return accounts[5]


@pytest.fixture(scope="module")
def officers(accounts, admin):
    """Two verifier officers of bank A, two of bank B (the last two generated and funded here)."""
    extra = [accounts.generate_test_account() for _ in range(2)]
    for account in extra:
        admin.transfer(account, 10**19)
    return accounts[6], accounts[7], accounts[8], extra[0], extra[1]


@pytest.fixture(scope="module")
def provider(officers):
    return officers[4]


@pytest.fixture(scope="module")
def system(project, admin, outsider, carrier, exporter, importer, bank_a, bank_b, officers, provider):
    participants = admin.deploy(project.ParticipantRegistry, admin)
    bills = admin.deploy(project.BillOfLadingRegistry, participants, admin)
    credit = admin.deploy(project.CreditHashRegistry, participants)
    usd = admin.deploy(project.TestStablecoin, "Test USD Stablecoin", "tUSD", admin)
    escrow = admin.deploy(project.FinancingEscrow, participants, bills, credit, GRACE, admin)
    onboard = [
        (carrier, CARRIER, ZERO),
        (exporter, TRADER, ZERO),
        (importer, TRADER, ZERO),
        (bank_a, FINANCIER, ZERO),
        (bank_b, FINANCIER, ZERO),
        (officers[0], VERIFIER, bank_a),
        (officers[1], VERIFIER, bank_a),
        (officers[2], VERIFIER, bank_b),
        (officers[3], VERIFIER, bank_b),
        (provider, CREDIT_PROVIDER, ZERO),
        (escrow, ESCROW, ZERO),
    ]
    for i, (account, roles, institution) in enumerate(onboard):
        participants.onboard((account, roles, b"HK", keccak(i.to_bytes(32, "big")), institution), sender=admin)
    escrow.setTokenAllowed(usd, True, sender=admin)
    for bank in (bank_a, bank_b):
        usd.mint(bank, 1_000_000 * USD, sender=admin)
        usd.approve(escrow, 2**256 - 1, sender=bank)
    usd.mint(importer, 1_000_000 * USD, sender=admin)
    usd.approve(escrow, 2**256 - 1, sender=importer)
    return participants, bills, credit, usd, escrow


@pytest.fixture(scope="module")
def participants(system):
    return system[0]


@pytest.fixture(scope="module")
def bills(system):
    return system[1]


@pytest.fixture(scope="module")
def credit(system):
    return system[2]


@pytest.fixture(scope="module")
def usd(system):
    return system[3]


@pytest.fixture(scope="module")
def escrow(system):
    return system[4]


@pytest.fixture(scope="module")
def verified(credit, chain, exporter, bank_a, bank_b, officers, provider):
    """Bank A holds an approved verification of the exporter (anchor, consent, maker, checker); bank B none."""
    credit.anchor(exporter, ROOT, SCHEMA, chain.pending_timestamp + 400 * DAY, sender=provider)
    credit.grantConsent(ROOT, bank_a, chain.pending_timestamp + 400 * DAY, sender=exporter)
    credit.recordVerification(bank_a, exporter, ROOT, sender=officers[0])
    credit.approveVerification(bank_a, exporter, sender=officers[1])
    assert credit.hasApprovedVerification(bank_a, exporter)
    assert not credit.hasApprovedVerification(bank_b, exporter)


def issue(bills, carrier, holder, reference="HKGSHA2411001", straight=False, beneficiary=None):
    document = keccak(text=f'{{"transportDocumentReference":"{reference}"}}')
    beneficiary = holder if beneficiary is None else beneficiary
    tx = bills.issue((ref(reference), document, holder, beneficiary, straight), NO_REMARK, sender=carrier)
    return tx.events.filter(bills.TitleAction)[0].tokenId


def maturity(chain, days=90):
    return chain.pending_timestamp + days * DAY


def balanced(escrow, token):
    """The invariant: the escrow holds exactly what it owes."""
    return token.balanceOf(escrow) == escrow.owed(token)


@pytest.fixture
def bill(verified, bills, carrier, exporter):
    """A to-order bill issued to the exporter (after the module-scoped credit setup, for Ape's isolation)."""
    return issue(bills, carrier, exporter)


def pledge(bills, escrow, token_id, party):
    bills.transferOwners(token_id, escrow, escrow, NO_REMARK, sender=party)


def open_financing(
    escrow, exporter, token_id, importer, token, fingerprint=INVOICE, amount=AMOUNT, due=None, chain=None
):
    due = due if due is not None else maturity(chain, 100)
    tx = escrow.request((token_id, importer, token, amount, due, fingerprint), sender=exporter)
    return tx.events.filter(escrow.Requested)[0].financingId, tx


@pytest.fixture
def requested(verified, bills, escrow, usd, bill, exporter, importer, chain):
    pledge(bills, escrow, bill, exporter)
    financing_id, _ = open_financing(escrow, exporter, bill, importer, usd, chain=chain)
    return financing_id


@pytest.fixture
def accepted(requested, escrow, exporter, bank_a, chain):
    escrow.offer(requested, PRINCIPAL, FEE, maturity(chain), sender=bank_a)
    escrow.accept(requested, bank_a, sender=exporter)
    return requested


@pytest.fixture
def funded(accepted, escrow, bank_a):
    escrow.fund(accepted, sender=bank_a)
    return accepted


# ------------------------------------------------------------------ happy path


def test_happy_path(verified, bills, escrow, usd, bill, exporter, importer, bank_a, bank_b, chain):
    assert balanced(escrow, usd)
    pledge(bills, escrow, bill, exporter)
    due = maturity(chain, 100)
    financing_id, tx = open_financing(escrow, exporter, bill, importer, usd, due=due)
    gas("request", tx)
    assert financing_id == 1 and escrow.financingCount() == 1
    assert tx.events == [escrow.Requested(1, bill, exporter, importer, usd, AMOUNT, due, INVOICE)]
    assert escrow.fingerprintStatus(INVOICE) == Fingerprint.RESERVED
    assert escrow.custodyOf(bill) == 1 and escrow.latestFinancingOf(bill) == 1
    f = escrow.financing(1)
    assert (f.exporter, f.state, f.principal, f.maturity, f.importer, f.tokenId) == (
        exporter,
        State.REQUESTED,
        AMOUNT,
        due,
        importer,
        bill,
    )
    assert balanced(escrow, usd)

    term = maturity(chain, 90)
    tx = escrow.offer(1, PRINCIPAL, FEE, term, sender=bank_a)
    gas("offer", tx)
    assert tx.events == [escrow.Offered(1, bank_a, PRINCIPAL, FEE, term)]
    escrow.offer(1, PRINCIPAL - USD, 2 * FEE, term, sender=bank_b)  # a second, competing offer
    assert escrow.offerOf(1, bank_b).fee == 2 * FEE

    tx = escrow.accept(1, bank_a, sender=exporter)
    gas("accept", tx)
    assert tx.events == [escrow.Accepted(1, bank_a, PRINCIPAL, FEE, term)]
    assert escrow.outstanding(1) == DUE
    assert balanced(escrow, usd)

    exporter_before = usd.balanceOf(exporter)
    tx = escrow.fund(1, sender=bank_a)
    gas("fund", tx)
    assert tx.events.filter(escrow.Funded) == [escrow.Funded(1, bank_a, exporter, PRINCIPAL)]
    assert usd.balanceOf(exporter) - exporter_before == PRINCIPAL
    assert escrow.fingerprintStatus(INVOICE) == Fingerprint.FINANCED
    assert escrow.financing(1).state == State.FUNDED
    assert balanced(escrow, usd) and usd.balanceOf(escrow) == 0

    tx = escrow.repay(1, DUE, sender=importer)
    gas("repay (full, releases the bill)", tx)
    assert tx.events.filter(escrow.Repaid) == [escrow.Repaid(1, importer, DUE, 0)]
    assert tx.events.filter(escrow.Released) == [escrow.Released(1, importer, True)]
    b = bills.bill(bill)
    assert (b.holder, b.beneficiary) == (importer, importer)
    assert escrow.financing(1).state == State.REPAID and escrow.custodyOf(bill) == 0
    assert escrow.withdrawable(bank_a, usd) == DUE == escrow.owed(usd)
    assert balanced(escrow, usd)

    bank_before = usd.balanceOf(bank_a)
    tx = escrow.withdraw(usd, sender=bank_a)
    gas("withdraw", tx)
    assert tx.events.filter(escrow.Withdrawn) == [escrow.Withdrawn(bank_a, usd, DUE)]
    assert usd.balanceOf(bank_a) - bank_before == DUE
    assert escrow.owed(usd) == 0 and balanced(escrow, usd)
    # the importer can now surrender the bill to the carrier for the goods
    bills.surrenderForDelivery(bill, NO_REMARK, sender=importer)


def test_partial_repayments(funded, bills, escrow, usd, bill, exporter, importer, bank_a):
    parts = [30_000 * USD, 40_000 * USD, 26_000 * USD]
    owed = 0
    for i, part in enumerate(parts):
        payer = exporter if i == 1 else importer  # anyone may repay
        if payer == exporter:
            usd.approve(escrow, part, sender=exporter)
        tx = escrow.repay(funded, part, sender=payer)
        gas("repay (partial)", tx)
        owed += part
        assert tx.events.filter(escrow.Repaid) == [escrow.Repaid(funded, payer, part, DUE - owed)]
        assert not tx.events.filter(escrow.Released)
        assert escrow.outstanding(funded) == DUE - owed and escrow.financing(funded).repaid == owed
        assert bills.bill(bill).holder == escrow.address
        assert escrow.withdrawable(bank_a, usd) == owed and balanced(escrow, usd)
    # the financier may withdraw along the way
    escrow.withdraw(usd, sender=bank_a)
    assert balanced(escrow, usd) and escrow.owed(usd) == 0
    # the last repayment is capped at what is outstanding: an overpayment is never taken
    before = usd.balanceOf(importer)
    tx = escrow.repay(funded, 10_000 * USD, sender=importer)
    rest = DUE - owed
    assert tx.events.filter(escrow.Repaid) == [escrow.Repaid(funded, importer, rest, 0)]
    assert before - usd.balanceOf(importer) == rest
    assert bills.bill(bill).holder == importer
    assert escrow.withdrawable(bank_a, usd) == rest and balanced(escrow, usd)
    with ape.reverts(escrow.WrongState, financingId=funded, state=State.REPAID):
        escrow.repay(funded, 1, sender=importer)


def test_fund_with_permit(accepted, escrow, usd, exporter, bank_a, chain):
    usd.approve(escrow, 0, sender=bank_a)
    deadline = chain.pending_timestamp + DAY
    message = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {"name": usd.name(), "version": "1", "chainId": chain.chain_id, "verifyingContract": usd.address},
        "message": {
            "owner": bank_a.address,
            "spender": escrow.address,
            "value": PRINCIPAL,
            "nonce": usd.nonces(bank_a),
            "deadline": deadline,
        },
    }
    signed = Account.sign_message(encode_typed_data(full_message=message), bank_a.private_key)
    before = usd.balanceOf(exporter)
    tx = escrow.fundWithPermit(
        accepted, deadline, signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"), sender=bank_a
    )
    gas("fundWithPermit", tx)
    assert usd.balanceOf(exporter) - before == PRINCIPAL
    assert usd.allowance(bank_a, escrow) == 0 and usd.nonces(bank_a) == 1
    assert escrow.financing(accepted).state == State.FUNDED


# ------------------------------------------------------------------ default, cancel, reclaim, redeliver


def test_default_and_claim_after_maturity_plus_grace(funded, bills, escrow, usd, bill, importer, bank_a, chain):
    escrow.repay(funded, 20_000 * USD, sender=importer)
    assert balanced(escrow, usd)
    claimable_after = escrow.financing(funded).maturity + GRACE
    with ape.reverts(escrow.NotMatured, claimableAfter=claimable_after):
        escrow.claim(funded, sender=bank_a)
    chain.mine(timestamp=claimable_after - 1)
    with ape.reverts(escrow.NotMatured, claimableAfter=claimable_after):
        escrow.claim(funded, sender=bank_a)
    # after maturity the importer may still repay until the financier claims
    escrow.repay(funded, 1_000 * USD, sender=importer)
    chain.mine(deltatime=2)
    with ape.reverts(escrow.NotAcceptedFinancier, financingId=funded, caller=importer):
        escrow.claim(funded, sender=importer)
    tx = escrow.claim(funded, sender=bank_a)
    gas("claim", tx)
    assert tx.events.filter(escrow.Claimed) == [escrow.Claimed(funded, bank_a, 21_000 * USD)]
    b = bills.bill(bill)
    assert (b.holder, b.beneficiary) == (bank_a, bank_a)
    assert escrow.financing(funded).state == State.DEFAULTED
    assert escrow.fingerprintStatus(INVOICE) == Fingerprint.FINANCED
    with ape.reverts(escrow.WrongState, financingId=funded, state=State.DEFAULTED):
        escrow.repay(funded, 1, sender=importer)
    # partial repayments received before the default stay with the financier
    assert escrow.withdrawable(bank_a, usd) == 21_000 * USD and balanced(escrow, usd)
    escrow.withdraw(usd, sender=bank_a)
    assert balanced(escrow, usd) and escrow.owed(usd) == 0


@pytest.mark.parametrize("stage", ["requested", "accepted"])
def test_cancel_before_funding(request, stage, bills, escrow, usd, bill, exporter, importer, bank_a, chain):
    financing_id = request.getfixturevalue(stage)
    with ape.reverts(escrow.NotExporter, financingId=financing_id, caller=importer):
        escrow.cancel(financing_id, sender=importer)
    tx = escrow.cancel(financing_id, sender=exporter)
    gas("cancel", tx)
    assert tx.events.filter(escrow.Cancelled) == [escrow.Cancelled(financing_id, exporter)]
    b = bills.bill(bill)
    assert (b.holder, b.beneficiary) == (exporter, exporter)
    assert escrow.fingerprintStatus(INVOICE) == Fingerprint.NONE and escrow.custodyOf(bill) == 0
    assert balanced(escrow, usd)
    with ape.reverts(escrow.WrongState, financingId=financing_id, state=State.CANCELLED):
        escrow.cancel(financing_id, sender=exporter)
    with ape.reverts(escrow.NotAcceptedFinancier, financingId=financing_id, caller=exporter):
        escrow.fund(financing_id, sender=exporter)
    if stage == "accepted":
        with ape.reverts(escrow.WrongState, financingId=financing_id, state=State.CANCELLED):
            escrow.fund(financing_id, sender=bank_a)
    # the released fingerprint and the bill may be pledged again
    pledge(bills, escrow, bill, exporter)
    again, _ = open_financing(escrow, exporter, bill, importer, usd, chain=chain)
    assert again == financing_id + 1 and escrow.custodyOf(bill) == again


def test_cancel_refused_once_funded(funded, escrow, exporter):
    with ape.reverts(escrow.WrongState, financingId=funded, state=State.FUNDED):
        escrow.cancel(funded, sender=exporter)


def test_reclaim_a_bill_moved_in_but_never_requested(bills, escrow, bill, exporter, importer, outsider):
    with ape.reverts(escrow.NothingToReclaim, tokenId=bill, caller=exporter):
        escrow.reclaim(bill, sender=exporter)  # still with the exporter
    pledge(bills, escrow, bill, exporter)
    with ape.reverts(escrow.NothingToReclaim, tokenId=bill, caller=importer):
        escrow.reclaim(bill, sender=importer)
    tx = escrow.reclaim(bill, sender=exporter)
    gas("reclaim", tx)
    assert tx.events.filter(escrow.Reclaimed) == [escrow.Reclaimed(bill, exporter)]
    b = bills.bill(bill)
    assert (b.holder, b.beneficiary) == (exporter, exporter)
    with ape.reverts(escrow.NothingToReclaim, tokenId=bill, caller=exporter):
        escrow.reclaim(bill, sender=exporter)


def test_reclaim_refused_while_financed(requested, escrow, bill, exporter):
    with ape.reverts(escrow.BillAlreadyPledged, tokenId=bill, financingId=requested):
        escrow.reclaim(bill, sender=exporter)


def test_rejected_release_is_redelivered(funded, bills, escrow, usd, bill, importer, exporter, outsider):
    with ape.reverts(escrow.WrongState, financingId=funded, state=State.FUNDED):
        escrow.redeliver(funded, sender=outsider)
    escrow.repay(funded, DUE, sender=importer)
    with ape.reverts(escrow.NothingToRedeliver, financingId=funded):
        escrow.redeliver(funded, sender=outsider)
    bills.reject(bill, NO_REMARK, sender=importer)
    assert bills.bill(bill).holder == escrow.address and escrow.custodyOf(bill) == funded
    # a rejected-back bill can be neither reclaimed nor financed again
    with ape.reverts(escrow.BillAlreadyPledged, tokenId=bill, financingId=funded):
        escrow.reclaim(bill, sender=exporter)
    with ape.reverts(escrow.BillAlreadyPledged, tokenId=bill, financingId=funded):
        escrow.request((bill, importer, usd, AMOUNT, 2**39, INVOICE2), sender=exporter)
    tx = escrow.redeliver(funded, sender=outsider)  # anyone may push it again
    gas("redeliver", tx)
    assert tx.events.filter(escrow.Redelivered) == [escrow.Redelivered(funded, importer)]
    b = bills.bill(bill)
    assert (b.holder, b.beneficiary) == (importer, importer)
    with ape.reverts(escrow.NothingToRedeliver, financingId=funded):
        escrow.redeliver(funded, sender=outsider)
    assert balanced(escrow, usd)


def test_rejected_claim_is_redelivered(funded, bills, escrow, bill, importer, bank_a, chain):
    chain.mine(timestamp=escrow.financing(funded).maturity + GRACE + 1)
    escrow.claim(funded, sender=bank_a)
    bills.reject(bill, NO_REMARK, sender=bank_a)
    escrow.redeliver(funded, sender=importer)
    assert bills.bill(bill).holder == bank_a


def test_rejected_cancel_is_redelivered(requested, bills, escrow, usd, bill, exporter, importer, outsider, chain):
    escrow.cancel(requested, sender=exporter)
    bills.reject(bill, NO_REMARK, sender=exporter)
    assert escrow.custodyOf(bill) == requested
    with ape.reverts(escrow.BillAlreadyPledged, tokenId=bill, financingId=requested):
        escrow.reclaim(bill, sender=exporter)
    with ape.reverts(escrow.BillAlreadyPledged, tokenId=bill, financingId=requested):
        escrow.request((bill, importer, usd, AMOUNT, maturity(chain), INVOICE), sender=exporter)
    tx = escrow.redeliver(requested, sender=outsider)
    assert tx.events.filter(escrow.Redelivered) == [escrow.Redelivered(requested, exporter)]
    assert bills.bill(bill).holder == exporter


def test_release_deferred_when_the_importer_is_suspended(
    funded, participants, admin, bills, escrow, usd, bill, importer, bank_a, outsider
):
    participants.suspend(importer, NO_REMARK, sender=admin)
    tx = escrow.repay(funded, DUE, sender=importer)  # the repayment stands
    assert tx.events.filter(escrow.Released) == [escrow.Released(funded, importer, False)]
    assert bills.bill(bill).holder == escrow.address and escrow.custodyOf(bill) == funded
    assert escrow.withdrawable(bank_a, usd) == DUE and balanced(escrow, usd)
    with ape.reverts(bills.RecipientNotActive, recipient=importer):
        escrow.redeliver(funded, sender=outsider)
    participants.reinstate(importer, sender=admin)
    escrow.redeliver(funded, sender=outsider)
    assert bills.bill(bill).holder == importer and escrow.custodyOf(bill) == 0


def test_a_delivered_bill_may_be_pledged_again_by_its_new_holder(
    funded, bills, escrow, usd, bill, importer, exporter, bank_b, chain
):
    escrow.repay(funded, DUE, sender=importer)
    pledge(bills, escrow, bill, importer)
    assert escrow.custodyOf(bill) == 0
    with ape.reverts(escrow.NotPledged, tokenId=bill, caller=exporter):
        escrow.request((bill, importer, usd, AMOUNT, maturity(chain), INVOICE2), sender=exporter)
    second, _ = open_financing(escrow, importer, bill, exporter, usd, fingerprint=INVOICE2, chain=chain)
    assert escrow.custodyOf(bill) == second
    # the old financing cannot pull the bill away from the new one
    with ape.reverts(escrow.NothingToRedeliver, financingId=funded):
        escrow.redeliver(funded, sender=importer)


# ------------------------------------------------------------------ double financing


def test_the_same_bill_cannot_be_pledged_twice(requested, bills, escrow, usd, bill, exporter, importer, chain):
    with ape.reverts(escrow.BillAlreadyPledged, tokenId=bill, financingId=requested):
        escrow.request((bill, importer, usd, AMOUNT, maturity(chain), INVOICE2), sender=exporter)


def test_the_same_invoice_cannot_be_financed_twice(
    funded, bills, escrow, usd, carrier, exporter, importer, bank_b, chain
):
    """Through a different bill and another financier: refused while reserved and once financed."""
    other = issue(bills, carrier, exporter, reference="HKGSHA2411002")
    pledge(bills, escrow, other, exporter)
    with ape.reverts(escrow.DuplicateFinancing, invoiceFingerprint=INVOICE):
        escrow.request((other, importer, usd, AMOUNT, maturity(chain), INVOICE), sender=exporter)
    # the fingerprint stays financed for ever, even after full repayment
    escrow.repay(funded, DUE, sender=importer)
    with ape.reverts(escrow.DuplicateFinancing, invoiceFingerprint=INVOICE):
        escrow.request((other, importer, usd, AMOUNT, maturity(chain), INVOICE), sender=exporter)
    second, _ = open_financing(escrow, exporter, other, importer, usd, fingerprint=INVOICE2, chain=chain)
    escrow.offer(second, PRINCIPAL, FEE, maturity(chain), sender=bank_b)
    escrow.accept(second, bank_b, sender=exporter)


def test_a_reserved_invoice_is_refused_until_cancelled(
    requested, bills, escrow, usd, carrier, exporter, importer, chain
):
    other = issue(bills, carrier, exporter, reference="HKGSHA2411002")
    pledge(bills, escrow, other, exporter)
    with ape.reverts(escrow.DuplicateFinancing, invoiceFingerprint=INVOICE):
        escrow.request((other, importer, usd, AMOUNT, maturity(chain), INVOICE), sender=exporter)
    escrow.cancel(requested, sender=exporter)
    second, _ = open_financing(escrow, exporter, other, importer, usd, fingerprint=INVOICE, chain=chain)
    assert escrow.fingerprintStatus(INVOICE) == Fingerprint.RESERVED and second == requested + 1


# ------------------------------------------------------------------ refusals: wrong party, wrong state, wrong terms


def test_request_refusals(
    verified, participants, admin, bills, escrow, usd, carrier, bill, exporter, importer, bank_a, outsider, chain
):
    due = maturity(chain)
    with ape.reverts(escrow.NotPledged, tokenId=bill, caller=exporter):  # not moved in yet
        escrow.request((bill, importer, usd, AMOUNT, due, INVOICE), sender=exporter)
    pledge(bills, escrow, bill, exporter)
    with ape.reverts(escrow.TraderNotActive, account=outsider):
        escrow.request((bill, importer, usd, AMOUNT, due, INVOICE), sender=outsider)
    with ape.reverts(escrow.NotPledged, tokenId=bill, caller=importer):  # another trader did not move it in
        escrow.request((bill, exporter, usd, AMOUNT, due, INVOICE), sender=importer)
    with ape.reverts(escrow.InvalidImporter, importer=exporter):
        escrow.request((bill, exporter, usd, AMOUNT, due, INVOICE), sender=exporter)
    with ape.reverts(escrow.TraderNotActive, account=bank_a):
        escrow.request((bill, bank_a, usd, AMOUNT, due, INVOICE), sender=exporter)
    with ape.reverts(escrow.NotAllowedToken, token=bills.address):
        escrow.request((bill, importer, bills, AMOUNT, due, INVOICE), sender=exporter)
    with ape.reverts(escrow.ZeroAmount):
        escrow.request((bill, importer, usd, 0, due, INVOICE), sender=exporter)
    past = chain.blocks.head.timestamp
    with ape.reverts(escrow.InvalidMaturity, maturity=past):
        escrow.request((bill, importer, usd, AMOUNT, past, INVOICE), sender=exporter)
    with ape.reverts(escrow.EmptyFingerprint):
        escrow.request((bill, importer, usd, AMOUNT, due, NO_REMARK), sender=exporter)
    # a delisted token is refused for new requests
    escrow.setTokenAllowed(usd, False, sender=admin)
    with ape.reverts(escrow.NotAllowedToken, token=usd.address):
        escrow.request((bill, importer, usd, AMOUNT, due, INVOICE), sender=exporter)
    escrow.setTokenAllowed(usd, True, sender=admin)
    participants.suspend(exporter, NO_REMARK, sender=admin)
    with ape.reverts(escrow.TraderNotActive, account=exporter):
        escrow.request((bill, importer, usd, AMOUNT, due, INVOICE), sender=exporter)


def test_request_refused_for_a_bill_moved_only_in_part(verified, bills, escrow, usd, bill, exporter, importer, chain):
    bills.transferHolder(bill, escrow, NO_REMARK, sender=exporter)  # possession only, title stays
    with ape.reverts(escrow.NotPledged, tokenId=bill, caller=exporter):
        escrow.request((bill, importer, usd, AMOUNT, maturity(chain), INVOICE), sender=exporter)
    escrow.reclaim(bill, sender=exporter)  # the exporter takes it back
    assert bills.bill(bill).holder == exporter


def test_set_token_allowed_is_admin_only(escrow, usd, admin, outsider):
    with ape.reverts(escrow.AccessControlUnauthorizedAccount, account=outsider):
        escrow.setTokenAllowed(usd, False, sender=outsider)
    with ape.reverts(escrow.ZeroAddress):
        escrow.setTokenAllowed(ZERO, True, sender=admin)
    tx = escrow.setTokenAllowed(usd, False, sender=admin)
    assert tx.events == [escrow.TokenAllowed(usd, False)] and not escrow.isAllowedToken(usd)


def test_offer_and_accept_refusals(requested, escrow, exporter, importer, bank_a, bank_b, outsider, chain):
    term = maturity(chain)
    with ape.reverts(escrow.FinancierNotActive, account=importer):
        escrow.offer(requested, PRINCIPAL, FEE, term, sender=importer)
    with ape.reverts(escrow.WrongState, financingId=99, state=State.NONE):
        escrow.offer(99, PRINCIPAL, FEE, term, sender=bank_a)
    with ape.reverts(escrow.ZeroAmount):
        escrow.offer(requested, 0, FEE, term, sender=bank_a)
    with ape.reverts(escrow.AmountTooLarge, amount=2**96):
        escrow.offer(requested, 2**96 - 1, 1, term, sender=bank_a)
    past = chain.blocks.head.timestamp
    with ape.reverts(escrow.InvalidMaturity, maturity=past):
        escrow.offer(requested, PRINCIPAL, FEE, past, sender=bank_a)
    escrow.offer(requested, PRINCIPAL, FEE, term, sender=bank_a)
    with ape.reverts(escrow.NotExporter, financingId=requested, caller=bank_a):
        escrow.accept(requested, bank_a, sender=bank_a)
    with ape.reverts(escrow.OfferNotFound, financingId=requested, financier=bank_b):
        escrow.accept(requested, bank_b, sender=exporter)
    escrow.accept(requested, bank_a, sender=exporter)
    with ape.reverts(escrow.WrongState, financingId=requested, state=State.ACCEPTED):
        escrow.accept(requested, bank_a, sender=exporter)
    with ape.reverts(escrow.WrongState, financingId=requested, state=State.ACCEPTED):
        escrow.offer(requested, PRINCIPAL, FEE, term, sender=bank_b)


def test_accept_refused_for_a_matured_offer(requested, escrow, exporter, bank_a, chain):
    term = maturity(chain, 1)
    escrow.offer(requested, PRINCIPAL, FEE, term, sender=bank_a)
    chain.mine(timestamp=term)
    with ape.reverts(escrow.MaturityPassed, financingId=requested, maturity=term):
        escrow.accept(requested, bank_a, sender=exporter)


def test_fund_refusals(requested, participants, admin, escrow, exporter, bank_a, bank_b, chain):
    with ape.reverts(escrow.NotAcceptedFinancier, financingId=requested, caller=bank_a):  # nothing accepted yet
        escrow.fund(requested, sender=bank_a)
    escrow.offer(requested, PRINCIPAL, FEE, maturity(chain), sender=bank_b)
    escrow.accept(requested, bank_b, sender=exporter)
    with ape.reverts(escrow.NotAcceptedFinancier, financingId=requested, caller=bank_a):  # not the accepted financier
        escrow.fund(requested, sender=bank_a)
    with ape.reverts(escrow.CreditNotVerified, financier=bank_b, exporter=exporter):
        escrow.fund(requested, sender=bank_b)
    participants.suspend(bank_b, NO_REMARK, sender=admin)
    with ape.reverts(escrow.FinancierNotActive, account=bank_b):
        escrow.fund(requested, sender=bank_b)


def test_fund_refused_without_consent_or_after_maturity(accepted, credit, escrow, exporter, bank_a, chain):
    term = escrow.financing(accepted).maturity
    credit.withdrawConsent(ROOT, bank_a, sender=exporter)  # the verification no longer counts
    with ape.reverts(escrow.CreditNotVerified, financier=bank_a, exporter=exporter):
        escrow.fund(accepted, sender=bank_a)
    credit.grantConsent(ROOT, bank_a, chain.pending_timestamp + 400 * DAY, sender=exporter)
    chain.mine(timestamp=term)
    with ape.reverts(escrow.MaturityPassed, financingId=accepted, maturity=term):
        escrow.fund(accepted, sender=bank_a)


def test_fund_refused_without_allowance(accepted, usd, escrow, bank_a):
    usd.approve(escrow, 0, sender=bank_a)
    with ape.reverts(usd.ERC20InsufficientAllowance):
        escrow.fund(accepted, sender=bank_a)
    assert escrow.financing(accepted).state == State.ACCEPTED
    assert escrow.fingerprintStatus(INVOICE) == Fingerprint.RESERVED


def test_repay_claim_withdraw_refusals(accepted, escrow, usd, importer, bank_a, outsider):
    with ape.reverts(escrow.WrongState, financingId=accepted, state=State.ACCEPTED):
        escrow.repay(accepted, USD, sender=importer)
    with ape.reverts(escrow.WrongState, financingId=accepted, state=State.ACCEPTED):
        escrow.claim(accepted, sender=bank_a)
    escrow.fund(accepted, sender=bank_a)
    with ape.reverts(escrow.ZeroAmount):
        escrow.repay(accepted, 0, sender=importer)
    with ape.reverts(usd.ERC20InsufficientAllowance):
        escrow.repay(accepted, USD, sender=outsider)
    with ape.reverts(escrow.NothingToWithdraw, account=bank_a, token=usd.address):
        escrow.withdraw(usd, sender=bank_a)
    escrow.repay(accepted, USD, sender=importer)
    with ape.reverts(escrow.NothingToWithdraw, account=importer, token=usd.address):
        escrow.withdraw(usd, sender=importer)
    escrow.withdraw(usd, sender=bank_a)
    with ape.reverts(escrow.NothingToWithdraw, account=bank_a, token=usd.address):
        escrow.withdraw(usd, sender=bank_a)  # once only
    assert balanced(escrow, usd)


# ------------------------------------------------------------------ malicious tokens


@pytest.fixture
def rent(project, admin, escrow, importer, bank_a):
    """A re-entering token, wrongly allowlisted by the admin; the parties hold and approve it."""
    token = admin.deploy(project.ReentrantToken)
    escrow.setTokenAllowed(token, True, sender=admin)
    for party in (importer, bank_a):
        token.mint(party, 1_000_000 * USD, sender=party)
        token.approve(escrow, 2**256 - 1, sender=party)
    return token


@pytest.fixture
def rent_funded(rent, verified, bills, escrow, bill, exporter, importer, bank_a, chain):
    pledge(bills, escrow, bill, exporter)
    financing_id, _ = open_financing(escrow, exporter, bill, importer, rent, chain=chain)
    escrow.offer(financing_id, PRINCIPAL, FEE, maturity(chain), sender=bank_a)
    escrow.accept(financing_id, bank_a, sender=exporter)
    escrow.fund(financing_id, sender=bank_a)
    # the token itself holds funds and lets the escrow pull them, so a re-entered repay could pay
    rent.mint(rent, 1_000_000 * USD, sender=bank_a)
    rent.approveFromToken(escrow, 2**256 - 1, sender=bank_a)
    return financing_id


@pytest.mark.parametrize("attack", ["repay", "redeliver", "withdraw", "claim"])
def test_reentrant_token_cannot_release_twice_or_drain(
    attack, rent_funded, rent, bills, escrow, bill, importer, bank_a
):
    payloads = {
        "repay": escrow.repay.as_transaction(rent_funded, DUE, sender=importer).data,
        "redeliver": escrow.redeliver.as_transaction(rent_funded, sender=importer).data,
        "withdraw": escrow.withdraw.as_transaction(rent, sender=importer).data,
        "claim": escrow.claim.as_transaction(rent_funded, sender=importer).data,
    }
    escrow.repay(rent_funded, 10_000 * USD, sender=importer)  # something to steal
    rent.arm(escrow, payloads[attack], 1, sender=bank_a)
    tx = escrow.repay(rent_funded, DUE, sender=importer)  # re-enters during the pull
    assert rent.attempts() == 1 and rent.successes() == 0
    assert bytes(rent.lastResult()) == REENTRANCY
    assert len(tx.events.filter(escrow.Repaid)) == 1 and len(tx.events.filter(escrow.Released)) == 1
    assert len(tx.events.filter(bills.TitleAction)) == 1  # the bill moved once
    assert bills.bill(bill).holder == importer
    assert escrow.withdrawable(bank_a, rent) == DUE and balanced(escrow, rent)

    rent.arm(escrow, payloads[attack], 1, sender=bank_a)
    escrow.withdraw(rent, sender=bank_a)  # re-enters during the push
    assert rent.attempts() == 2 and rent.successes() == 0
    assert bytes(rent.lastResult()) == REENTRANCY
    assert rent.balanceOf(escrow) == 0 == escrow.owed(rent)
    with ape.reverts(escrow.NothingToWithdraw, account=bank_a, token=rent.address):
        escrow.withdraw(rent, sender=bank_a)


def test_fee_on_transfer_token_cannot_underpay(
    project, admin, verified, bills, escrow, bill, exporter, importer, bank_a, chain
):
    fee_token = admin.deploy(project.FeeOnTransferToken)
    escrow.setTokenAllowed(fee_token, True, sender=admin)
    for party in (importer, bank_a):
        fee_token.mint(party, 1_000_000 * USD, sender=party)
        fee_token.approve(escrow, 2**256 - 1, sender=party)
    pledge(bills, escrow, bill, exporter)
    financing_id, _ = open_financing(escrow, exporter, bill, importer, fee_token, chain=chain)
    escrow.offer(financing_id, PRINCIPAL, FEE, maturity(chain), sender=bank_a)
    escrow.accept(financing_id, bank_a, sender=exporter)
    escrow.fund(financing_id, sender=bank_a)
    with ape.reverts(escrow.TransferAmountMismatch, token=fee_token.address, expected=DUE, received=DUE - DUE // 100):
        escrow.repay(financing_id, DUE, sender=importer)
    assert bills.bill(bill).holder == escrow.address and balanced(escrow, fee_token)


# ------------------------------------------------------------------ test tokens and gas


def test_stablecoin(usd, admin, bank_a, outsider):
    assert usd.decimals() == 6 and usd.issuer() == admin.address
    with ape.reverts(usd.NotIssuer, caller=outsider):
        usd.mint(outsider, 1, sender=outsider)


def test_zzz_gas_report():
    """Prints the largest gas used by each escrow function in this module's tests (run with -s)."""
    print("\nFinancingEscrow gas (receipt.gas_used):")
    for name, used in sorted(GAS.items()):
        print(f"  {name:35s} {used:>9,d}")
    assert GAS.get("request", 0) < 250_000
