"""The shipment's story as small named steps, in the order `Story.SEQUENCE` gives. Each step is one action by
its party's own key (a signed transaction, sent by the client or, for the carrier, by the platform's service
in answer to the carrier's DCSA call), a refusal the rules require (nothing sent), or a read; the `Recorder`
keeps each step's outcome and transactions. What the steps leave behind (`Story`'s attributes) is what
`report.build` turns into the report.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .. import deployment as deployments
from .. import directory as directories
from .. import hashing, index, keys, samples
from ..chain import Chain
from ..client import Client
from ..consortium import CONSORTIUM, MEMBERS, Onboarded, directory_entries, onboard_consortium
from ..database import sqlite_url
from ..errors import DuplicateFinancing, EblError, SameMakerAndChecker
from ..financing import FINGERPRINT_KEY_ENV, fingerprint, fingerprint_key, minor_units
from ..models import Bill, ConsentRecord, CreditRecord, CreditVerification, Financing, Offer, Role, utc_time
from ..node import dev_keys
from .recorder import DemoError, Recorder
from .terms import (
    COIN_DECIMALS,
    CONSENT_DAYS,
    CREDIT_VALIDITY_DAYS,
    CURRENCY,
    DAY,
    DEMO_FINGERPRINT_KEY,
    DISCLOSED_FIELDS,
    FEE,
    INVOICE_UNITS,
    MINTED,
    PRINCIPAL,
    RESPELLED_INVOICE,
    SECOND_SHIPMENT,
    TENOR_DAYS,
    money,
)

if TYPE_CHECKING:
    from rich.progress import Progress

    from .carrier import CarrierSystem, Exchange, PlatformService


@dataclass(frozen=True)
class StagedFiles:
    """Where a run writes, before the runner swaps its files in: one staging folder."""

    root: Path

    @property
    def deployments(self) -> Path:
        return self.root / "deployments"

    @property
    def directory(self) -> Path:
        return self.root / "directory.json"

    @property
    def index(self) -> Path:
        return self.root / "index.sqlite"

    @property
    def service_database(self) -> Path:
        return self.root / "service.sqlite"

    @property
    def commitment(self) -> Path:
        return self.root / "commitment.json"

    @property
    def audit_trail(self) -> Path:
        return self.root / "audit-trail.csv"

    @property
    def keystore(self) -> Path:
        return self.root / "keystores" / "carrier.json"


class Story:
    """The shipment, step by step. `run()` plays `SEQUENCE` (at the end of the class); the attributes below are
    what the steps leave."""

    # --- what the steps leave --------------------------------------------------------------------------------
    deployment: deployments.Deployment
    client: Client
    coin: str
    onboarded: list[Onboarded]
    balances_before: dict[str, int]
    document: dict[str, Any]
    bill: Bill
    commitment: hashing.Commitment
    record: CreditRecord
    consent_given: ConsentRecord
    checked_fields: list[dict[str, Any]]
    verification: CreditVerification
    invoice: dict[str, Any]
    invoice_fingerprint: bytes
    fingerprint_from_env: bool
    maturity: int
    financing: Financing
    seen_terms: Offer
    second_bill: Bill
    status_before_second_request: str
    double_financing: EblError
    released_to: str
    withdrawn: int
    delivered: Bill
    surrender_request: dict[str, Any]
    supervision: dict[str, Any]
    audit: dict[str, Any]

    def __init__(self, chain: Chain, files: StagedFiles, progress: Progress) -> None:
        self.chain = chain
        self.files = files
        signers = [keys.from_private_key(k) for k in dev_keys(len(CONSORTIUM) + 1)]
        self.admin = signers[0]
        self.accounts = {m.key: s for m, s in zip(CONSORTIUM, signers[1:], strict=True)}
        self.names: dict[str, str] = {s.address: MEMBERS[k].label for k, s in self.accounts.items()}
        self.names[self.admin.address] = "consortium admin"
        self.rec = Recorder(chain, progress, len(self.SEQUENCE), self.name)
        self.exchanges: list[Exchange] = []
        self.carrier_system: CarrierSystem | None = None
        self.service: PlatformService | None = None

    def address(self, handle: str) -> str:
        return self.admin.address if handle == "admin" else self.accounts[handle].address

    def name(self, address: str | None) -> str:
        return self.names.get(address or "", address or "")

    def now(self) -> int:
        return self.chain.block_time()

    def run(self) -> None:
        """Play every step in order; the carrier's system and the platform stop with the story, however it ends."""
        try:
            for step in self.SEQUENCE:
                step(self)
        finally:
            self.stop_platform()
        if len(self.rec.steps) != len(self.SEQUENCE):
            raise DemoError(f"the story recorded {len(self.rec.steps)} steps, expected {len(self.SEQUENCE)}")

    # --- the consortium -------------------------------------------------------------------------------------

    def deploy(self) -> None:
        self.deployment = self.rec.do(
            self.admin.address, "Consortium admin deploys the suite and a test HKD stablecoin",
            lambda: deployments.deploy_suite(self.chain, self.admin, self.files.deployments, redeploy=True,
                                             test_stablecoin=True),
            lambda d: f"{len(d.contracts)} contracts")
        self.names.update({c.address: name for name, c in self.deployment.contracts.items()})
        # one Client over the story's chain: it verifies the manifest just written against the chain (code of
        # every contract and their wiring) before the first facade is used
        self.client = Client(self.chain, self.files.deployments)
        self.coin = self.deployment.address("TestStablecoin")

    def onboard(self) -> None:
        self.onboarded = self.rec.do(
            self.admin.address, f"Consortium admin onboards {len(CONSORTIUM)} participants",
            lambda: onboard_consortium(self.admin, self.accounts, self.client.participants),
            lambda done: ", ".join(f"{n} {r}" for r, n in Counter(
                "+".join(o.participant.roles.names()) for o in done).items()))

    def publish_directory_and_start_platform(self) -> None:
        self.rec.do(self.admin.address, "Consortium publishes its participant directory; the platform starts its "
                                        "DCSA eBL API (ebl serve) and the carrier connects its system",
                    self._start_platform, lambda outcome: outcome)

    def _start_platform(self) -> str:
        from .carrier import CarrierSystem, PlatformService  # the service extra, only now

        carrier = self.accounts["carrier"]
        self.carrier_system = CarrierSystem(carrier.address, MEMBERS["carrier"].label).start()
        entries = directory_entries(self.onboarded, callback_urls={"carrier": self.carrier_system.callback_url},
                                    signing_keys={"carrier": self.carrier_system.public_key})
        directories.write(self.files.directory, entries, chain_id=self.chain.chain_id,
                          published_by="eBL demo consortium (development keys)")
        self.service = PlatformService(self.chain, self.files.deployments, directory=self.files.directory,
                                       index_url=self.index_url, database=self.files.service_database,
                                       keystore=self.files.keystore, signer=carrier)
        api_key = self.service.start(f"{MEMBERS['carrier'].label} documentation system")
        self.carrier_system.connect(self.service.url, api_key)
        return (f"{len(entries)} entries with their onboarding salts, the carrier's callback URL and "
                f"{self.carrier_system.algorithm} manifest key; ebl serve on {self.service.url}")

    @property
    def index_url(self) -> str:
        return sqlite_url(self.files.index)

    def stop_platform(self) -> None:
        if self.service is not None:
            self.service.stop()
        if self.carrier_system is not None:
            self.carrier_system.stop()

    def mint(self) -> None:
        stable = self.chain.contract("TestStablecoin", self.coin)
        self.rec.do(self.admin.address, "Stablecoin issuer mints test HKD to both banks and the importer",
                    lambda: [self.chain.transact(self.admin, stable, "mint", self.address(h), v)
                             for h, v in MINTED.items()],
                    lambda _: ", ".join(f"{MEMBERS[h].label} {money(v)}" for h, v in MINTED.items()))
        self.balances_before = {h: self.balance(h) for h in ("exporter", "importer", "hk_bank")}

    def balance(self, handle: str) -> int:
        stable = self.chain.contract("TestStablecoin", self.coin)
        return int(self.chain.call(stable, "balanceOf", self.address(handle)))

    # --- the carrier's side, through the platform's DCSA API --------------------------------------------------

    def issue_through_dcsa(self) -> None:
        self.document = hashing.load_json_file(samples.TRANSPORT_DOCUMENT)
        self.bill = self._issue_through_dcsa(
            self.document, "Carrier's system requests the eBL's issuance from the DCSA transport document "
                           "(PUT /v3/ebl-issuance-requests); the platform issues it and answers ISSU")

    def issue_second_through_dcsa(self) -> None:
        self.second_bill = self._issue_through_dcsa(
            {**self.document, **SECOND_SHIPMENT}, "Carrier's system requests the eBL of the exporter's next "
                                                  "shipment; the platform issues it and answers ISSU")

    def _issue_through_dcsa(self, document: dict[str, Any], title: str) -> Bill:
        """The carrier's issuance request for `document`, issued to the exporter's order: 204, then the ISSU
        callback; the transaction the platform sent for it counts in this step."""
        reference = str(document["transportDocumentReference"])
        exporter = self.address("exporter")
        carrier_system = self._carrier()

        def issue() -> Bill:
            seen = carrier_system.received()
            sent = carrier_system.request_issuance(document, exporter, MEMBERS["exporter"].label)
            self._exchange("carrier", "PUT", "/v3/ebl-issuance-requests", "IssuanceRequest", reference, None,
                           sent.status_code, f"manifest signed {carrier_system.algorithm}; issue to "
                           f"{MEMBERS['exporter'].label}")
            response = carrier_system.issuance_response(reference, after=seen)
            code = response.get("issuanceResponseCode")
            if code != "ISSU":
                raise DemoError(f"the platform answered {code} to the issuance request for {reference}: "
                                f"{response.get('reason')}")
            record = carrier_system.records("/v1/issuance-requests", reference)[-1]
            tx = record["transactionHash"]
            self.rec.adopt(tx)
            bill = self.client.bills.get(int(record["tokenId"], 16))
            self._exchange("platform", "POST", "/v3/ebl-issuance-responses", "IssuanceResponse", reference, code,
                           204, f"issued to the order of {self.name(bill.holder)}", tx)
            return bill

        return self.rec.do(self.address("carrier"), title, issue,
                           lambda b: f"204, then ISSU: bill {b.transport_document_reference} to the order of "
                                     f"{self.name(b.holder)}")

    def surrender(self) -> None:
        token = self.bill.token_id
        reference = self.bill.transport_document_reference
        carrier_system = self._carrier()

        def surrender() -> dict[str, Any]:
            seen = carrier_system.received()
            _, tx = self.client.bills.surrender(token, "delivery", sender=self.accounts["importer"],
                                                remark="goods collected at Yangshan")
            request = carrier_system.surrender_request(reference, after=seen)
            links = [link["actionCode"] for link in request.get("endorsementChain", [])]
            self._exchange("platform", "POST", "/v3/ebl-surrender-requests", "SurrenderRequestDetails", reference,
                           str(request.get("surrenderRequestCode")), 204,
                           f"{request['surrenderRequestReference']}; endorsement chain {' > '.join(links)}", tx.hash)
            return request

        self.surrender_request = self.rec.do(
            self.address("importer"), "Importer surrenders the eBL for delivery; the platform sends the carrier "
                                      "the surrender request (POST /v3/ebl-surrender-requests)",
            surrender, lambda r: f"{r['surrenderRequestCode']} {r['surrenderRequestReference']} with "
                                 f"{len(r.get('endorsementChain', []))} endorsement-chain links")

    def accept_surrender_through_dcsa(self) -> None:
        request = self.surrender_request
        carrier_system = self._carrier()

        def answer() -> Bill:
            reference = str(request["surrenderRequestReference"])
            sent = carrier_system.answer_surrender(reference, "SURR")
            record = next(r for r in carrier_system.records("/v1/surrender-requests",
                                                            self.bill.transport_document_reference)
                          if r["surrenderRequestReference"] == reference)
            tx = record["answerTransactionHash"]
            if not tx:
                raise DemoError(f"the platform applied no answer to surrender request {reference}")
            self.rec.adopt(tx)
            self._exchange("carrier", "POST", "/v3/ebl-surrender-responses", "SurrenderRequestAnswer",
                           self.bill.transport_document_reference, "SURR", sent.status_code,
                           f"{reference}: {record['outcome'] or 'accepted'}", tx)
            return self.client.bills.get(self.bill.token_id)

        self.delivered = self.rec.do(
            self.address("carrier"), "Carrier's system answers SURR (POST /v3/ebl-surrender-responses); the "
                                     "platform accepts the surrender on chain: goods delivered",
            answer, lambda b: f"204; status {b.status.name.lower()}")
        self.stop_platform()  # the carrier's part is over: the platform's files can be put in place

    def _carrier(self) -> CarrierSystem:
        if self.carrier_system is None:
            raise DemoError("the carrier's system is not connected")
        return self.carrier_system

    def _exchange(self, caller: str, method: str, path: str, message: str, reference: str, code: str | None,
                  status: int, detail: str, transaction: str | None = None) -> None:
        from .carrier import Exchange

        self.exchanges.append(Exchange(len(self.rec.steps) + 1, caller, method, path, message, reference, code,
                                       status, detail, transaction))

    # --- credit: anchor, consent, maker and checker -----------------------------------------------------------

    def anchor_credit_report(self) -> None:
        report = hashing.load_json_file(samples.CREDIT_REPORT)
        self.commitment = commitment = hashing.commit(report)
        self.record = self.rec.do(
            self.address("credit_provider"), "Credit provider anchors the exporter's salted credit-report root",
            lambda: self.client.credit.anchor(self.address("exporter"), commitment,
                                              self.now() + CREDIT_VALIDITY_DAYS * DAY,
                                              sender=self.accounts["credit_provider"]).value,
            lambda r: f"root {r.root[:18]}..., {len(commitment.salts)} salted fields, "
                      f"valid until {utc_time(r.expires_at)}")

    def consent(self) -> None:
        self.consent_given = self.rec.do(
            self.address("exporter"), "Exporter consents to Harbour Bank HK relying on the report",
            lambda: self.client.credit.grant_consent(self.address("credit_provider"), self.commitment.root,
                                                     self.address("hk_bank"), self.now() + CONSENT_DAYS * DAY,
                                                     sender=self.accounts["exporter"]).value,
            lambda c: f"until {utc_time(c.expires_at)}")

    def record_verification(self) -> None:
        credit, provider, exporter = self.client.credit, self.address("credit_provider"), self.address("exporter")
        report = hashing.load_json_file(samples.CREDIT_REPORT)
        disclosures = [hashing.disclose(report, self.commitment, path) for path in DISCLOSED_FIELDS]
        self.checked_fields = [{"field": d.path, "value": d.value,
                                "matchesAnchor": credit.verify_field(provider, exporter, d)} for d in disclosures]
        if not all(c["matchesAnchor"] for c in self.checked_fields):
            raise DemoError("a disclosed field did not verify against the anchored root")
        self.rec.do(self.address("hk_maker"), "Harbour Bank officer A (maker) checks disclosed fields on chain and "
                                              "records the verification",
                    lambda: credit.record_verification(self.address("hk_bank"), exporter, provider,
                                                       self.commitment.root, sender=self.accounts["hk_maker"]).value,
                    lambda _: "; ".join(f"{c['field']} = {c['value']} matches the anchor"
                                        for c in self.checked_fields))

    def refuse_self_approval(self) -> None:
        self.rec.refused(self.address("hk_maker"), "Officer A tries to approve their own verification",
                         lambda: self.client.credit.approve_verification(
                             self.address("hk_bank"), self.address("exporter"), sender=self.accounts["hk_maker"]),
                         SameMakerAndChecker)

    def approve_verification(self) -> None:
        self.verification = self.rec.do(
            self.address("hk_checker"), "Harbour Bank officer B (checker) approves the verification",
            lambda: self.client.credit.approve_verification(self.address("hk_bank"), self.address("exporter"),
                                                            sender=self.accounts["hk_checker"]).value,
            lambda v: f"status {v.status.name.lower()}")

    # --- financing: the pledge and the request are one transaction -------------------------------------------

    def pledge_and_request(self) -> None:
        self.invoice = invoice = hashing.load_json_file(samples.INVOICE)
        if minor_units(invoice["amount"], CURRENCY) * 10 ** (COIN_DECIMALS - 2) != INVOICE_UNITS:
            raise DemoError(f"the sample invoice is not for {money(INVOICE_UNITS)}")
        self.fingerprint_from_env = bool(os.environ.get(FINGERPRINT_KEY_ENV))
        self.invoice_fingerprint = fingerprint(invoice, self.fingerprint_key)
        self.maturity = self.now() + TENOR_DAYS * DAY
        self.financing = self.rec.do(
            self.address("exporter"), "Exporter pledges the eBL to the escrow and requests financing of the "
                                      "invoice, in one transaction",
            lambda: self.client.finance.request(self.bill.token_id, self.address("importer"), PRINCIPAL, self.coin,
                                                self.maturity, self.invoice_fingerprint,
                                                sender=self.accounts["exporter"]).value,
            lambda f: f"financing #{f.financing_id}, invoice {invoice['invoiceNumber']}, {money(PRINCIPAL)} asked, "
                      "invoice reserved")

    @property
    def fingerprint_key(self) -> bytes:
        return fingerprint_key(None) if self.fingerprint_from_env else DEMO_FINGERPRINT_KEY

    @property
    def financing_id(self) -> int:
        return self.financing.financing_id

    def offer(self) -> None:
        self.rec.do(self.address("hk_bank"), "Harbour Bank HK offers its terms",
                    lambda: self.client.finance.offer(self.financing_id, PRINCIPAL, FEE, self.maturity,
                                                      sender=self.accounts["hk_bank"]).value,
                    lambda o: f"{money(o.principal)} + fee {money(o.fee)}, maturity {utc_time(o.maturity)}")

    def accept(self) -> None:
        fin, bank = self.client.finance, self.address("hk_bank")
        self.seen_terms = fin.offer_of(self.financing_id, bank)  # the terms the exporter reads, and names
        self.rec.do(self.address("exporter"), "Exporter accepts Harbour Bank's offer, naming the terms it saw",
                    lambda: fin.accept(self.financing_id, bank, terms=self.seen_terms,
                                       sender=self.accounts["exporter"]).value,
                    lambda f: f"{money(f.principal)} + fee {money(f.fee)}, maturity {utc_time(f.maturity)}; "
                              f"outstanding {money(f.outstanding)}")

    def fund(self) -> None:
        self.rec.do(self.address("hk_bank"), "Harbour Bank HK funds (the escrow checks its approved credit "
                                             "verification); principal to the exporter",
                    lambda: self.client.finance.fund(self.financing_id, sender=self.accounts["hk_bank"]).value,
                    lambda f: f"state {f.state.name.lower()}, invoice fingerprint now financed")

    def refuse_double_financing(self) -> None:
        fin = self.client.finance
        respelled = {**self.invoice, **RESPELLED_INVOICE}
        # what Bank of Pudong sees when it checks the invoice presented to it (a read anyone can make)
        self.status_before_second_request = fin.fingerprint_status(fingerprint(respelled, self.fingerprint_key))
        self.double_financing = self.rec.refused(
            self.address("exporter"), "Exporter asks Bank of Pudong to finance the same invoice against the "
                                      "second eBL: the escrow refuses the pledge-and-request before any bank can "
                                      "offer",
            lambda: fin.request(self.second_bill.token_id, self.address("importer"), PRINCIPAL, self.coin,
                                self.maturity, fingerprint(respelled, self.fingerprint_key),
                                sender=self.accounts["exporter"]),
            DuplicateFinancing)

    def repay(self) -> None:
        self.rec.do(self.address("importer"), "Importer repays principal and fee; the escrow releases the eBL to "
                                              "the importer",
                    lambda: self.client.finance.repay(self.financing_id, PRINCIPAL + FEE,
                                                      sender=self.accounts["importer"]).value,
                    lambda f: f"repaid {money(f.repaid)}, state {f.state.name.lower()}, "
                              f"bill held by {self.name(self.client.bills.get(f.bill).holder)}")
        self.released_to = self.client.bills.get(self.bill.token_id).holder

    def withdraw(self) -> None:
        self.withdrawn = self.rec.do(self.address("hk_bank"), "Harbour Bank HK withdraws the repayment from the "
                                                              "escrow",
                                     lambda: self.client.finance.withdraw(self.coin,
                                                                          sender=self.accounts["hk_bank"]).value,
                                     money)

    # --- the regulator, after the story ------------------------------------------------------------------------

    def regulator_checks_credit_record(self) -> None:
        self.supervision = self.rec.do(
            self.address("regulator"), "Regulator checks on chain who anchored the exporter's credit record and "
                                       "that it counts only while its provider is active",
            self._read_credit_record,
            lambda s: f"anchored by {', '.join(s['providerNames'])}; valid now: {'yes' if s['valid'] else 'NO'} "
                      f"(provider {'an active credit provider' if s['providerActive'] else 'NOT active'})")

    def _read_credit_record(self) -> dict[str, Any]:
        """What the regulator reads on chain (no transaction): the providers that anchored the record (from the
        anchor events), the record's validity, which requires its provider to be an active credit provider,
        and the regulator's own standing to revoke any record as a supervisor."""
        regulator, subject, root = self.address("regulator"), self.address("exporter"), self.commitment.root
        credit, registry = self.client.credit, self.client.participants
        providers = credit.providers_of(subject, root)
        record = credit.get(providers[0], subject, root)
        return {
            "regulator": self.name(regulator), "subject": self.name(subject), "root": record.root,
            "providers": providers, "providerNames": [self.name(p) for p in providers],
            "valid": record.valid, "expiresAt": record.expires_at,
            "providerStatus": registry.get(providers[0]).status.name.lower(),
            "providerActive": registry.is_active(providers[0], Role.CREDIT_PROVIDER),
            "regulatorMayRevoke": registry.is_active(regulator, Role.REGULATOR),
        }

    def regulator_audits(self) -> None:
        self.audit = self.rec.do(
            self.address("regulator"), "Regulator brings the index up to the chain and runs the supervisor's "
                                       "report and the bill's audit trail, with names from the directory",
            self._audit,
            lambda a: f"{a['index']['events']} events indexed to block {a['index']['lastBlock']}; "
                      f"{len(a['directory']['accepted'])} directory entries proved on chain; the bill's trail: "
                      f"{len(a['billTrail'])} actions")

    def _audit(self) -> dict[str, Any]:
        queries = index.synced(self.chain, self.deployment, self.index_url, directory=self.files.directory)
        try:
            viewer = queries.viewer(self.address("regulator"))
            report = queries.report(viewer)
            trail = queries.audit_rows(queries.audit(viewer, token=self.bill.token_id))
            status = queries.status()
            events = queries.event_count()
            directory = queries.directory
        finally:
            queries.engine.dispose()
        _write_csv(self.files.audit_trail, trail)
        return {
            "regulator": self.name(viewer.account), "asRegulator": viewer.regulator,
            "index": {"lastBlock": status.last_block, "events": events},
            "directory": {"accepted": sorted(directory.entries), "refused": [
                {"account": r.account, "name": r.legal_name, "reason": r.reason} for r in directory.refused]},
            "report": report, "billTrail": trail,
        }

    # --- for the report ---------------------------------------------------------------------------------------

    @property
    def steps(self) -> list[dict[str, Any]]:
        return self.rec.steps

    def fingerprint_key_label(self) -> str:
        return f"${FINGERPRINT_KEY_ENV}" if self.fingerprint_from_env else "demo key (public)"

    #: the story, in order: one step each
    SEQUENCE: ClassVar[tuple[Callable[[Story], None], ...]] = (
        deploy, onboard, publish_directory_and_start_platform, mint, issue_through_dcsa, anchor_credit_report,
        consent, record_verification, refuse_self_approval, approve_verification, pledge_and_request, offer, accept,
        fund, issue_second_through_dcsa, refuse_double_financing, repay, withdraw, surrender,
        accept_surrender_through_dcsa, regulator_checks_credit_record, regulator_audits,
    )


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """The trail as `ebl audit export --format csv` writes it: a header of the row keys, one line per action."""
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

