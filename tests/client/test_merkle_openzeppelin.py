"""Version-2 commitment trees are OpenZeppelin's StandardMerkleTree: for 1 to 64 fields the npm package
`@openzeppelin/merkle-tree` (run with node, tools/oz_merkle_tree.js) and the client build the same node
array, root, single proofs and multiproofs; the fixed version-2 vector is the package's own output."""

import json
import random
import subprocess
from pathlib import Path

import pytest
from eth_utils import keccak

from ebl_client import hashing, samples
from ebl_client.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
NODE_SCRIPT = ROOT / "tools" / "oz_merkle_tree.js"
VECTOR_V2 = json.loads((ROOT / "tests" / "data" / "credit_vector_v2.json").read_text())
SIZES = range(1, 65)


def run_openzeppelin(trees):
    request = {"encoding": list(hashing.LEAF_ENCODING), "trees": trees}
    done = subprocess.run(["node", str(NODE_SCRIPT)], input=json.dumps(request), capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["trees"]


def field_value(n, i):
    """A mix of JSON leaf values (flatten keeps them whole), canonicalised and abi-encoded on both sides."""
    return [i, f"value {i} of {n}", None, True, 1.5 * i, [], {}, "香港 " * i][i % 8]


def fields(n):
    """n fields as (path, value, salt): the same inputs for the client and for the npm package."""
    return [(f"/f{i}", field_value(n, i), keccak(text=f"salt {n} {i}")) for i in range(n)]


def subsets(n):
    rng = random.Random(n)
    chosen = [list(range(n)), [0], list(dict.fromkeys([n - 1, 0])), list(range(0, n, 3)),
              sorted(rng.sample(range(n), max(1, n // 2)))]
    if n % 8 == 0:
        chosen.append([])
    return chosen


def hexes(nodes):
    return ["0x" + bytes(node).hex() for node in nodes]


@pytest.fixture(scope="module")
def openzeppelin():
    trees = [{"values": [[path, "0x" + hashing.canonical_json(value).hex(), "0x" + salt.hex()]
                         for path, value, salt in fields(n)],
              "multi": subsets(n)} for n in SIZES]
    return dict(zip(SIZES, run_openzeppelin(trees), strict=True))


@pytest.mark.parametrize("n", SIZES)
def test_same_tree_root_and_proofs_as_openzeppelin(openzeppelin, n):
    expected = openzeppelin[n]
    leaves = [hashing.leaf_hash(path, value, salt) for path, value, salt in fields(n)]
    # leaves: the client's leaf is the package's leaf at the tree index it gave each value
    assert hexes(leaves) == [expected["tree"][i] for i in expected["treeIndex"]]
    # the whole array layout, hence the root
    assert hexes(hashing.standard_tree(leaves)) == expected["tree"]
    assert "0x" + hashing.merkle_root(leaves).hex() == expected["root"]
    # every single proof, and it verifies the way MerkleProof.verify does
    for leaf, proof in zip(leaves, expected["proofs"], strict=True):
        assert hexes(hashing.merkle_proof(leaves, leaf)) == proof
        assert hashing.process_proof(leaf, hashing.merkle_proof(leaves, leaf)) == hashing.merkle_root(leaves)
    # multiproofs: same leaf order, proof nodes and flags
    for indices, multi in zip(subsets(n), expected["multi"], strict=True):
        ours = hashing.multi_proof(leaves, [leaves[i] for i in indices])
        assert hexes(ours.leaves) == hexes(leaves[i] for i in multi["leaves"])
        assert hexes(ours.proof) == multi["proof"]
        assert ours.flags == multi["proofFlags"]
        assert hashing.process_multi_proof(ours) == hashing.merkle_root(leaves)


def test_commit_builds_the_openzeppelin_root(openzeppelin):
    """commit() over a report whose flattened fields are exactly fields(n) gives the package's root."""
    for n in (5, 7, 10, 26, 64):
        report = {f"f{i}": value for i, (_, value, _) in enumerate(fields(n))}
        salts = {path: salt for path, _, salt in fields(n)}
        commitment = hashing.commit(report, salts=salts)
        assert commitment.version == 2
        assert "0x" + commitment.root.hex() == openzeppelin[n]["root"]


def test_version_1_layout_differs_where_odd_nodes_were_carried_up():
    same, different = [], []
    for n in SIZES:
        leaves = [keccak(bytes([i])) for i in range(n)]
        v1, v2 = hashing.merkle_root(leaves, version=1), hashing.merkle_root(leaves, version=2)
        (same if v1 == v2 else different).append(n)
        for leaf in leaves:  # each layout's proofs lead to its own root
            assert hashing.process_proof(leaf, hashing.merkle_proof(leaves, leaf, version=1)) == v1
            assert hashing.process_proof(leaf, hashing.merkle_proof(leaves, leaf, version=2)) == v2
    # the shapes match (up to the order of siblings, which sorted pairs ignore) for 2**k and 3 * 2**k leaves
    assert same == [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]
    assert different[:5] == [5, 7, 9, 10, 11] and len(different) == 64 - len(same)


def test_fixed_v2_vector_is_the_packages_output():
    """credit_vector_v2.json (written by tools/make_credit_vector_v2.py) is what the package builds today."""
    paths = list(VECTOR_V2["fields"])
    values = [[p, "0x" + f["canonicalValue"].encode().hex(), f["salt"]] for p, f in VECTOR_V2["fields"].items()]
    [tree] = run_openzeppelin([{"values": values}])
    assert tree["root"] == VECTOR_V2["root"]
    assert tree["tree"] == VECTOR_V2["openzeppelin"]["tree"]
    assert [tree["proofs"][i] for i in range(len(paths))] == [f["proof"] for f in VECTOR_V2["fields"].values()]
    report = hashing.load_json_file(samples.CREDIT_REPORT)
    assert set(paths) == set(hashing.flatten(report))


@pytest.mark.parametrize("bad, message", [
    (lambda leaves: hashing.multi_proof(leaves, [leaves[0], leaves[0]]), "same leaf twice"),
    (lambda leaves: hashing.multi_proof(leaves, [keccak(b"stranger")]), "not in the tree"),
    (lambda leaves: hashing.merkle_proof(leaves, keccak(b"stranger")), "not in the tree"),
    (lambda leaves: hashing.merkle_root([]), "at least one"),
    (lambda leaves: hashing.merkle_root([b"short"]), "32 bytes"),
    (lambda leaves: hashing.merkle_root(leaves, version=3), "unknown commitment version 3"),
    (lambda leaves: hashing.process_multi_proof(hashing.MultiProof(leaves[:2], [], [True, True])), "do not fit"),
    (lambda leaves: hashing.process_multi_proof(hashing.MultiProof([], leaves[:2], [True])), "more nodes"),
])
def test_malformed_trees_and_proofs_are_refused(bad, message):
    leaves = [keccak(bytes([i])) for i in range(5)]
    with pytest.raises(InvalidInput, match=message):
        bad(leaves)
