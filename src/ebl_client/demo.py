"""The main job (`make demo`): one Hong Kong -> Shanghai shipment, end to end, on a real chain.

It starts the embedded Anvil (or uses the node at --rpc-url), deploys the suite with a test HKD
stablecoin, onboards the consortium and runs the story through the client:

  carrier issues the eBL from a DCSA transport document -> the mainland credit provider anchors the
  exporter's credit report -> the exporter consents to the Hong Kong bank -> two officers of that bank
  verify it (maker, checker) -> the exporter pledges the eBL and requests financing in one transaction ->
  the bank offers, the exporter accepts naming the terms it saw, the bank funds in the stablecoin -> a
  second bank's attempt to finance the same invoice is refused -> the importer repays -> the eBL is
  released to the importer -> the importer surrenders it -> the carrier accepts (goods delivered) -> the
  regulator checks on chain who anchored the credit record the financing relied on, and that it counts
  only while its provider is active.

It prints the chain of title, the credit verification trail, the financing summary, the regulator's check
and the gas of every step (or all of it as JSON with --json). The chain state and the manifest stay on disk
(.ebl/anvil-state.json, deployments/<chain id>.json), so `ebl node` afterwards serves the same chain and
`ebl bill history <token id>` shows the story. The credit provider's commitment (with its salts) is kept
in .ebl/demo/ so its fields can be disclosed afterwards with `ebl credit disclose`.

Demo keys are Anvil's public development keys (account 0 is the consortium admin, account i+1 member i):
fine for a laptop chain or the dev Besu network in networks/besu, never for a real one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from eth_utils import keccak
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from . import deployment as deployments
from . import hashing, keys, samples, tables
from .chain import Chain
from .client import Client
from .consortium import CONSORTIUM, MEMBERS, onboard_consortium
from .errors import DuplicateFinancing, EblError, NodeError, SameMakerAndChecker
from .financing import FINGERPRINT_KEY_ENV, fingerprint, fingerprint_key, minor_units
from .models import Role, jsonable, utc_time
from .money import format_units as money_format_units
from .networks import ANVIL, BESU, profile
from .node import (
    BESU_LIKE,
    BESU_LIKE_STATE_FILE,
    STATE_FILE,
    AnvilNode,
    StateLock,
    default_state_file,
    dev_keys,
    log_path,
    saved_block,
)

T = TypeVar("T")

DAY = 86_400
#: the fingerprint key the demo uses when $EBL_FINGERPRINT_KEY is not set: public, so demo only
DEMO_FINGERPRINT_KEY = keccak(text="ebl demo consortium invoice fingerprint key (public: demo only)")
#: the test stablecoin has 6 decimals, like most fiat-backed stablecoins
COIN_DECIMALS = 6
COIN = 10**COIN_DECIMALS
#: the financing: 80 % of the HKD 14,398,800.00 invoice, a 1.5 % flat fee, 90 days
INVOICE_UNITS = 14_398_800 * COIN
ADVANCE_PERCENT, FEE_PERCENT = 80, Decimal("1.5")
PRINCIPAL = INVOICE_UNITS * ADVANCE_PERCENT // 100
FEE = int(PRINCIPAL * FEE_PERCENT / 100)
TENOR_DAYS = 90
#: the credit report's anchor is valid for a year (the registry allows at most 400 days by default)
CREDIT_VALIDITY_DAYS = 365
#: the number of steps `Story.run` records (the progress bar's length)
STEPS = 20
#: disclosed to the bank's maker officer, and checked against the anchor on chain, before verifying
DISCLOSED_FIELDS = ("/rating/grade", "/paymentHistory/defaults24m", "/sanctionsScreening/result")


def money(units: int) -> str:
    """Stablecoin units as `HKD 11,519,040.00`, a decrease as `-HKD 11,519,040.00` (the test coin tracks the
    Hong Kong dollar)."""
    return ("-" if units < 0 else "") + money_format_units(abs(units), COIN_DECIMALS, "HKD", min_decimals=2)


@dataclass(frozen=True)
class Options:
    state_file: Path | None = None  # default: STATE_FILE, or BESU_LIKE_STATE_FILE with besu_like
    deployments_dir: Path = field(default_factory=deployments.default_dir)
    work_dir: Path = Path(".ebl/demo")
    rpc_url: str | None = None  # None: start the embedded Anvil
    network: str = "anvil"  # profile for rpc_url
    chain_id: int | None = None  # with rpc_url: refuse to run unless the node serves this chain
    besu_like: bool = False  # embedded Anvil started Besu-like, driven with the besu profile


class DemoError(EblError):
    """The story did not go as the rules say it must (e.g. a refusal that did not happen)."""


class Story:
    """The shipment's story, step by step; each step records its transactions and gas."""

    def __init__(self, chain: Chain, deployments_dir: Path, progress: Progress) -> None:
        self.chain = chain
        self.deployments_dir = deployments_dir
        self.progress = progress
        self.task = progress.add_task("starting", total=STEPS)
        signers = [keys.from_private_key(k) for k in dev_keys(len(CONSORTIUM) + 1)]
        self.admin = signers[0]
        self.accounts = {m.key: s for m, s in zip(CONSORTIUM, signers[1:], strict=True)}
        self.names: dict[str, str] = {s.address: MEMBERS[k].label for k, s in self.accounts.items()}
        self.names[self.admin.address] = "consortium admin"
        self.steps: list[dict[str, Any]] = []

    def address(self, handle: str) -> str:
        return self.accounts[handle].address

    def name(self, address: str | None) -> str:
        return self.names.get(address or "", address or "")

    # --- recording ---------------------------------------------------------------------------------

    @contextmanager
    def _step(self, actor: str, title: str) -> Iterator[dict[str, Any]]:
        self.progress.update(self.task, description=title)
        record: dict[str, Any] = {"n": len(self.steps) + 1, "title": title, "actor": self.name(self._signer(actor)),
                                  "outcome": "", "refused": None}
        with self.chain.journal() as receipts:
            yield record
        record["transactions"] = [{"hash": r["transactionHash"].to_0x_hex(), "block": int(r["blockNumber"]),
                                   "gasUsed": int(r["gasUsed"]), "status": int(r["status"])} for r in receipts]
        record["gasUsed"] = sum(t["gasUsed"] for t in record["transactions"])
        last = record["transactions"][-1]["block"] if receipts else None
        record["block"] = last
        record["time"] = utc_time(self.chain.block_time(last)) if last is not None else ""
        self.steps.append(record)
        self.progress.advance(self.task)
        mark = f"refused ({record['refused']})" if record["refused"] else "done" if receipts else "done, reads only"
        self.progress.console.print(f"[dim]{record['n']:>2}/{STEPS}[/dim] {title}: {mark}, "
                                    f"{len(receipts)} tx, {record['gasUsed']:,} gas")

    def _signer(self, actor: str) -> str:
        return self.admin.address if actor == "admin" else self.address(actor)

    def do(self, actor: str, title: str, action: Callable[[], T], outcome: Callable[[T], str] | None = None) -> T:
        with self._step(actor, title) as record:
            result = action()
            record["outcome"] = outcome(result) if outcome else ""
        return result

    def refused(self, actor: str, title: str, action: Callable[[], Any], expected: type[EblError]) -> EblError:
        """Run an action the rules must refuse with `expected`; DemoError if it is not refused."""
        with self._step(actor, title) as record:
            try:
                action()
            except expected as exc:
                record["refused"] = type(exc).__name__
                record["outcome"] = str(exc)
                return exc
        raise DemoError(f"step {record['n']} ({title}) should have been refused with {expected.__name__}")

    def now(self) -> int:
        return self.chain.block_time()

    # --- the story -----------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        a = self.accounts
        deployment = self.do("admin", "Consortium admin deploys the suite and a test HKD stablecoin",
                             lambda: deployments.deploy_suite(self.chain, self.admin, self.deployments_dir,
                                                              redeploy=True, test_stablecoin=True),
                             lambda d: f"{len(d.contracts)} contracts")
        self.names.update({c.address: name for name, c in deployment.contracts.items()})
        # one Client over the story's chain: it verifies the manifest just written against the chain (code of
        # every contract and their wiring) before the first facade is used
        client = Client(self.chain, self.deployments_dir)
        registry, bills, credit, fin = client.participants, client.bills, client.credit, client.finance
        coin = deployment.address("TestStablecoin")
        stable = self.chain.contract("TestStablecoin", coin)

        onboarded = self.do("admin", f"Consortium admin onboards {len(CONSORTIUM)} participants",
                            lambda: onboard_consortium(self.admin, a, registry),
                            lambda done: ", ".join(f"{n} {r}" for r, n in Counter(
                                "+".join(o.participant.roles.names()) for o in done).items()))
        minted = {"hk_bank": 50_000_000 * COIN, "cn_bank": 50_000_000 * COIN, "importer": 20_000_000 * COIN}
        self.do("admin", "Stablecoin issuer mints test HKD to both banks and the importer",
                lambda: [self.chain.transact(self.admin, stable, "mint", a[h].address, v) for h, v in minted.items()],
                lambda _: ", ".join(f"{MEMBERS[h].label} {money(v)}" for h, v in minted.items()))
        balances_before = {h: self._balance(stable, h) for h in ("exporter", "importer", "hk_bank")}

        # 1. the carrier issues the eBL to the shipper, to order (the document's isToOrder)
        document = hashing.load_json_file(samples.TRANSPORT_DOCUMENT)
        bill = self.do("carrier", "Carrier issues the eBL from the DCSA transport document",
                       lambda: bills.issue(document, a["exporter"].address, sender=a["carrier"],
                                           remark="issued, shipped on board Hong Kong").value,
                       lambda b: f"bill {b.transport_document_reference} to the order of {self.name(b.holder)}")

        # 2-4. credit: anchor, consent, maker and checker
        report = hashing.load_json_file(samples.CREDIT_REPORT)
        commitment = hashing.commit(report)
        provider, exporter, hk_bank = a["credit_provider"].address, a["exporter"].address, a["hk_bank"].address
        record = self.do("credit_provider", "Credit provider anchors the exporter's salted credit-report root",
                         lambda: credit.anchor(exporter, commitment, self.now() + CREDIT_VALIDITY_DAYS * DAY,
                                               sender=a["credit_provider"]).value,
                         lambda r: f"root {r.root[:18]}..., {len(commitment.salts)} salted fields, "
                                   f"valid until {utc_time(r.expires_at)}")
        self.commitment = commitment
        consent = self.do("exporter", "Exporter consents to Harbour Bank HK relying on the report",
                          lambda: credit.grant_consent(provider, commitment.root, hk_bank, self.now() + 180 * DAY,
                                                       sender=a["exporter"]).value,
                          lambda c: f"until {utc_time(c.expires_at)}")
        disclosures = [hashing.disclose(report, commitment, path) for path in DISCLOSED_FIELDS]
        checked = [{"field": d.path, "value": d.value, "matchesAnchor": credit.verify_field(provider, exporter, d)}
                   for d in disclosures]
        if not all(c["matchesAnchor"] for c in checked):
            raise DemoError("a disclosed field did not verify against the anchored root")
        self.do("hk_maker", "Harbour Bank officer A (maker) checks disclosed fields on chain and records "
                            "the verification",
                lambda: credit.record_verification(hk_bank, exporter, provider, commitment.root,
                                                   sender=a["hk_maker"]).value,
                lambda _: "; ".join(f"{c['field']} = {c['value']} matches the anchor" for c in checked))
        self.refused("hk_maker", "Officer A tries to approve their own verification",
                     lambda: credit.approve_verification(hk_bank, exporter, sender=a["hk_maker"]),
                     SameMakerAndChecker)
        verification = self.do("hk_checker", "Harbour Bank officer B (checker) approves the verification",
                               lambda: credit.approve_verification(hk_bank, exporter, sender=a["hk_checker"]).value,
                               lambda v: f"status {v.status.name.lower()}")

        # 5-7. financing: the pledge and the request are one transaction
        invoice = hashing.load_json_file(samples.INVOICE)
        if minor_units(invoice["amount"], "HKD") * 10 ** (COIN_DECIMALS - 2) != INVOICE_UNITS:
            raise DemoError(f"the sample invoice is not for {money(INVOICE_UNITS)}")
        key = fingerprint_key(None) if _env_key() else DEMO_FINGERPRINT_KEY
        invoice_fp = fingerprint(invoice, key)
        maturity = self.now() + TENOR_DAYS * DAY
        financing = self.do("exporter", "Exporter pledges the eBL to the escrow and requests financing of the "
                                        "invoice, in one transaction",
                            lambda: fin.request(bill.token_id, a["importer"].address, PRINCIPAL, coin, maturity,
                                                invoice_fp, sender=a["exporter"]).value,
                            lambda f: f"financing #{f.financing_id}, invoice {invoice['invoiceNumber']}, "
                                      f"{money(PRINCIPAL)} asked, invoice reserved")
        fid = financing.financing_id
        self.do("hk_bank", "Harbour Bank HK offers its terms",
                lambda: fin.offer(fid, PRINCIPAL, FEE, maturity, sender=a["hk_bank"]).value,
                lambda o: f"{money(o.principal)} + fee {money(o.fee)}, maturity {utc_time(o.maturity)}")
        seen = fin.offer_of(fid, hk_bank)  # the terms the exporter reads, and names when it accepts
        self.do("exporter", "Exporter accepts Harbour Bank's offer, naming the terms it saw",
                lambda: fin.accept(fid, hk_bank, terms=seen, sender=a["exporter"]).value,
                lambda f: f"{money(f.principal)} + fee {money(f.fee)}, maturity {utc_time(f.maturity)}; "
                          f"outstanding {money(f.outstanding)}")
        self.do("hk_bank", "Harbour Bank HK funds (the escrow checks its approved credit verification); "
                           "principal to the exporter",
                lambda: fin.fund(fid, sender=a["hk_bank"]).value,
                lambda f: f"state {f.state.name.lower()}, invoice fingerprint now financed")

        # 8. the double-financing attempt: the same invoice, spelled differently, against another bill
        second_document = {**document, "transportDocumentReference": "VHSL2611HKGSHA0008",
                           "shippingInstructionsReference": "SI-PRE-2026-11-0419"}
        second_bill = self.do("carrier", "Carrier issues the eBL of the exporter's next shipment",
                              lambda: bills.issue(second_document, exporter, sender=a["carrier"]).value,
                              lambda b: f"bill {b.transport_document_reference}")
        respelled = {**invoice, "invoiceNumber": "pre inv 2026 0412", "amount": "14,398,800", "issueDate": "2026/11/18"}
        # what Bank of Pudong sees when it checks the invoice presented to it (a read anyone can make)
        status_before_request = fin.fingerprint_status(fingerprint(respelled, key))
        refusal = self.refused(
            "exporter", "Exporter asks Bank of Pudong to finance the same invoice against the second eBL: "
                        "the escrow refuses the pledge-and-request before any bank can offer",
            lambda: fin.request(second_bill.token_id, a["importer"].address, PRINCIPAL, coin, maturity,
                                fingerprint(respelled, key), sender=a["exporter"]),
            DuplicateFinancing)

        # 9-11. repayment, release, delivery
        self.do("importer", "Importer repays principal and fee; the escrow releases the eBL to the importer",
                lambda: fin.repay(fid, PRINCIPAL + FEE, sender=a["importer"]).value,
                lambda f: f"repaid {money(f.repaid)}, state {f.state.name.lower()}, "
                          f"bill held by {self.name(bills.get(f.bill).holder)}")
        released_to = bills.get(bill.token_id).holder
        withdrawn = self.do("hk_bank", "Harbour Bank HK withdraws the repayment from the escrow",
                            lambda: fin.withdraw(coin, sender=a["hk_bank"]).value, money)
        self.do("importer", "Importer surrenders the eBL to the carrier for delivery",
                lambda: bills.surrender(bill.token_id, "delivery", sender=a["importer"],
                                        remark="goods collected at Yangshan").value,
                lambda b: f"status {b.status.name.lower()}")
        delivered = self.do("carrier", "Carrier accepts the surrender: goods delivered",
                            lambda: bills.accept_surrender(bill.token_id, sender=a["carrier"]).value,
                            lambda b: f"status {b.status.name.lower()}")

        # 12. after the story: the regulator's view of the credit record the financing relied on
        supervision = self.do("regulator", "Regulator checks on chain who anchored the exporter's credit record "
                                           "and that it counts only while its provider is active",
                              lambda: self._supervision(client, exporter, commitment.root),
                              lambda s: f"anchored by {', '.join(s['providerNames'])}; valid now: "
                                        f"{'yes' if s['valid'] else 'NO'} (provider "
                                        f"{'an active credit provider' if s['providerActive'] else 'NOT active'})")
        if len(self.steps) != STEPS:
            raise DemoError(f"the story recorded {len(self.steps)} steps, expected {STEPS}")

        final = fin.get(fid)
        return {
            "chainId": self.chain.chain_id,
            "network": self.chain.profile.name,
            "rpcUrl": self.chain.url,  # the embedded node's URL is closed once the demo ends
            "contracts": {name: c.address for name, c in deployment.contracts.items()},
            "admin": self.admin.address,
            "participants": [
                {"name": m.name, "handle": m.key, "address": p.address, "devKeyIndex": i + 1,
                 "roles": p.roles.names(), "jurisdiction": p.jurisdiction, "status": p.status.name.lower(),
                 "institution": self.names.get(p.institution or "") if p.institution else None,
                 "identifierHash": p.identifier_hash}
                for i, (m, p) in enumerate((o.member, o.participant) for o in onboarded)
            ],
            "bill": {**jsonable(delivered), "documentMatches": bills.verify_document(bill.token_id, document),
                     "history": [self._event_json(e) for e in bills.history(bill.token_id)]},
            "secondBill": {**jsonable(bills.get(second_bill.token_id)),
                           "history": [self._event_json(e) for e in bills.history(second_bill.token_id)]},
            "credit": {
                "record": jsonable(credit.get(provider, exporter, record.root)),
                "provider": self.name(record.provider), "consent": jsonable(consent),
                "disclosedFields": checked, "verification": jsonable(verification),
                "maker": self.name(verification.maker), "checker": self.name(verification.checker),
                "selfApprovalRefused": self._refusal("SameMakerAndChecker"),
                "approvedAndValid": credit.has_approved_verification(hk_bank, exporter),
            },
            "financing": {
                **jsonable(final), "invoiceNumber": invoice["invoiceNumber"],
                "invoiceAmount": f"{invoice['currency']} {Decimal(invoice['amount']):,.2f}",
                "fingerprintStatus": fin.fingerprint_status(invoice_fp),
                "fingerprintKey": f"${FINGERPRINT_KEY_ENV}" if _env_key() else "demo key (public)",
                "financierName": self.name(final.financier), "releasedTo": self.name(released_to),
                "acceptedTerms": {"principal": seen.principal, "fee": seen.fee, "maturity": seen.maturity},
                "withdrawnByFinancier": withdrawn,
                "balanceChanges": {MEMBERS[h].label: self._balance(stable, h) - before
                                   for h, before in balances_before.items()},
            },
            "doubleFinancing": {
                "secondBank": MEMBERS["cn_bank"].label, "invoiceAsPresented": {
                    k: respelled[k] for k in ("invoiceNumber", "amount", "issueDate")},
                "fingerprintStatusBeforeRequest": status_before_request,
                "refused": type(refusal).__name__, "error": str(refusal),
                "secondBillHolder": self.name(bills.get(second_bill.token_id).holder),
            },
            "supervision": supervision,
            "steps": self.steps,
            "gasTotal": sum(s["gasUsed"] for s in self.steps),
            "transactionCount": sum(len(s["transactions"]) for s in self.steps),
            "amountUnits": f"stablecoin minor units ({COIN_DECIMALS} decimals, 1 unit = HKD 1e-{COIN_DECIMALS})",
        }

    # --- helpers -------------------------------------------------------------------------------------

    def _supervision(self, client: Client, subject: str, root: bytes) -> dict[str, Any]:
        """What the regulator reads on chain (no transaction): the providers that anchored the record (from the
        anchor events), the record's validity, which requires its provider to be an active credit provider,
        and the regulator's own standing to revoke any record as a supervisor."""
        regulator = self.address("regulator")
        providers = client.credit.providers_of(subject, root)
        provider = providers[0]
        record = client.credit.get(provider, subject, root)
        return {
            "regulator": self.name(regulator), "subject": self.name(subject), "root": record.root,
            "providers": providers, "providerNames": [self.name(p) for p in providers],
            "valid": record.valid, "expiresAt": record.expires_at,
            "providerStatus": client.participants.get(provider).status.name.lower(),
            "providerActive": client.participants.is_active(provider, Role.CREDIT_PROVIDER),
            "regulatorMayRevoke": client.participants.is_active(regulator, Role.REGULATOR),
        }

    def _balance(self, stable: Any, handle: str) -> int:
        return int(self.chain.call(stable, "balanceOf", self.address(handle)))

    def _refusal(self, error: str) -> str:
        return str(next(s["outcome"] for s in self.steps if s["refused"] == error))

    def _event_json(self, event: Any) -> dict[str, Any]:
        return {**jsonable(event), "time": utc_time(event.timestamp), "dcsa": event.action.dcsa,
                "actorName": self.name(event.actor), "holderName": self.name(event.holder),
                "beneficiaryName": self.name(event.beneficiary) if event.beneficiary else None}


def _env_key() -> bool:
    return bool(os.environ.get(FINGERPRINT_KEY_ENV))


def run(options: Options, console: Console,
        make_request_hook: Callable[[str, Any], None] | None = None) -> dict[str, Any]:
    """Run the story on a fresh chain and return the report.

    The run is staged and put in place only when the whole story succeeded: the node's state file is
    written next to its destination and checked to hold the story's last block, the commitment is staged
    in the work directory; then the state file, the manifest and the commitment are swapped in one after
    the other with atomic renames. A failure before that leaves the previous run's files as they were.
    While it runs the demo holds the state file's lock, so it refuses to start while `ebl node` serves
    that chain (and `ebl node` refuses to start on it meanwhile)."""
    started = time.monotonic()
    state_file = options.state_file or default_state_file(options.besu_like)
    try:
        with ExitStack() as stack:
            if not options.rpc_url:
                stack.enter_context(StateLock(state_file))
            options.work_dir.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=options.work_dir, prefix=".staging-"))
            stack.callback(shutil.rmtree, staging, ignore_errors=True)
            # next to the destination, so that the final rename is atomic
            staged_state = state_file.with_name(f".{state_file.name}.staging-{os.getpid()}")
            for leftover in (staged_state, staged_state.with_name(staged_state.name + ".lock")):
                stack.callback(leftover.unlink, missing_ok=True)
            report, commitment = _play(options, console, make_request_hook, staged_state, staging / "deployments")

            chain_dir = options.work_dir / str(report["chainId"])
            chain_dir.mkdir(exist_ok=True)
            commitment.save(staging / "commitment.json")
            shutil.copyfile(samples.CREDIT_REPORT, staging / "credit_report.json")
            manifest = deployments.load(staging / "deployments", report["chainId"])
            if not options.rpc_url:
                os.replace(staged_state, state_file)
            manifest_file = deployments.save(manifest, options.deployments_dir)
            for name in ("commitment.json", "credit_report.json"):
                os.replace(staging / name, chain_dir / name)
    except OSError as exc:
        raise DemoError(f"cannot write the demo's files: {exc}") from None
    report["credit"]["commitmentFile"] = str(chain_dir / "commitment.json")
    report["credit"]["reportFile"] = str(chain_dir / "credit_report.json")
    report["stateFile"] = None if options.rpc_url else str(state_file)
    report["manifest"] = str(manifest_file)
    report["explore"] = _explore(options, state_file, report)
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


def _play(options: Options, console: Console, make_request_hook: Callable[[str, Any], None] | None,
          staged_state: Path, staged_deployments: Path) -> tuple[dict[str, Any], hashing.Commitment]:
    """The story on the embedded Anvil (state in `staged_state`) or on the node at options.rpc_url."""
    with ExitStack() as stack:
        progress = stack.enter_context(Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=console, transient=True))
        if options.rpc_url:
            url, net = options.rpc_url, profile(options.network)
        else:
            # Anvil's output goes to the log of the chain's own state file, which `ebl node` appends to later
            log = log_path(options.state_file or default_state_file(options.besu_like))
            node = stack.enter_context(AnvilNode(state_file=staged_state, fresh=True, log_file=log,
                                                 **(BESU_LIKE if options.besu_like else {})))
            url, net = node.url, BESU if options.besu_like else ANVIL
        chain = Chain.connect(url, net, expected_chain_id=options.chain_id, make_request_hook=make_request_hook)
        story = Story(chain, staged_deployments, progress)
        report = story.run()
    # the embedded node has stopped: its state file must hold the whole story
    last_block = max(t["block"] for step in report["steps"] for t in step["transactions"])
    if not options.rpc_url and (saved_block(staged_state) or -1) < last_block:
        raise NodeError(f"anvil did not save the chain up to block {last_block} in {staged_state}; "
                        "the previous demo chain is kept")
    return report, story.commitment


def _explore(options: Options, state_file: Path, report: dict[str, Any]) -> dict[str, Any]:
    """The commands that show this run's chain afterwards (`ebl node ...`, then `ebl ... bill history`)."""
    if options.rpc_url:
        node, ebl = None, f"ebl --rpc-url {options.rpc_url} --network {options.network}"
    else:
        node = "ebl node" + (" --besu-like" if options.besu_like else "") + \
            (f" --state-file {state_file}" if options.state_file else "")
        ebl = "ebl" + (" --network besu" if options.besu_like else "")
    if options.deployments_dir != deployments.default_dir():
        ebl += f" --deployments {options.deployments_dir}"
    return {"node": node, "commands": [f"{ebl} bill history {report['bill']['token_id']}",
                                       f"{ebl} finance show {report['financing']['financing_id']}"]}


# --- the printed report -------------------------------------------------------------------------------


def _meaning(event: dict[str, Any], fin: dict[str, Any]) -> str:
    """What a title action meant in the story, for the officer reading the chain of title."""
    financing = f"financing #{fin['financing_id']}, {fin['financierName']}"
    if event["action"] == "pledge":
        return f"pledged into the escrow with the financing request ({financing})"
    if event["actorName"] == "FinancingEscrow" and event["action"] == "transfer_owners":
        return f"released on full repayment ({financing})"
    return {"issue": "issued to the shipper's order",
            "surrender_for_delivery": "presented to the carrier for the goods",
            "surrender_accepted": "goods delivered; the bill is spent"}.get(event["action"], "")


def print_report(report: dict[str, Any], console: Console) -> None:
    bill, credit, fin, dup = report["bill"], report["credit"], report["financing"], report["doubleFinancing"]
    console.print(f"[bold]Hong Kong -> Shanghai, one shipment end to end[/bold]: chain {report['chainId']} "
                  f"({report['network']} profile, {report['rpcUrl']})")
    tables.print_table(console, "Consortium", ["participant", "account", "roles", "jurisdiction", "works for"], [
        [p["name"], p["address"], ", ".join(p["roles"]), p["jurisdiction"], p["institution"] or ""]
        for p in report["participants"]])

    tables.print_table(console, f"Chain of title: bill {bill['transport_document_reference']} ({bill['token_id']})",
                       ["#", "time", "action", "DCSA", "by", "holder", "beneficiary", "meaning", "transaction"], [
        [i + 1, e["time"], e["action"], e["dcsa"], e["actorName"], e["holderName"], e["beneficiaryName"] or "",
         _meaning(e, fin), e["tx_hash"]] for i, e in enumerate(bill["history"])])
    console.print(f"status [bold]{bill['status']}[/bold]; the DCSA document's SHA-256 matches the bill: "
                  f"{'yes' if bill['documentMatches'] else 'NO'}")

    record, consent, v = credit["record"], credit["consent"], credit["verification"]
    trail = [
        ["anchored", credit["provider"], f"root {record['root']}, valid until {utc_time(record['expires_at'])}",
         utc_time(record["anchored_at"])],
        ["consent", MEMBERS["exporter"].label, f"to {MEMBERS['hk_bank'].label} until {utc_time(consent['expires_at'])}",
         utc_time(consent["granted_at"])],
        *[["field disclosed (off chain)", MEMBERS["exporter"].label, f"{c['field']} = {c['value']}: "
           f"{'matches the anchor' if c['matchesAnchor'] else 'DOES NOT MATCH'}", ""]
          for c in credit["disclosedFields"]],
        ["recorded (maker)", credit["maker"], "checked the disclosed fields against the anchored root (on chain)",
         utc_time(v["recorded_at"])],
        ["refused, nothing sent", credit["maker"], credit["selfApprovalRefused"], ""],
        ["approved (checker)", credit["checker"], f"status {v['status']}", utc_time(v["approved_at"])],
    ]
    trail_title = f"Credit verification trail: {MEMBERS['exporter'].label} for {MEMBERS['hk_bank'].label}"
    tables.print_table(console, trail_title, ["event", "by", "detail", "time"], trail, no_wrap={"time"})
    console.print(f"approved verification live now: {'yes' if credit['approvedAndValid'] else 'NO'}; "
                  f"commitment kept in {credit['commitmentFile']}")

    summary = [
        ["financing", f"#{fin['financing_id']}, state {fin['state']}"],
        ["invoice", f"{fin['invoiceNumber']} for {fin['invoiceAmount']}"],
        ["invoice fingerprint", f"{fin['invoice_fingerprint']}: {fin['fingerprintStatus']} (HMAC-SHA256 under "
                                f"{fin['fingerprintKey']})"],
        ["pledged bill", f"{bill['transport_document_reference']} ({fin['bill']})"],
        ["financier", fin["financierName"]],
        ["principal / fee", f"{money(fin['principal'])} ({ADVANCE_PERCENT} % advance on the invoice) / "
                            f"{money(fin['fee'])} ({FEE_PERCENT} % flat for {TENOR_DAYS} days)"],
        ["repaid / outstanding", f"{money(fin['repaid'])} / {money(fin['outstanding'])}"],
        ["invoice balance", f"{money(INVOICE_UNITS - fin['principal'])}: the rest of the invoice, settled between "
                            "importer and exporter outside the financing"],
        ["maturity", utc_time(fin["maturity"])],
        ["bill released to", fin["releasedTo"]],
        ["second bank", f"{dup['secondBank']} saw the invoice as {dup['fingerprintStatusBeforeRequest']}; "
                        f"the exporter's pledge-and-request with the invoice spelled "
                        f"{', '.join(repr(v) for v in dup['invoiceAsPresented'].values())} was refused "
                        f"({dup['refused']}) before anything was sent; the second bill stayed with "
                        f"{dup['secondBillHolder']}"],
        *[[f"net flow, {who}", money(change)] for who, change in fin["balanceChanges"].items()],
    ]
    tables.print_table(console, "Financing summary", ["", ""], summary, show_header=False)

    sup = report["supervision"]
    tables.print_table(console, f"Regulator's check: {sup['regulator']}", ["", ""], [
        ["credit record", f"root {sup['root']} of {sup['subject']}"],
        ["anchored by", ", ".join(sup["providerNames"])],
        ["provider status", f"{sup['providerStatus']}; an active credit provider: "
                            f"{'yes' if sup['providerActive'] else 'NO'}"],
        ["record valid now", f"{'yes' if sup['valid'] else 'NO'}, until {utc_time(sup['expiresAt'])}: only while its "
                             "provider stays an active credit provider (a suspension voids it at once)"],
        ["supervision", f"as an active regulator it may revoke any provider's record with a reason: "
                        f"{'yes' if sup['regulatorMayRevoke'] else 'NO'} (not done here)"],
    ], show_header=False)

    steps = [[s["n"], s["title"], s["actor"], len(s["transactions"]), f"{s['gasUsed']:,}",
              f"REFUSED: {s['refused']}" if s["refused"] else s["outcome"]] for s in report["steps"]]
    tables.print_table(console, "Steps and gas", ["#", "step", "by", "tx", "gas", "result"], steps,
                       total=["", "total", "", report["transactionCount"], f"{report['gasTotal']:,}", ""])
    console.print(f"Manifest {report['manifest']}; {report['transactionCount']} transactions, "
                  f"{report['gasTotal']:,} gas, {report['seconds']} s.", soft_wrap=True)
    explore = report["explore"]
    if explore["node"]:
        console.print(f"The chain is kept in {report['stateFile']}. Explore it with the venv active (`source "
                      f".venv/bin/activate`): `{explore['node']}` in one terminal, then in another:", soft_wrap=True)
    else:
        console.print("Explore it with the venv active (`source .venv/bin/activate`):", soft_wrap=True)
    for command in explore["commands"]:
        console.print(f"  {command}", soft_wrap=True, highlight=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ebl_client.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the report as JSON (progress goes to stderr)")
    parser.add_argument("--state-file", type=Path, default=None,
                        help=f"embedded Anvil state (default {STATE_FILE}; {BESU_LIKE_STATE_FILE} with --besu-like)")
    parser.add_argument("--deployments", type=Path, default=deployments.default_dir(),
                        help="manifest directory (default deployments/ or $EBL_DEPLOYMENTS)")
    parser.add_argument("--work-dir", type=Path, default=Options.work_dir,
                        help="where the credit commitment is kept (default .ebl/demo)")
    parser.add_argument("--besu-like", action="store_true",
                        help="start the embedded Anvil Besu-like (chain 1337, free gas, 1 s blocks) and use the "
                             "besu profile")
    parser.add_argument("--rpc-url", help="run against this node instead of the embedded Anvil (e.g. networks/besu); "
                                          "deploys a new suite there")
    parser.add_argument("--network", default="anvil", help="profile for --rpc-url: anvil or besu")
    parser.add_argument("--chain-id", type=int, help="refuse to run unless the node serves this chain id")
    args = parser.parse_args(argv)
    options = Options(state_file=args.state_file, deployments_dir=args.deployments, work_dir=args.work_dir,
                      rpc_url=args.rpc_url, network=args.network, chain_id=args.chain_id, besu_like=args.besu_like)
    problem = option_conflict(options)
    if problem:
        parser.error(problem)
    return run_and_report(options, as_json=args.json)


def option_conflict(options: Options) -> str | None:
    """Why these options cannot go together, or None (the same check for `make demo` and `ebl demo`)."""
    if options.rpc_url and options.besu_like:
        return "--besu-like starts its own node; leave out --rpc-url (or use --network besu with it)"
    if options.network != "anvil" and not options.rpc_url:
        return "--network applies to --rpc-url; the embedded node takes --besu-like"
    return None


def run_and_report(options: Options, as_json: bool = False) -> int:
    """Run the story and print the report (as JSON on stdout, progress on stderr, with `as_json`); the exit
    code: 1 with one `error:` line on stderr when the story failed."""
    console = tables.console(stderr=as_json)
    try:
        report = run(options, console)
    except EblError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report, console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
