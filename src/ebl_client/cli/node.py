"""`ebl node`: the embedded Anvil in the foreground, its state kept in a file so a restart keeps the chain."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from ..errors import LocalFileError
from ..node import BESU_LIKE, BESU_LIKE_STATE_FILE, STATE_FILE, AnvilNode, default_state_file, run_in_foreground
from .app import Context, pass_ctx
from .files import checked_folder
from .output import emit_json
from .values import PORT


@click.command()
@click.option("--port", type=PORT, default=8545, show_default=True, help="Port to serve JSON-RPC on (1-65535).")
@click.option("--state-file", type=click.Path(path_type=Path), default=None,
              help=f"Anvil state: loaded at start, written back on stop, so a restart keeps the chain. "
                   f"[default: {STATE_FILE}; {BESU_LIKE_STATE_FILE} with --besu-like]")
@click.option("--fresh", is_flag=True, help="Start an empty chain (deletes the state file first).")
@click.option("--besu-like", is_flag=True,
              help="Chain id 1337, gas price 0, base fee 0, a block every second (test the besu profile).")
@pass_ctx
def node(ctx: Context, port: int, state_file: Path | None, fresh: bool, besu_like: bool) -> None:
    """Run the embedded Anvil in the foreground until Ctrl-C or SIGTERM (Anvil then writes its state file).
    Exits 5 (node) with one error line if Anvil cannot start or stops by itself."""
    settings: Mapping[str, Any] = BESU_LIKE if besu_like else {}
    state = state_file or default_state_file(besu_like)
    checked_folder(state.parent, "state file folder")
    if state.is_dir():
        raise LocalFileError(state, "Is a directory", "use", "state file")
    anvil = AnvilNode(port=port, state_file=state, fresh=fresh, **settings)
    run_in_foreground(anvil, lambda node: emit_json(node.info()) if ctx.as_json
                      else click.echo(f"{node.summary()}; Ctrl-C stops"))
