"""The local files the `ebl` commands read and write: every problem is one `errors.LocalFileError` naming the
path and the system's reason (`cannot write /x/y: No such file or directory`, exit LOCAL), or `InvalidInput`
for content that cannot be what it should be (exit INVALID); never an OSError or a RecursionError.

Writes are all or nothing: a file is written beside its place and moved there complete, so a failure (a full
disk, a folder that vanished) never leaves half a file, and a file that must not be overwritten is never
replaced, not even by a race with another writer.

This module imports nothing of `cli.app`: the index commands use it too.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import InvalidInput, LocalFileError
from ..hashing import parse_json

#: JSON files the commands read are at most this large (and at most hashing.MAX_DEPTH deep)
MAX_BYTES = 16 * 1024 * 1024


def read_bytes(path: Path, what: str = "") -> bytes:
    """The file's bytes (at most MAX_BYTES); LocalFileError when it cannot be read (missing, a folder, ...)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise LocalFileError.of(exc, path, "read", what) from None
    except ValueError as exc:  # a path with a NUL byte
        raise LocalFileError(path, str(exc), "read", what) from None
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"{what + ' ' if what else ''}{path} is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    return data


def read_json(path: Path, what: str = "file") -> Any:
    """A JSON file strictly parsed (`hashing.parse_json`: no duplicate keys, no NaN, at most MAX_DEPTH deep,
    measured before parsing)."""
    return parse_json(read_bytes(path, what), what=f"{what} {path}")


def checked_folder(path: Path, what: str = "folder") -> Path:
    """`path` when it is a folder, or nothing yet: LocalFileError when it is a file (or below one)."""
    probe = Path(path)
    while True:
        try:
            if probe.exists() or probe.is_symlink():
                break
        except (OSError, ValueError) as exc:
            raise LocalFileError(path, str(getattr(exc, "strerror", None) or exc), "use", what) from None
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        reason = "Not a directory" if probe == Path(path) else f"{probe} is not a directory"
        raise LocalFileError(path, reason, "use", what)
    return Path(path)


def writable_folder(path: Path, what: str = "folder") -> Path:
    """`checked_folder`, and the folder (or its nearest existing parent, where it will be made) writable."""
    checked_folder(path, what)
    probe = Path(path)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        raise LocalFileError(path, "Permission denied", "write", what)
    return Path(path)


def write_text(path: Path, text: str, *, what: str = "", overwrite: bool = False, mode: int = 0o644,
               refusal: str = "it already exists; refusing to overwrite it") -> Path:
    """Write `text` to `path` whole or not at all (a temporary file beside it, then moved into place). Without
    `overwrite` an existing file is never replaced (LocalFileError with `refusal`)."""
    path = Path(path)
    if not overwrite and (path.exists() or path.is_symlink()):
        raise LocalFileError(path, refusal, "write", what)
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:50]}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if isinstance(exc, FileNotFoundError | NotADirectoryError) and not folder.is_dir():
            reason = f"{reason} (no folder {folder})"
        raise LocalFileError(path, reason, "write", what) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if the file appeared meanwhile: never replaced
    except FileExistsError:
        raise LocalFileError(path, refusal, "write", what) from None
    except OSError as exc:
        raise LocalFileError.of(exc, path, "write", what) from None
    except UnicodeEncodeError as exc:
        raise InvalidInput(f"{what + ' ' if what else ''}{path}: the text cannot be written as UTF-8 ({exc.reason})") \
            from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return path
