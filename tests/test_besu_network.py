"""networks/besu/ is what generate.py writes, and a QBFT free-gas network the `besu` profile can use.

No Besu runs here (it cannot be installed from the project's registries), so the files are checked
against the formats in the Besu docs: extraData, the key files, the node configs and the allowlist.
"""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import rlp
import yaml
from eth_account import Account
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

from ebl_client.consortium import CONSORTIUM
from ebl_client.networks import BESU
from ebl_client.node import dev_keys

ROOT = Path(__file__).resolve().parents[1]
NETWORK = ROOT / "networks" / "besu"
NODES = (1, 2, 3, 4)
RPC_APIS = ["ETH", "NET", "WEB3", "QBFT", "TXPOOL"]


def _genesis() -> dict:
    return json.loads((NETWORK / "genesis.json").read_text())


def _config(node: int) -> dict:
    return tomllib.loads((NETWORK / f"node{node}" / "config.toml").read_text())


def _public_key(node: int) -> bytes:
    """The node's 64-byte public key, from its committed key file."""
    text = (NETWORK / f"node{node}" / "key").read_text()
    # Besu's key file: one line, 0x + 32 bytes of hex (KeyPairUtil.storeKeyPair / loadPrivateKey)
    assert re.fullmatch(r"0x[0-9a-f]{64}", text), f"node{node}/key is not a Besu key file"
    return keys.PrivateKey(bytes.fromhex(text[2:])).public_key.to_bytes()


def _address(node: int) -> str:
    return to_checksum_address(keccak(_public_key(node))[-20:])


def _consortium() -> list[str]:
    """Consortium admin (dev account 0) and the demo's members (accounts 1..n), lower case."""
    return [Account.from_key(k).address.lower() for k in dev_keys(len(CONSORTIUM) + 1)]


def test_generator_reproduces_the_committed_files(tmp_path):
    subprocess.run([sys.executable, str(NETWORK / "generate.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert {str(p) for p in generated} >= {"genesis.json", "permissions_config.toml", "docker-compose.yml",
                                           *(f"node{n}/{f}" for n in NODES for f in ("config.toml", "key"))}
    stale = [str(p) for p in generated if (NETWORK / p).read_bytes() != (tmp_path / p).read_bytes()]
    assert not stale, f"stale: run `.venv/bin/python networks/besu/generate.py` ({', '.join(stale)})"


def test_extra_data_lists_the_four_validators_of_the_committed_keys():
    raw = _genesis()["extraData"]
    # RLP([32 bytes vanity, [validators], no vote, round 0, no seals]) (Besu docs, QBFT, Extra data)
    vanity, validators, vote, round_, seals = rlp.decode(bytes.fromhex(raw[2:]))
    assert vanity == b"\0" * 32
    assert [to_checksum_address(v) for v in validators] == sorted((_address(n) for n in NODES), key=str.lower)
    assert vote == [] and round_ == b"" and seals == []
    assert raw.endswith("c080c0")  # empty vote list, round 0 as the empty string, empty seal list


def test_genesis_is_a_free_gas_qbft_chain_on_cancun_rules():
    genesis = _genesis()
    config = genesis["config"]
    assert config["chainId"] == 1337
    assert config["berlinBlock"] == config["londonBlock"] == 0
    assert config["shanghaiTime"] == config["cancunTime"] == 0  # the contracts use Cancun's mcopy
    assert config["zeroBaseFee"] is True and int(genesis["baseFeePerGas"], 16) == 0
    assert config["contractSizeLimit"] == 2**31 - 1  # Besu's maximum
    assert int(genesis["gasLimit"], 16) == 0x1FFFFFFFFFFFFF
    qbft = config["qbft"]
    assert qbft["blockperiodseconds"] == 2 and qbft["epochlength"] == 30000
    assert qbft["requesttimeoutseconds"] > qbft["blockperiodseconds"]
    assert "ibft2" not in config and "clique" not in config
    assert genesis["difficulty"] == "0x1"
    assert genesis["mixHash"] == "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
    assert sorted(genesis["alloc"]) == sorted(a[2:] for a in _consortium())


def test_genesis_matches_the_besu_network_in_ape_config():
    ape = yaml.safe_load((ROOT / "ape-config.yaml").read_text())
    (network,) = [n for n in ape["networks"]["custom"] if n["name"] == "besu"]
    assert network["chain_id"] == _genesis()["config"]["chainId"]
    assert ape["ethereum"]["besu"]["block_time"] == _genesis()["config"]["qbft"]["blockperiodseconds"]


def test_node_configs_start_four_free_gas_validators_from_the_repository_root():
    configs = {n: _config(n) for n in NODES}
    bootnode = f"enode://{_public_key(1).hex()}@{configs[1]['p2p-host']}:{configs[1]['p2p-port']}"
    for node, config in configs.items():
        assert config["min-gas-price"] == 0 and config["tx-pool-min-gas-price"] == 0
        assert config["rpc-http-enabled"] is True and config["rpc-http-api"] == RPC_APIS
        assert config["rpc-http-host"] == "127.0.0.1" and "127.0.0.1" in config["host-allowlist"]
        assert config["revert-reason-enabled"] is True  # revert data in eth_call / eth_estimateGas errors
        assert config["permissions-accounts-config-file-enabled"] is True
        for option in ("genesis-file", "node-private-key-file", "permissions-accounts-config-file"):
            assert (ROOT / config[option]).is_file(), f"node{node}: {option} {config[option]} is not in the repo"
        assert config["node-private-key-file"] == f"networks/besu/node{node}/key"
        assert config["data-path"].startswith(".ebl/") and "/.ebl/" in (ROOT / ".gitignore").read_text()
        assert config.get("bootnodes", []) == ([] if node == 1 else [bootnode])
    for option in ("p2p-port", "rpc-http-port", "data-path"):
        assert len({c[option] for c in configs.values()}) == len(NODES), f"{option} is shared"
    assert not {c["p2p-port"] for c in configs.values()} & {c["rpc-http-port"] for c in configs.values()}
    assert configs[1]["rpc-http-port"] == urlsplit(BESU.default_url).port  # the client's default URL


def test_allowlist_is_the_consortium_admin_and_members():
    allowlist = tomllib.loads((NETWORK / "permissions_config.toml").read_text())["accounts-allowlist"]
    assert allowlist == _consortium() and len(allowlist) == 12
    text = (NETWORK / "permissions_config.toml").read_text()
    for member in CONSORTIUM:
        assert f"# {member.key} " in text


def test_compose_pins_a_besu_release_and_starts_the_four_configs():
    compose = yaml.safe_load((NETWORK / "docker-compose.yml").read_text())
    services = compose["services"]
    assert sorted(services) == [f"node{n}" for n in NODES]
    for name, service in services.items():
        assert re.fullmatch(r"hyperledger/besu:\d+\.\d+\.\d+", service["image"])
        assert service["command"] == [f"--config-file=networks/besu/{name}/config.toml"]
    image = services["node1"]["image"]
    assert image in (NETWORK / "README.md").read_text(), "README.md names another Besu image"
