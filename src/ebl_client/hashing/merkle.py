"""The Merkle tree under a commitment, in the two layouts commitments have used: version 2 is
OpenZeppelin's StandardMerkleTree (`@openzeppelin/merkle-tree`), version 1 the layout written before it.

Both sort the leaves and hash pairs in sorted order (OpenZeppelin `MerkleProof` verifies either's
proofs); they differ in shape. Version 2 is a complete binary tree in an array of 2n-1 nodes: the sorted
leaves fill the end of the array in reverse (the smallest leaf last) and `tree[i] = hash(tree[2i+1],
tree[2i+2])`, root at 0. Version 1 builds layers bottom-up and carries an odd last node up unchanged.
The roots agree only when the leaf count is a power of two or three times one (1, 2, 3, 4, 6, 8, 12, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import keccak

from ..errors import InvalidInput

LEGACY = 1
"""Layout of version-1 commitments: layers bottom-up, an odd node carried up unchanged."""
STANDARD = 2
"""OpenZeppelin StandardMerkleTree's array layout; what new commitments use."""
CURRENT_VERSION = STANDARD
VERSIONS = (LEGACY, STANDARD)


def node_hash(a: bytes, b: bytes) -> bytes:
    """keccak256 of the two children in ascending order (OpenZeppelin's `standardNodeHash`)."""
    return keccak(a + b) if a <= b else keccak(b + a)


def process_proof(leaf: bytes, proof: list[bytes]) -> bytes:
    """The root a leaf and its proof lead to; the same rule for both layouts (and `MerkleProof.processProof`)."""
    node = leaf
    for sibling in proof:
        node = node_hash(node, sibling)
    return node


def check_version(version: object) -> int:
    """`version` when this client knows its layout; InvalidInput otherwise."""
    if type(version) is not int or version not in VERSIONS:
        known = ", ".join(map(str, VERSIONS))
        raise InvalidInput(f"unknown commitment version {version!r} (this client knows versions {known})")
    return version


def _sorted_leaves(leaves: list[bytes]) -> list[bytes]:
    if not leaves:
        raise InvalidInput("a commitment needs at least one field")
    if any(len(leaf) != 32 for leaf in leaves):
        raise InvalidInput("Merkle leaves must be 32 bytes")
    return sorted(bytes(leaf) for leaf in leaves)


# --- version 2: OpenZeppelin StandardMerkleTree --------------------------------------------------------


def standard_tree(leaves: list[bytes]) -> list[bytes]:
    """OpenZeppelin's `makeMerkleTree` over the sorted leaves: 2n-1 nodes, root first, leaves last."""
    ordered = _sorted_leaves(leaves)
    size = 2 * len(ordered) - 1
    tree = [b""] * size
    for i, leaf in enumerate(ordered):
        tree[size - 1 - i] = leaf
    for i in range(size - 1 - len(ordered), -1, -1):
        tree[i] = node_hash(tree[2 * i + 1], tree[2 * i + 2])
    return tree


def _tree_index(tree: list[bytes], leaf: bytes) -> int:
    """Where `leaf` sits in a standard tree (leaves occupy the last n = (len + 1) / 2 positions)."""
    first_leaf = len(tree) // 2
    for index in range(first_leaf, len(tree)):
        if tree[index] == leaf:
            return index
    raise InvalidInput("leaf is not in the tree")


def _sibling(index: int) -> int:
    return index + 1 if index % 2 else index - 1


def _parent(index: int) -> int:
    return (index - 1) // 2


def _standard_proof(tree: list[bytes], index: int) -> list[bytes]:
    proof = []
    while index > 0:
        proof.append(tree[_sibling(index)])
        index = _parent(index)
    return proof


@dataclass(frozen=True)
class MultiProof:
    """Several leaves proved together (OpenZeppelin `getMultiProof`; `MerkleProof.multiProofVerify` on
    chain): the leaves in the order the proof consumes them, the extra nodes, and one flag per hash
    (True: the next node comes from the leaves and hashes made so far; False: from `proof`)."""

    leaves: list[bytes]
    proof: list[bytes]
    flags: list[bool]


def multi_proof(leaves: list[bytes], chosen: list[bytes]) -> MultiProof:
    """A version-2 multiproof of `chosen` (a subset of `leaves`), node for node what OpenZeppelin builds.

    Version 1 never defined multiproofs: prove old commitments' fields one by one (`merkle_proof`)."""
    tree = standard_tree(leaves)
    indices = sorted((_tree_index(tree, leaf) for leaf in chosen), reverse=True)
    if len(set(indices)) != len(indices):
        raise InvalidInput("cannot prove the same leaf twice in one multiproof")
    stack = list(indices)
    proof: list[bytes] = []
    flags: list[bool] = []
    while stack and stack[0] > 0:
        j = stack.pop(0)
        s, p = _sibling(j), _parent(j)
        if stack and s == stack[0]:
            flags.append(True)
            stack.pop(0)
        else:
            flags.append(False)
            proof.append(tree[s])
        stack.append(p)
    if not indices:
        proof.append(tree[0])
    return MultiProof([tree[i] for i in indices], proof, flags)


def process_multi_proof(multiproof: MultiProof) -> bytes:
    """The root a multiproof leads to (OpenZeppelin `processMultiProof`)."""
    leaves, proof, flags = list(multiproof.leaves), list(multiproof.proof), multiproof.flags
    if len(leaves) + len(proof) != len(flags) + 1 or len(proof) < flags.count(False):
        raise InvalidInput("the multiproof's leaves, proof and flags do not fit together")
    stack = leaves
    try:
        for flag in flags:
            a = stack.pop(0)
            b = stack.pop(0) if flag else proof.pop(0)
            stack.append(node_hash(a, b))
    except IndexError:
        raise InvalidInput("the multiproof's flags ask for more nodes than it has") from None
    if len(stack) + len(proof) != 1:
        raise InvalidInput("the multiproof does not reduce to one root")
    return stack[0] if stack else proof[0]


# --- version 1: layers, odd node carried up ----------------------------------------------------------


def _legacy_layers(leaves: list[bytes]) -> list[list[bytes]]:
    layer = _sorted_leaves(leaves)
    layers = [layer]
    while len(layer) > 1:
        layer = [node_hash(layer[i], layer[i + 1]) if i + 1 < len(layer) else layer[i]
                 for i in range(0, len(layer), 2)]
        layers.append(layer)
    return layers


def _legacy_proof(layers: list[list[bytes]], leaf: bytes) -> list[bytes]:
    try:
        index = layers[0].index(leaf)
    except ValueError:
        raise InvalidInput("leaf is not in the tree") from None
    proof = []
    for layer in layers[:-1]:
        sibling = index ^ 1
        if sibling < len(layer):
            proof.append(layer[sibling])
        index //= 2
    return proof


# --- either version ------------------------------------------------------------------------------------


def merkle_root(leaves: list[bytes], *, version: int = CURRENT_VERSION) -> bytes:
    """The root of the tree over `leaves` (any order: they are sorted) in the layout of `version`."""
    if check_version(version) == STANDARD:
        return standard_tree(leaves)[0]
    return _legacy_layers(leaves)[-1][0]


def merkle_proof(leaves: list[bytes], leaf: bytes, *, version: int = CURRENT_VERSION) -> list[bytes]:
    """The sibling path from `leaf` to the root in the layout of `version` (`MerkleProof.verify` input)."""
    if check_version(version) == STANDARD:
        tree = standard_tree(leaves)
        return _standard_proof(tree, _tree_index(tree, leaf))
    return _legacy_proof(_legacy_layers(leaves), leaf)
