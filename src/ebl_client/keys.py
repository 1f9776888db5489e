"""Where signing keys come from: an eth-account (Web3 Secret Storage) keystore file or an environment
variable holding a hex private key. Keys stay in memory; they are never printed or written in clear.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from .errors import SignerError

DEFAULT_KEY_ENV = "EBL_PRIVATE_KEY"
PASSWORD_ENV = "EBL_KEYSTORE_PASSWORD"


def from_private_key(key: str, *, source: str = "the private key") -> LocalAccount:
    """A signer from a 32-byte hex key; SignerError (without echoing the key) when malformed."""
    try:
        account: LocalAccount = Account.from_key(key.strip())
    except Exception:
        raise SignerError(f"{source} is not a 32-byte hex private key") from None
    return account


def from_env(name: str = DEFAULT_KEY_ENV) -> LocalAccount:
    """A signer from the hex private key in environment variable `name`; SignerError when it is unset, empty
    or malformed."""
    value = os.environ.get(name)
    if not value:
        raise SignerError(f"no signing key: set ${name} or pass --keystore")
    return from_private_key(value, source=f"${name}")


def from_keystore(path: Path, password: str | None) -> LocalAccount:
    """Decrypt a keystore file. The password comes from the caller or $EBL_KEYSTORE_PASSWORD."""
    if password is None:
        password = os.environ.get(PASSWORD_ENV)
    if password is None:
        raise SignerError(f"keystore {path} needs a password: set ${PASSWORD_ENV}")
    try:
        keyfile = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise SignerError(f"keystore {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise SignerError(f"keystore {path} is not a readable JSON keystore ({exc})") from None
    try:
        key = Account.decrypt(keyfile, password)
    except ValueError:
        raise SignerError(f"wrong password for keystore {path}") from None
    except Exception as exc:
        raise SignerError(f"keystore {path} is not a valid keystore ({type(exc).__name__})") from None
    account: LocalAccount = Account.from_key(key)
    return account


def write_keystore(account: LocalAccount, path: Path, password: str) -> Path:
    """Encrypt `account` to `path` (mode 0600), refusing to overwrite an existing file."""
    path = Path(path)
    keyfile = Account.encrypt(account.key, password)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(keyfile, fh)
    return path
