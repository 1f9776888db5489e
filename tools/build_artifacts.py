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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "contracts"
OUT = ROOT / "src" / "ebl_client" / "artifacts"
LAUNCHER = ROOT / "tools" / "solc" / "solc-launcher.js"
OZ = ROOT / "node_modules" / "@openzeppelin" / "contracts"

APE_CONFIG = ROOT / "ape-config.yaml"


def compiler_settings() -> dict[str, Any]:
    """solc's standard-JSON settings, read from ape-config.yaml's `solidity` section: one compile path, so
    Ape (the tests) and the client (deployments) run the same bytecode."""
    solidity = yaml.safe_load(APE_CONFIG.read_text())["solidity"]
    return {
        "evmVersion": solidity["evm_version"],
        "optimizer": {"enabled": bool(solidity["optimize"]), "runs": int(solidity["optimization_runs"])},
        "remappings": ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"],
        "outputSelection": {"*": {"*": ["abi", "userdoc", "evm.bytecode.object", "evm.deployedBytecode.object",
                                        "evm.deployedBytecode.immutableReferences"],
                                  "": ["ast"]}},
    }


SETTINGS = compiler_settings()


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


#: The exception class a contract's own errors derive from (errors.py), in the order that decides an error
#: declared by several contracts (`ZeroAddress`).
ERROR_GROUPS = {"ParticipantRegistry": "ParticipantError", "BillOfLadingRegistry": "BillError",
                "CreditHashRegistry": "CreditError", "FinancingEscrow": "FinancingError",
                "TestStablecoin": "TokenError"}
def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _nodes(value)


def solidity_facts(output: dict[str, Any]) -> dict[str, Any]:
    """What the client mirrors from the Solidity sources, read from solc's AST: every enum of the project's
    contracts (`"IBillOfLadingRegistry.Status": [member names]`) and every integer constant of its
    libraries (`"Roles.CARRIER": 1`). tests/test_artifacts.py checks the client's enums against these."""
    enums: dict[str, list[str]] = {}
    constants: dict[str, int] = {}
    for source, data in sorted(output["sources"].items()):
        if not source.startswith("contracts/"):
            continue
        for node in _nodes(data["ast"]):
            if node.get("nodeType") == "EnumDefinition":
                enums[node["canonicalName"]] = [member["name"] for member in node["members"]]
            elif node.get("nodeType") == "ContractDefinition" and node.get("contractKind") == "library":
                for item in node["nodes"]:
                    type_string = (item.get("value") or {}).get("typeDescriptions", {}).get("typeString", "")
                    if item.get("constant") and type_string.startswith("int_const "):
                        constants[f"{node['name']}.{item['name']}"] = int(type_string.split()[1])
    return {"enums": enums, "constants": constants}
ERRORS_MODULE = ROOT / "src" / "ebl_client" / "contract_errors.py"
sys.path.insert(0, str(ROOT / "src"))
from ebl_client.models import SOLIDITY_ENUMS  # noqa: E402  (the client's enum for each Solidity enum)


def error_classes(artifacts: dict[str, dict[str, Any]]) -> str:
    """Python source of one exception class per custom error that carries a NatSpec `@notice`: the class
    is named after the error, its message is the notice. Errors without a notice (OpenZeppelin's, which
    document theirs with @dev) are written by hand in errors.py."""
    seen: dict[str, str] = {}
    lines = [
        '"""The contracts\' custom errors as exceptions, generated by tools/build_artifacts.py from the ABIs and',
        "the `/// @notice` of each error: do not edit (change the Solidity and run `make artifacts`).",
        "",
        "Each class carries the error's arguments by name (`err.values`, or `err.tokenId`); the message is the",
        'notice with the arguments filled in (see `errors.ContractRevert.describe`)."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import ClassVar",
        "",
        "from .errors import " + ", ".join(sorted(set(ERROR_GROUPS.values()))),
    ]
    names: list[str] = []
    for contract, group in ERROR_GROUPS.items():
        data = artifacts[contract]
        notices = data["userdoc"].get("errors", {})
        for item in data["abi"]:
            if item["type"] != "error":
                continue
            signature = item["name"] + "(" + ",".join(i["type"] for i in item["inputs"]) + ")"
            notice = " ".join(n["notice"] for n in notices.get(signature, []) if "notice" in n).strip()
            if not notice or item["name"] in seen:
                continue
            seen[item["name"]] = signature
            names.append(item["name"])
            enums = {i["name"]: SOLIDITY_ENUMS[i["internalType"].removeprefix("enum ")].__name__
                     for i in item["inputs"] if i["internalType"].startswith("enum ")}
            docstring = notice.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
            lines += ["", "", f"class {item['name']}({group}):", f'    """{docstring}"""', "",
                      f"    message = {_literal(notice)}", f"    signature = {_literal(signature)}"]
            if enums:
                lines.append(f"    enums: ClassVar[dict[str, str]] = {_literal(enums)}")
    lines += ["", "", "__all__ = [", *(f"    {_literal(n)}," for n in sorted(names)), "]", ""]
    return "\n".join(lines)


def _literal(value: Any) -> str:
    """A Python literal of a string or a dict of strings, double-quoted as ruff formats them."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def build() -> list[str]:
    output = compile_sources()
    digest = source_digest()
    written: list[str] = []
    shipped: dict[str, dict[str, Any]] = {}
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
            shipped[name] = artifact
    index = {"sourceDigest": digest, "solc": _package_version(ROOT / "node_modules" / "solc"),
             "settings": SETTINGS, "contracts": written, **solidity_facts(output)}
    (tmp_dir / "index.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    # Replace the folder's JSON files in one sweep; the package's __init__.py stays.
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    for new in tmp_dir.iterdir():
        new.rename(OUT / new.name)
    tmp_dir.rmdir()
    staged = ERRORS_MODULE.with_suffix(".py.tmp")
    staged.write_text(error_classes(shipped))
    staged.replace(ERRORS_MODULE)
    return written


if __name__ == "__main__":
    names = build()
    print(f"artifacts: wrote {', '.join(names)} to {OUT.relative_to(ROOT)}", file=sys.stderr)
