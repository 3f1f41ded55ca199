"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from evaltools.errors import OutputError


def write_bytes_atomic(target: Path, data: bytes) -> None:
    """Write `data` to `target` through a temporary file in the same folder and a rename.

    A concurrent reader sees either the old file or the new one, never a partial write; on
    failure the temporary file is removed and `target` is untouched.
    """
    target = Path(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report_file(target: Path, data: str | bytes) -> None:
    """Write one of a report's files atomically (:func:`write_bytes_atomic`), its folder too.

    Raises
    ------
    OutputError
        If the folder or the file cannot be written.
    """
    target = Path(target)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(target, raw)
    except OSError as exc:
        raise OutputError(f"{target}: could not write the report ({exc})") from exc


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
