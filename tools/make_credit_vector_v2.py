"""Write tests/data/credit_vector_v2.json: the sample credit report committed with fixed salts as a version-2
(OpenZeppelin StandardMerkleTree) commitment, root, tree and proofs computed by the npm package
`@openzeppelin/merkle-tree` (tools/oz_merkle_tree.js), not by this client.

Run: .venv/bin/python tools/make_credit_vector_v2.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from eth_utils import keccak

from ebl_client import hashing, samples

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "credit_vector_v2.json"
NODE_SCRIPT = ROOT / "tools" / "oz_merkle_tree.js"


def vector_salt(path: str) -> bytes:
    """The same fixed salts as the version-1 vector: keccak256('ebl test vector salt ' + path)."""
    return keccak(text="ebl test vector salt " + path)


def build() -> dict[str, object]:
    report = hashing.load_json_file(samples.CREDIT_REPORT)
    fields = hashing.flatten(report)
    paths = sorted(fields)
    values = [[p, "0x" + hashing.canonical_json(fields[p]).hex(), "0x" + vector_salt(p).hex()] for p in paths]
    request = {"encoding": list(hashing.LEAF_ENCODING), "trees": [{"values": values}]}
    out = subprocess.run(["node", str(NODE_SCRIPT)], input=json.dumps(request), capture_output=True, text=True,
                         check=True, cwd=ROOT)
    tree = json.loads(out.stdout)["trees"][0]
    return {
        "description": "Version-2 commitment (OpenZeppelin StandardMerkleTree, leaf encoding [string, bytes, "
                       "bytes32]) of credit_report_exporter.json with fixed salts keccak256('ebl test vector salt ' "
                       "+ path). Root, leaves, tree and proofs computed by @openzeppelin/merkle-tree 1.0.8 "
                       "(tools/make_credit_vector_v2.py). `openzeppelin` loads with StandardMerkleTree.load.",
        "report": "src/ebl_client/samples/credit_report_exporter.json",
        "version": 2,
        "schema": hashing.DEFAULT_SCHEMA,
        "root": tree["root"],
        "fields": {
            p: {"canonicalValue": hashing.canonical_json(fields[p]).decode(), "salt": values[i][2],
                "leaf": tree["tree"][tree["treeIndex"][i]], "proof": tree["proofs"][i]}
            for i, p in enumerate(paths)
        },
        "openzeppelin": {"format": "standard-v1", "leafEncoding": list(hashing.LEAF_ENCODING), "tree": tree["tree"],
                         "values": [{"value": v, "treeIndex": tree["treeIndex"][i]} for i, v in enumerate(values)]},
    }


def main() -> int:
    OUT.write_text(json.dumps(build(), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
