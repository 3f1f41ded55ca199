"""Putting a finished report folder in place atomically: it is built in a hidden working
folder beside its final place (``.<slug>.<pid>.<random>``) and replaces the earlier folder in
one rename, so a failure never leaves a half-written report in place of a good one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from evaltools.errors import OutputError


def writable_folder(out_dir: Path) -> Path:
    """`out_dir`, created if needed, resolved.

    Raises
    ------
    OutputError
        If it cannot be created (e.g. a parent is a file) or is not writable.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise OutputError(
            f"{out_dir}: cannot create the output folder: a file is in the way."
        ) from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(f"{out_dir}: cannot create the output folder ({reason}).") from exc
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise OutputError(f"{out_dir}: the output folder is not writable.")
    return out_dir.resolve()


def working_folder(out: Path, slug: str) -> Path:
    """A new hidden folder ``.<slug>.<pid>.<random>`` in `out`, with the usual permissions.

    The process id in the name lets ``evaltools batch`` remove what a worker it killed left.

    Raises
    ------
    OutputError
        If `out` cannot be written in.
    """
    try:
        folder = Path(tempfile.mkdtemp(prefix=f".{slug}.{os.getpid()}.", dir=out))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(f"{out}: cannot write in the output folder ({reason}).") from exc
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)  # mkdtemp makes it private; a report folder is not
    return folder


#: The file that marks a folder evaltools made; only such a folder is ever replaced.
MARKER = ".evaltools-report"
#: Files that mark a report folder made before the marker existed (a report, a failure).
_EARLIER_MARKS = ("provenance.json", "error.txt", "portfolio.json")


def made_by_evaltools(folder: Path) -> bool:
    """Whether `folder` is a report (or failure) folder evaltools made, so may be replaced."""
    return any((folder / name).is_file() for name in (MARKER, *_EARLIER_MARKS))


def check_replaceable(final: Path) -> None:
    """Refuse to go on when `final` exists and is not a folder evaltools made.

    Raises
    ------
    OutputError
        Naming the folder; nothing in it is touched.
    """
    if (final.exists() or final.is_symlink()) and (
        final.is_symlink() or not final.is_dir() or not made_by_evaltools(final)
    ):
        raise OutputError(
            f"{final}: is in the way and was not made by evaltools (no {MARKER} file), so it "
            "is not replaced; move it away, or choose another --out or `slug`."
        )


def publish(workdir: Path, final: Path) -> None:
    """Put the finished folder at `final`, replacing any earlier one in one rename.

    The folder is marked as evaltools' (:data:`MARKER`); an existing `final` that is not
    marked is refused (:func:`check_replaceable`), never deleted.
    """
    check_replaceable(final)
    (workdir / MARKER).write_text(
        "This folder was made by evaltools; a later run replaces it whole.\n", encoding="utf-8"
    )
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        final.rename(old)
    try:
        workdir.rename(final)
    except BaseException:  # also when interrupted here: put the earlier report back
        if old is not None and not final.exists():
            old.rename(final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
