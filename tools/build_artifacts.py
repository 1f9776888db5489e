"""Compile contracts/ with the project's solc-js and write the client's artifacts (ABI, bytecode, NatSpec).

One command (`make artifacts`) regenerates src/ebl_client/artifacts/; tests/test_artifacts.py fails
when the sources changed since, so the client never ships bytecode that differs from contracts/.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "contracts"
OUT = ROOT / "src" / "ebl_client" / "artifacts"
LAUNCHER = ROOT / "tools" / "solc" / "solc-launcher.js"
OZ = ROOT / "node_modules" / "@openzeppelin" / "contracts"

# Must match ape-config.yaml's solidity section, so Ape and the client deploy the same bytecode.
SETTINGS: dict[str, Any] = {
    "evmVersion": "cancun",
    "optimizer": {"enabled": True, "runs": 10_000},
    "remappings": ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"],
    "outputSelection": {"*": {"*": ["abi", "userdoc", "evm.bytecode.object", "evm.deployedBytecode.object",
                                    "evm.deployedBytecode.immutableReferences"]}},
}


def contract_sources() -> list[Path]:
    """Every Solidity source of the project, in a stable order (Ape's dependency cache excluded)."""
    return sorted(p for p in CONTRACTS.rglob("*.sol") if ".cache" not in p.relative_to(CONTRACTS).parts)


def _package_version(package_dir: Path) -> str:
    return str(json.loads((package_dir / "package.json").read_text())["version"])


def source_digest() -> str:
    """SHA-256 over the sources, the OpenZeppelin and solc versions and the settings."""
    h = hashlib.sha256()
    for path in contract_sources():
        h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    h.update(json.dumps(SETTINGS, sort_keys=True).encode())
    h.update(_package_version(OZ).encode() + b"\0")
    h.update(_package_version(ROOT / "node_modules" / "solc").encode())
    return h.hexdigest()


def compile_sources() -> dict[str, Any]:
    """Run solc-js on every source; raise with the compiler's messages on any error."""
    sources = {p.relative_to(ROOT).as_posix(): {"content": p.read_text()} for p in contract_sources()}
    request = {"language": "Solidity", "sources": sources, "settings": SETTINGS}
    env = {**os.environ, "EBL_SOLC_MODULE": str(ROOT / "node_modules" / "solc")}
    proc = subprocess.run(
        ["node", str(LAUNCHER), "--standard-json", "--base-path", str(ROOT)],
        input=json.dumps(request), capture_output=True, text=True, check=True, env=env, cwd=ROOT,
    )
    output: dict[str, Any] = json.loads(proc.stdout)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise SystemExit("\n".join(e.get("formattedMessage", e["message"]) for e in errors))
    return output


def build() -> list[str]:
    output = compile_sources()
    digest = source_digest()
    written: list[str] = []
    tmp_dir = Path(tempfile.mkdtemp(prefix="artifacts.", dir=OUT.parent))
    for source, contracts in sorted(output["contracts"].items()):
        if not source.startswith("contracts/"):
            continue  # OpenZeppelin's own contracts are inherited, not deployed on their own
        if source.startswith("contracts/test/") and source != "contracts/test/TestStablecoin.sol":
            continue  # malicious tokens exist for the contract tests only
        for name, data in sorted(contracts.items()):
            bytecode = data["evm"]["bytecode"]["object"]
            if not bytecode or not data["abi"]:
                continue  # interfaces, abstract contracts and constant-only libraries
            artifact = {
                "contractName": name,
                "sourceName": source,
                "abi": data["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + data["evm"]["deployedBytecode"]["object"],
                # where the constructor writes immutables into the runtime code: masked when a client
                # checks a deployed contract's code against this artifact
                "immutableReferences": data["evm"]["deployedBytecode"].get("immutableReferences", {}),
                # the NatSpec notices (functions, events, errors): the client's error messages
                "userdoc": data.get("userdoc", {}),
            }
            (tmp_dir / f"{name}.json").write_text(json.dumps(artifact, indent=1, sort_keys=True) + "\n")
            written.append(name)
    index = {"sourceDigest": digest, "solc": _package_version(ROOT / "node_modules" / "solc"),
             "settings": SETTINGS, "contracts": written}
    (tmp_dir / "index.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    # Replace the folder's JSON files in one sweep; the package's __init__.py stays.
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    for new in tmp_dir.iterdir():
        new.rename(OUT / new.name)
    tmp_dir.rmdir()
    return written


if __name__ == "__main__":
    names = build()
    print(f"artifacts: wrote {', '.join(names)} to {OUT.relative_to(ROOT)}", file=sys.stderr)
