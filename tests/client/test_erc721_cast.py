"""The title registry read as a plain ERC-721 by a client nobody here wrote: Foundry's `cast` (npm
@foundry-rs/cast). Bills are issued and moved with our client; `cast` then asks the standard questions
(balanceOf, ownerOf, supportsInterface) and reads the standard Transfer logs, as an explorer, a wallet or a
custodian's tooling would. Only the parsed output is asserted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ebl_client import samples
from ebl_client.bills import Bills
from ebl_client.models import Role

ROOT = Path(__file__).resolve().parents[2]
CAST = shutil.which("cast") or str(ROOT / "node_modules/@foundry-rs/cast-linux-amd64/bin/cast")
TRANSFER = "Transfer(address indexed,address indexed,uint256 indexed)"
ERC165, ERC721, ERC721_METADATA, ERC721_ENUMERABLE = "0x01ffc9a7", "0x80ac58cd", "0x5b5e139f", "0x780e9d63"
ZERO = "0x" + "00" * 20

def cast(*args: str, rpc_url: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run cast against the test Anvil, with a timeout, outside any Foundry project (cwd: a temp dir). cast comes
    with `make setup` (npm ci); without it this fails, never skips."""
    assert Path(CAST).exists(), f"no cast at {CAST}: run `make setup` (npm ci)"
    env = {**os.environ, "FOUNDRY_DISABLE_NIGHTLY_WARNING": "1", "NO_COLOR": "1"}
    result = subprocess.run([CAST, *args, "--rpc-url", rpc_url], capture_output=True, text=True, timeout=60,
                            cwd=cwd, env=env, check=False)
    if check:
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result


def call(registry: str, signature: str, *args: str, rpc_url: str, cwd: Path) -> str:
    out = cast("call", registry, signature, *args, rpc_url=rpc_url, cwd=cwd).stdout.strip()
    return out.split()[0] if out else out  # cast may annotate big numbers: "123 [1.23e2]"


def topic_address(topic: str) -> str:
    assert int(topic[:26], 16) == 0, topic  # an address topic is left-padded with zeros
    return "0x" + topic[-40:].lower()


@pytest.fixture
def bills(chain, suite, onboard, signers):
    onboard(1, Role.CARRIER)
    onboard(2, Role.TRADER)
    onboard(3, Role.TRADER)
    return Bills.of(chain, suite)


def test_cast_reads_bills_as_an_erc721(anvil, chain, bills, signers, tmp_path):
    carrier, shipper, bank = signers[1], signers[2], signers[3]
    url, registry = anvil.url, bills.address
    start = chain.w3.eth.block_number + 1
    bill, issued = bills.issue(samples.TRANSPORT_DOCUMENT, shipper.address, sender=carrier)
    token = bill.token_id
    _, moved = bills.transfer_owners(token, bank.address, bank.address, sender=shipper)  # endorse and deliver

    # balanceOf / ownerOf after the mint and the move
    assert int(call(registry, "balanceOf(address)(uint256)", bank.address, rpc_url=url, cwd=tmp_path)) == 1
    assert int(call(registry, "balanceOf(address)(uint256)", shipper.address, rpc_url=url, cwd=tmp_path)) == 0
    owner = call(registry, "ownerOf(uint256)(address)", str(token), rpc_url=url, cwd=tmp_path)
    assert owner.lower() == bank.address.lower()
    name = cast("call", registry, "name()(string)", rpc_url=url, cwd=tmp_path).stdout.strip()
    assert name == '"Electronic Bill of Lading"'

    # ERC-165: ERC-721 claimed (and now honoured: balanceOf answers), metadata and enumeration not claimed
    answers = {interface: call(registry, "supportsInterface(bytes4)(bool)", interface, rpc_url=url, cwd=tmp_path)
               for interface in (ERC165, ERC721, ERC721_METADATA, ERC721_ENUMERABLE)}
    assert answers == {ERC165: "true", ERC721: "true", ERC721_METADATA: "false", ERC721_ENUMERABLE: "false"}

    # the bill ends: surrendered to the carrier (a move) and accomplished (a burn)
    bills.surrender(token, "delivery", sender=bank)
    _, burned = bills.accept_surrender(token, sender=carrier)
    gone = cast("call", registry, "ownerOf(uint256)(address)", str(token), rpc_url=url, cwd=tmp_path, check=False)
    assert gone.returncode != 0  # a burned token has no owner (ERC721NonexistentToken)
    assert int(call(registry, "balanceOf(address)(uint256)", carrier.address, rpc_url=url, cwd=tmp_path)) == 0

    logs = json.loads(cast("logs", "--json", "--from-block", str(start), "--to-block", "latest",
                           "--address", registry, TRANSFER, rpc_url=url, cwd=tmp_path).stdout)
    transfer_topic = "0x" + chain.w3.keccak(text="Transfer(address,address,uint256)").hex().removeprefix("0x")
    ours = [log for log in logs if int(log["topics"][3], 16) == token]
    assert all(log["topics"][0] == transfer_topic and log["address"].lower() == registry.lower() for log in ours)
    assert all(log["data"] in ("0x", "") for log in ours)  # every ERC-721 Transfer field is indexed
    moves = [(topic_address(log["topics"][1]), topic_address(log["topics"][2])) for log in ours]
    s, b, c = (a.address.lower() for a in (shipper, bank, carrier))
    assert moves == [(ZERO, s), (s, b), (b, c), (c, ZERO)]  # mint, move, surrender, burn
    blocks = [int(log["blockNumber"], 16) if isinstance(log["blockNumber"], str) else log["blockNumber"]
              for log in ours]
    assert blocks[0] == issued.block and blocks[1] == moved.block and blocks[-1] == burned.block
    assert [log["transactionHash"] for log in ours][:2] == [issued.hash, moved.hash]
