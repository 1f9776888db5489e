"""The demo's report: `build` reads what the story's steps left (and the chain, for the final state of each
thing) into one JSON-ready dict, with amounts in integer minor units; `print_report` shows it to an officer as
tables that fit the terminal (`ebl_client.tables`, shared with the `ebl` command), amounts formatted exactly by
`money.format_units`.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

from .. import tables
from ..consortium import MEMBERS
from ..models import TitleEvent, jsonable, utc_time
from ..money import format_units
from .steps import Story
from .terms import ADVANCE_PERCENT, COIN_DECIMALS, FEE_PERCENT, INVOICE_UNITS, RESPELLED_INVOICE, TENOR_DAYS, money

#: the files a run leaves (`report["files"]`), as the printed report names them
FILES = {
    "stateFile": "chain state (`ebl node` serves it)", "manifest": "deployment manifest",
    "directory": "participant directory", "index": "index (SQLite)", "creditReport": "exporter's credit report",
    "commitment": "its commitment (the salts)", "auditTrail": "the bill's audit trail (CSV)",
    "serviceDatabase": "platform service database", "carrierKeystore": "carrier's keystore (the service signs with it)",
}

# --- building ------------------------------------------------------------------------------------------------


def build(story: Story) -> dict[str, Any]:
    """The report of a story that ran to its end (while its node still answers)."""
    bills, credit, fin = story.client.bills, story.client.credit, story.client.finance
    final = fin.get(story.financing_id)
    steps = story.steps
    return {
        "chainId": story.chain.chain_id,
        "network": story.chain.profile.name,
        "rpcUrl": story.chain.url,  # the embedded node's URL is closed once the demo ends
        "contracts": {name: c.address for name, c in story.deployment.contracts.items()},
        "admin": story.admin.address,
        "participants": [
            {"name": o.member.name, "handle": o.member.key, "address": p.address, "devKeyIndex": i + 1,
             "roles": p.roles.names(), "jurisdiction": p.jurisdiction, "status": p.status.name.lower(),
             "institution": story.name(p.institution) if p.institution else None,
             "identifierHash": p.identifier_hash}
            for i, (o, p) in enumerate((o, o.participant) for o in story.onboarded)
        ],
        "dcsa": _dcsa(story),
        "bill": {**jsonable(story.delivered), "documentMatches": bills.verify_document(story.bill.token_id,
                                                                                        story.document),
                 "history": [_event(story, e) for e in bills.history(story.bill.token_id)]},
        "secondBill": {**jsonable(bills.get(story.second_bill.token_id)),
                       "history": [_event(story, e) for e in bills.history(story.second_bill.token_id)]},
        "credit": {
            "record": jsonable(credit.get(story.record.provider, story.record.subject, story.record.root)),
            "provider": story.name(story.record.provider), "consent": jsonable(story.consent_given),
            "disclosedFields": story.checked_fields, "verification": jsonable(story.verification),
            "maker": story.name(story.verification.maker), "checker": story.name(story.verification.checker),
            "selfApprovalRefused": story.rec.refusal("SameMakerAndChecker"),
            "approvedAndValid": credit.has_approved_verification(story.address("hk_bank"), story.address("exporter")),
        },
        "financing": {
            **jsonable(final), "invoiceNumber": story.invoice["invoiceNumber"],
            "invoiceAmount": money(INVOICE_UNITS),
            "fingerprintStatus": fin.fingerprint_status(story.invoice_fingerprint),
            "fingerprintKey": story.fingerprint_key_label(),
            "financierName": story.name(final.financier), "releasedTo": story.name(story.released_to),
            "acceptedTerms": {"principal": story.seen_terms.principal, "fee": story.seen_terms.fee,
                              "maturity": story.seen_terms.maturity},
            "withdrawnByFinancier": story.withdrawn,
            "balanceChanges": {MEMBERS[h].label: story.balance(h) - before
                               for h, before in story.balances_before.items()},
        },
        "doubleFinancing": {
            "secondBank": MEMBERS["cn_bank"].label,
            "invoiceAsPresented": dict(RESPELLED_INVOICE),
            "fingerprintStatusBeforeRequest": story.status_before_second_request,
            "refused": type(story.double_financing).__name__, "error": str(story.double_financing),
            "secondBillHolder": story.name(bills.get(story.second_bill.token_id).holder),
        },
        "supervision": story.supervision,
        "audit": story.audit,
        "steps": steps,
        "gasTotal": sum(s["gasUsed"] for s in steps),
        "transactionCount": sum(len(s["transactions"]) for s in steps),
        "amountUnits": f"stablecoin minor units ({COIN_DECIMALS} decimals, 1 unit = HKD 1e-{COIN_DECIMALS})",
    }


def _dcsa(story: Story) -> dict[str, Any]:
    carrier = story.carrier_system
    return {
        "platform": story.service.config.platform if story.service else None,
        "carrier": MEMBERS["carrier"].label,
        "manifestAlgorithm": carrier.algorithm if carrier else None,
        "exchanges": [x.json() for x in story.exchanges],
    }


def _event(story: Story, event: TitleEvent) -> dict[str, Any]:
    return {**jsonable(event), "time": utc_time(event.timestamp), "dcsa": event.action.dcsa,
            "actorName": story.name(event.actor), "holderName": story.name(event.holder),
            "beneficiaryName": story.name(event.beneficiary) if event.beneficiary else None}


# --- printing ------------------------------------------------------------------------------------------------


def print_report(report: dict[str, Any], console: Console) -> None:
    """The report as an officer reads it: one table per part of the story, then the files and what to run next."""
    console.print(f"[bold]Hong Kong -> Shanghai, one shipment end to end[/bold]: chain {report['chainId']} "
                  f"({report['network']} profile, {report['rpcUrl']})")
    for part in (_consortium, _dcsa_exchanges, _chain_of_title, _credit_trail, _financing, _credit_check,
                 _audit_report, _audit_trail, _steps):
        part(report, console)
    _files_and_explore(report, console)


def _consortium(report: dict[str, Any], console: Console) -> None:
    tables.print_table(console, "Consortium", ["participant", "account", "roles", "jurisdiction", "works for"], [
        [p["name"], p["address"], ", ".join(p["roles"]), p["jurisdiction"], p["institution"] or ""]
        for p in report["participants"]])


def _dcsa_exchanges(report: dict[str, Any], console: Console) -> None:
    dcsa = report["dcsa"]
    rows = [[x["step"], f"{x['caller']} -> {'platform' if x['caller'] == 'carrier' else 'carrier'}\n"
                        f"{x['method']} {x['path']}", x["code"] or "", x["status"],
             f"{x['message']} {x['reference']}: {x['detail']}", x["transaction"]] for x in dcsa["exchanges"]]
    tables.print_table(console, f"DCSA eBL 3.0 between the carrier's system ({dcsa['carrier']}) and the platform "
                                f"({dcsa['platform']})", ["step", "call", "DCSA", "HTTP", "what", "transaction"], rows)


def _meaning(event: dict[str, Any], fin: dict[str, Any]) -> str:
    """What a title action meant in the story, for the officer reading the chain of title."""
    financing = f"financing #{fin['financing_id']}, {fin['financierName']}"
    if event["action"] == "pledge":
        return f"pledged into the escrow with the financing request ({financing})"
    if event["actorName"] == "FinancingEscrow" and event["action"] == "transfer_owners":
        return f"released on full repayment ({financing})"
    return {"issue": "issued to the shipper's order (DCSA issuance request)",
            "surrender_for_delivery": "presented to the carrier for the goods",
            "surrender_accepted": "goods delivered (the carrier's SURR); the bill is spent"}.get(event["action"], "")


def _chain_of_title(report: dict[str, Any], console: Console) -> None:
    bill, fin = report["bill"], report["financing"]

    def parties(e: dict[str, Any]) -> str:
        beneficiary = e["beneficiaryName"]
        return e["holderName"] if beneficiary in (None, e["holderName"]) else f"{e['holderName']} / {beneficiary}"

    tables.print_table(console, f"Chain of title: bill {bill['transport_document_reference']} ({bill['token_id']})",
                       ["#", "time (UTC)", "action (DCSA)", "by", "holder / beneficiary", "transaction"], [
        [i + 1, _utc(e["time"]), f"{e['dcsa']}: {_meaning(e, fin)}", e["actorName"], parties(e), e["tx_hash"]]
        for i, e in enumerate(bill["history"])], no_wrap={"time (UTC)"})
    console.print(f"status [bold]{bill['status']}[/bold]; the DCSA document's SHA-256 matches the bill: "
                  f"{_yes(bill['documentMatches'])}")


def _credit_trail(report: dict[str, Any], console: Console) -> None:
    credit = report["credit"]
    record, consent, v = credit["record"], credit["consent"], credit["verification"]
    exporter, bank = MEMBERS["exporter"].label, MEMBERS["hk_bank"].label
    trail = [
        ["anchored", credit["provider"], f"root {record['root']}, valid until {utc_time(record['expires_at'])}",
         _utc(utc_time(record["anchored_at"]))],
        ["consent", exporter, f"to {bank} until {utc_time(consent['expires_at'])}",
         _utc(utc_time(consent["granted_at"]))],
        *[["field disclosed (off chain)", exporter, f"{c['field']} = {c['value']}: "
           f"{'matches the anchor' if c['matchesAnchor'] else 'DOES NOT MATCH'}", ""]
          for c in credit["disclosedFields"]],
        ["recorded (maker)", credit["maker"], "checked the disclosed fields against the anchored root (on chain)",
         _utc(utc_time(v["recorded_at"]))],
        ["refused, nothing sent", credit["maker"], credit["selfApprovalRefused"], ""],
        ["approved (checker)", credit["checker"], f"status {v['status']}", _utc(utc_time(v["approved_at"]))],
    ]
    tables.print_table(console, f"Credit verification trail: {exporter} for {bank}",
                       ["event", "by", "detail", "time (UTC)"], trail, no_wrap={"time (UTC)"})
    console.print(f"approved verification live now: {_yes(credit['approvedAndValid'])}")


def _financing(report: dict[str, Any], console: Console) -> None:
    bill, fin, dup = report["bill"], report["financing"], report["doubleFinancing"]
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


def _credit_check(report: dict[str, Any], console: Console) -> None:
    sup = report["supervision"]
    tables.print_table(console, f"Regulator's check on chain: {sup['regulator']}", ["", ""], [
        ["credit record", f"root {sup['root']} of {sup['subject']}"],
        ["anchored by", ", ".join(sup["providerNames"])],
        ["provider status", f"{sup['providerStatus']}; an active credit provider: {_yes(sup['providerActive'])}"],
        ["record valid now", f"{_yes(sup['valid'])}, until {utc_time(sup['expiresAt'])}: only while its provider "
                             "stays an active credit provider (a suspension voids it at once)"],
        ["supervision", "as an active regulator it may revoke any provider's record with a reason: "
                        f"{_yes(sup['regulatorMayRevoke'])} (not done here)"],
    ], show_header=False)


def _amounts(by_currency: dict[str, int], decimals: dict[str, int]) -> str:
    return ", ".join(format_units(v, decimals.get(c, 0), c, min_decimals=2) for c, v in sorted(by_currency.items()))


def _audit_report(report: dict[str, Any], console: Console) -> None:
    audit = report["audit"]
    r, decimals = audit["report"], audit["report"]["decimals"]
    maturities = next(v for k, v in r.items() if k.startswith("maturitiesNext"))
    rows = [
        ["as of", f"{r['asOf']} (block {audit['index']['lastBlock']}, {audit['index']['events']} events indexed)"],
        ["bills by status", "; ".join(f"{status}: " + ", ".join(f"{n} held in {j}" for j, n in sorted(by.items()))
                                      for status, by in r["billsByStatusAndJurisdiction"].items()) or "none"],
        ["open exposure by bank", "; ".join(f"{v['name'] or bank}: {_amounts(v['exposure'], decimals)}"
                                            for bank, v in r["exposureByBank"].items()) or "none"],
        ["by jurisdiction pair", "; ".join(f"{pair}: {_amounts(v, decimals)}"
                                           for pair, v in r["exposureByJurisdictionPair"].items()) or "none"],
        ["maturities in 30 days", "; ".join(f"#{m['financing']} {m['maturity']} {m['financierName'] or ''}"
                                            for m in maturities) or "none"],
        ["overdue / defaulted", f"{', '.join(f'#{i}' for i in r['overdue']) or 'none'} / "
                                f"{', '.join(f'#{i}' for i in r['defaulted']) or 'none'}"],
        ["credit verifications", "; ".join(
            f"{v['name'] or bank}: " + ", ".join(f"{v[k]} {k}" for k in ("approved", "recorded") if v.get(k))
            for bank, v in r["verificationsByBank"].items()) or "none"],
        ["suspended participants", "; ".join(p["name"] or p["account"] for p in r["suspendedParticipants"]) or "none"],
        ["directory", f"{len(audit['directory']['accepted'])} entries proved by their on-chain identifier hashes, "
                      f"{len(audit['directory']['refused'])} refused"],
    ]
    tables.print_table(console, f"Regulator's audit report from the index: {audit['regulator']}", ["", ""], rows,
                       show_header=False)


def _audit_trail(report: dict[str, Any], console: Console) -> None:
    bill, trail = report["bill"], report["audit"]["billTrail"]
    rows = [[t["block"], t["time"].replace("T", " ").removesuffix("Z"), t["event"], t["actorName"] or t["actor"],
             t["counterpartyNames"], t["transaction"]] for t in trail]
    tables.print_table(console, f"Audit trail of bill {bill['transport_document_reference']}, exported by the "
                                "regulator (names from the directory)",
                       ["block", "time (UTC)", "event", "by", "counterparties", "transaction"], rows,
                       no_wrap={"time (UTC)"})


def _steps(report: dict[str, Any], console: Console) -> None:
    steps = [[s["n"], s["title"], s["actor"], len(s["transactions"]), f"{s['gasUsed']:,}",
              f"REFUSED: {s['refused']}" if s["refused"] else s["outcome"]] for s in report["steps"]]
    tables.print_table(console, "Steps and gas", ["#", "step", "by", "tx", "gas", "result"], steps,
                       total=["", "total", "", report["transactionCount"], f"{report['gasTotal']:,}", ""])


def _files_and_explore(report: dict[str, Any], console: Console) -> None:
    files = report.get("files", {})
    if files:
        tables.print_table(console, "Files left behind", ["", ""],
                           [[FILES.get(key, key), path] for key, path in files.items() if path], show_header=False)
    console.print(f"{report['transactionCount']} transactions, {report['gasTotal']:,} gas, {report['seconds']} s.",
                  soft_wrap=True)
    explore = report["explore"]
    if explore["node"]:
        console.print(f"Explore the chain with the venv active (`source tools/env.sh`): `{explore['node']}` in one "
                      "terminal, then in another:", soft_wrap=True)
    else:
        console.print("Explore the chain with the venv active (`source tools/env.sh`):", soft_wrap=True)
    for command in explore["commands"]:
        console.print(f"  {command}", soft_wrap=True, highlight=False)


def _utc(time: str) -> str:
    """`2026-11-30 13:03:12 UTC` without its zone, for a column headed `time (UTC)`."""
    return time.removesuffix(" UTC")


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"
