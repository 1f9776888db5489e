"""Connection to a node, local signing, fees, nonces, send-and-wait and revert decoding.

Every transaction is signed here with an eth-account key and sent with eth_sendRawTransaction, so the
client works against Besu (which has no eth_sendTransaction). A refused action raises the named
exception of the contract's custom error *before* anything is sent (gas estimation replays it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Self
from urllib.parse import urlparse

import requests
from eth_abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import function_abi_to_4byte_selector, is_address, is_checksum_address, to_checksum_address
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError, TimeExhausted, TransactionNotFound, Web3RPCError
from web3.middleware import ExtraDataToPOAMiddleware
from web3.providers.rpc.utils import ExceptionRetryConfiguration
from web3.types import BlockIdentifier, RPCEndpoint, TxReceipt

from . import artifacts
from .errors import (
    ConnectionFailed,
    ContractRevert,
    EblError,
    InvalidInput,
    TransactionFailed,
    TransactionTimeout,
    UnknownContractError,
    WrongChain,
)
from .models import Result, T, Transaction
from .networks import ANVIL, NetworkProfile

#: a transaction being built: web3's TxParams TypedDict is too strict for incremental building
Tx = dict[str, Any]

#: gas estimate headroom: estimates are exact for the state they ran on; state can move before mining
GAS_MARGIN_NUMERATOR, GAS_MARGIN_DENOMINATOR = 6, 5


def to_address(value: str, *, what: str = "address") -> ChecksumAddress:
    """A checksummed address, or InvalidInput naming `what` for anything else.

    All-lowercase and all-uppercase hex is accepted; mixed case must carry a valid EIP-55 checksum,
    so a mistyped character is caught instead of sending title to a wrong account.
    """
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not is_address(text):
        if isinstance(text, str) and text.startswith("0x") and len(text) == 42:
            raise InvalidInput(f"{what} {value!r} has a wrong EIP-55 checksum")
        raise InvalidInput(f"{what} {value!r} is not a 20-byte hex address")
    body = text[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(text):
        raise InvalidInput(f"{what} {value!r} has a wrong EIP-55 checksum")
    return to_checksum_address(text)


@dataclass(frozen=True)
class _ErrorAbi:
    name: str
    types: list[str]
    names: list[str]


def _abi_type(item: dict[str, Any]) -> str:
    kind = str(item["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + kind[len("tuple"):]
    return kind


def _plain(value: Any) -> Any:
    """ABI-decoded values made readable: bytes as 0x-hex, addresses checksummed, tuples as lists."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str) and is_address(value):
        return to_checksum_address(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class RevertDecoder:
    """Maps revert data to the named exception of the matching custom error in the suite's ABIs."""

    def __init__(self, abis: Sequence[Sequence[dict[str, Any]]]) -> None:
        self._errors: dict[bytes, _ErrorAbi] = {}
        for abi in abis:
            for item in abi:
                if item.get("type") == "error":
                    selector = function_abi_to_4byte_selector(item)  # type: ignore[arg-type]
                    self._errors[selector] = _ErrorAbi(
                        name=item["name"],
                        types=[_abi_type(i) for i in item["inputs"]],
                        names=[i["name"] or f"arg{n}" for n, i in enumerate(item["inputs"])],
                    )

    @classmethod
    def for_suite(cls) -> RevertDecoder:
        return cls([artifacts.load(name).abi for name in artifacts.names()])

    def error_names(self) -> set[str]:
        return {e.name for e in self._errors.values()}

    def decode(self, data: bytes | str) -> EblError:
        raw = HexBytes(data)
        if len(raw) < 4:
            return TransactionFailed("the transaction reverted without a reason")
        selector, body = bytes(raw[:4]), bytes(raw[4:])
        if selector == bytes.fromhex("08c379a0"):
            (reason,) = abi_decode(["string"], body)
            return TransactionFailed(f"reverted: {reason}")
        if selector == bytes.fromhex("4e487b71"):
            (code,) = abi_decode(["uint256"], body)
            return TransactionFailed(f"the contract panicked (code 0x{code:02x})")
        spec = self._errors.get(selector)
        if spec is None:
            return UnknownContractError("0x" + selector.hex(), "0x" + raw.hex())
        values = dict(zip(spec.names, (_plain(v) for v in abi_decode(spec.types, body)), strict=True))
        cls = ContractRevert.registry.get(spec.name)
        if cls is None:
            return UnknownContractError(spec.name, "0x" + raw.hex())
        return cls(**values)


def _revert_data(exc: ContractLogicError) -> str | None:
    data: Any = exc.data
    if isinstance(data, dict):  # some nodes nest it: {"data": "0x..."} or {"<hash>": {"return": ...}}
        data = data.get("data") or next((v.get("return") for v in data.values() if isinstance(v, dict)), None)
    return data if isinstance(data, str) and data.startswith("0x") else None


class Chain:
    """One node connection under one network profile. Pass it to the facades; tests build their own."""

    def __init__(self, w3: Web3, profile: NetworkProfile = ANVIL, *, url: str = "") -> None:
        self.w3 = w3
        self.profile = profile
        self.url = url
        self.decoder = RevertDecoder.for_suite()
        self._nonce_lock = threading.Lock()
        #: per sender: the next nonce we expect and the hash of the last transaction we sent
        self._sent: dict[str, tuple[int, HexBytes]] = {}
        self._journals: list[list[TxReceipt]] = []

    @classmethod
    def connect(
        cls,
        url: str | None = None,
        profile: NetworkProfile = ANVIL,
        *,
        expected_chain_id: int | None = None,
        make_request_hook: Callable[[str, Any], None] | None = None,
    ) -> Chain:
        """Connect to `url` and check the chain id. ConnectionFailed / WrongChain otherwise.

        `make_request_hook`, when given, is called with each JSON-RPC method name and its params before
        it is sent (the tests use it to check which methods the client needs from Besu).
        """
        url = url or profile.default_url
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InvalidInput(f"node URL {url!r} is not an http(s) URL")
        provider = HTTPProvider(
            url,
            request_kwargs={"timeout": profile.request_timeout},
            # a down node should fail in about a second, not after web3's default five retries
            exception_retry_configuration=ExceptionRetryConfiguration(
                errors=(ConnectionError, requests.HTTPError, requests.Timeout), retries=2, backoff_factor=0.1
            ),
            # web3 asks for the chain id before every call and transaction; it cannot change under a
            # connection (checked below), so ask the node once
            cache_allowed_requests=True,
            cacheable_requests={RPCEndpoint("eth_chainId")},
        )
        if make_request_hook is not None:
            original = provider.make_request

            def recording_make_request(method: RPCEndpoint, params: Any) -> Any:
                make_request_hook(str(method), params)
                return original(method, params)

            provider.make_request = recording_make_request  # type: ignore[method-assign]
        w3 = Web3(provider)
        if profile.poa:
            w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        chain = cls(w3, profile, url=url)
        chain.check_chain_id(expected_chain_id)
        return chain

    @cached_property
    def chain_id(self) -> int:
        try:
            return int(self.w3.eth.chain_id)
        except EblError:
            raise
        except Exception as exc:  # requests' and web3's connection errors have no common base
            raise ConnectionFailed(f"cannot reach the node at {self.url or 'the provider'}: {_reason(exc)}") from exc

    def check_chain_id(self, expected: int | None) -> int:
        """The node's chain id; WrongChain when `expected` is given and differs."""
        actual = self.chain_id
        if expected is not None and actual != expected:
            raise WrongChain(f"the node at {self.url} serves chain id {actual}, expected {expected}")
        return actual

    # --- contracts ----------------------------------------------------------------------------------

    def contract(self, name: str, address: str) -> Contract:
        """Contract `name` of the artifacts at `address`; struct results decode as named tuples."""
        contract: Contract = self.w3.eth.contract(
            address=to_address(address), abi=artifacts.load(name).abi, decode_tuples=True
        )
        return contract

    def block_time(self, block: BlockIdentifier = "latest") -> int:
        """The timestamp of `block` (default the latest): the chain's clock, which expiries are judged by."""
        return int(self.w3.eth.get_block(block)["timestamp"])

    def has_code(self, address: str) -> bool:
        return len(self.w3.eth.get_code(to_address(address))) > 0

    def call(self, contract: Contract, fn: str, *args: Any, block: BlockIdentifier = "latest",
             sender: str | None = None) -> Any:
        """A view call (or the simulation of a transaction from `sender`); a custom-error revert raises its
        named exception."""
        try:
            params = {"from": to_address(sender)} if sender else {}
            return contract.functions[fn](*args).call(params, block_identifier=block)  # type: ignore[arg-type]
        except ContractLogicError as exc:
            raise self._decoded(exc) from None

    # --- transactions -------------------------------------------------------------------------------

    @contextmanager
    def journal(self) -> Iterator[list[TxReceipt]]:
        """Collect the receipt of every transaction this Chain gets mined inside the `with` block, failed
        ones included (they cost gas too): how the demo reports gas and transactions per step."""
        receipts: list[TxReceipt] = []
        self._journals.append(receipts)
        try:
            yield receipts
        finally:
            self._journals = [j for j in self._journals if j is not receipts]

    def transact(self, signer: LocalAccount, contract: Contract, fn: str, *args: Any) -> TxReceipt:
        """Sign, send and wait for `contract.fn(*args)`; the receipt of a successful transaction."""
        data = contract.encode_abi(fn, args=list(args))
        return self.send(signer, {"to": contract.address, "data": data})

    def deploy(self, signer: LocalAccount, name: str, *args: Any) -> TxReceipt:
        """Deploy contract `name` from the artifacts with constructor `args`; receipt.contractAddress set."""
        factory = self.w3.eth.contract(abi=artifacts.load(name).abi, bytecode=artifacts.load(name).bytecode)
        data = factory.constructor(*args).data_in_transaction
        return self.send(signer, {"data": data})

    def send(self, signer: LocalAccount, tx: Tx) -> TxReceipt:
        tx = {**tx, "from": signer.address, "chainId": self.chain_id, "value": tx.get("value", 0)}
        gas = self._estimate_gas(tx)
        tx["gas"] = gas * GAS_MARGIN_NUMERATOR // GAS_MARGIN_DENOMINATOR
        tx.update(self._fees())
        with self._nonce_lock:
            tx["nonce"] = self._next_nonce(signer.address)
            signed = signer.sign_transaction(tx)
            try:
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            except Web3RPCError as exc:
                raise TransactionFailed(f"the node refused the transaction: {_short(exc)}") from exc
            self._sent[signer.address] = (int(tx["nonce"]) + 1, HexBytes(tx_hash))
        receipt = self.wait(tx_hash)
        for journal in self._journals:
            journal.append(receipt)
        if receipt["status"] != 1:
            raise self._failure_of(tx, receipt)
        return receipt

    def wait(self, tx_hash: bytes) -> TxReceipt:
        try:
            return self.w3.eth.wait_for_transaction_receipt(
                HexBytes(tx_hash), timeout=self.profile.receipt_timeout, poll_latency=self.profile.poll_interval
            )
        except TimeExhausted as exc:
            raise TransactionTimeout(
                f"transaction {HexBytes(tx_hash).to_0x_hex()} not mined within {self.profile.receipt_timeout:g} s"
            ) from exc

    def _estimate_gas(self, tx: Tx) -> int:
        try:
            return int(self.w3.eth.estimate_gas(tx))  # type: ignore[arg-type]
        except ContractLogicError as exc:
            raise self._decoded(exc) from None
        except Web3RPCError as exc:
            raise TransactionFailed(f"the node could not estimate gas: {_short(exc)}") from exc
        except (EblError, ValueError):
            raise
        except Exception as exc:
            raise ConnectionFailed(f"cannot reach the node at {self.url}: {_reason(exc)}") from exc

    def _fees(self) -> Tx:
        if self.profile.tx_type == "legacy":
            price = self.profile.gas_price if self.profile.gas_price is not None else self.w3.eth.gas_price
            return {"gasPrice": price}
        base = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0))
        tip = int(self.w3.eth.max_priority_fee)
        return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip, "type": 2}

    def _next_nonce(self, address: str) -> int:
        """The node's pending count, unless our own last transaction is known to the node but not yet
        counted (a node that lags its pool); a forgotten one (chain reset, snapshot revert) is ignored."""
        pending = int(self.w3.eth.get_transaction_count(to_address(address), "pending"))
        ours = self._sent.get(address)
        if ours is None or ours[0] <= pending:
            return pending
        try:
            self.w3.eth.get_transaction(ours[1])
        except TransactionNotFound:
            return pending
        return ours[0]

    def _failure_of(self, tx: Tx, receipt: TxReceipt) -> EblError:
        """Why a mined transaction failed: replay it on the state after its block. A transaction that
        raced ours into the same block (the usual cause once gas estimation passed) is visible there."""
        replay = {k: v for k, v in tx.items() if k in ("from", "to", "data", "value")}
        try:
            self.w3.eth.call(replay, receipt["blockNumber"])  # type: ignore[arg-type]
        except ContractLogicError as exc:
            return self._decoded(exc)
        except Exception:  # the replay itself is best effort
            pass
        return TransactionFailed(
            f"transaction {receipt['transactionHash'].to_0x_hex()} failed (gas used {receipt['gasUsed']})"
        )

    def _decoded(self, exc: ContractLogicError) -> EblError:
        data = _revert_data(exc)
        if data is None:
            return TransactionFailed(str(exc.message or exc))
        return self.decoder.decode(data)


def _reason(exc: BaseException) -> str:
    """The root cause of a connection failure in a few words ("connection refused", "timed out")."""
    text = str(exc)
    for marker, reason in (("Connection refused", "connection refused"), ("timed out", "timed out"),
                           ("Name or service not known", "unknown host"), ("No route to host", "no route to host")):
        if marker in text:
            return reason
    return _short(exc)


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def transaction_of(receipt: TxReceipt) -> Transaction:
    """The audit-trail view of a mined transaction's receipt."""
    return Transaction(
        hash=HexBytes(receipt["transactionHash"]).to_0x_hex(), block=int(receipt["blockNumber"]),
        gas_used=int(receipt["gasUsed"]), sender=to_checksum_address(receipt["from"]),
    )


class ContractFacade:
    """Base of the typed facades (participants, bills, credit, ...): one contract of the suite on one chain."""

    CONTRACT: str  # the artifact / manifest name, e.g. "BillOfLadingRegistry"

    def __init__(self, chain: Chain, address: str, *, deployed_block: int = 0) -> None:
        self.chain = chain
        self.contract = chain.contract(self.CONTRACT, address)
        self.address = self.contract.address
        #: the block the contract was deployed in: where log queries over its whole life start
        self.deployed_block = deployed_block

    @classmethod
    def of(cls, chain: Chain, deployment: Any) -> Self:
        """The facade for the suite's deployed contract (`deployment`: a deployment.Deployment)."""
        deployed = deployment.contracts.get(cls.CONTRACT)
        return cls(chain, deployment.address(cls.CONTRACT), deployed_block=deployed.block if deployed else 0)

    def _send(self, sender: LocalAccount, fn: str, *args: Any) -> TxReceipt:
        """Sign and send `fn(*args)` on this facade's contract from `sender`; the receipt once mined. A
        refusal raises the contract error's named exception before anything is sent."""
        return self.chain.transact(sender, self.contract, fn, *args)

    @staticmethod
    def _result(value: T, receipt: TxReceipt) -> Result[T]:
        return Result(value, transaction_of(receipt))
