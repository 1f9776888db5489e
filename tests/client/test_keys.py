"""Signing keys from keystores and environment variables; never echoed in errors."""

import pytest
from eth_account import Account

from ebl_client import errors, keys

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


def test_keystore_round_trip(tmp_path):
    account = Account.from_key(KEY)
    path = keys.write_keystore(account, tmp_path / "k.json", "correct horse")
    assert (path.stat().st_mode & 0o777) == 0o600
    assert keys.from_keystore(path, "correct horse").address == account.address


def test_keystore_password_from_environment(tmp_path, monkeypatch):
    path = keys.write_keystore(Account.from_key(KEY), tmp_path / "k.json", "pw")
    monkeypatch.setenv(keys.PASSWORD_ENV, "pw")
    assert keys.from_keystore(path, None).address == Account.from_key(KEY).address


def test_wrong_password_missing_file_and_garbage(tmp_path, monkeypatch):
    monkeypatch.delenv(keys.PASSWORD_ENV, raising=False)
    path = keys.write_keystore(Account.from_key(KEY), tmp_path / "k.json", "pw")
    with pytest.raises(errors.SignerError, match="wrong password"):
        keys.from_keystore(path, "nope")
    with pytest.raises(errors.SignerError, match="needs a password"):
        keys.from_keystore(path, None)
    with pytest.raises(errors.SignerError, match="does not exist"):
        keys.from_keystore(tmp_path / "missing.json", "pw")
    (tmp_path / "garbage.json").write_text("hello")
    with pytest.raises(errors.SignerError, match="not a readable JSON keystore"):
        keys.from_keystore(tmp_path / "garbage.json", "pw")


def test_write_keystore_never_overwrites(tmp_path):
    path = keys.write_keystore(Account.from_key(KEY), tmp_path / "k.json", "pw")
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        keys.write_keystore(Account.create(), path, "pw")
    assert path.read_bytes() == before


def test_key_from_environment(monkeypatch):
    monkeypatch.setenv("SOME_KEY", KEY)
    assert keys.from_env("SOME_KEY").address == Account.from_key(KEY).address
    monkeypatch.delenv("SOME_KEY")
    with pytest.raises(errors.SignerError, match=r"set \$SOME_KEY"):
        keys.from_env("SOME_KEY")


def test_a_malformed_key_is_not_echoed(monkeypatch):
    secret = "0x" + "zz" * 32
    monkeypatch.setenv("SOME_KEY", secret)
    with pytest.raises(errors.SignerError) as caught:
        keys.from_env("SOME_KEY")
    assert secret not in str(caught.value)
