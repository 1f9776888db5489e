"""Canonical JSON, salted Merkle commitments, disclosures and their refusals (no chain needed)."""

import json
from pathlib import Path

import pytest
from eth_utils import keccak

from ebl_client import hashing, samples
from ebl_client.errors import InvalidInput

DATA = Path(__file__).parents[1] / "data"
VECTOR = json.loads((DATA / "credit_vector.json").read_text())
REPORT = hashing.load_json_file(samples.CREDIT_REPORT)
GRADES = ["AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-",
          "BB+", "BB", "BB-", "B+", "B", "B-", "CCC", "CC", "C", "D"]


def vector_salts():
    return {p: bytes.fromhex(f["salt"][2:]) for p, f in VECTOR["fields"].items()}


def test_fixed_vector_root():
    commitment = hashing.commit(REPORT, salts=vector_salts())
    assert "0x" + commitment.root.hex() == VECTOR["root"]
    for path, field in VECTOR["fields"].items():
        assert "0x" + commitment.leaves[path].hex() == field["leaf"]
        assert hashing.canonical_json(hashing.flatten(REPORT)[path]).decode() == field["canonicalValue"]


def test_salts_are_random_and_32_bytes():
    a, b = hashing.commit(REPORT), hashing.commit(REPORT)
    assert a.root != b.root
    assert all(len(s) == 32 for s in a.salts.values())
    assert set(a.salts) == set(hashing.flatten(REPORT))


def test_key_order_and_spelling_do_not_change_the_root():
    shuffled = json.loads(json.dumps(REPORT), object_pairs_hook=lambda kv: dict(reversed(kv)))
    commitment = hashing.commit(REPORT, salts=vector_salts())
    assert hashing.matches(shuffled, commitment)
    assert hashing.document_digest(REPORT) == hashing.document_digest(shuffled)


def test_tampered_field_or_wrong_salt_fails():
    commitment = hashing.commit(REPORT, salts=vector_salts())
    tampered = json.loads(json.dumps(REPORT))
    tampered["rating"]["grade"] = "A"
    assert not hashing.matches(tampered, commitment)
    wrong_salt = dict(vector_salts())
    wrong_salt["/score"] = keccak(text="not the salt")
    assert hashing.commit(REPORT, salts=wrong_salt).root != commitment.root
    extra = {**REPORT, "note": "added"}
    assert not hashing.matches(extra, commitment)
    with pytest.raises(InvalidInput, match="extra"):
        hashing.recompute_root(extra, commitment)


def test_commitment_file_round_trip_and_no_overwrite(tmp_path):
    commitment = hashing.commit(REPORT)
    path = commitment.save(tmp_path / "c.json")
    assert hashing.Commitment.load(path) == commitment
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        hashing.commit(REPORT).save(path)
    assert path.read_bytes() == before
    data = json.loads(before)
    data["fields"]["/score"]["leaf"] = "0x" + "11" * 32
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(InvalidInput, match="inconsistent"):
        hashing.Commitment.load(tmp_path / "bad.json")


def test_disclose_one_field():
    commitment = hashing.commit(REPORT)
    disclosure = hashing.disclose(REPORT, commitment, "/rating/grade")
    assert disclosure.value == "BBB+" and disclosure.verify()
    as_json = json.dumps(disclosure.to_json())
    # No other field leaks: besides the one value, only hashes (32-byte hex) travel.
    assert set(disclosure.to_json()) == {"root", "path", "value", "salt", "proof"}
    assert all(len(h) == 66 for h in [disclosure.to_json()["salt"], *disclosure.to_json()["proof"]])
    assert "Pearl River" not in as_json
    restored = hashing.Disclosure.from_json(json.loads(as_json))
    assert restored.verify()
    forged = hashing.Disclosure(restored.root, restored.path, "AAA", restored.salt, restored.proof)
    assert not forged.verify()
    assert not hashing.Disclosure(restored.root, "/score", "BBB+", restored.salt, restored.proof).verify()


def test_disclose_refusals():
    commitment = hashing.commit(REPORT)
    with pytest.raises(InvalidInput, match="no field"):
        hashing.disclose(REPORT, commitment, "/rating/nope")
    with pytest.raises(InvalidInput, match="does not match"):
        hashing.disclose({**REPORT, "score": 800}, commitment, "/score")


def test_guessing_a_low_entropy_field_fails_without_the_salt():
    """An attacker who knows the root, every other field's salt and leaf, and the list of 20 grades
    still cannot confirm the grade: without its salt no guess reproduces the leaf."""
    commitment = hashing.commit(REPORT)
    disclosure = hashing.disclose(REPORT, commitment, "/rating/grade")  # the proof, as a verifier would see it
    for salt_guess in (b"\0" * 32, keccak(b""), keccak(text="/rating/grade")):
        hits = [g for g in GRADES
                if hashing.process_proof(hashing.leaf_hash("/rating/grade", g, salt_guess), disclosure.proof)
                == commitment.root]
        assert hits == []
    # The same attack on an unsalted commitment (all-zero salts) finds the grade at once:
    unsalted = hashing.commit(REPORT, salts=dict.fromkeys(hashing.flatten(REPORT), b"\0" * 32))
    proof = hashing.merkle_proof(list(unsalted.leaves.values()), unsalted.leaves["/rating/grade"])
    found = [g for g in GRADES
             if hashing.process_proof(hashing.leaf_hash("/rating/grade", g, b"\0" * 32), proof) == unsalted.root]
    assert found == ["BBB+"]


@pytest.mark.parametrize("text, message", [
    ('[1, 2]', "non-empty JSON object"),
    ('"report"', "non-empty JSON object"),
    ('{}', "non-empty JSON object"),
    ('{"score": NaN}', "non-finite"),
    ('{"score": Infinity}', "non-finite"),
    ('{"score": 1, "score": 2}', "duplicate key 'score'"),
    ('{"score": 1', "not valid JSON"),
])
def test_bad_reports_are_named(text, message):
    with pytest.raises(InvalidInput, match=message):
        hashing.commit(hashing.parse_json(text))


def test_python_non_finite_and_huge_integers_are_refused():
    with pytest.raises(InvalidInput, match="non-finite"):
        hashing.commit({"score": float("inf")})
    with pytest.raises(InvalidInput, match="RFC 8785"):
        hashing.commit({"revenue": 2**60})


def test_single_field_report_and_json_pointer_escaping():
    commitment = hashing.commit({"a/b~c": 1})
    assert list(commitment.salts) == ["/a~1b~0c"]
    assert commitment.root == commitment.leaves["/a~1b~0c"]
    assert hashing.disclose({"a/b~c": 1}, commitment, "/a~1b~0c").verify()


def test_merkle_proofs_for_every_size():
    for n in range(1, 12):
        leaves = [keccak(bytes([i])) for i in range(n)]
        root = hashing.merkle_root(leaves)
        for leaf in leaves:
            assert hashing.process_proof(leaf, hashing.merkle_proof(leaves, leaf)) == root
