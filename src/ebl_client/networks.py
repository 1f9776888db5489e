"""Network profiles: how the client builds, prices and waits for transactions on each kind of chain.

`anvil` is the embedded default (EIP-1559 fees, instant blocks); `besu` is a Hyperledger Besu QBFT
free-gas network (legacy transactions at gas price 0, PoA extra-data, receipts slower than a block).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidInput


@dataclass(frozen=True)
class NetworkProfile:
    name: str
    #: "eip1559" (type 2, base fee + tip) or "legacy" (type 0, gasPrice)
    tx_type: str
    #: legacy only: a fixed gas price in wei, or None to ask the node (eth_gasPrice)
    gas_price: int | None
    #: inject web3's ExtraDataToPOAMiddleware (QBFT/Clique blocks carry long extraData)
    poa: bool
    #: seconds to wait for a receipt; longer than the block period
    receipt_timeout: float
    #: seconds between receipt polls
    poll_interval: float
    #: seconds for one JSON-RPC request
    request_timeout: float
    #: the URL used when none is given
    default_url: str
    #: seconds a fee quote (base fee, tip or gas price) is reused before asking the node again; a refused
    #: fee is asked again at once
    fee_ttl: float = 10.0
    #: transactions of one sender sent ahead of their receipts (Besu's --tx-pool-max-future-by-sender is 200)
    max_in_flight: int = 1000
    #: requests in one JSON-RPC batch (Besu's --rpc-http-max-batch-size is 1,024)
    max_batch: int = 1000


ANVIL = NetworkProfile(
    name="anvil", tx_type="eip1559", gas_price=None, poa=False,
    receipt_timeout=30.0, poll_interval=0.05, request_timeout=10.0, default_url="http://127.0.0.1:8545",
)

BESU = NetworkProfile(
    name="besu", tx_type="legacy", gas_price=0, poa=True,
    receipt_timeout=60.0, poll_interval=0.5, request_timeout=30.0, default_url="http://127.0.0.1:8545",
    max_in_flight=200,
)

PROFILES: dict[str, NetworkProfile] = {p.name: p for p in (ANVIL, BESU)}


def profile(name: str) -> NetworkProfile:
    """The profile called `name`; InvalidInput for an unknown one."""
    try:
        return PROFILES[name]
    except KeyError:
        raise InvalidInput(f"unknown network profile {name!r} (known: {', '.join(PROFILES)})") from None
