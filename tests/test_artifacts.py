"""The client's checked-in artifacts match contracts/, and its constants match the Solidity ones."""

import json
import re
import sys
from pathlib import Path

from ebl_client import artifacts
from ebl_client.models import Role

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import build_artifacts  # noqa: E402


def test_artifacts_are_fresh():
    """Fails when a contract, OpenZeppelin, solc or the settings changed without `make artifacts`."""
    assert artifacts.index()["sourceDigest"] == build_artifacts.source_digest(), "stale: run `make artifacts`"


def test_every_listed_artifact_loads_with_bytecode():
    assert "ParticipantRegistry" in artifacts.names()
    for name in artifacts.names():
        artifact = artifacts.load(name)
        assert artifact.abi and artifact.bytecode.startswith("0x") and len(artifact.bytecode) > 2


def test_settings_match_ape_config():
    config = (ROOT / "ape-config.yaml").read_text()
    settings = artifacts.index()["settings"]
    assert f"evm_version: {settings['evmVersion']}" in config
    assert f"optimization_runs: {settings['optimizer']['runs']}" in config
    assert f"version: {artifacts.index()['solc']}" in config


def test_role_bits_match_roles_sol():
    source = (ROOT / "contracts" / "access" / "Roles.sol").read_text()
    constants = re.findall(r"uint16 internal constant (\w+) = 1 << (\d+);", source)
    bits = {name: 1 << int(shift) for name, shift in constants}
    assert bits == {r.name: int(r) for r in Role}


def _solidity_enum(path: str, name: str) -> list[str]:
    source = (ROOT / "contracts" / path).read_text()
    body = re.search(rf"enum {name} \{{([^}}]*)\}}", source)
    assert body, f"enum {name} not found in {path}"
    return [re.sub(r"(?<!^)(?=[A-Z])", "_", item.strip()).upper() for item in body.group(1).split(",")]


def test_python_enums_match_the_solidity_enums():
    from ebl_client.models import BillStatus, FinancingState, TitleAction, VerificationStatus

    assert _solidity_enum("ebl/IBillOfLadingRegistry.sol", "Action") == [a.name for a in TitleAction]
    assert _solidity_enum("ebl/IBillOfLadingRegistry.sol", "Status") == [s.name for s in BillStatus]
    assert _solidity_enum("finance/IFinancingEscrow.sol", "State") == [s.name for s in FinancingState]
    assert _solidity_enum("credit/ICreditHashRegistry.sol", "VerificationStatus") == [
        s.name for s in VerificationStatus]


def test_generated_error_classes_are_fresh():
    """contract_errors.py is what the generator makes of the shipped artifacts (edit the Solidity, not it)."""
    shipped = {name: json.loads((ROOT / "src/ebl_client/artifacts" / f"{name}.json").read_text())
               for name in artifacts.names()}
    generated = (ROOT / "src/ebl_client/contract_errors.py").read_text()
    assert build_artifacts.error_classes(shipped) == generated, "stale: run `make artifacts`"


def test_every_contract_error_has_a_named_exception_with_a_message():
    """Each custom error a shipped contract can raise decodes to a class of its own name whose message
    fills in every argument (nothing falls back to the generic text or to UnknownContractError)."""
    from ebl_client.errors import ContractRevert

    for name in artifacts.names():
        for item in artifacts.load(name).abi:
            if item["type"] != "error":
                continue
            cls = ContractRevert.registry.get(item["name"])
            assert cls is not None, f"{name}: no exception class for {item['name']}"
            placeholders = set(re.findall(r"\{(\w+)\}", cls.message))
            assert placeholders <= {i["name"] for i in item["inputs"]}, (item["name"], placeholders)
