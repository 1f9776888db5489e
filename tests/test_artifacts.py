"""The client's checked-in artifacts match contracts/, and its constants match the Solidity ones."""

import json
import re
import sys
from pathlib import Path

import yaml

from ebl_client import artifacts
from ebl_client.models import SOLIDITY_ENUMS, Role

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


def test_artifacts_were_built_with_the_settings_ape_compiles_with():
    """One compile path: tools/build_artifacts.py reads ape-config.yaml, so tests and deployments run the same
    bytecode."""
    assert artifacts.index()["settings"] == build_artifacts.compiler_settings()
    assert artifacts.index()["solc"] == yaml.safe_load((ROOT / "ape-config.yaml").read_text())["solidity"]["version"]


def test_role_bits_are_the_solidity_ones():
    constants = artifacts.index()["constants"]
    roles = {name.removeprefix("Roles."): value for name, value in constants.items()
             if name.startswith("Roles.") and name != "Roles.ALL"}
    assert roles == {r.name: int(r) for r in Role}
    assert constants["Roles.ALL"] == sum(int(r) for r in Role)


def test_client_enums_are_the_solidity_enums():
    """Every Solidity enum of the suite has its client mirror, member for member in the same order."""
    enums = artifacts.index()["enums"]
    assert set(SOLIDITY_ENUMS) <= set(enums)
    for name, python_enum in SOLIDITY_ENUMS.items():
        solidity = [re.sub(r"(?<!^)(?=[A-Z])", "_", member).upper() for member in enums[name]]
        assert solidity == [m.name for m in python_enum], name
        assert [m.value for m in python_enum] == list(range(len(solidity))), name
    unmirrored = set(enums) - set(SOLIDITY_ENUMS)
    assert unmirrored == {"IBillOfLadingRegistry.Move", "TestPledgeReceiver.Answer"}, unmirrored


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
