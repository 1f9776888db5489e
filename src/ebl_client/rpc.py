"""JSON-RPC 2.0 batches over a web3 provider, with one answer or one error per request.

web3's own `w3.batch_requests()` raises on the first failed item and loses the others; a pipelined sender
needs every item's answer (a refused estimate names its contract error, a refused send its reason), so the
batch is sent here on the provider and each reply is either the raw JSON result or an `RpcError`. Besu serves
batches of up to `--rpc-http-max-batch-size` (1,024 by default) requests: longer lists are split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from web3.providers import JSONBaseProvider
from web3.types import RPCEndpoint

from .errors import ConnectionFailed

#: requests per HTTP call (Besu's default --rpc-http-max-batch-size is 1,024)
MAX_BATCH = 1000


@dataclass(frozen=True)
class RpcError:
    """The node's error object for one request: its code, message and data (revert data for eth_call)."""

    code: int
    message: str
    data: Any = None

    def revert_data(self) -> str | None:
        """The revert data of a failed eth_call / eth_estimateGas, as 0x-hex, when the node sent any."""
        data = self.data
        if isinstance(data, dict):  # some nodes nest it: {"data": "0x..."}
            data = data.get("data")
        return data if isinstance(data, str) and data.startswith("0x") else None

    def __str__(self) -> str:
        return self.message


Request = tuple[str, Sequence[Any]]


def batch(provider: JSONBaseProvider, requests: Sequence[Request], *, url: str = "",
          max_batch: int = MAX_BATCH) -> list[Any]:
    """Send `requests` as JSON-RPC batches; in order, each request's result or its `RpcError`.

    ConnectionFailed when the node cannot be reached or answers the batch as a whole with an error."""
    replies: list[Any] = []
    for start in range(0, len(requests), max_batch):
        chunk = [(RPCEndpoint(method), list(params)) for method, params in requests[start:start + max_batch]]
        if len(chunk) == 1:  # a batch of one is a plain request: fewer bytes, and every node serves it
            responses: Any = [_plain(provider, *chunk[0], url=url)]
        else:
            responses = _batch(provider, chunk, url=url)
        replies.extend(_reply(r) for r in responses)
    return replies


def _plain(provider: JSONBaseProvider, method: RPCEndpoint, params: list[Any], *, url: str) -> Any:
    try:
        return provider.make_request(method, params)
    except Exception as exc:  # requests' and web3's connection errors have no common base
        raise ConnectionFailed(f"cannot reach the node at {url or 'the provider'}: {_first_line(exc)}") from exc


def _batch(provider: JSONBaseProvider, chunk: list[tuple[RPCEndpoint, list[Any]]], *, url: str) -> list[Any]:
    try:
        responses = provider.make_batch_request(chunk)
    except Exception as exc:
        raise ConnectionFailed(f"cannot reach the node at {url or 'the provider'}: {_first_line(exc)}") from exc
    if not isinstance(responses, list) or len(responses) != len(chunk):
        error = responses.get("error") if isinstance(responses, dict) else responses
        raise ConnectionFailed(f"the node at {url or 'the provider'} refused a batch of {len(chunk)} requests: "
                               f"{error}")
    return responses


def _reply(response: Any) -> Any:
    error = response.get("error") if isinstance(response, dict) else None
    if error is not None:
        if isinstance(error, dict):
            return RpcError(int(error.get("code", 0)), str(error.get("message", "")), error.get("data"))
        return RpcError(0, str(error))
    return response.get("result") if isinstance(response, dict) else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    for marker, reason in (("Connection refused", "connection refused"), ("timed out", "timed out")):
        if marker in text:
            return reason
    return text if len(text) <= 200 else text[:197] + "..."
