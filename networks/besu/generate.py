"""Writes the four-validator Hyperledger Besu QBFT dev network in networks/besu/ (see README.md there).

Deterministic: every run writes the same bytes, and tests/test_besu_network.py checks the committed
files against a fresh run. Edit this file, then run `.venv/bin/python networks/besu/generate.py`.

DEV-ONLY KEYS. The four validator (node) keys below are derived from fixed public strings, and the
twelve consortium accounts are Anvil's public development mnemonic: anyone can sign as any of them.
A real network never commits a key: each validator host generates its own with Besu
(`besu --data-path=<dir> public-key export-address` creates <dir>/key on first use and prints the
validator address, `public-key export` the public key for its enode URL; `besu operator
generate-blockchain-config` generates keys and genesis together), shares only its address and enode URL,
and the consortium builds genesis and allowlist from those.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import rlp
from eth_account import Account
from eth_keys.datatypes import PrivateKey
from eth_utils import keccak, to_checksum_address

from ebl_client.consortium import CONSORTIUM
from ebl_client.node import dev_keys

HERE = Path(__file__).resolve().parent
#: where these files live relative to the repository root; Besu resolves the relative paths in the node
#: configs against its working directory, so it is started from the repository root
NETWORK_DIR = "networks/besu"
#: node databases go under the project's git-ignored state directory
DATA_DIR = ".ebl/besu"

CHAIN_ID = 1337
VALIDATORS = 4
P2P_PORT, RPC_PORT = 30303, 8545  # node i listens on port + i - 1; node 1 on the client's default 8545
HOST = "127.0.0.1"
RPC_APIS = ("ETH", "NET", "WEB3", "QBFT", "TXPOOL")
#: an exact release tag: Maven Central lists 24.12.2 as a Besu release (Dec 2024); docker tags are the
#: version numbers (hyperledger/besu release checklist, issue #6966)
BESU_IMAGE = "hyperledger/besu:24.12.2"

#: Besu docs, "Configure QBFT consensus": the fixed mixHash that identifies Istanbul-family (IBFT 2.0,
#: QBFT) blocks, and difficulty 0x1
QBFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
#: Besu docs, "Configure free gas networks": the largest block gas limit tools accept, and the largest
#: contract size Besu supports
FREE_GAS_LIMIT = "0x1fffffffffffff"
MAX_CONTRACT_SIZE = 2147483647
#: 1,000,000 ETH each: irrelevant at gas price 0, but lets someone run with a non-zero --min-gas-price
CONSORTIUM_BALANCE = 10**24
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class Validator:
    index: int  # 1..VALIDATORS
    private_key: bytes

    @property
    def public_key(self) -> bytes:
        """The 64-byte uncompressed secp256k1 public key (no 0x04 prefix): Besu's node id."""
        return PrivateKey(self.private_key).public_key.to_bytes()

    @property
    def address(self) -> str:
        """The validator address: the last 20 bytes of keccak256(public key), as for any account."""
        return to_checksum_address(keccak(self.public_key)[-20:])

    @property
    def p2p_port(self) -> int:
        return P2P_PORT + self.index - 1

    @property
    def rpc_port(self) -> int:
        return RPC_PORT + self.index - 1

    @property
    def enode(self) -> str:
        return f"enode://{self.public_key.hex()}@{HOST}:{self.p2p_port}"


def validator_key(index: int) -> bytes:
    """DEV ONLY: a fixed, public key for validator `index`."""
    key = keccak(f"ebl-besu-dev-validator-{index}".encode())
    if not 0 < int.from_bytes(key, "big") < SECP256K1_N:  # never happens for these seeds; checked anyway
        raise ValueError(f"validator seed {index} is not a valid secp256k1 key")
    return key


def validators() -> list[Validator]:
    return [Validator(i, validator_key(i)) for i in range(1, VALIDATORS + 1)]


def consortium() -> list[tuple[str, str]]:
    """(handle, address) of the accounts that may send transactions: account 0 is the consortium admin
    (the deployer), account i+1 is CONSORTIUM[i], as in the demo."""
    handles = ["admin", *(member.key for member in CONSORTIUM)]
    return [(h, Account.from_key(k).address) for h, k in zip(handles, dev_keys(len(handles)), strict=True)]


def extra_data(addresses: Sequence[str]) -> str:
    """QBFT genesis extraData with block header validator selection. Besu docs, "Configure QBFT
    consensus", Extra data: RLP([32 bytes vanity, [validator addresses], no vote, round 0, no seals]),
    the validators in ascending order. "No vote" and "no seals" are empty lists and round 0 is the
    empty byte string, so the encoding ends c0 80 c0, as in the docs' example."""
    validator_list = [bytes.fromhex(a[2:]) for a in sorted(a.lower() for a in addresses)]
    encoded: bytes = rlp.encode([b"\0" * 32, validator_list, [], b"", []])
    return "0x" + encoded.hex()


def genesis(nodes: Sequence[Validator]) -> dict[str, object]:
    return {
        "config": {
            "chainId": CHAIN_ID,
            "berlinBlock": 0,
            "londonBlock": 0,
            "shanghaiTime": 0,
            "cancunTime": 0,  # the contracts are compiled for Cancun (mcopy)
            "zeroBaseFee": True,  # free gas on London and later (Besu docs, free gas networks, step 4)
            "contractSizeLimit": MAX_CONTRACT_SIZE,
            "qbft": {"blockperiodseconds": 2, "epochlength": 30000, "requesttimeoutseconds": 4},
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "extraData": extra_data([n.address for n in nodes]),
        "gasLimit": FREE_GAS_LIMIT,
        "difficulty": "0x1",
        "mixHash": QBFT_MIX_HASH,
        "coinbase": "0x0000000000000000000000000000000000000000",
        "baseFeePerGas": "0x0",
        "alloc": {address[2:].lower(): {"balance": hex(CONSORTIUM_BALANCE)} for _, address in consortium()},
        "number": "0x0",
        "gasUsed": "0x0",
        "parentHash": "0x" + "00" * 32,
    }


def _toml(value: str | Sequence[str]) -> str:
    """A TOML string or array of strings (JSON string syntax is valid TOML for these ASCII values)."""
    return json.dumps(value) if isinstance(value, str) else "[" + ", ".join(json.dumps(v) for v in value) + "]"


def node_config(node: Validator, bootnode: Validator) -> str:
    # Option names are Besu's command-line options without the leading dashes, lists become TOML arrays
    # and paths are quoted (Besu docs, "Configure Besu", TOML specification).
    lines = [
        f"# Besu node {node.index} of {VALIDATORS}, QBFT validator {node.address}: the ebl dev network.",
        f"# Generated by {NETWORK_DIR}/generate.py; change that, not this file. DEV ONLY: see README.md.",
        "# Relative paths resolve against the working directory: start Besu from the repository root,",
        f"#   besu --config-file={NETWORK_DIR}/node{node.index}/config.toml",
        "",
        f"data-path={_toml(f'{DATA_DIR}/node{node.index}')}",
        f"genesis-file={_toml(f'{NETWORK_DIR}/genesis.json')}",
        f"node-private-key-file={_toml(f'{NETWORK_DIR}/node{node.index}/key')}",
        "",
        "# P2P: all four nodes on one host; node 1 is the bootnode the others discover each other through",
        f"p2p-host={_toml(HOST)}",
        f"p2p-port={node.p2p_port}",
    ]
    if node != bootnode:
        lines.append(f"bootnodes={_toml([bootnode.enode])}")
    lines += [
        "",
        "# JSON-RPC over HTTP on loopback only",
        "rpc-http-enabled=true",
        f"rpc-http-host={_toml(HOST)}",
        f"rpc-http-port={node.rpc_port}",
        f"rpc-http-api={_toml(RPC_APIS)}",
        f"rpc-http-cors-origins={_toml(['all'])}",
        f"host-allowlist={_toml(['localhost', HOST])}",
        "# custom-error data in eth_call / eth_estimateGas errors, which the client turns into named exceptions",
        "revert-reason-enabled=true",
        "# `ebl bill history` reads a bill's events in one eth_getLogs from its issue block; Besu's default",
        "# cap of 5000 blocks is under 3 hours at one block every 2 s",
        "rpc-max-logs-range=0",
        "",
        "# free gas: every node accepts and mines transactions at gas price 0 (Besu docs, free gas networks)",
        "min-gas-price=0",
        "tx-pool-min-gas-price=0",
        "",
        "# local account permissioning: only the consortium's accounts may send transactions",
        "permissions-accounts-config-file-enabled=true",
        f"permissions-accounts-config-file={_toml(f'{NETWORK_DIR}/permissions_config.toml')}",
    ]
    return "\n".join(lines) + "\n"


def permissions_config() -> str:
    members = consortium()
    width = max(len(handle) for handle, _ in members)
    lines = [
        "# Local account permissioning (Besu docs, \"Use local permissioning\"): the nodes accept transactions",
        "# only from these accounts, checked on eth_sendRawTransaction, on propagation and when building a block.",
        f"# Generated by {NETWORK_DIR}/generate.py; change that, not this file.",
        "#",
        "# DEV ONLY: the first twelve accounts of Anvil's public development mnemonic",
        "# (\"test test ... junk\"); their private keys are public. A real network lists its members' own",
        "# addresses here and never these.",
        "accounts-allowlist=[",
        *(f"  {_toml(address.lower())},  # {handle:<{width}} dev account {i}"
          for i, (handle, address) in enumerate(members)),
        "]",
    ]
    return "\n".join(lines) + "\n"


def docker_compose(nodes: Sequence[Validator]) -> str:
    lines = [
        "# Optional convenience, NOT exercised by CI: the four nodes of this network in containers.",
        f"# Generated by {NETWORK_DIR}/generate.py; change that, not this file. See README.md, \"With Docker\".",
        "#",
        "# Host networking (Linux) so the nodes see the same 127.0.0.1 ports and enode URLs as when started",
        "# by hand; the container works in /ebl, laid out like the repository root, so the relative paths in",
        "# the node configs resolve. Run from the repository root, as your own user:",
        "#   mkdir -p .ebl/besu",
        f"#   EBL_UID=$(id -u) EBL_GID=$(id -g) docker compose -f {NETWORK_DIR}/docker-compose.yml up",
        "name: ebl-besu",
        "",
        "x-besu-node: &besu-node",
        f"  image: {BESU_IMAGE}",
        "  network_mode: host",
        "  working_dir: /ebl",
        '  user: "${EBL_UID:?see networks/besu/README.md}:${EBL_GID:?see networks/besu/README.md}"',
        "  environment:",
        "    # environment variables take precedence over the config file, and the image sets this one to 0.0.0.0",
        f'    BESU_RPC_HTTP_HOST: "{HOST}"',
        "    # host networking: no NAT to detect, advertise p2p-host as configured",
        '    BESU_NAT_METHOD: "NONE"',
        "  volumes:",
        f"    - ./:/ebl/{NETWORK_DIR}:ro",
        f"    - ../../{DATA_DIR}:/ebl/{DATA_DIR}",
        "",
        "services:",
    ]
    for node in nodes:
        lines += [
            f"  node{node.index}:",
            "    <<: *besu-node",
            f'    command: ["--config-file={NETWORK_DIR}/node{node.index}/config.toml"]',
        ]
        if node.index != 1:
            lines.append("    depends_on: [node1]")
    return "\n".join(lines) + "\n"


def render() -> dict[str, bytes]:
    """Every generated file: path relative to this directory -> content."""
    nodes = validators()
    files = {
        "genesis.json": json.dumps(genesis(nodes), indent=2) + "\n",
        "permissions_config.toml": permissions_config(),
        "docker-compose.yml": docker_compose(nodes),
    }
    for node in nodes:
        files[f"node{node.index}/config.toml"] = node_config(node, bootnode=nodes[0])
        # Besu's key file: one line, the 0x-prefixed hex private key, as Besu itself writes it
        # (KeyPairUtil.storeKeyPair writes Bytes32.toString(); loadPrivateKey reads exactly one line)
        files[f"node{node.index}/key"] = "0x" + node.private_key.hex()
    return {path: text.encode() for path, text in files.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, help="directory to write into (default: %(default)s)")
    out: Path = parser.parse_args(argv).out
    for path, content in render().items():
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
