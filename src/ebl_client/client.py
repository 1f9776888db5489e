"""The one object an embedding program needs: a connection to a node, the suite deployed on it (verified
before anything is sent) and the four facades.

    from ebl_client import Client, keys

    client = Client.connect("http://validator-1:8545", network="besu", chain_id=1337)
    carrier = keys.from_keystore(Path("carrier.json"), password=None)
    bill, tx = client.bills.issue("transport-document.json", holder=shipper, sender=carrier)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from . import deployment as deployments
from .bills import Bills
from .chain import Chain
from .credit import CreditRecords
from .deployment import default_dir as default_deployments_dir
from .financing import Financings
from .networks import ANVIL, NetworkProfile, profile
from .outbox import Outbox, Reconciliation
from .participants import Participants


class Client:
    """The suite on one chain: `bills`, `credit`, `finance` and `participants`, over one `chain`.

    Build it with `Client.connect(...)`; the deployment manifest is checked against the chain (code of every
    contract, and their wiring) once, on first use of a facade.
    """

    def __init__(self, chain: Chain, deployments_dir: Path | str = deployments.DEFAULT_DIR) -> None:
        self.chain = chain
        self.deployments_dir = Path(deployments_dir)
        #: what the outbox reconciliation on connect found and did (resent, mined, conflicts)
        self.reconciled = Reconciliation()

    @classmethod
    def connect(
        cls,
        url: str | None = None,
        *,
        network: str | NetworkProfile = ANVIL,
        deployments: Path | str | None = None,
        chain_id: int | None = None,
        make_request_hook: Callable[[str, Any], None] | None = None,
        outbox: Path | str | Outbox | bool | None = True,
        reconcile: bool = True,
    ) -> Client:
        """Connect to the node at `url` (default: the network profile's, http://127.0.0.1:8545).

        `network` is a profile or its name ("anvil", "besu"); `deployments` the folder of manifests
        (default `$EBL_DEPLOYMENTS` or ./deployments); `chain_id`, when given, refuses any other chain
        (WrongChain). ConnectionFailed when the node does not answer.

        `outbox` is the folder of the transaction journals (default `$EBL_OUTBOX` or .ebl/outbox; False or
        None: no journal). Unless `reconcile` is False, the journal's pending transactions are looked up on
        the chain first and those the node lost are sent again (`client.reconciled` says what happened);
        ChainReplaced when the node serves another chain under the same chain id."""
        net = profile(network) if isinstance(network, str) else network
        box = outbox if isinstance(outbox, Outbox) else (
            None if outbox is None or outbox is False else Outbox(None if outbox is True else outbox))
        chain = Chain.connect(url, net, expected_chain_id=chain_id, make_request_hook=make_request_hook,
                              outbox=box)
        client = cls(chain, deployments if deployments is not None else default_deployments_dir())
        if reconcile:
            client.reconciled = chain.reconcile()
        return client

    @cached_property
    def deployment(self) -> deployments.Deployment:
        """The suite's manifest for this chain, verified against the chain (DeploymentError otherwise)."""
        return deployments.load_for(self.chain, self.deployments_dir)

    @cached_property
    def participants(self) -> Participants:
        """The participant registry: onboarding, roles, suspension."""
        return Participants.of(self.chain, self.deployment)

    @cached_property
    def bills(self) -> Bills:
        """The bill-of-lading title registry."""
        return Bills.of(self.chain, self.deployment)

    @cached_property
    def credit(self) -> CreditRecords:
        """The credit-hash registry: anchors, consents, maker-checker verifications."""
        return CreditRecords.of(self.chain, self.deployment)

    @cached_property
    def finance(self) -> Financings:
        """The financing escrow."""
        return Financings(self.chain, self.deployment.address("FinancingEscrow"), self.bills,
                          deployed_block=self.deployment.contracts["FinancingEscrow"].block)

    def now(self) -> int:
        """The chain's clock (latest block time): expiries and maturities are judged by it, not the laptop's."""
        return self.chain.block_time()
