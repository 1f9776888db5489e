"""Canonical JSON, salted Merkle commitments (versions 1 and 2), disclosures and their refusals (no chain
needed). The version-2 tree is compared with OpenZeppelin's own package in test_merkle_openzeppelin.py."""

import json
import math
from pathlib import Path

import pytest
from eth_utils import keccak

from ebl_client import hashing, samples
from ebl_client.errors import InvalidInput

DATA = Path(__file__).parents[1] / "data"
VECTOR = json.loads((DATA / "credit_vector.json").read_text())  # version 1: odd nodes carried up
VECTOR_V2 = json.loads((DATA / "credit_vector_v2.json").read_text())  # version 2: written by @openzeppelin/merkle-tree
REPORT = hashing.load_json_file(samples.CREDIT_REPORT)
GRADES = ["AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-",
          "BB+", "BB", "BB-", "B+", "B", "B-", "CCC", "CC", "C", "D"]


def vector_salts():
    return {p: bytes.fromhex(f["salt"][2:]) for p, f in VECTOR["fields"].items()}


def test_public_names_import_from_the_package():
    """Other modules and branches import these from ebl_client.hashing: the split keeps them there."""
    from ebl_client.hashing import (  # noqa: F401
        DEFAULT_SCHEMA,
        SALT_BYTES,
        Commitment,
        Disclosure,
        canonical_json,
        commit,
        disclose,
        document_digest,
        flatten,
        identifier_hash,
        leaf_hash,
        load_json_file,
        matches,
        merkle_proof,
        merkle_root,
        new_salt,
        parse_json,
        process_proof,
        recompute_root,
        text_hash,
    )
    assert all(hasattr(hashing, name) for name in hashing.__all__)
    assert hashing.commitments.Commitment is Commitment and hashing.identifiers.text_hash is text_hash


def test_fixed_v1_vector_still_verifies():
    """A version-1 commitment (the vector has no "version": files from before versions) keeps verifying
    with the layout it was made in: root, every leaf, every disclosure."""
    commitment = hashing.Commitment.from_json(VECTOR)
    assert commitment.version == 1 and "0x" + commitment.root.hex() == VECTOR["root"]
    assert hashing.matches(REPORT, commitment)
    assert hashing.recompute_root(REPORT, commitment) == commitment.root
    for path, field in VECTOR["fields"].items():
        value = hashing.flatten(REPORT)[path]
        assert "0x" + hashing.leaf_hash(path, value, commitment.salts[path]).hex() == field["leaf"]
        assert hashing.canonical_json(value).decode() == field["canonicalValue"]
        disclosure = hashing.disclose(REPORT, commitment, path)
        assert disclosure.version == 1 and disclosure.verify()
    assert hashing.merkle_root(list(commitment.leaves.values()), version=1) == commitment.root
    # 26 fields: the OpenZeppelin layout makes another root from the same leaves
    assert hashing.merkle_root(list(commitment.leaves.values()), version=2) != commitment.root


def test_fixed_v2_vector_root_and_proofs():
    """New commitments are version 2 and reproduce the vector the npm package wrote, proof for proof."""
    commitment = hashing.commit(REPORT, salts=vector_salts())
    assert commitment.version == hashing.COMMITMENT_VERSION == 2
    assert "0x" + commitment.root.hex() == VECTOR_V2["root"]
    for path, field in VECTOR_V2["fields"].items():
        assert "0x" + commitment.leaves[path].hex() == field["leaf"] == VECTOR["fields"][path]["leaf"]
        assert ["0x" + p.hex() for p in commitment.proof(path)] == field["proof"]
        assert hashing.disclose(REPORT, commitment, path).proof == commitment.proof(path)
    assert hashing.Commitment.from_json(VECTOR_V2) == commitment


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
    assert json.loads(path.read_text())["version"] == 2
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


def test_version_1_commitment_files_load_and_keep_their_layout(tmp_path):
    """A file written before this change says "version": 1; it loads, verifies and discloses as version 1."""
    old = hashing.Commitment.from_json(VECTOR)
    (tmp_path / "old.json").write_text(json.dumps(old.to_json()))
    assert json.loads((tmp_path / "old.json").read_text())["version"] == 1
    loaded = hashing.Commitment.load(tmp_path / "old.json")
    assert loaded == old and loaded.version == 1 and hashing.matches(REPORT, loaded)
    # the same leaves and salts claimed as version 2 do not make the stored root
    as_v2 = {**old.to_json(), "version": 2}
    with pytest.raises(InvalidInput, match=r"inconsistent.*\(version 2 tree\)"):
        hashing.Commitment.from_json(as_v2)


@pytest.mark.parametrize("version", [0, 3, "2", 2.0, True, None])
def test_unknown_commitment_versions_are_refused(version):
    data = {**hashing.commit(REPORT).to_json(), "version": version}
    with pytest.raises(InvalidInput, match="unknown commitment version"):
        hashing.Commitment.from_json(data)
    disclosure = {**hashing.disclose(REPORT, hashing.commit(REPORT), "/score").to_json(), "version": version}
    with pytest.raises(InvalidInput, match="disclosure file: unknown commitment version"):
        hashing.Disclosure.from_json(disclosure)


@pytest.mark.parametrize("data, message", [
    ([], "JSON object expected"),
    ({"version": 2, "schema": "s", "root": "0x" + "00" * 32}, "missing 'fields'"),
    ({"version": 2, "schema": "s", "root": "0x" + "00" * 32, "fields": []}, "not a commitment file"),
    ({"version": 2, "schema": "s", "root": "0x12", "fields": {}}, "root must be 32 bytes"),
])
def test_malformed_commitment_files_are_named(data, message):
    with pytest.raises(InvalidInput, match=message):
        hashing.Commitment.from_json(data)


def test_disclosure_files_carry_the_version():
    v1 = hashing.disclose(REPORT, hashing.Commitment.from_json(VECTOR), "/score")
    v2 = hashing.disclose(REPORT, hashing.commit(REPORT, salts=vector_salts()), "/score")
    assert (v1.to_json()["version"], v2.to_json()["version"]) == (1, 2)
    assert hashing.Disclosure.from_json(v2.to_json()) == v2
    # a disclosure file from before versions existed has no "version": it came from a version-1 commitment
    old_file = {k: v for k, v in v1.to_json().items() if k != "version"}
    restored = hashing.Disclosure.from_json(old_file)
    assert restored.version == 1 and restored == v1 and restored.verify()


def test_disclose_one_field():
    commitment = hashing.commit(REPORT)
    disclosure = hashing.disclose(REPORT, commitment, "/rating/grade")
    assert disclosure.value == "BBB+" and disclosure.verify() and disclosure.version == 2
    as_json = json.dumps(disclosure.to_json())
    # No other field leaks: besides the one value, only hashes (32-byte hex) travel.
    assert set(disclosure.to_json()) == {"version", "root", "path", "value", "salt", "proof"}
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


def test_deep_json_is_refused_before_it_is_parsed():
    """web3's py_ecc raises the recursion limit to 100,000 on import, so the C parser would exhaust the stack
    (a segfault, not a RecursionError) on deep enough input: the depth is measured first."""
    import web3  # noqa: F401  (what every program using the client has imported)

    for text in ("[" * 100_000, b"{\"a\": " * 100_000, "[" * 65 + "]" * 65):
        with pytest.raises(InvalidInput, match="body is nested more than 64 levels deep"):
            hashing.parse_json(text, what="the body")
    assert hashing.parse_json("[" * 64 + "]" * 64, what="the body") is not None
    assert hashing.parse_json(json.dumps({"brackets in text": "[" * 100}))  # brackets in strings do not count
    # an unclosed string full of escaped quotes, 1 MB: measured in one pass (a backtracking scan took hours, and
    # the service reads request bodies of up to 8 MiB)
    with pytest.raises(InvalidInput, match="not valid JSON"):
        hashing.parse_json('{"a": "' + '\\"' * 500_000, what="the body")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, {"a": [1, {"b": math.nan}]}, 1e400])
def test_python_non_finite_numbers_are_refused(value):
    """rfc8785 refuses them (FloatDomainError); the client names the problem as InvalidInput."""
    refused = r"non-finite number \((nan|inf|-inf) is not .*\): JSON has no NaN or Infinity \(RFC 8785\)"
    with pytest.raises(InvalidInput, match=refused):
        hashing.canonical_json(value)
    with pytest.raises(InvalidInput, match="non-finite"):
        hashing.commit({"score": value})
    with pytest.raises(InvalidInput, match="non-finite"):
        hashing.document_digest({"score": value})


def test_json_numbers_too_large_for_a_float_are_refused():
    # JSON "1e400" parses to inf in Python: refused when hashed, not silently hashed as "Infinity"
    with pytest.raises(InvalidInput, match="non-finite"):
        hashing.commit(hashing.parse_json('{"score": 1e400}'))


def test_huge_integers_are_refused():
    with pytest.raises(InvalidInput, match="RFC 8785"):
        hashing.commit({"revenue": 2**60})
    assert hashing.canonical_json(2**53 - 1) == b"9007199254740991"


def test_single_field_report_and_json_pointer_escaping():
    commitment = hashing.commit({"a/b~c": 1})
    assert list(commitment.salts) == ["/a~1b~0c"]
    assert commitment.root == commitment.leaves["/a~1b~0c"]
    assert hashing.disclose({"a/b~c": 1}, commitment, "/a~1b~0c").verify()


@pytest.mark.parametrize("version", [1, 2])
def test_merkle_proofs_for_every_size(version):
    for n in range(1, 34):
        leaves = [keccak(bytes([i])) for i in range(n)]
        root = hashing.merkle_root(leaves, version=version)
        assert hashing.merkle_root(list(reversed(leaves)), version=version) == root  # order does not matter
        for leaf in leaves:
            assert hashing.process_proof(leaf, hashing.merkle_proof(leaves, leaf, version=version)) == root
    assert hashing.merkle_root(leaves) == hashing.merkle_root(leaves, version=2)  # the default is version 2
