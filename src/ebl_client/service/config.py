"""`ebl serve`'s configuration: a TOML file, environment variables over it, command-line options over both.

    [service]
    host = "127.0.0.1"                # loopback unless said otherwise: put a TLS proxy in front for others
    port = 8600
    platform = "GBAE"                 # this platform's DCSA eBL platform code (issueTo.sendToPlatform)
    database = "sqlite:///.ebl/service-31337.sqlite"
    max_body_bytes = 8388608

    [chain]
    rpc_url = "http://127.0.0.1:8545"
    network = "anvil"                 # or "besu"
    chain_id = 31337
    deployments = "deployments"

    [index]
    url = "sqlite:///.ebl/index-31337.sqlite"
    sync = true                       # the service keeps the index current itself (else run `ebl index watch`)
    interval = 1.0                    # seconds between looks at the chain (new blocks, surrenders)

    directory = ".ebl/directory-31337.json"

    [callbacks]
    timeout = 10.0
    initial_backoff = 1.0             # then doubled after each failure, up to max_backoff
    max_backoff = 300.0
    max_attempts = 50                 # then the callback is kept as `dead` (ebl serve callbacks shows it)

    [[participants]]                  # the participants this service signs for, each with its own keystore
    account = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
    keystore = "keys/carrier.json"
    password_env = "EBL_CARRIER_PASSWORD"
    callback_token_env = "EBL_CARRIER_CALLBACK_TOKEN"   # optional: Authorization header for calls to the carrier

Paths in the file are relative to the file. Environment: $EBL_SERVE_CONFIG (the file), $EBL_SERVE_HOST,
$EBL_SERVE_PORT, $EBL_SERVICE_DB, $EBL_PLATFORM_CODE, $EBL_RPC_URL, $EBL_NETWORK, $EBL_CHAIN_ID,
$EBL_DEPLOYMENTS, $EBL_INDEX, $EBL_DIRECTORY. Passwords are only ever read from the variables named.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import deployment as deployments
from .. import directory as directories
from ..chain import to_address
from ..errors import InvalidInput
from ..networks import PROFILES

CONFIG_ENV = "EBL_SERVE_CONFIG"
DEFAULT_PORT = 8600
#: this platform's code in DCSA's eBL platform lists (`sendToPlatform`, `eblPlatform`, `codeListProvider`): the
#: Greater Bay Area eBL pilot. DCSA's list is maintained by DCSA; a consortium sets its own code here.
DEFAULT_PLATFORM = "GBAE"
#: a DCSA issuance request carries the document and may carry the carrier's rendering (a PDF, base64)
DEFAULT_MAX_BODY = 8 * 1024 * 1024
PLATFORM_CODE = re.compile(r"\S{1,4}")


@dataclass(frozen=True)
class Acting:
    """A participant the service signs for: its account, its keystore and the variable holding the password."""

    account: str
    keystore: Path
    password_env: str
    #: the variable holding the Authorization header value the service sends with its calls to this carrier
    callback_token_env: str | None = None
    #: for an embedding program that holds the password itself (the config file only ever names a variable)
    password_value: str | None = field(default=None, repr=False)

    def password(self) -> str:
        if self.password_value is not None:
            return self.password_value
        value = os.environ.get(self.password_env)
        if value is None:
            raise InvalidInput(f"the keystore of {self.account} needs its password in ${self.password_env}")
        return value

    def callback_token(self) -> str | None:
        return os.environ.get(self.callback_token_env) if self.callback_token_env else None


@dataclass(frozen=True)
class CallbackSettings:
    timeout: float = 10.0
    initial_backoff: float = 1.0
    max_backoff: float = 300.0
    max_attempts: int = 50

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failure: doubling from `initial_backoff`, capped."""
        return float(min(self.max_backoff, self.initial_backoff * 2 ** max(attempts - 1, 0)))


@dataclass(frozen=True)
class ServiceConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    platform: str = DEFAULT_PLATFORM
    database: str | None = None  # default: sqlite:///.ebl/service-<chainId>.sqlite
    max_body_bytes: int = DEFAULT_MAX_BODY
    rpc_url: str | None = None
    network: str = "anvil"
    chain_id: int | None = None
    deployments: Path = field(default_factory=deployments.default_dir)
    index_url: str | None = None  # default: sqlite:///.ebl/index-<chainId>.sqlite
    index_sync: bool = True
    interval: float = 1.0
    directory: Path | None = None  # default: .ebl/directory-<chainId>.json when present
    callbacks: CallbackSettings = field(default_factory=CallbackSettings)
    participants: tuple[Acting, ...] = ()

    def acting(self, account: str) -> Acting | None:
        return next((a for a in self.participants if a.account == account), None)

    def directory_path(self, chain_id: int) -> Path | None:
        if self.directory is not None:
            return self.directory
        default = directories.default_path(chain_id)
        return default if default.exists() else None

    def with_overrides(self, **values: Any) -> ServiceConfig:
        """This configuration with the values that are not None replaced (command-line options)."""
        return _checked(replace(self, **{k: v for k, v in values.items() if v is not None}))


def load(path: Path | None = None, env: Mapping[str, str] | None = None) -> ServiceConfig:
    """The configuration from `path` (or $EBL_SERVE_CONFIG; none: the defaults) with the environment over it."""
    env = os.environ if env is None else env
    path = path if path is not None else (Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else None)
    values: dict[str, Any] = _from_file(path) if path is not None else {}
    for name, variable, convert in _ENV:
        if env.get(variable):
            values[name] = convert(env[variable], variable)
    return _checked(ServiceConfig(**values))


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"{what} must be a whole number, not {text!r}") from None


def _text(text: str, _what: str) -> str:
    return text


def _path(text: str, _what: str) -> Path:
    return Path(text)


_ENV = (
    ("host", "EBL_SERVE_HOST", _text), ("port", "EBL_SERVE_PORT", _int), ("database", "EBL_SERVICE_DB", _text),
    ("platform", "EBL_PLATFORM_CODE", _text), ("rpc_url", "EBL_RPC_URL", _text), ("network", "EBL_NETWORK", _text),
    ("chain_id", "EBL_CHAIN_ID", _int), ("deployments", deployments.DIR_ENV, _path), ("index_url", "EBL_INDEX", _text),
    ("directory", directories.DIRECTORY_ENV, _path),
)

_SECTIONS: dict[str, dict[str, str]] = {
    "service": {"host": "host", "port": "port", "platform": "platform", "database": "database",
                "max_body_bytes": "max_body_bytes"},
    "chain": {"rpc_url": "rpc_url", "network": "network", "chain_id": "chain_id", "deployments": "deployments"},
    "index": {"url": "index_url", "sync": "index_sync", "interval": "interval"},
}
_PATHS = {"deployments", "directory"}


def _from_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise InvalidInput(f"cannot read the service configuration {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"the service configuration {path} is not valid TOML: {exc}") from None
    base = Path(path).resolve().parent
    values: dict[str, Any] = {}
    known = {*_SECTIONS, "directory", "callbacks", "participants"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput(f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})")
    for section, names in _SECTIONS.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise InvalidInput(f"{path}: [{section}] must be a table")
        for key, value in table.items():
            if key not in names:
                raise InvalidInput(f"{path}: unknown setting {section}.{key}")
            values[names[key]] = value
    if "directory" in data:
        values["directory"] = data["directory"]
    for name in _PATHS & set(values):
        values[name] = base / str(values[name])
    callbacks = data.get("callbacks", {})
    try:
        values["callbacks"] = CallbackSettings(**callbacks)
    except TypeError as exc:
        raise InvalidInput(f"{path}: [callbacks]: {exc}") from None
    acting = []
    for i, item in enumerate(data.get("participants", [])):
        try:
            acting.append(Acting(account=to_address(str(item["account"]), what=f"participants[{i}].account"),
                                 keystore=base / str(item["keystore"]), password_env=str(item["password_env"]),
                                 callback_token_env=item.get("callback_token_env")))
        except (KeyError, TypeError) as exc:
            raise InvalidInput(f"{path}: participants[{i}] needs account, keystore and password_env ({exc})") from None
    values["participants"] = tuple(acting)
    return values


def _checked(config: ServiceConfig) -> ServiceConfig:
    if config.network not in PROFILES:
        raise InvalidInput(f"network {config.network!r} is not one of {', '.join(sorted(PROFILES))}")
    if not PLATFORM_CODE.fullmatch(config.platform):
        raise InvalidInput(f"platform code {config.platform!r} must be 1-4 characters without blanks (DCSA)")
    if not 0 <= config.port < 65536:
        raise InvalidInput(f"port {config.port} is not a TCP port")
    if config.max_body_bytes < 1024:
        raise InvalidInput("max_body_bytes must be at least 1024")
    if config.interval <= 0:
        raise InvalidInput("index.interval must be positive")
    accounts = [a.account for a in config.participants]
    if len(set(accounts)) != len(accounts):
        raise InvalidInput("a participant is listed twice under [[participants]]")
    return config
