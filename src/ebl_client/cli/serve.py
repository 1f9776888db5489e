"""`ebl serve`: run the platform's DCSA eBL APIs (issuance, surrender, endorsement chains) and the back-office
API over HTTP (`ebl_client.service`), and manage what the service keeps: API keys and the callback outbox.

    ebl serve [--config FILE]                 run until Ctrl-C or SIGTERM (loopback by default)
    ebl serve keys add ACCOUNT [--label T]    a new API key for ACCOUNT, printed once
    ebl serve keys list | revoke KEY_ID
    ebl serve callbacks list [--status S] | retry ID

Settings come from the configuration file (`--config`, $EBL_SERVE_CONFIG; see `service.config`), the
environment, then the options: `ebl`'s own --rpc-url, --network, --chain-id and --deployments when given,
and the options below.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import click
from click.core import ParameterSource

from ..errors import ConnectionFailed, EblError, InvalidInput
from ..service import auth, outbox, store
from ..service import config as configs
from .app import Context, cli
from .files import checked_folder, read_bytes
from .output import emit_json, emit_table
from .values import PORT, TEXT, Address, UInt

SETTINGS = "ebl.serve.settings"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _settings(click_ctx: click.Context) -> configs.ServiceConfig:
    settings = click_ctx.meta.get(SETTINGS)
    if not isinstance(settings, configs.ServiceConfig):
        raise InvalidInput("ebl serve: no settings")
    return settings


def _given(click_ctx: click.Context, name: str) -> bool:
    """Whether the root `ebl` option `name` was given (on the command line or by its variable)."""
    root = click_ctx.find_root()
    source = root.get_parameter_source(name)
    return source is not None and source is not ParameterSource.DEFAULT


def _database(settings: configs.ServiceConfig) -> str:
    """The service database's URL: configured, or the default of the chain (asked of the node when unknown)."""
    if settings.database:
        return settings.database
    chain_id = settings.chain_id
    if chain_id is None:
        from ..chain import Chain
        from ..networks import profile

        try:
            chain_id = Chain.connect(settings.rpc_url, profile(settings.network)).chain_id
        except ConnectionFailed as exc:
            raise InvalidInput(f"{exc}; give the service database (--database) or --chain-id") from None
    return store.default_url(chain_id)


@click.group("serve", invoke_without_command=True)
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help=f"The service's TOML configuration. [env: {configs.CONFIG_ENV}]")
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1: loopback only). "
                                           "[env: EBL_SERVE_HOST]")
@click.option("--port", type=PORT, default=None,
              help=f"Port (default {configs.DEFAULT_PORT}). [env: EBL_SERVE_PORT]")
@click.option("--database", default=None, metavar="URL",
              help="The service's database (default sqlite:///.ebl/service-<chainId>.sqlite). [env: EBL_SERVICE_DB]")
@click.option("--index", "index_url", default=None, metavar="URL",
              help="The index database (default sqlite:///.ebl/index-<chainId>.sqlite). [env: EBL_INDEX]")
@click.option("--directory", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The participant directory (default .ebl/directory-<chainId>.json). [env: EBL_DIRECTORY]")
@click.option("--platform", default=None, metavar="CODE",
              help=f"This platform's DCSA code (default {configs.DEFAULT_PLATFORM}). [env: EBL_PLATFORM_CODE]")
@click.pass_context
def serve(click_ctx: click.Context, config_file: Path | None, host: str | None, port: int | None,
          database: str | None, index_url: str | None, directory: Path | None, platform: str | None) -> None:
    """Serve the DCSA eBL APIs and the back-office API; Ctrl-C or SIGTERM stops it cleanly."""
    root: Context = click_ctx.find_object(Context)  # type: ignore[assignment]
    if config_file is not None:  # missing or unreadable: one line naming it (exit 6); not text: exit 3
        try:
            read_bytes(config_file, "service configuration").decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"the service configuration {config_file} is not UTF-8 text ({exc.reason})") from None
    try:
        settings = configs.load(config_file)
    except RecursionError:
        raise InvalidInput(f"the service configuration {config_file or '(from the environment)'} is nested too "
                           "deeply to be a configuration") from None
    chain_options: dict[str, Any] = {}
    if root is not None:
        for option, name in (("rpc_url", "rpc_url"), ("network", "network"), ("chain_id", "chain_id"),
                             ("deployments_dir", "deployments")):
            if _given(click_ctx, option):
                chain_options[name] = getattr(root, option)
        if "deployments" in chain_options:
            checked_folder(chain_options["deployments"], "deployments folder")
    settings = settings.with_overrides(host=host, port=port, database=database, index_url=index_url,
                                       directory=directory, platform=platform, **chain_options)
    click_ctx.meta[SETTINGS] = settings
    if click_ctx.invoked_subcommand is None:
        run(settings)


def run(settings: configs.ServiceConfig) -> None:
    """Open the platform (node, deployment, index, keys: any problem is one line and exit 1), then serve until
    told to stop."""
    import uvicorn  # here, not at the top: every other `ebl` command starts without the web stack

    from ..service.app import create_app
    from ..service.runtime import Platform

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its migration steps are not the operator's news
    platform = Platform(settings)
    app = create_app(platform)
    if settings.host not in LOOPBACK:
        click.echo(f"note: listening on {settings.host}, beyond loopback: serve it behind TLS", err=True)
    acting = ", ".join(a.account for a in settings.participants) or "nobody (read-only)"
    click.echo(f"ebl serve: chain {platform.chain_id}, platform {settings.platform}, http://{settings.host}:"
               f"{settings.port}, signing for {acting}", err=True)
    _note_carriers(platform)
    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            # uvicorn raises the signal again once it has shut down; a stop asked for is a clean exit (0) here
            self._captured_signals.clear()

    server = Server(uvicorn.Config(app, host=settings.host, port=settings.port, lifespan="on", log_level="info",
                                   server_header=False, date_header=True, timeout_graceful_shutdown=30))
    server.run()
    if not server.started:
        raise EblError(f"ebl serve could not listen on {settings.host}:{settings.port}")


def _note_carriers(platform: Any) -> None:
    """Say at start-up when no carrier can issue: the directory (as the index knows the participants now) has no
    carrier entry with a manifest signing key."""
    try:
        carriers = [e for e in platform.directory().entries.values() if e.signing_key]
    except EblError:  # an index not synced yet: the workers sync it, and requests are checked one by one
        return
    if not carriers:
        where = platform.directory_path or "no directory file"
        click.echo(f"note: the directory ({where}) has no carrier with a manifest signing key: issuance requests "
                   "are refused until it has (README, Connecting a carrier)", err=True)


# --- API keys -------------------------------------------------------------------------------------------------


@serve.group("keys")
def keys() -> None:
    """Per-participant API keys (the database keeps a hash of each; a key is shown once, when made)."""


@keys.command("add")
@click.argument("account", type=Address("account"))
@click.option("--label", default="", type=TEXT, help="What the key is for (shown by `keys list`).")
@click.pass_context
def keys_add(click_ctx: click.Context, account: str, label: str) -> None:
    """Make an API key for ACCOUNT and print it: it cannot be shown again."""
    engine = store.open_database(_database(_settings(click_ctx)))
    record, key = auth.add_key(engine, account, label)
    root = click_ctx.find_object(Context)
    if root is not None and root.as_json:
        emit_json({"keyId": record.key_id, "account": record.account, "label": record.label, "apiKey": key})
    else:
        click.echo(key)
        click.echo(f"key {record.key_id} for {record.account}: store it now, it is not shown again", err=True)


@keys.command("list")
@click.option("--account", default=None, type=Address("account"), help="Only this account's keys.")
@click.pass_context
def keys_list(click_ctx: click.Context, account: str | None) -> None:
    """The API keys (ids, accounts, labels; never the keys)."""
    engine = store.open_database(_database(_settings(click_ctx)), create=False)
    found = auth.list_keys(engine, account)
    root = click_ctx.find_object(Context)
    if root is not None and root.as_json:
        emit_json([{"keyId": k.key_id, "account": k.account, "label": k.label, "created": k.created_at,
                    "revoked": k.revoked_at} for k in found])
    else:
        from ..index.queries import iso_time

        emit_table("API keys", ["key", "account", "label", "created", "revoked"],
                   [(k.key_id, k.account, k.label, iso_time(int(k.created_at)),
                     iso_time(int(k.revoked_at)) if k.revoked_at else "") for k in found])


@keys.command("revoke")
@click.argument("key_id", type=TEXT)
@click.pass_context
def keys_revoke(click_ctx: click.Context, key_id: str) -> None:
    """Revoke an API key at once."""
    engine = store.open_database(_database(_settings(click_ctx)), create=False)
    record = auth.revoke_key(engine, key_id)
    click.echo(f"key {record.key_id} of {record.account} revoked")


# --- the callback outbox ------------------------------------------------------------------------------------


@serve.group("callbacks")
def callbacks() -> None:
    """The callbacks to carriers: delivered, pending (retried with backoff), dead (given up, kept)."""


@callbacks.command("list")
@click.option("--status", type=click.Choice(["pending", "delivered", "dead"]), default=None)
@click.pass_context
def callbacks_list(click_ctx: click.Context, status: str | None) -> None:
    """The callbacks, oldest first."""
    engine = store.open_database(_database(_settings(click_ctx)), create=False)
    found = outbox.listed(engine, status=status)
    root = click_ctx.find_object(Context)
    if root is not None and root.as_json:
        emit_json(found)
    else:
        emit_table("Callbacks", ["#", "operation", "subject", "carrier", "status", "attempts", "last error"],
                   [(c.id, c.operation, c.subject, c.carrier, c.status, c.attempts, c.last_error or "")
                    for c in found])


@callbacks.command("retry")
@click.argument("callback_id", type=UInt("callback id", maximum=2**63 - 1))
@click.pass_context
def callbacks_retry(click_ctx: click.Context, callback_id: int) -> None:
    """Put a dead callback back in line (a running service sends it within its interval)."""
    engine = store.open_database(_database(_settings(click_ctx)), create=False)
    found = outbox.retry(engine, callback_id)
    click.echo(f"callback #{found.id} ({found.operation} {found.subject}) is {found.status}")


cli.add_command(serve)  # `from . import serve` in cli/__init__.py is all the registration there is
