"""The main job (`make demo`): start the embedded Anvil, deploy the suite through the client, onboard
the sample Hong Kong / Shanghai consortium and print it. The chain state and the manifest stay on disk
(.ebl/anvil-state.json, deployments/31337.json), so `ebl node` afterwards serves the same chain.

Demo keys are Anvil's public development keys: fine for a laptop chain, never for a real network.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table

from . import deployment as deployments
from . import keys
from .chain import Chain
from .errors import EblError
from .hashing import identifier_hash, new_salt
from .models import Participant, Role
from .node import AnvilNode, dev_keys
from .participants import Participants


@dataclass(frozen=True)
class Member:
    key: str  # short handle used by the story
    name: str
    roles: Role
    jurisdiction: str
    identifier: str  # sample LEI (HK) or unified social credit code (CN); only a salted hash goes on chain
    institution: str | None = None  # handle of the financier a verifier officer works for


#: The sample consortium, in onboarding order (financiers before their officers). Account i+1 of the
#: development mnemonic belongs to member i; account 0 is the consortium admin that deploys.
CONSORTIUM: tuple[Member, ...] = (
    Member("exporter", "Pearl River Electronics Ltd (HK exporter)", Role.TRADER, "HK", "5493001KJTIIGC8Y1R12"),
    Member("importer", "Shanghai Huaxin Trading Co (importer)", Role.TRADER, "CN", "91310000MA1FL4B24G"),
    Member("carrier", "Victoria Harbour Shipping Line (carrier)", Role.CARRIER, "HK", "549300VHSL0CARR1ER7"),
    Member("hk_bank", "Harbour Bank HK (financier)", Role.FINANCIER, "HK", "2138009HARBOURBANK51"),
    Member("cn_bank", "Bank of Pudong (financier)", Role.FINANCIER, "CN", "91310000PUDONGBANK9X"),
    Member("credit_provider", "Shanghai Credit Reference Center (credit provider)", Role.CREDIT_PROVIDER, "CN",
           "91310000SCRC00001Q"),
    Member("hk_maker", "Harbour Bank officer A (verifier)", Role.VERIFIER, "HK", "HKBANKOFFICERA", "hk_bank"),
    Member("hk_checker", "Harbour Bank officer B (verifier)", Role.VERIFIER, "HK", "HKBANKOFFICERB", "hk_bank"),
    Member("cn_maker", "Bank of Pudong officer A (verifier)", Role.VERIFIER, "CN", "CNBANKOFFICERA", "cn_bank"),
    Member("cn_checker", "Bank of Pudong officer B (verifier)", Role.VERIFIER, "CN", "CNBANKOFFICERB", "cn_bank"),
    Member("regulator", "Hong Kong Monetary Authority (regulator)", Role.REGULATOR, "HK", "HKMAREGULATOR01"),
)


@dataclass
class Story:
    chain: Chain
    admin: LocalAccount
    accounts: dict[str, LocalAccount]
    deployment: deployments.Deployment
    participants: Participants
    steps: list[dict[str, Any]]


def onboard_consortium(chain: Chain, admin: LocalAccount, accounts: dict[str, LocalAccount],
                       registry: Participants) -> list[tuple[Member, Participant]]:
    done = []
    for member in CONSORTIUM:
        institution = accounts[member.institution].address if member.institution else None
        participant = registry.onboard(
            admin, accounts[member.key].address, member.roles, member.jurisdiction,
            identifier_hash(member.identifier, new_salt()), institution,
        )
        done.append((member, participant))
    return done


def run(state_file: Path, deployments_dir: Path, console: Console) -> dict[str, Any]:
    started = time.monotonic()
    signers = [keys.from_private_key(k) for k in dev_keys(len(CONSORTIUM) + 1)]
    admin, accounts = signers[0], {m.key: s for m, s in zip(CONSORTIUM, signers[1:], strict=True)}
    # fresh: the story starts from an empty chain every run
    with AnvilNode(state_file=state_file, fresh=True) as node, console.status("starting") as status:
        chain = Chain.connect(node.url)
        status.update("deploying the suite")
        deployment = deployments.deploy_suite(chain, admin, deployments_dir, redeploy=True)
        registry = Participants.of(chain, deployment)
        status.update("onboarding the consortium")
        onboarded = onboard_consortium(chain, admin, accounts, registry)
    names = {p.address: m.name for m, p in onboarded}
    return {
        "chainId": deployment.chain_id,
        "contracts": {name: c.address for name, c in deployment.contracts.items()},
        "admin": admin.address,
        "participants": [
            {"name": m.name, "handle": m.key, "address": p.address, "roles": p.roles.names(),
             "jurisdiction": p.jurisdiction, "status": p.status.name.lower(),
             "institution": names.get(p.institution or ""), "identifierHash": p.identifier_hash}
            for m, p in onboarded
        ],
        "stateFile": str(state_file),
        "manifest": str(deployments.manifest_path(deployments_dir, deployment.chain_id)),
        "seconds": round(time.monotonic() - started, 2),
    }


def print_report(report: dict[str, Any], console: Console) -> None:
    console.print(f"[bold]Consortium on chain {report['chainId']}[/bold] "
                  f"(ParticipantRegistry {report['contracts']['ParticipantRegistry']}, admin {report['admin']})")
    table = Table(header_style="bold")
    for column in ("participant", "account", "roles", "jurisdiction", "status", "works for"):
        table.add_column(column, overflow="fold", no_wrap=column == "account")
    for p in report["participants"]:
        table.add_row(p["name"], p["address"], ", ".join(p["roles"]), p["jurisdiction"], p["status"],
                      p["institution"] or "")
    console.print(table)
    console.print(f"chain state kept in {report['stateFile']} (restart it with `ebl node`), "
                  f"manifest {report['manifest']}; {report['seconds']} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ebl_client.demo", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--state-file", type=Path, default=Path(".ebl/anvil-state.json"))
    parser.add_argument("--deployments", type=Path, default=deployments.default_dir())
    args = parser.parse_args(argv)
    console = Console(stderr=args.json, width=max(140, Console().width))
    try:
        report = run(args.state_file, args.deployments, console)
    except EblError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report, console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
