#!/usr/bin/env node
// Builds OpenZeppelin StandardMerkleTrees with the npm package `@openzeppelin/merkle-tree` (the reference
// other banks' tools use) so the Python client's version-2 commitment trees can be checked against it.
//
// stdin:  {"encoding": ["string", "bytes", "bytes32"],
//          "trees": [{"values": [[path, "0x<canonical value>", "0x<salt>"], ...], "multi": [[0, 2], ...]}]}
// stdout: {"trees": [{"root", "tree": [every node, root first], "treeIndex": [per value], "proofs": [per value],
//          "multi": [{"leaves": [value indices in proof order], "proof", "proofFlags"}]}]}
// Every proof is checked with the package's own verify before it is printed.
'use strict';
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const trees = input.trees.map(({ values, multi = [] }) => {
  const tree = StandardMerkleTree.of(values, input.encoding);
  const dump = tree.dump();
  const key = v => JSON.stringify(v);
  const indexOf = new Map(values.map((v, i) => [key(v), i]));
  const proofs = values.map((v, i) => {
    const proof = tree.getProof(i);
    if (!StandardMerkleTree.verify(tree.root, input.encoding, v, proof)) throw new Error(`proof ${i} does not verify`);
    return proof;
  });
  return {
    root: tree.root,
    tree: dump.tree,
    treeIndex: dump.values.map(v => v.treeIndex),
    proofs,
    multi: multi.map(indices => {
      const m = tree.getMultiProof(indices);
      if (!StandardMerkleTree.verifyMultiProof(tree.root, input.encoding, m)) throw new Error('multiproof does not verify');
      return { leaves: m.leaves.map(v => indexOf.get(key(v))), proof: m.proof, proofFlags: m.proofFlags };
    }),
  };
});
process.stdout.write(JSON.stringify({ trees }));
