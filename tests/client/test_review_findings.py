"""Client-level regression tests for findings of the independent security review. Each test performs the
attack, or the mistake, through `Client.connect(...)` against a real Anvil, as an embedding bank would, and
checks what the client sends (nothing, where the action must be refused) and what the chain keeps."""

from __future__ import annotations

import json

import pytest

from ebl_client import Client, deployment, errors, hashing, samples
from ebl_client.financing import fingerprint
from ebl_client.models import FinancingState, Role, TitleAction

from .conftest import sample_hash, trade_finance_world

DAY = 86_400
KEY = bytes(range(32))
INVOICE = {"sellerId": "5493001KJTIIGC8Y1R12", "buyerId": "91310000MA1FL4B24G", "invoiceNumber": "PRE-2026-0412",
           "currency": "HKD", "amount": "1846000.00", "issueDate": "2026-11-18"}
FP = fingerprint(INVOICE, KEY)
SENDING = {"eth_sendRawTransaction", "eth_sendTransaction"}


@pytest.fixture
def world(anvil, chain, admin, signers, tmp_path, snapshot):
    """The trade-finance world deployed into tmp_path/genuine (the manifest a client reads), with a client."""
    directory = tmp_path / "genuine"
    suite = deployment.deploy_suite(chain, admin, directory, test_stablecoin=True)
    w = trade_finance_world(chain, admin, signers, suite)
    w.update(suite=suite, directory=directory, admin=admin, anvil=anvil)
    w["client"] = connect(w)
    doc = hashing.load_json_file(samples.TRANSPORT_DOCUMENT)
    w["bill"] = w["client"].bills.issue(doc, w["p"]["exporter"].address, sender=w["p"]["carrier"]).value.token_id
    return w


def connect(w, directory=None, calls: list[tuple[str, object]] | None = None) -> Client:
    hook = None if calls is None else (lambda method, params: calls.append((method, params)))
    return Client.connect(w["anvil"].url, deployments=directory or w["directory"], make_request_hook=hook)


def issue(w, reference: str) -> int:
    doc = hashing.load_json_file(samples.TRANSPORT_DOCUMENT)
    return w["client"].bills.issue({**doc, "transportDocumentReference": reference}, w["p"]["exporter"].address,
                                   sender=w["p"]["carrier"]).value.token_id


def requested_and_accepted(w, bill: int, fp: bytes = FP) -> int:
    """A financing of `bill`, bank A's offer accepted: the next step is bank A's `fund`."""
    c, p = w["client"], w["p"]
    f = c.finance.request(bill, p["importer"].address, 10**12, w["coin"], c.now() + 60 * DAY, fp,
                          sender=p["exporter"]).value
    c.finance.offer(f.financing_id, 10**11, 10**9, c.now() + 60 * DAY, sender=p["bank_a"])
    terms = c.finance.offer_of(f.financing_id, p["bank_a"].address)
    c.finance.accept(f.financing_id, p["bank_a"].address, terms=terms, sender=p["exporter"])
    return f.financing_id


# --- finding 5: a tampered deployment manifest -----------------------------------------------------------


def _foreign_code(w) -> str:
    """An attacker's contract: any code that is not the shipped one (here the test stablecoin's)."""
    chain, admin = w["chain"], w["admin"]
    return chain.deploy(admin, "TestStablecoin", "Totally Escrow", "ESC", admin.address)["contractAddress"]


def _genuine_escrow_wired_elsewhere(w) -> str:
    """The shipped FinancingEscrow code, deployed by the attacker against its own participant registry."""
    chain, admin, suite = w["chain"], w["admin"], w["suite"]
    other_registry = chain.deploy(admin, "ParticipantRegistry", admin.address)["contractAddress"]
    return chain.deploy(admin, "FinancingEscrow", other_registry, suite.address("BillOfLadingRegistry"),
                        suite.address("CreditHashRegistry"), admin.address, 14 * DAY, 7 * DAY,
                        30 * DAY)["contractAddress"]


def _genuine_registry_wired_elsewhere(w) -> str:
    chain, admin = w["chain"], w["admin"]
    other_registry = chain.deploy(admin, "ParticipantRegistry", admin.address)["contractAddress"]
    return chain.deploy(admin, "BillOfLadingRegistry", other_registry, admin.address)["contractAddress"]


def _genuine_registry_of_another_deployment(w) -> str:
    """The shipped title registry code on the suite's own participant registry, but not the one the escrow
    takes pledges from: only the wiring tells them apart."""
    chain, admin, suite = w["chain"], w["admin"], w["suite"]
    return chain.deploy(admin, "BillOfLadingRegistry", suite.address("ParticipantRegistry"),
                        admin.address)["contractAddress"]


#: case -> (manifest entry replaced, how the attacker's address is made, what the refusal must say)
TAMPERINGS = {
    "escrow: foreign code": (
        "FinancingEscrow", _foreign_code, ("FinancingEscrow at", "does not run the FinancingEscrow code")),
    "escrow: shipped code, other registry": (
        "FinancingEscrow", _genuine_escrow_wired_elsewhere, ("FinancingEscrow at", "answers participantRegistry()")),
    "title registry: foreign code": (
        "BillOfLadingRegistry", _foreign_code, ("BillOfLadingRegistry at", "does not run the BillOfLadingRegistry")),
    "title registry: shipped code, other participants": (
        "BillOfLadingRegistry", _genuine_registry_wired_elsewhere,
        ("BillOfLadingRegistry at", "answers participantRegistry()")),
    # the registry itself is wired right; the escrow's link to it names the substitution
    "title registry: shipped code, another deployment's": (
        "BillOfLadingRegistry", _genuine_registry_of_another_deployment, ("FinancingEscrow at", "titleRegistry()")),
}


@pytest.mark.parametrize("case", list(TAMPERINGS))
def test_tampered_manifest_is_refused_before_anything_is_sent(world, tmp_path, case):
    """Finding 5: the client trusted the manifest's addresses, so whoever could edit deployments/<chain>.json
    could have a bank approve and fund an attacker's contract. Now every contract's runtime code is compared
    with the shipped artifact (immutables masked) and the wiring between them is checked first."""
    w, p = world, world["p"]
    name, make_attacker, fragments = TAMPERINGS[case]
    fid = requested_and_accepted(w, w["bill"])
    attacker = make_attacker(w)
    manifest = json.loads(deployment.manifest_path(w["directory"], 31337).read_text())
    manifest["contracts"][name]["address"] = attacker
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    deployment.manifest_path(tampered, 31337).write_text(json.dumps(manifest))

    chain, bank, stable = w["chain"], p["bank_a"].address, w["stable"]
    escrow = w["suite"].address("FinancingEscrow")

    def observed() -> tuple[int, ...]:
        return (chain.w3.eth.block_number, chain.w3.eth.get_transaction_count(bank),
                int(chain.call(stable, "balanceOf", bank)), int(chain.call(stable, "allowance", bank, escrow)),
                int(chain.call(stable, "allowance", bank, attacker)))

    before = observed()
    calls: list[tuple[str, object]] = []
    client = connect(w, tampered, calls)
    with pytest.raises(errors.DeploymentError) as caught:
        client.finance.fund(fid, sender=p["bank_a"])
    message = str(caught.value)
    assert all(fragment in message for fragment in fragments), message
    assert attacker in message and "nothing was sent" in message
    with pytest.raises(errors.DeploymentError) as again:
        deployment.load_for(chain, tampered)
    assert str(again.value) == message
    with pytest.raises(errors.DeploymentError):  # every facade is behind the same check
        client.bills.get(w["bill"])
    assert observed() == before
    assert not {method for method, _ in calls} & (SENDING | {"eth_estimateGas"})
    # the genuine manifest still works, and funds the genuine escrow
    funded = connect(w).finance.fund(fid, sender=p["bank_a"]).value
    assert funded.state is FinancingState.FUNDED and int(chain.call(stable, "allowance", bank, attacker)) == 0


def test_a_manifest_naming_an_unknown_contract_is_refused_as_tampered(world, tmp_path):
    """A manifest is attacker-controlled input as a whole: an entry for a contract this client does not ship
    must be refused as a DeploymentError (one error line, "nothing was sent"), not crash the embedding program
    with the FileNotFoundError of a missing artifact file (nor read any file its name points to)."""
    w, p = world, world["p"]
    manifest = json.loads(deployment.manifest_path(w["directory"], 31337).read_text())
    for name in ("EvilEscrow", "../index"):
        manifest["contracts"] = {**manifest["contracts"], name: manifest["contracts"]["FinancingEscrow"]}
    tampered = tmp_path / "unknown"
    tampered.mkdir()
    deployment.manifest_path(tampered, 31337).write_text(json.dumps(manifest))
    block = w["chain"].w3.eth.block_number
    with pytest.raises(errors.DeploymentError, match="EvilEscrow"):
        connect(w, tampered).bills.transfer(w["bill"], p["importer"].address, sender=p["exporter"])
    assert w["chain"].w3.eth.block_number == block


# --- finding 11: a pledge the escrow refuses --------------------------------------------------------------


def _financed_elsewhere(w) -> str:
    """The invoice is already financed through another bill: the escrow refuses the same fingerprint."""
    c, p = w["client"], w["p"]
    fid = requested_and_accepted(w, issue(w, "VHSL2611HKGSHA0008"))
    c.finance.fund(fid, sender=p["bank_a"])
    return "DuplicateFinancing"


def _importer_suspended(w) -> str:
    w["client"].participants.suspend(w["p"]["importer"].address, "sanctions screening", sender=w["admin"])
    return "TraderNotActive"


@pytest.mark.parametrize("refusal", [_financed_elsewhere, _importer_suspended], ids=["financed", "importer"])
def test_pledge_refused_by_the_escrow_leaves_the_bill_with_the_exporter(world, refusal):
    """Finding 11: the pledge and the request were two transactions, so a request the escrow refused left
    the bill in the escrow with no financing. Now the escrow's refusal reverts the pledge: the client sees it
    in its one gas estimate and sends nothing; the bill never moved."""
    w, p = world, world["p"]
    expected = refusal(w)
    chain, fin, bills = w["chain"], w["client"].finance, w["client"].bills
    exporter, bill = p["exporter"].address, w["bill"]
    count = len(fin.list())
    block, nonce = chain.w3.eth.block_number, chain.w3.eth.get_transaction_count(exporter)
    calls: list[tuple[str, object]] = []
    client = connect(w, calls=calls)
    client.deployment  # noqa: B018 (verify the manifest first, so only the request's own calls are counted)
    calls.clear()
    with pytest.raises(errors.FinancingError) as caught:
        client.finance.request(bill, p["importer"].address, 10**12, w["coin"], client.now() + 60 * DAY, FP,
                               sender=p["exporter"])
    assert type(caught.value).__name__ == expected
    methods = [method for method, _ in calls]
    assert methods.count("eth_estimateGas") == 1 and not set(methods) & SENDING
    assert chain.w3.eth.block_number == block and chain.w3.eth.get_transaction_count(exporter) == nonce
    held = bills.get(bill)
    assert held.holder == held.beneficiary == exporter and bills.balance_of(fin.address) == len(
        [f for f in fin.list() if f.state is FinancingState.FUNDED])
    assert [e.action for e in bills.history(bill)] == [TitleAction.ISSUE]
    assert len(fin.list()) == count
    assert int(chain.call(fin.contract, "latestFinancingOf", bill)) == 0


# --- accept binds to the terms the exporter saw ---------------------------------------------------------


def test_accept_binds_to_the_terms_it_saw(world):
    """Finding: `accept(financingId, financier)` took whatever the offer said when mined, so a bank could
    re-offer worse terms in front of the exporter's accept. Now the exporter names the terms it read."""
    w, p = world, world["p"]
    exporter_client, bank_client = connect(w), connect(w)
    f = exporter_client.finance.request(w["bill"], p["importer"].address, 10**12, w["coin"],
                                        exporter_client.now() + 60 * DAY, FP, sender=p["exporter"]).value
    fid, bank = f.financing_id, p["bank_a"].address
    bank_client.finance.offer(fid, 95 * 10**10, 10**9, bank_client.now() + 60 * DAY, sender=p["bank_a"])
    seen = exporter_client.finance.offer_of(fid, bank)  # what the exporter's officer approves
    worse = bank_client.finance.offer(fid, 90 * 10**10, 5 * 10**9, seen.maturity - DAY, sender=p["bank_a"]).value
    block = w["chain"].w3.eth.block_number
    with pytest.raises(errors.OfferChanged) as caught:
        exporter_client.finance.accept(fid, bank, terms=seen, sender=p["exporter"])
    assert caught.value.values == {"financingId": fid, "financier": bank, "principal": worse.principal,
                                   "fee": worse.fee, "maturity": worse.maturity}
    assert w["chain"].w3.eth.block_number == block
    assert exporter_client.finance.get(fid).state is FinancingState.REQUESTED
    # a withdrawn offer cannot be accepted either
    bank_client.finance.withdraw_offer(fid, sender=p["bank_a"])
    with pytest.raises(errors.OfferNotFound):
        exporter_client.finance.accept(fid, bank, terms=worse, sender=p["exporter"])
    # accepting what is on offer now, knowingly, works and fixes exactly those terms
    again = bank_client.finance.offer(fid, 95 * 10**10, 10**9, seen.maturity, sender=p["bank_a"]).value
    accepted = exporter_client.finance.accept(fid, bank, terms=again, sender=p["exporter"]).value
    assert (accepted.principal, accepted.fee, accepted.maturity) == (again.principal, again.fee, again.maturity)


# --- credit records count only while their provider is active -------------------------------------------


def test_records_die_with_their_provider(world, signers):
    """Finding: a suspended or struck-off credit provider's records kept counting, and nobody could revoke
    them. Now a record is valid only while its provider is active, and the admin or a regulator revokes any
    record for good."""
    w, p, c, admin = world, world["p"], world["client"], world["admin"]
    c.participants.onboard(signers[10].address, Role.REGULATOR, "CN", sample_hash(10), sender=admin)
    regulator = signers[10]
    provider, exporter, bank = p["provider"].address, p["exporter"].address, p["bank_a"].address
    verified = w["commitment"]  # anchored, consented and verified for bank A by trade_finance_world
    report = hashing.load_json_file(samples.CREDIT_REPORT)
    second, third = hashing.commit(report), hashing.commit(report)
    for commitment in (second, third):
        c.credit.anchor(exporter, commitment, c.now() + 90 * DAY, sender=p["provider"])
    assert c.credit.get(provider, exporter, verified.root).valid and c.credit.has_approved_verification(bank, exporter)
    fid = requested_and_accepted(w, w["bill"])

    c.participants.suspend(provider, "licence withdrawn by the regulator", sender=admin)
    for commitment in (verified, second, third):
        record = c.credit.get(provider, exporter, commitment.root)
        assert not record.valid and not record.revoked
        assert not c.credit.verify_field(provider, exporter, hashing.disclose(report, commitment, "/rating/grade"))
    assert not c.credit.has_approved_verification(bank, exporter)
    assert not c.credit.get_verification(bank, exporter).approved_and_valid
    with pytest.raises(errors.CreditNotVerified):
        c.finance.fund(fid, sender=p["bank_a"])
    with pytest.raises(errors.NotCreditProvider):  # a suspended provider can no longer revoke its own
        c.credit.revoke(exporter, second.root, "too late", sender=p["provider"])
    with pytest.raises(errors.ProviderNotActive):
        c.credit.grant_consent(provider, third.root, p["bank_b"].address, c.now() + DAY, sender=p["exporter"])

    # supervision: the admin and a regulator revoke for good; anyone else is refused
    with pytest.raises(errors.NotSupervisor):
        c.credit.revoke_as_supervisor(provider, exporter, verified.root, "not mine to revoke", sender=p["bank_a"])
    assert c.credit.revoke_as_supervisor(provider, exporter, verified.root, "case 2026/3", sender=admin).value.revoked
    assert c.credit.revoke_as_supervisor(provider, exporter, second.root, "case 2026/3",
                                         sender=regulator).value.revoked
    c.participants.reinstate(provider, sender=admin)
    assert not c.credit.get(provider, exporter, verified.root).valid  # revoked records stay dead
    assert not c.credit.get(provider, exporter, second.root).valid
    assert not c.credit.has_approved_verification(bank, exporter)
    assert c.credit.get(provider, exporter, third.root).valid  # unrevoked: counts again once reinstated
