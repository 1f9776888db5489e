"""The main job (`make demo`): one Hong Kong -> Shanghai shipment, end to end, on a real chain, with the
platform around it.

It starts the embedded Anvil (or uses the node at --rpc-url), deploys the suite with a test HKD stablecoin,
onboards the consortium, publishes its participant directory and starts the platform's DCSA eBL API (`ebl
serve`, in this process on a loopback port), then plays the story:

  the carrier's documentation system requests the eBL's issuance from a DCSA transport document (PUT
  /v3/ebl-issuance-requests, its manifest signed with the key the directory publishes) and receives ISSU at its
  callback endpoint -> the mainland credit provider anchors the exporter's credit report -> the exporter
  consents to the Hong Kong bank -> two officers of that bank verify it (maker, checker) -> the exporter
  pledges the eBL and requests financing in one transaction -> the bank offers, the exporter accepts naming
  the terms it saw, the bank funds in the stablecoin -> a second bank's attempt to finance the same invoice is
  refused -> the importer repays -> the eBL is released to the importer -> the importer surrenders it, and
  the platform sends the carrier the surrender request -> the carrier's system answers SURR: goods delivered
  -> the regulator checks on chain who anchored the credit record the financing relied on, then indexes the
  chain, runs the supervisor's report and exports the bill's audit trail, with names from the directory.

It prints the DCSA exchanges, the chain of title, the credit verification trail, the financing summary, the
regulator's check and audit, and the gas of every step (or all of it as JSON with --json). The chain state,
the manifest, the directory and the index stay on disk (.ebl/anvil-state.json, deployments/<chain id>.json,
.ebl/directory-<chain id>.json, .ebl/index-<chain id>.sqlite), so `ebl node` afterwards serves the same chain
and `ebl bill history`, `ebl inbox` and `ebl audit` show it. The credit commitment (with its salts), the
bill's audit trail and the platform service's database and keystore are kept in .ebl/demo/<chain id>/.

Demo keys are Anvil's public development keys (account 0 is the consortium admin, account i+1 member i):
fine for a laptop chain or the dev Besu network in networks/besu, never for a real one.

Modules: `terms` (the shipment's numbers), `recorder` (steps, transactions, progress), `steps` (the story's
named steps), `carrier` (the carrier's system and the platform's service), `report` (building and printing
the report), `runner` (the staged run and the command line).
"""

from __future__ import annotations

from ..consortium import CONSORTIUM, MEMBERS
from .recorder import DemoError
from .report import build as build_report
from .report import print_report
from .runner import Options, main, option_conflict, run, run_and_report
from .steps import Story
from .terms import DISCLOSED_FIELDS, FEE, INVOICE_UNITS, PRINCIPAL

#: the number of steps of the story (the progress bar's length)
STEPS = len(Story.SEQUENCE)

__all__ = [
    "CONSORTIUM",
    "DISCLOSED_FIELDS",
    "FEE",
    "INVOICE_UNITS",
    "MEMBERS",
    "PRINCIPAL",
    "STEPS",
    "DemoError",
    "Options",
    "Story",
    "build_report",
    "main",
    "option_conflict",
    "print_report",
    "run",
    "run_and_report",
]
