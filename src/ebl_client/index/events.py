"""Decoding the suite's logs into plain, JSON-ready events: the raw material of the index.

One decoder per event signature, built once from the artifacts' ABIs (every event of the four contracts,
inherited ones such as ERC-721 `Transfer` and AccessControl's `RoleGranted` included). Values become JSON
values a supervisor's tools read without loss: addresses checksummed, bytes as 0x-hex, bill token ids as
0x-hex, integers wider than 53 bits as decimal strings (JavaScript numbers are exact only below 2**53).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import event_abi_to_log_topic, to_checksum_address

from .. import artifacts

#: the contracts the index follows, by their manifest names
CONTRACTS: tuple[str, ...] = ("ParticipantRegistry", "BillOfLadingRegistry", "CreditHashRegistry", "FinancingEscrow")
#: argument names that hold bill token ids (256-bit; hex like everywhere else in the client)
TOKEN_ID_ARGS = frozenset({"tokenId"})
JS_SAFE_BITS = 53


@dataclass(frozen=True)
class _Spec:
    name: str
    indexed: tuple[tuple[str, str], ...]  # (name, type) in topic order
    data: tuple[tuple[str, str], ...]  # (name, type) in data order
    order: tuple[str, ...]  # names in declaration order
    static_data: bool  # every data value is one 32-byte word


@dataclass(frozen=True)
class Event:
    """One decoded log, where it sits on the chain and what it said."""

    block: int
    block_hash: str
    log_index: int
    tx_hash: str
    tx_index: int
    contract: str
    event: str
    args: dict[str, Any]


def _type(item: dict[str, Any]) -> str:
    kind = str(item["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_type(c) for c in item["components"]) + ")" + kind[len("tuple"):]
    return kind


@cache
def _specs(contract: str) -> dict[bytes, _Spec]:
    specs: dict[bytes, _Spec] = {}
    for item in artifacts.load(contract).abi:
        if item.get("type") != "event" or item.get("anonymous"):
            continue
        inputs = item["inputs"]
        specs[bytes(event_abi_to_log_topic(item))] = _Spec(  # type: ignore[arg-type]
            name=item["name"],
            indexed=tuple((i["name"], _type(i)) for i in inputs if i["indexed"]),
            data=tuple((i["name"], _type(i)) for i in inputs if not i["indexed"]),
            order=tuple(i["name"] for i in inputs),
            static_data=all(_is_static(_type(i)) for i in inputs if not i["indexed"]),
        )
    return specs


def event_names(contract: str) -> list[str]:
    """Every event `contract` can emit (for tests and documentation)."""
    return sorted(s.name for s in _specs(contract).values())


@lru_cache(maxsize=1 << 16)
def checksummed(address: str) -> str:
    """EIP-55 spelling; cached: a chain's events name the same few hundred accounts over and over, and
    eth_utils takes tens of microseconds per address."""
    return to_checksum_address(address)


def _static(kind: str, word: bytes) -> Any:
    """One 32-byte ABI word of a static type, decoded without eth_abi's machinery (the indexer's hot path)."""
    if kind == "address":
        return "0x" + word[12:].hex()
    if kind == "bool":
        return word[31] != 0
    if kind.startswith("uint"):
        return int.from_bytes(word, "big")
    if kind.startswith("int"):
        return int.from_bytes(word, "big", signed=True)
    return word[:int(kind[5:])]  # bytesN


def _is_static(kind: str) -> bool:
    return kind in ("address", "bool") or (kind.startswith(("uint", "int")) and not kind.endswith("]")) or (
        kind.startswith("bytes") and kind != "bytes" and not kind.endswith("]"))


def _json_value(name: str, kind: str, value: Any) -> Any:
    if kind == "address":
        return checksummed(value)
    if kind.startswith("bytes") and not kind.endswith("]"):
        return "0x" + bytes(value).hex()
    if kind.startswith(("uint", "int")) and not kind.endswith("]"):
        if name in TOKEN_ID_ARGS:
            return hex(int(value))
        bits = int(kind.removeprefix("u").removeprefix("int") or 256)
        return str(int(value)) if bits > JS_SAFE_BITS else int(value)
    if kind.endswith("[]"):
        inner = kind[:-2]
        return [_json_value(name, inner, v) for v in value]
    return value


def _hex(value: Any) -> str:
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


def decode(contract: str, log: dict[str, Any]) -> Event | None:
    """The event of one `eth_getLogs` entry of `contract`; None for a topic the contract's ABI lacks."""
    topics = [bytes.fromhex(_hex(t)[2:]) for t in log["topics"]]
    if not topics:
        return None
    spec = _specs(contract).get(topics[0])
    if spec is None:
        return None
    values: dict[str, Any] = {}
    for (name, kind), topic in zip(spec.indexed, topics[1:], strict=True):
        values[name] = _static(kind, topic) if _is_static(kind) else topic  # indexed dynamic values are hashes
    raw_data = bytes.fromhex(_hex(log["data"])[2:])
    if spec.static_data:
        for i, (name, kind) in enumerate(spec.data):
            values[name] = _static(kind, raw_data[32 * i:32 * i + 32])
    else:
        for (name, _), value in zip(spec.data, abi_decode([k for _, k in spec.data], raw_data), strict=True):
            values[name] = value
    kinds = dict(spec.indexed + spec.data)
    args = {name: _json_value(name, kinds[name], values[name]) for name in spec.order}
    return Event(
        block=_int(log["blockNumber"]), block_hash=_hex(log["blockHash"]), log_index=_int(log["logIndex"]),
        tx_hash=_hex(log["transactionHash"]), tx_index=_int(log["transactionIndex"]), contract=contract,
        event=spec.name, args=args,
    )


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)
