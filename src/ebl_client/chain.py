"""Connection to a node, local signing, fees, nonces, sending (single and pipelined) and revert decoding.

Every transaction is signed here with an eth-account key and sent with eth_sendRawTransaction, so the
client works against Besu (which has no eth_sendTransaction). A refused action raises the named
exception of the contract's custom error *before* anything is sent (an eth_call or gas estimate replays it).

One engine sends one transaction or many (`send_many`): validate every item in one JSON-RPC batch (a refusal
is that item's named error, and it gets no nonce), sign the rest with consecutive nonces, journal them in the
outbox (fsync'd) when the chain has one, send them in one batch (chunks of at most `profile.max_in_flight`
transactions and one block's gas), then poll their receipts in batches (quickly at first, then backing off;
a lone transaction asks for its receipt in its send batch already). Gas per call shape (contract, function,
calldata length) is estimated once and then reused with a margin, validated by an eth_call each time and
re-estimated after an out-of-gas failure; fees are cached for `profile.fee_ttl` seconds; the chain id is asked
once. Three JSON-RPC round trips for a single action (check + nonce, send + receipt, a receipt poll when the
node has not mined it yet), whatever the number of items for a batch of one block's gas.

Nonce rule for a batch: items refused before sending never take a nonce. If the node refuses an item when it
is sent (gas above the block limit, pool full, ...), its nonce would stall every later one: items not sent yet
are re-signed from that nonce (their first signatures are marked superseded in the journal, never sent); when
later items were already sent in the same batch, a zero-value transfer to the sender itself (a "gap filler",
journaled like any other transaction) takes the nonce instead.
"""

from __future__ import annotations

import enum
import functools
import threading
import time
from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Generic, Self
from urllib.parse import urlparse

import requests
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import (
    function_abi_to_4byte_selector,
    is_address,
    is_checksum_address,
    keccak,
    to_checksum_address,
)
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.datastructures import AttributeDict
from web3.middleware import ExtraDataToPOAMiddleware
from web3.providers.rpc.utils import ExceptionRetryConfiguration
from web3.types import BlockIdentifier, RPCEndpoint, TxReceipt

from . import artifacts, rpc
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
from .outbox import (
    Journal,
    Outbox,
    OutboxError,
    Reconciliation,
    State,
    is_already_known,
    kill_point,
    mined_record,
    record,
    signed_record,
)
from .rpc import RpcError

#: a transaction being built: web3's TxParams TypedDict is too strict for incremental building
Tx = dict[str, Any]

#: gas estimate headroom: estimates are exact for the state they ran on; state can move before mining
GAS_MARGIN_NUMERATOR, GAS_MARGIN_DENOMINATOR = 6, 5
#: headroom on a cached estimate of the same call shape, made on another state (an out-of-gas failure
#: re-estimates and sends the item again)
CACHED_GAS_MARGIN_NUMERATOR, CACHED_GAS_MARGIN_DENOMINATOR = 5, 4
#: the first receipt poll comes this soon after sending; each miss doubles the wait up to the profile's interval
FIRST_POLL = 0.002
GAP_FILLER_GAS = 21_000


def to_address(value: str, *, what: str = "address") -> ChecksumAddress:
    """A checksummed address, or InvalidInput naming `what` for anything else.

    All-lowercase and all-uppercase hex is accepted; mixed case must carry a valid EIP-55 checksum,
    so a mistyped character is caught instead of sending title to a wrong account.
    """
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str):
        raise InvalidInput(f"{what} {value!r} is not a 20-byte hex address")
    checked = _checked_address(text)
    if checked is None:
        if text.startswith("0x") and len(text) == 42 and is_address(text.lower()):
            raise InvalidInput(f"{what} {value!r} has a wrong EIP-55 checksum")
        raise InvalidInput(f"{what} {value!r} is not a 20-byte hex address")
    return checked


@functools.lru_cache(maxsize=4096)
def _checked_address(text: str) -> ChecksumAddress | None:
    """The checksummed form of a valid address (all lower, all upper, or a right EIP-55 mix); None otherwise.
    Cached: a batch names the same few accounts many times, and each checksum is a keccak256."""
    if not is_address(text):
        return None
    body = text[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(text):
        return None
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
        """A decoder for the custom errors of every contract in the packaged artifacts."""
        return cls([artifacts.load(name).abi for name in artifacts.names()])

    def error_names(self) -> set[str]:
        """The names of every custom error the decoder knows."""
        return {e.name for e in self._errors.values()}

    def decode(self, data: bytes | str) -> EblError:
        """The exception revert `data` (bytes or 0x-hex) stands for, returned, not raised: the named exception of a
        known custom error; TransactionFailed for an empty revert, Error(string) or a panic; UnknownContractError
        for a selector in no ABI, or an error without an exception class."""
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


class Function:
    """One contract function resolved once from its ABI: selector, input and output types. Encodes calls and
    decodes results with eth-abi directly (web3's contract machinery resolves the whole ABI on every call,
    milliseconds each); results look as web3 returns them with decode_tuples: structs as named tuples,
    addresses checksummed."""

    def __init__(self, abi: dict[str, Any]) -> None:
        self.abi = abi
        self.name = str(abi["name"])
        self.selector = function_abi_to_4byte_selector(abi)  # type: ignore[arg-type]
        self.inputs = [_abi_type(i) for i in abi["inputs"]]
        self.outputs = [_abi_type(o) for o in abi.get("outputs", [])]

    def encode(self, args: Sequence[Any]) -> bytes:
        """The calldata of a call with `args`: selector, then the ABI-encoded arguments (0x-hex accepted for
        bytes). InvalidInput for a wrong number of arguments."""
        if len(args) != len(self.inputs):
            raise InvalidInput(f"{self.name} takes {len(self.inputs)} arguments, {len(args)} given")
        values = [_bytes_in(t, v) for t, v in zip(self.inputs, args, strict=True)]
        words = _static_words(self.inputs, values)  # the common case, without eth-abi's per-value checks
        return self.selector + (words if words is not None else abi_encode(self.inputs, values))

    def decode(self, data: bytes) -> Any:
        """The call's return data decoded: a single output as itself, several (or none) as a list; structs as named
        tuples, addresses checksummed."""
        values = abi_decode(self.outputs, data)
        shaped = [_shaped(o, v) for o, v in zip(self.abi.get("outputs", []), values, strict=True)]
        return shaped[0] if len(shaped) == 1 else shaped


def _bytes_in(kind: str, value: Any) -> Any:
    """0x-hex text where bytes are expected (web3 accepts it too)."""
    if kind.startswith("bytes") and isinstance(value, str) and not kind.endswith("]"):
        return bytes.fromhex(value.removeprefix("0x"))
    return value


def _static_words(types: Sequence[str], values: Sequence[Any]) -> bytes | None:
    """ABI encoding of addresses, unsigned integers, booleans and bytes32 (one word each); None for anything
    else, or any value out of its type's range (eth-abi then encodes it, or names what is wrong)."""
    out = bytearray()
    for kind, value in zip(types, values, strict=True):
        if kind == "address" and isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
            try:
                out += bytes(12) + bytes.fromhex(value[2:])
            except ValueError:
                return None
        elif kind == "bool" and isinstance(value, bool):
            out += int(value).to_bytes(32, "big")
        elif kind.startswith("uint") and isinstance(value, int) and not isinstance(value, bool) and (
                0 <= value < 1 << int(kind[4:] or 256)):
            out += value.to_bytes(32, "big")
        elif kind == "bytes32" and isinstance(value, bytes | bytearray) and len(value) == 32:
            out += value
        else:
            return None
    return bytes(out)


_NAMED: dict[tuple[str, ...], type] = {}


def _shaped(item: dict[str, Any], value: Any) -> Any:
    kind = str(item["type"])
    if kind.endswith("]"):
        inner = {**item, "type": kind[: kind.rindex("[")]}
        return [_shaped(inner, v) for v in value]
    if kind == "address":
        return _checked_address(value) or to_checksum_address(value)
    if kind == "tuple":
        components = item["components"]
        names = tuple(c["name"] or f"field{n}" for n, c in enumerate(components))
        cls = _NAMED.get(names)
        if cls is None:
            cls = _NAMED[names] = namedtuple("ABIDecodedNamedTuple", names, rename=True)
        return cls(*(_shaped(c, v) for c, v in zip(components, value, strict=True)))
    return value


def _hex(value: int) -> str:
    return hex(int(value))


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


class OutOfGas(TransactionFailed):
    """A mined transaction ran out of gas (its gas limit came from an estimate made on another state)."""


@dataclass(frozen=True)
class Call:
    """One transaction to send: a contract call (or a deployment, `to` None), with the label the outbox and the
    results show ("BillOfLadingRegistry.issue HKG123"). `gas` fixes the gas limit instead of estimating it."""

    to: str | None
    data: bytes
    label: str = ""
    value: int = 0
    gas: int | None = None

    @property
    def shape(self) -> tuple[str, bytes, int, bool]:
        """What a gas estimate is cached by: target, function selector, calldata length, whether it pays."""
        return (self.to or "", bytes(self.data[:4]), len(self.data), self.value > 0)

    @property
    def digest(self) -> str:
        """keccak256 of target, calldata and value: how a resumed batch recognises its items in the journal."""
        to = bytes.fromhex(self.to[2:]) if self.to else b""
        return "0x" + keccak(to + bytes(self.data) + self.value.to_bytes(32, "big")).hex()

    def request(self, sender: str) -> dict[str, Any]:
        """The JSON-RPC call object for eth_call / eth_estimateGas."""
        tx: dict[str, Any] = {"from": sender, "data": "0x" + bytes(self.data).hex()}
        if self.to:
            tx["to"] = self.to
        if self.value:
            tx["value"] = _hex(self.value)
        return tx


class Outcome(enum.Enum):
    """What became of one item of a `send_many`."""

    MINED = "mined"  # mined and succeeded
    REVERTED = "reverted"  # mined and failed on chain (`error`: the decoded reason, e.g. an earlier item's effect)
    REFUSED = "refused"  # refused before anything was sent (`error`: the named contract error or bad input)
    NOT_SENT = "not sent"  # valid, but not sent (`error` says why: the node refused it, the journal failed, ...)
    PENDING = "pending"  # sent, not mined within the receipt timeout (the outbox follows it: `ebl tx resend`)


@dataclass(frozen=True)
class ItemResult(Generic[T]):
    """One item's result of a pipelined send, in the order the items were given."""

    index: int
    label: str
    outcome: Outcome
    tx_hash: str | None = None
    receipt: TxReceipt | None = None
    error: EblError | None = None
    #: the facade's model after the action (a Bill, a CreditRecord, ...) when mined and succeeded
    value: T | None = None
    #: found in the outbox from an earlier, interrupted run of the same batch (not signed again)
    resumed: bool = False

    @property
    def ok(self) -> bool:
        """Whether the item was mined and succeeded."""
        return self.outcome is Outcome.MINED

    @property
    def tx(self) -> Transaction | None:
        """The item's mined transaction (hash, block, gas used, sender); None when it has no receipt."""
        return transaction_of(self.receipt) if self.receipt is not None else None

    def result(self) -> Result[T]:
        """`Result(value, tx)` of a mined item; its error otherwise (as a single write would raise it)."""
        if self.outcome is Outcome.MINED and self.receipt is not None:
            return Result(self.value, transaction_of(self.receipt))  # type: ignore[arg-type]
        raise self.error or TransactionFailed(f"{self.label}: {self.outcome.value}")


@dataclass
class _Signed:
    """A signed item on its way: what was signed, and how to follow it."""

    index: int | None  # None: a gap filler, not one of the caller's items
    call: Call
    nonce: int
    raw: str
    hash: str
    gas: int
    cached_gas: bool = False
    resumed: bool = False


@dataclass
class _Prepared:
    gas: list[int | EblError]
    cached: list[bool]
    nonce: int
    fees: Tx = field(default_factory=dict)


class Chain:
    """One node connection under one network profile. Pass it to the facades; tests build their own.

    With an `outbox`, every transaction signed here is journaled (fsync'd) before it is sent; `reconcile()`
    looks the journal's pending entries up on the chain (Client.connect does it on connect)."""

    def __init__(self, w3: Web3, profile: NetworkProfile = ANVIL, *, url: str = "",
                 outbox: Outbox | None = None) -> None:
        self.w3 = w3
        self.profile = profile
        self.url = url
        self.outbox = outbox
        self.decoder = RevertDecoder.for_suite()
        self._locks_lock = threading.Lock()
        self._sender_locks: dict[str, threading.Lock] = {}
        #: per sender: the next nonce we expect and the hash of the last transaction we sent
        self._sent: dict[str, tuple[int, str]] = {}
        self._journals: list[list[TxReceipt]] = []
        #: gas estimates by call shape (see Call.shape)
        self._gas: dict[tuple[str, bytes, int, bool], int] = {}
        self._fees: tuple[float, Tx] | None = None
        #: the latest block's gas limit, read with the fees: a chunk of sends never holds more gas than a block
        self._block_gas_limit: int | None = None
        #: contract names by address, for journal labels
        self._names: dict[str, str] = {}
        self._functions: dict[tuple[str, str], Function] = {}

    @classmethod
    def connect(
        cls,
        url: str | None = None,
        profile: NetworkProfile = ANVIL,
        *,
        expected_chain_id: int | None = None,
        make_request_hook: Callable[[str, Any], None] | None = None,
        outbox: Outbox | None = None,
    ) -> Chain:
        """Connect to `url` and check the chain id. ConnectionFailed / WrongChain otherwise.

        `make_request_hook`, when given, is called with each JSON-RPC method name and its params before
        it is sent, batched requests included (the tests use it to check which methods the client needs from
        Besu). `outbox` journals every transaction signed here (Client.connect gives one by default)."""
        url = url or profile.default_url
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InvalidInput(f"node URL {url!r} is not an http(s) URL")
        provider = HTTPProvider(
            url,
            request_kwargs={"timeout": profile.request_timeout},
            session=_session(url),
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
            original_batch = provider.make_batch_request

            def recording_make_request(method: RPCEndpoint, params: Any) -> Any:
                make_request_hook(str(method), params)
                return original(method, params)

            def recording_make_batch_request(requests: list[tuple[RPCEndpoint, Any]]) -> Any:
                for method, params in requests:
                    make_request_hook(str(method), params)
                return original_batch(requests)

            provider.make_request = recording_make_request  # type: ignore[method-assign]
            provider.make_batch_request = recording_make_batch_request  # type: ignore[method-assign,assignment]
        w3 = Web3(provider)
        if profile.poa:
            w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        chain = cls(w3, profile, url=url, outbox=outbox)
        chain.check_chain_id(expected_chain_id)
        return chain

    @cached_property
    def chain_id(self) -> int:
        """The node's chain id, asked once per connection; ConnectionFailed when the node cannot be reached."""
        try:
            return int(self.w3.eth.chain_id)
        except EblError:
            raise
        except Exception as exc:  # requests' and web3's connection errors have no common base
            raise ConnectionFailed(f"cannot reach the node at {self.url or 'the provider'}: {_reason(exc)}") from exc

    @cached_property
    def genesis_hash(self) -> str:
        """The hash of block 0: with the chain id, what identifies the chain (a node restarted empty keeps the
        chain id and gets a new genesis)."""
        block = self.rpc("eth_getBlockByNumber", ["0x0", False])
        if not isinstance(block, dict) or not block.get("hash"):
            raise ConnectionFailed(f"the node at {self.url} has no genesis block")
        return str(block["hash"])

    def check_chain_id(self, expected: int | None) -> int:
        """The node's chain id; WrongChain when `expected` is given and differs."""
        actual = self.chain_id
        if expected is not None and actual != expected:
            raise WrongChain(f"the node at {self.url} serves chain id {actual}, expected {expected}")
        return actual

    # --- raw JSON-RPC -------------------------------------------------------------------------------

    def rpc_batch(self, requests: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Requests in JSON-RPC batches: each one's raw result or its rpc.RpcError, in order."""
        return rpc.batch(self.w3.provider, requests, url=self.url,  # type: ignore[arg-type]
                         max_batch=self.profile.max_batch)

    def rpc(self, method: str, params: Sequence[Any]) -> Any:
        """One request's raw result; TransactionFailed with the node's message for an error."""
        [reply] = self.rpc_batch([(method, params)])
        if isinstance(reply, RpcError):
            raise TransactionFailed(f"the node refused {method}: {reply.message}")
        return reply

    # --- contracts ----------------------------------------------------------------------------------

    def contract(self, name: str, address: str) -> Contract:
        """Contract `name` of the artifacts at `address`; struct results decode as named tuples."""
        contract: Contract = self.w3.eth.contract(
            address=to_address(address), abi=artifacts.load(name).abi, decode_tuples=True
        )
        self._names[contract.address] = name
        return contract

    def block_time(self, block: BlockIdentifier = "latest") -> int:
        """The timestamp of `block` (default the latest): the chain's clock, which expiries are judged by."""
        return int(self.w3.eth.get_block(block)["timestamp"])

    def block_times(self, blocks: Sequence[int]) -> dict[int, int]:
        """The timestamps of `blocks`, in one batch of eth_getBlockByNumber."""
        wanted = sorted(set(blocks))
        replies = self.rpc_batch([("eth_getBlockByNumber", [_hex(b), False]) for b in wanted])
        times = {}
        for b, reply in zip(wanted, replies, strict=True):
            if not isinstance(reply, dict):
                raise ConnectionFailed(f"the node at {self.url} did not return block {b}: {reply}")
            times[b] = _int(reply["timestamp"])
        return times

    def has_code(self, address: str) -> bool:
        """Whether `address` holds contract code at the latest block; InvalidInput for a malformed address."""
        return len(self.w3.eth.get_code(to_address(address))) > 0

    def call(self, contract: Contract, fn: str, *args: Any, block: BlockIdentifier = "latest",
             sender: str | None = None) -> Any:
        """A view call (or the simulation of a transaction from `sender`); a custom-error revert raises its
        named exception."""
        [value] = self.call_many([(contract, fn, args)], block=block, sender=sender)
        return value

    def call_many(self, calls: Sequence[tuple[Contract, str, Sequence[Any]]], *,
                  block: BlockIdentifier = "latest", sender: str | None = None) -> list[Any]:
        """View calls in JSON-RPC batches (one request for one call), decoded as web3 decodes them (structs as
        named tuples), each from `sender` when given; the first revert raises its named error."""
        tag = _hex(block) if isinstance(block, int) else str(block)
        functions = [self.function(contract, fn) for contract, fn, _ in calls]
        origin = {"from": to_address(sender, what="sender")} if sender else {}
        replies = self.rpc_batch([
            ("eth_call", [{**origin, "to": contract.address, "data": "0x" + f.encode(args).hex()}, tag])
            for (contract, _, args), f in zip(calls, functions, strict=True)])
        values = []
        for (contract, fn, _), function, reply in zip(calls, functions, replies, strict=True):
            if isinstance(reply, RpcError):
                raise self._rpc_failure(reply, f"{fn} on {contract.address}")
            values.append(function.decode(HexBytes(reply)))
        return values

    def function(self, contract: Contract, fn: str) -> Function:
        """`fn` of `contract`'s ABI, resolved once per contract address."""
        key = (contract.address, fn)
        found = self._functions.get(key)
        if found is None:
            matches = [item for item in contract.abi if item.get("type") == "function" and item.get("name") == fn]
            if len(matches) != 1:
                raise InvalidInput(f"{self._names.get(contract.address, contract.address)} has "
                                   f"{'no' if not matches else 'more than one'} function {fn!r}")
            found = self._functions[key] = Function(dict(matches[0]))
        return found

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

    def label(self, contract: Contract, fn: str, detail: str = "") -> str:
        """How the outbox names a call: "BillOfLadingRegistry.issue HKG123"."""
        name = self._names.get(contract.address, contract.address)
        return f"{name}.{fn}" + (f" {detail}" if detail else "")

    def call_of(self, contract: Contract, fn: str, *args: Any, label: str = "", gas: int | None = None) -> Call:
        """`contract.fn(*args)` as a Call to send (alone or in a `send_many`)."""
        return Call(contract.address, self.function(contract, fn).encode(args), label or self.label(contract, fn),
                    gas=gas)

    def transact(self, signer: LocalAccount, contract: Contract, fn: str, *args: Any, label: str = "") -> TxReceipt:
        """Sign, send and wait for `contract.fn(*args)`; the receipt of a successful transaction. A refusal
        raises the contract error's named exception before anything is sent."""
        return self.submit(self.call_of(contract, fn, *args, label=label), sender=signer)

    def deploy(self, signer: LocalAccount, name: str, *args: Any) -> TxReceipt:
        """Deploy contract `name` from the artifacts with constructor `args`; receipt.contractAddress set."""
        factory = self.w3.eth.contract(abi=artifacts.load(name).abi, bytecode=artifacts.load(name).bytecode)
        data = factory.constructor(*args).data_in_transaction
        return self.submit(Call(None, bytes(HexBytes(data)), f"deploy {name}"), sender=signer)

    def send(self, signer: LocalAccount, tx: Tx, *, label: str = "") -> TxReceipt:
        """Sign, send and wait for a transaction given as {"to", "data", "value"}; the receipt once mined."""
        call = Call(tx.get("to"), bytes(HexBytes(tx.get("data", b""))), label, int(tx.get("value", 0)),
                    tx.get("gas"))
        return self.submit(call, sender=signer)

    def submit(self, call: Call, *, sender: LocalAccount) -> TxReceipt:
        """The single-action path: `send_many` of one item; its receipt, or its error raised."""
        [item] = self.send_many([call], sender=sender)
        if item.outcome is Outcome.NOT_SENT and _retryable(item.error):
            self._fees = None  # a fee or nonce the node no longer accepts: ask again, sign again, once
            [item] = self.send_many([call], sender=sender)
        if item.ok and item.receipt is not None:
            return item.receipt
        raise item.error or TransactionFailed(f"{call.label}: {item.outcome.value}")

    def send_many(self, calls: Sequence[Call], *, sender: LocalAccount, batch: str | None = None,
                  ) -> list[ItemResult[Any]]:
        """Validate, sign, journal, send and wait for many calls from one sender; one ItemResult per call, in
        order. Refused items are never sent; the others get consecutive nonces and go out in one JSON-RPC
        batch (chunks of `profile.max_in_flight`); receipts are polled in batches.

        `batch` names the batch in the outbox: run again with the same name and items (after a crash, say),
        items already journaled are followed to their outcome instead of being signed again."""
        return self._send_many(list(calls), sender, batch, force_estimate=False)

    # --- the engine ---------------------------------------------------------------------------------

    def _send_many(self, calls: list[Call], sender: LocalAccount, batch: str | None,
                   force_estimate: bool) -> list[ItemResult[Any]]:
        results: dict[int, ItemResult[Any]] = {}
        if not calls:
            return []
        address = to_checksum_address(sender.address)
        journal = self._journal_of(address)
        in_flight: list[_Signed] = []
        receipts: dict[str, dict[str, Any]] = {}
        with self._sending(address, journal):
            todo = list(range(len(calls)))
            if batch is not None and journal is not None:
                in_flight += self._resume(journal, batch, calls, todo, results)
            # (nothing to prepare when an earlier run journaled every item: only receipts to wait for)
            prepared = self._prepare(address, [calls[i] for i in todo], force_estimate=force_estimate) if todo else None
            if prepared is not None:
                ready: list[tuple[int, int, bool]] = []
                for i, gas, cached in zip(todo, prepared.gas, prepared.cached, strict=True):
                    if isinstance(gas, EblError):
                        results[i] = ItemResult(i, calls[i].label, Outcome.REFUSED, error=gas)
                    else:
                        ready.append((i, gas, cached))
                signed = [self._sign(sender, calls[i], gas, prepared.nonce + k, prepared.fees, i, cached)
                          for k, (i, gas, cached) in enumerate(ready)]
                if signed:
                    try:
                        self._journal_signed(journal, signed, batch)
                    except OutboxError as exc:
                        for s in signed:
                            assert s.index is not None
                            results[s.index] = ItemResult(s.index, s.call.label, Outcome.NOT_SENT, error=exc)
                        signed = []
                    kill_point("journaled")
                    in_flight += self._send_signed(sender, journal, signed, prepared, results, receipts, batch)
                    kill_point("sent")
        receipts.update(self.wait_receipts([s.hash for s in in_flight if s.hash not in receipts]))
        failed: list[tuple[_Signed, TxReceipt]] = []
        mined: list[dict[str, Any]] = []
        for s in in_flight:
            raw = receipts.get(s.hash)
            if raw is None:
                if s.index is not None:
                    results[s.index] = ItemResult(s.index, s.call.label, Outcome.PENDING, s.hash, resumed=s.resumed,
                                                  error=TransactionTimeout(
                                                      f"transaction {s.hash} not mined within "
                                                      f"{self.profile.receipt_timeout:g} s: the outbox keeps "
                                                      "following it (ebl tx list / ebl tx resend)"))
                continue
            receipt = format_receipt(raw)
            mined.append(mined_record(raw))
            for collector in self._journals:
                collector.append(receipt)
            if s.index is None:
                continue
            if int(receipt["status"]) == 1:
                results[s.index] = ItemResult(s.index, s.call.label, Outcome.MINED, s.hash, receipt,
                                              resumed=s.resumed)
            else:
                failed.append((s, receipt))
        if journal is not None and mined:
            with journal.locked():
                news = [m for m in mined if m["hash"] in journal.entries  # a resumed entry may know it already
                        and journal.entries[m["hash"]].block_hash != m["blockHash"]]
                if news:
                    journal.append(news, genesis=self.genesis_hash)
        retry: list[int] = []
        for (s, receipt), error in zip(failed, self._failures(address, failed), strict=True):
            assert s.index is not None
            results[s.index] = ItemResult(s.index, s.call.label, Outcome.REVERTED, s.hash, receipt, error,
                                          resumed=s.resumed)
            if isinstance(error, OutOfGas) and s.cached_gas and not force_estimate:
                self._gas.pop(s.call.shape, None)
                retry.append(s.index)
        if retry:
            again = self._send_many([calls[i] for i in retry], sender, None, force_estimate=True)
            for i, item in zip(retry, again, strict=True):
                results[i] = replace(item, index=i)
        return [results[i] for i in range(len(calls))]

    def _journal_of(self, sender: str) -> Journal | None:
        return None if self.outbox is None else self.outbox.journal(self.chain_id, sender)

    def _sending(self, sender: str, journal: Journal | None) -> AbstractContextManager[Any]:
        """Held from reading the nonce to the last send: the journal's lock (threads and processes), or a
        per-sender lock without an outbox."""
        if journal is not None:
            return journal.locked()
        with self._locks_lock:
            lock = self._sender_locks.setdefault(sender, threading.Lock())
        return lock

    def _prepare(self, sender: str, calls: list[Call], *, force_estimate: bool) -> _Prepared:
        """One batch: each call validated (eth_estimateGas for a new call shape, else eth_call), the pending
        nonce, and the fees when the cached ones are stale."""
        requests: list[tuple[str, Sequence[Any]]] = []
        estimating: set[tuple[str, bytes, int, bool]] = set()
        kinds: list[str] = []
        for call in calls:
            shape = call.shape
            if call.gas is None and (force_estimate or (shape not in self._gas and shape not in estimating)):
                estimating.add(shape)
                kinds.append("estimate")
                requests.append(("eth_estimateGas", [call.request(sender)]))
            else:
                kinds.append("call")
                requests.append(("eth_call", [call.request(sender), "latest"]))
        requests.append(("eth_getTransactionCount", [sender, "pending"]))
        fee_requests = self._fee_requests()
        requests += fee_requests
        replies = self.rpc_batch(requests)
        nonce_reply = replies[len(calls)]
        if isinstance(nonce_reply, RpcError):
            raise TransactionFailed(f"the node could not count the transactions of {sender}: {nonce_reply}")
        fees = self._fees_from(replies[len(calls) + 1:]) if fee_requests else self._cached_fees()
        gas: list[int | EblError] = []
        cached: list[bool] = []
        for call, kind, reply in zip(calls, kinds, replies, strict=False):
            if isinstance(reply, RpcError):
                gas.append(self._rpc_failure(reply, "gas estimation" if kind == "estimate" else "the check"))
                cached.append(False)
            elif kind == "estimate":
                self._gas[call.shape] = _int(reply)
                gas.append(_int(reply) * GAS_MARGIN_NUMERATOR // GAS_MARGIN_DENOMINATOR)
                cached.append(False)
            else:
                gas.append(-1)
                cached.append(call.gas is None)
        # calls validated by eth_call take the fixed gas, or their shape's estimate (made earlier, or in this
        # batch); a shape whose only estimate was refused is estimated now, item by item
        missing = [n for n, g in enumerate(gas) if g == -1 and calls[n].gas is None and calls[n].shape not in self._gas]
        if missing:
            again = self.rpc_batch([("eth_estimateGas", [calls[n].request(sender)]) for n in missing])
            for n, reply in zip(missing, again, strict=True):
                if isinstance(reply, RpcError):
                    gas[n] = self._rpc_failure(reply, "gas estimation")
                else:
                    self._gas[calls[n].shape] = _int(reply)
                    gas[n], cached[n] = _int(reply) * GAS_MARGIN_NUMERATOR // GAS_MARGIN_DENOMINATOR, False
        for n, g in enumerate(gas):
            if g == -1:
                fixed = calls[n].gas
                gas[n] = fixed if fixed is not None else (
                    self._gas[calls[n].shape] * CACHED_GAS_MARGIN_NUMERATOR // CACHED_GAS_MARGIN_DENOMINATOR)
        return _Prepared(gas, cached, self._nonce(sender, _int(nonce_reply)), fees)

    def _nonce(self, sender: str, pending: int) -> int:
        """The node's pending count, unless our own last transaction is known to the node but not yet
        counted (a node that lags its pool); a forgotten one (chain reset, snapshot revert) is ignored."""
        ours = self._sent.get(sender)
        if ours is None or ours[0] <= pending:
            return pending
        if isinstance(self.rpc_batch([("eth_getTransactionByHash", [ours[1]])])[0], dict):
            return ours[0]
        del self._sent[sender]  # forgotten: the node's count is right, and asking again each time is waste
        return pending

    def _fee_requests(self) -> list[tuple[str, Sequence[Any]]]:
        """The latest block (base fee, gas limit) and the price, when the cached ones are older than fee_ttl."""
        if self._fees is not None and time.monotonic() - self._fees[0] < self.profile.fee_ttl:
            return []
        latest: tuple[str, Sequence[Any]] = ("eth_getBlockByNumber", ["latest", False])
        if self.profile.tx_type == "legacy":
            return [latest] if self.profile.gas_price is not None else [latest, ("eth_gasPrice", [])]
        return [latest, ("eth_maxPriorityFeePerGas", [])]

    def _fees_from(self, replies: Sequence[Any]) -> Tx:
        for reply in replies:
            if isinstance(reply, RpcError) or reply is None:
                raise TransactionFailed(f"the node could not price the transaction: {reply}")
        block = replies[0]
        self._block_gas_limit = _int(block.get("gasLimit") or 0) or None
        if self.profile.tx_type == "legacy":
            price = self.profile.gas_price if self.profile.gas_price is not None else _int(replies[1])
            fees: Tx = {"gasPrice": price}
        else:
            base = _int(block.get("baseFeePerGas") or 0)
            tip = _int(replies[1])
            fees = {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip, "type": 2}
        self._fees = (time.monotonic(), fees)
        return fees

    def _cached_fees(self) -> Tx:
        assert self._fees is not None
        return self._fees[1]

    def _sign(self, sender: LocalAccount, call: Call, gas: int, nonce: int, fees: Tx, index: int | None,
              cached: bool = False) -> _Signed:
        tx: Tx = {"data": call.data, "value": call.value, "gas": gas, "nonce": nonce, "chainId": self.chain_id,
                  **fees}
        if call.to:
            tx["to"] = call.to
        signed = sender.sign_transaction(tx)
        return _Signed(index, call, nonce, signed.raw_transaction.to_0x_hex(), signed.hash.to_0x_hex(), gas, cached)

    def _journal_signed(self, journal: Journal | None, signed: Sequence[_Signed], batch: str | None,
                        extra: Sequence[dict[str, Any]] = ()) -> None:
        """The signed transactions, fsync'd, before any of them is sent."""
        if journal is None:
            return
        with journal.locked():
            journal.append([*extra, *(signed_record(hash=s.hash, nonce=s.nonce, label=s.call.label, to=s.call.to,
                                                    raw=s.raw, call=s.call.digest, batch=batch, item=s.index)
                                      for s in signed)], genesis=self.genesis_hash, durable=True)

    def _send_signed(self, sender: LocalAccount, journal: Journal | None, signed: list[_Signed], prepared: _Prepared,
                     results: dict[int, ItemResult[Any]], receipts: dict[str, dict[str, Any]],
                     batch: str | None) -> list[_Signed]:
        """Send in chunks of `profile.max_in_flight` (waiting for a chunk's receipts before the next); apply the
        nonce rule (module docstring) to items the node refuses. Returns what is in flight."""
        address = to_checksum_address(sender.address)
        in_flight: list[_Signed] = []
        queue = list(signed)
        while queue:
            chunk, queue = self._chunk(queue)
            holes = self._post(address, journal, chunk, results, in_flight, receipts)
            if holes:
                top = max((s.nonce for s in in_flight), default=-1)
                trailing = [h for h in holes if h > top]
                if trailing and queue:
                    queue = self._resign(sender, journal, queue, min(trailing), prepared, batch)
                fillers = [self._sign(sender, Call(address, b"", f"gap filler for nonce {h} (a refused item)",
                                                   gas=GAP_FILLER_GAS), GAP_FILLER_GAS, h, prepared.fees, None)
                           for h in holes if h < top]
                if fillers:
                    self._journal_signed(journal, fillers, None)
                    self._post(address, journal, fillers, results, in_flight, receipts)
            if queue and in_flight:
                receipts.update(self.wait_receipts([s.hash for s in in_flight if s.hash not in receipts]))
        return in_flight

    def _chunk(self, queue: list[_Signed]) -> tuple[list[_Signed], list[_Signed]]:
        """What to send before waiting: at most `profile.max_in_flight` transactions and one block's gas (a node
        mining on demand, like Anvil's automine, leaves what does not fit in its block until more arrives)."""
        limit = self._block_gas_limit or 0
        size, gas = 0, 0
        for s in queue[: max(1, self.profile.max_in_flight)]:
            if size and limit and gas + s.gas > limit:
                break
            size, gas = size + 1, gas + s.gas
        return queue[:size], queue[size:]

    def _post(self, sender: str, journal: Journal | None, chunk: list[_Signed], results: dict[int, ItemResult[Any]],
              in_flight: list[_Signed], receipts: dict[str, dict[str, Any]]) -> list[int]:
        """One batch of eth_sendRawTransaction: accepted items join `in_flight`, refused ones are recorded (never
        in the pool); returns the nonces the refusals left free (a nonce another transaction took is not). A
        lone transaction asks for its receipt in the same batch: a node mining on demand often has it already,
        which saves the first poll."""
        requests: list[tuple[str, Sequence[Any]]] = [("eth_sendRawTransaction", [s.raw]) for s in chunk]
        if len(chunk) == 1:
            requests.append(("eth_getTransactionReceipt", [chunk[0].hash]))
        replies = self.rpc_batch(requests)
        if len(chunk) == 1:
            early = replies.pop()
            if isinstance(early, dict) and early.get("blockNumber") is not None:
                receipts[chunk[0].hash] = early
        notes: list[dict[str, Any]] = []
        holes: list[int] = []
        for s, reply in zip(chunk, replies, strict=True):
            if isinstance(reply, RpcError) and not is_already_known(reply):
                notes.append(record("refused", s.hash, detail=f"the node refused it: {reply.message}"))
                if s.index is not None:
                    results[s.index] = ItemResult(s.index, s.call.label, Outcome.NOT_SENT, s.hash,
                                                  error=TransactionFailed(f"the node refused the transaction: "
                                                                          f"{reply.message}"))
                if not _nonce_taken(reply):
                    holes.append(s.nonce)
            else:
                notes.append(record("sent", s.hash, resend=False))
                in_flight.append(s)
                if s.nonce + 1 > self._sent.get(sender, (0, ""))[0]:
                    self._sent[sender] = (s.nonce + 1, s.hash)
        if journal is not None:
            with journal.locked():
                journal.append(notes, genesis=self.genesis_hash)
        return holes

    def _resign(self, sender: LocalAccount, journal: Journal | None, queue: list[_Signed], first: int,
                prepared: _Prepared, batch: str | None) -> list[_Signed]:
        """Items not sent yet, signed again from nonce `first` (their first signatures superseded, never sent)."""
        fresh = [self._sign(sender, s.call, s.gas, first + k, prepared.fees, s.index, s.cached_gas)
                 for k, s in enumerate(queue)]
        superseded = [record("superseded", old.hash, by=new.hash,
                             detail=f"never sent: re-signed with nonce {new.nonce} after nonce {first} was refused")
                      for old, new in zip(queue, fresh, strict=True)]
        self._journal_signed(journal, fresh, batch, extra=superseded)
        return fresh

    def _resume(self, journal: Journal, batch: str, calls: list[Call], todo: list[int],
                results: dict[int, ItemResult[Any]]) -> list[_Signed]:
        """Items of `batch` already in the journal: followed, not signed again. A pending one the node does
        not know is sent again (same bytes); one whose nonce another transaction used is reported."""
        known = journal.by_item(batch)
        followed: list[_Signed] = []
        for i in list(todo):
            entry = known.get(i)
            if entry is None or entry.call != calls[i].digest:
                continue
            todo.remove(i)
            followed.append(_Signed(i, calls[i], entry.nonce, entry.raw, entry.hash, 0, resumed=True))
        if not followed:
            return []
        replies = self.rpc_batch([r for s in followed for r in (("eth_getTransactionReceipt", [s.hash]),
                                                                 ("eth_getTransactionByHash", [s.hash]))]
                                 + [("eth_getTransactionCount", [journal.sender, "latest"])])
        count = replies[-1]
        lost = []
        for n, s in enumerate(followed):
            receipt, tx = replies[2 * n], replies[2 * n + 1]
            entry = journal.entries[s.hash]
            if isinstance(receipt, dict) and receipt.get("blockNumber") is not None:
                continue
            if isinstance(tx, dict):
                continue
            if not isinstance(count, RpcError) and s.nonce < _int(count):
                detail = (f"nonce {s.nonce} of {journal.sender} was used by another transaction; this one was never "
                          "applied and will not be sent")
                journal.append([record("conflict", s.hash, detail=detail)], genesis=self.genesis_hash)
                assert s.index is not None
                results[s.index] = ItemResult(s.index, s.call.label, Outcome.NOT_SENT, s.hash, resumed=True,
                                              error=TransactionFailed(detail))
                continue
            if entry.state is not State.PENDING:
                journal.append([record("lost", s.hash, detail="mined earlier, no longer on chain")],
                               genesis=self.genesis_hash)
            lost.append(s)
        if lost:
            sent = self.rpc_batch([("eth_sendRawTransaction", [s.raw]) for s in lost])
            journal.append([record("sent", s.hash, resend=True) for s, r in zip(lost, sent, strict=True)
                            if not isinstance(r, RpcError) or is_already_known(r)], genesis=self.genesis_hash)
        return [s for s in followed if s.index not in results]

    def wait_receipts(self, hashes: Sequence[str], timeout: float | None = None) -> dict[str, dict[str, Any]]:
        """The raw receipts of `hashes` that get mined, polled in batches: first after FIRST_POLL seconds,
        then doubling the wait up to the profile's poll interval; gives up `timeout` seconds (default the
        profile's receipt timeout) after the last receipt arrived."""
        waiting = list(dict.fromkeys(hashes))
        found: dict[str, dict[str, Any]] = {}
        if not waiting:
            return found
        limit = self.profile.receipt_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        delay = FIRST_POLL
        while True:
            replies = self.rpc_batch([("eth_getTransactionReceipt", [h]) for h in waiting])
            got = {h: r for h, r in zip(waiting, replies, strict=True)
                   if isinstance(r, dict) and r.get("blockNumber") is not None}
            found.update(got)
            waiting = [h for h in waiting if h not in got]
            now = time.monotonic()
            if got:
                deadline = now + limit
            if not waiting or now >= deadline:
                return found
            time.sleep(min(delay, max(0.0, deadline - now)))
            delay = min(delay * 2, self.profile.poll_interval)

    def wait(self, tx_hash: bytes | str) -> TxReceipt:
        """The receipt of a sent transaction; TransactionTimeout after the profile's receipt timeout."""
        tx = HexBytes(tx_hash).to_0x_hex()
        raw = self.wait_receipts([tx]).get(tx)
        if raw is None:
            raise TransactionTimeout(f"transaction {tx} not mined within {self.profile.receipt_timeout:g} s")
        return format_receipt(raw)

    def _failures(self, sender: str, failed: Sequence[tuple[_Signed, TxReceipt]]) -> list[EblError]:
        """Why mined transactions failed: each replayed (one batch) on the state after its block. A transaction
        that raced ours into the same block (the usual cause once validation passed) is visible there; a
        replay that succeeds means the transaction ran out of gas."""
        if not failed:
            return []
        replies = self.rpc_batch([("eth_call", [s.call.request(sender), _hex(receipt["blockNumber"])])
                                  for s, receipt in failed])
        errors: list[EblError] = []
        for (s, receipt), reply in zip(failed, replies, strict=True):
            tx = HexBytes(receipt["transactionHash"]).to_0x_hex()
            if isinstance(reply, RpcError):
                error = self._rpc_failure(reply, "the replay")
                if reply.revert_data() is None and "out of gas" not in reply.message.lower():
                    error = TransactionFailed(f"transaction {tx} failed (gas used {receipt['gasUsed']}): {reply}")
                errors.append(error)
            else:
                errors.append(OutOfGas(f"transaction {tx} ran out of gas (limit {s.gas}, used {receipt['gasUsed']})"))
        return errors

    def _rpc_failure(self, error: RpcError, what: str) -> EblError:
        data = error.revert_data()
        if data is not None:
            return self.decoder.decode(data)
        return TransactionFailed(f"the node refused {what}: {error.message}")

    # --- the outbox ---------------------------------------------------------------------------------

    def reconcile(self, senders: Sequence[str] | None = None, *, wait: bool = True) -> Reconciliation:
        """Look the outbox's pending entries up on this chain and resend what the node lost (outbox.reconcile);
        an empty Reconciliation without an outbox. ChainReplaced when the node serves another chain."""
        from .outbox import reconcile

        if self.outbox is None:
            return Reconciliation()
        return reconcile(self.outbox, self, senders=senders, wait=wait)


def _session(url: str) -> requests.Session:
    """An HTTP session with the environment's proxy, CA bundle and netrc settings for `url` read once, here:
    requests otherwise reads the whole environment again for every request (a millisecond each)."""
    session = requests.Session()
    settings = session.merge_environment_settings(url, {}, None, None, None)
    auth = requests.utils.get_netrc_auth(url)
    session.trust_env = False
    session.proxies.update(settings.get("proxies") or {})
    session.verify = settings.get("verify", True)
    session.cert = settings.get("cert")
    if auth:
        session.auth = auth
    return session


def _nonce_taken(error: RpcError) -> bool:
    text = error.message.lower()
    return "nonce too low" in text or "nonce is too low" in text or "old nonce" in text


def _retryable(error: EblError | None) -> bool:
    """A refusal that asking the node again (fees, nonce) and signing again can cure."""
    text = str(error).lower() if error is not None else ""
    return any(m in text for m in ("nonce too low", "underpriced", "base fee", "fee cap", "max fee"))


_RECEIPT_INTS = ("blockNumber", "cumulativeGasUsed", "gasUsed", "status", "transactionIndex", "effectiveGasPrice",
                 "type", "blobGasUsed", "blobGasPrice", "blockTimestamp")
_LOG_INTS = ("blockNumber", "logIndex", "transactionIndex", "blockTimestamp")


def format_receipt(raw: dict[str, Any]) -> TxReceipt:
    """A raw JSON-RPC receipt as web3 returns it (ints, HexBytes, checksummed addresses, AttributeDicts),
    converted field by field (web3's generic formatters take a millisecond a receipt)."""
    receipt = dict(raw)
    for key in _RECEIPT_INTS:
        if receipt.get(key) is not None:
            receipt[key] = _int(receipt[key])
    for key in ("transactionHash", "blockHash", "logsBloom", "root"):
        if receipt.get(key) is not None:
            receipt[key] = HexBytes(receipt[key])
    for key in ("from", "to", "contractAddress"):
        if receipt.get(key) is not None:
            receipt[key] = to_checksum_address(receipt[key])
    receipt["logs"] = [_format_log(log) for log in raw.get("logs") or []]
    formatted: TxReceipt = AttributeDict(receipt)  # type: ignore[assignment]
    return formatted


def _format_log(raw: dict[str, Any]) -> AttributeDict[str, Any]:
    log = dict(raw)
    for key in _LOG_INTS:
        if log.get(key) is not None:
            log[key] = _int(log[key])
    for key in ("transactionHash", "blockHash", "data"):
        if log.get(key) is not None:
            log[key] = HexBytes(log[key])
    log["address"] = to_checksum_address(log["address"])
    log["topics"] = [HexBytes(t) for t in log.get("topics") or []]
    return AttributeDict(log)


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

    def _send(self, sender: LocalAccount, fn: str, *args: Any, label: str = "") -> TxReceipt:
        """Sign and send `fn(*args)` on this facade's contract from `sender`; the receipt once mined. A
        refusal raises the contract error's named exception before anything is sent. `label` adds what the
        outbox shows after "Contract.fn" (a reference, a subject)."""
        return self.chain.transact(sender, self.contract, fn, *args, label=self.chain.label(self.contract, fn, label))

    def _call(self, fn: str, *args: Any, label: str = "") -> Call:
        """`fn(*args)` on this facade's contract as a Call for `_send_many`."""
        return self.chain.call_of(self.contract, fn, *args, label=self.chain.label(self.contract, fn, label))

    def _send_many(self, items: Sequence[Call | EblError], sender: LocalAccount,
                   build: Callable[[int, TxReceipt], T] | None, *, batch: str | None = None) -> list[ItemResult[T]]:
        """Send the prepared items (an EblError: refused before sending, kept in its place) with
        `Chain.send_many`; each mined item's value is `build(index, receipt)` (None without `build`)."""
        calls = [(n, item) for n, item in enumerate(items) if isinstance(item, Call)]
        sent = iter(self.chain.send_many([c for _, c in calls], sender=sender, batch=batch))
        results: list[ItemResult[T]] = []
        for n, item in enumerate(items):
            if isinstance(item, EblError):
                results.append(ItemResult(n, "", Outcome.REFUSED, error=item))
                continue
            result = replace(next(sent), index=n)
            if result.ok and result.receipt is not None and build is not None:
                try:
                    result = replace(result, value=build(n, result.receipt))
                except EblError as exc:  # mined, but its result could not be read back: say so, keep the tx
                    result = replace(result, error=exc)
            results.append(result)
        return results

    @staticmethod
    def _result(value: T, receipt: TxReceipt) -> Result[T]:
        return Result(value, transaction_of(receipt))
