"""OUTDIR: where a run's files are published, and what talentrules may delete there.

A run never writes into OUTDIR itself. It builds its files in a temporary folder
beside it (``.NAME.<random>.tmp``, holding a marker file) and renames that folder into
place once everything is written. Around this:

- **Ownership.** An output folder's ``manifest.json`` lists every file the run wrote,
  with its SHA-256. ``--force`` replaces only such a folder, and only when it holds
  nothing else and every listed file is as written: otherwise the run is refused,
  naming the unknown or changed files. A folder without a manifest is never replaced.
  When the old output is put aside and removed, only the files it lists are deleted.
- **One run at a time.** A run holds an exclusive lock (``flock`` on ``.NAME.lock``
  beside OUTDIR) from its first check to its publication; a second run into the same
  OUTDIR is refused, naming the process that holds it.
- **Stopped runs.** SIGINT, SIGTERM and SIGHUP become exceptions
  (``interrupt.stop_signals``), so the temporary folder is removed on the way out;
  the swap of the old and new folders is two renames with those signals blocked. A
  run killed outright (SIGKILL, power loss) leaves its marked folders behind: the
  next run that takes the lock removes them, and puts back an old output that was
  left aside mid-swap.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from talentrules.errors import OutputError
from talentrules.interrupt import signals_blocked

MANIFEST = "manifest.json"
PARTIAL = ".talentrules-partial"  # in a folder being built: removed only once published
ASIDE = ".talentrules-aside"  # in the folder holding an old output while it is removed
MAX_MANIFEST_BYTES = 64 * 1024 * 1024  # a 10,000-person manifest is about 2.5 MB
_SHOWN = 8  # names listed in a refusal before "and N more"


# --------------------------------------------------------------------------------------
# What is in an output folder, and whether talentrules wrote all of it
# --------------------------------------------------------------------------------------


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def read_own_manifest(folder: Path) -> dict[str, str] | None:
    """The files an output folder's manifest lists (name -> SHA-256), or None when the
    folder has no manifest talentrules wrote (missing, a link, not a regular file, too
    large, not strict JSON, or without a ``files`` table of text)."""
    path = folder / MANIFEST
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_MANIFEST_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_MANIFEST_BYTES + 1)
    finally:
        os.close(fd)
    try:
        manifest = json.loads(data.decode("utf-8"), parse_constant=_not_json)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("manifest_version"), int):
        return None
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in files.items()
    ):
        return None
    return files


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


@dataclass
class _Survey:
    """An output folder compared with its manifest."""

    files: dict[str, str]  # listed name -> SHA-256
    unknown: list[str] = field(default_factory=list)  # present, not listed (or not a file)
    changed: list[str] = field(default_factory=list)  # listed, present, other bytes


def _survey(folder: Path, files: dict[str, str], hashes: bool = True) -> _Survey:
    """What ``folder`` holds beyond its manifest's files, and which of those changed."""
    survey = _Survey(files)
    folders = {"."}
    for name in files:
        parts = name.split("/")
        folders.update("/".join(parts[:n]) for n in range(1, len(parts)))
    for root, dirs, names in os.walk(folder):
        here = Path(root).relative_to(folder).as_posix()
        for name in sorted(dirs):
            relative = name if here == "." else f"{here}/{name}"
            full = Path(root) / name
            if full.is_symlink() or relative not in folders:
                survey.unknown.append(relative + ("" if full.is_symlink() else "/"))
                dirs.remove(name)  # neither followed nor listed file by file
        for name in sorted(names):
            relative = name if here == "." else f"{here}/{name}"
            full = Path(root) / name
            if here == "." and name in (MANIFEST, PARTIAL):
                continue
            listed = files.get(relative)
            if listed is None or not stat.S_ISREG(full.lstat().st_mode):
                survey.unknown.append(relative)
            elif hashes and _sha256(full) != listed:
                survey.changed.append(relative)
    survey.unknown.sort()
    survey.changed.sort()
    return survey


def check_target(outdir: Path, force: bool) -> None:
    """Refuse an OUTDIR a run may not replace; say what is in the way."""
    try:
        info = os.lstat(outdir)
    except FileNotFoundError:
        return
    except OSError as error:
        raise OutputError(f"{outdir}: cannot be used as OUTDIR ({error.strerror})") from error
    if not stat.S_ISDIR(info.st_mode):
        raise OutputError(f"{outdir}: exists and is not a folder; choose another OUTDIR")
    try:
        with os.scandir(outdir) as entries:
            empty = not any(entries)
    except OSError as error:
        raise OutputError(f"{outdir}: cannot be read ({error.strerror})") from error
    if empty:
        return
    if not force:
        raise OutputError(f"{outdir}: already exists; use --force to replace it")
    files = read_own_manifest(outdir)
    if files is None:
        raise OutputError(
            f"{outdir}: not replaced even with --force: it is not empty and holds no "
            f"{MANIFEST} of talentrules, so it is not an earlier talentrules output"
        )
    survey = _survey(outdir, files)
    if survey.unknown:
        raise OutputError(
            f"{outdir}: not replaced: it holds files talentrules did not write "
            f"({_names(survey.unknown)}); move them elsewhere, or choose another OUTDIR"
        )
    if survey.changed:
        raise OutputError(
            f"{outdir}: not replaced: files changed since talentrules wrote them "
            f"({_names(survey.changed)}); keep a copy elsewhere, or choose another OUTDIR"
        )


# --------------------------------------------------------------------------------------
# The lock, and leftovers of runs that were killed
# --------------------------------------------------------------------------------------


@dataclass
class Claim:
    """A run's hold on its OUTDIR: the lock, and what happened on the way."""

    outdir: Path  # where the files go (a symlink to a folder resolved to the folder)
    force: bool
    notes: list[str] = field(default_factory=list)  # leftovers removed or restored
    published: bool = False
    _fd: int = -1
    _lock: Path | None = None
    _depth: int = 0


_HELD: dict[Path, Claim] = {}  # this process's claims: write_outputs inside evaluate's


def _forget_locks_in_child() -> None:
    # A forked worker must not keep OUTDIR's lock alive: if the run is killed, its
    # workers may outlive it for a moment, and the next run would be refused.
    for claim in _HELD.values():
        if claim._fd >= 0:
            os.close(claim._fd)
        claim._fd, claim._lock = -1, None
    _HELD.clear()


os.register_at_fork(after_in_child=_forget_locks_in_child)


def target_of(outdir: str | Path) -> Path:
    """The folder a run writes to: absolute, and a symlink to a folder followed."""
    path = Path(outdir).absolute()
    if path.is_symlink() and path.is_dir():
        return path.resolve()
    return path


def _lock(outdir: Path) -> tuple[int, Path]:
    path = outdir.parent / f".{outdir.name}.lock"
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as error:
            raise OutputError(f"{outdir}: cannot write beside it ({error.strerror})") from error
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise OutputError(f"{outdir}: cannot lock it ({error.strerror})") from error
            who = f" (process {holder})" if holder.isdigit() else ""
            raise OutputError(
                f"{outdir}: another talentrules run is writing it{who}; wait for it to "
                "finish, or choose another OUTDIR"
            ) from error
        # The holder before us removes the file as it lets go: if it did so between our
        # open and our lock, we hold a lock on a removed file. Start again.
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            return fd, path
        os.close(fd)


def _unlock(claim: Claim) -> None:
    if claim._lock is not None:
        with contextlib.suppress(OSError):
            os.unlink(claim._lock)  # while still holding it: see _lock
    if claim._fd >= 0:
        os.close(claim._fd)
    claim._fd, claim._lock = -1, None


def _marked(folder: Path, marker: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(folder).st_mode) and stat.S_ISREG(
            os.lstat(folder / marker).st_mode
        )
    except OSError:
        return False


def _leftovers(outdir: Path) -> list[str]:
    """Remove what killed runs into ``outdir`` left beside it; restore an old output
    left aside mid-swap. Called with the lock held, so no live run owns them."""
    notes: list[str] = []
    stem = glob.escape(f".{outdir.name}.")
    for folder in sorted(outdir.parent.glob(stem + "*.tmp")):
        if _marked(folder, PARTIAL):
            shutil.rmtree(folder, ignore_errors=True)
            notes.append(f"removed {folder.name}, the unfinished output of an interrupted run")
    for folder in sorted(outdir.parent.glob(stem + "*.old")):
        if not _marked(folder, ASIDE):
            continue
        old = folder / outdir.name
        present = old.is_dir() and not old.is_symlink()
        if present and not outdir.exists():  # killed between the two renames of the swap
            os.replace(old, outdir)
            notes.append(f"put back {outdir.name}/, left aside by an interrupted run")
        elif present and (kept := _remove_output(old)):
            notes.append(
                f"kept {folder.name}/{outdir.name}/, an earlier output left aside by an "
                f"interrupted run: it holds files talentrules did not write ({_names(kept)})"
            )
            continue
        else:
            notes.append(f"removed {folder.name}, an earlier output an interrupted run left")
        with contextlib.suppress(OSError):
            os.remove(folder / ASIDE)
            os.rmdir(folder)
    return notes


@contextlib.contextmanager
def claim_outdir(outdir: str | Path, force: bool = False) -> Iterator[Claim]:
    """Hold OUTDIR for one run: lock it, clear killed runs' leftovers, check it may be
    written (``check_target``). Re-entrant within a process, so a library call inside a
    command's claim shares it."""
    target = target_of(outdir)
    held = _HELD.get(target)
    if held is not None:
        held._depth += 1
        try:
            yield held
        finally:
            held._depth -= 1
        return
    created = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{target}: cannot create its folder ({error.strerror})") from error
    claim = Claim(target, force)
    try:
        claim._fd, claim._lock = _lock(target)
    except OutputError:
        _remove_empty(created)
        raise
    _HELD[target] = claim
    try:
        claim.notes = _leftovers(target)
        try:
            check_target(target, force)
        except OutputError as error:
            if not claim.notes:
                raise
            raise OutputError(f"{error} ({'; '.join(claim.notes)})") from error
        yield claim
    finally:
        del _HELD[target]
        _unlock(claim)
        _remove_empty(created)  # a run that wrote nothing leaves no new folders either


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders this run created for OUTDIR's parent, if they stayed empty."""
    for folder in folders:  # deepest first
        try:
            folder.rmdir()
        except OSError:
            return


# --------------------------------------------------------------------------------------
# Building and publishing
# --------------------------------------------------------------------------------------


def workspace(claim: Claim) -> Path:
    """A new, marked temporary folder beside OUTDIR for the run to write into."""
    outdir = claim.outdir
    try:
        folder = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", suffix=".tmp", dir=outdir.parent))
        (folder / PARTIAL).write_text(f"{os.getpid()}\n", encoding="ascii")
    except OSError as error:
        raise OutputError(f"{outdir}: cannot write here ({error.strerror})") from error
    return folder


def discard(folder: Path) -> None:
    """Remove a temporary folder (only one this module made: it carries the marker)."""
    if _marked(folder, PARTIAL):
        shutil.rmtree(folder, ignore_errors=True)


def _remove_output(folder: Path) -> list[str]:
    """Delete an output folder's listed files (and its manifest), then its emptied
    folders; return what is left that talentrules did not write (kept)."""
    files = read_own_manifest(folder) or {}
    survey = _survey(folder, files, hashes=False)
    for name in files:
        with contextlib.suppress(OSError):
            path = folder / name
            if stat.S_ISREG(os.lstat(path).st_mode):
                os.remove(path)
    for name in (MANIFEST, PARTIAL):
        with contextlib.suppress(OSError):
            os.remove(folder / name)
    for root, _dirs, _files in os.walk(folder, topdown=False):  # children first
        with contextlib.suppress(OSError):
            os.rmdir(root)
    return survey.unknown


def publish(folder: Path, claim: Claim) -> None:
    """Move the finished ``folder`` into place; an old OUTDIR is put aside first and then
    only its listed files are deleted. The renames happen with stop signals held back."""
    outdir = claim.outdir
    check_target(outdir, claim.force)  # again: something may have been added meanwhile
    aside: Path | None = None
    if outdir.exists():
        aside = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", suffix=".old", dir=outdir.parent))
        (aside / ASIDE).write_text(f"{os.getpid()}\n", encoding="ascii")
    with signals_blocked():
        if aside is not None:
            os.replace(outdir, aside / outdir.name)
        try:
            os.replace(folder, outdir)
        except OSError:
            if aside is not None:
                os.replace(aside / outdir.name, outdir)  # put the old one back
                shutil.rmtree(aside, ignore_errors=True)
            raise
        claim.published = True
        with contextlib.suppress(OSError):
            os.remove(outdir / PARTIAL)
    if aside is not None:
        kept = _remove_output(aside / outdir.name)
        if kept:
            claim.notes.append(
                f"kept {aside}/: files that appeared in the old output during the run "
                f"({_names(kept)})"
            )
        else:
            os.remove(aside / ASIDE)
            with contextlib.suppress(OSError):
                os.rmdir(aside)
