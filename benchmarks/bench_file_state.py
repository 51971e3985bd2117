"""Creating brief-sized files on a file system, settled and right after a removal nearby.

    python benchmarks/bench_file_state.py FOLDER [FOLDER ...] [--files 20000]

In each FOLDER (one file system each): creates ``--files`` files of 30 KB as
`evaluate` writes its briefs (``os.open``/``os.write``/``os.close``) in a new folder,
then twice as many of 20 KB in another, removes those, and at once creates the first
kind again in a third folder. Prints the CPU seconds (and the kernel's part) of each
creation. On ext4 without a journal (these machines' disk) the kernel skips, at every
inode it allocates, each one freed in the last one to six minutes nearby, so the
second creation costs many times the first; with a journal it costs the same
(docs/scale.md, "Brief files and the file system's journal"). Everything made is
removed at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
from pathlib import Path

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


def create(folder: Path, files: int, body: bytes) -> tuple[float, float]:
    """CPU seconds, and the kernel's part, of creating ``files`` files of ``body``."""
    folder.mkdir()
    before = resource.getrusage(resource.RUSAGE_SELF)
    for n in range(files):
        descriptor = os.open(folder / f"{n:06d}.html", _FLAGS, 0o666)
        os.write(descriptor, body)
        os.close(descriptor)
    after = resource.getrusage(resource.RUSAGE_SELF)
    kernel = after.ru_stime - before.ru_stime
    return after.ru_utime - before.ru_utime + kernel, kernel


def measure(root: Path, files: int) -> list[str]:
    work = Path(tempfile.mkdtemp(prefix="bench-file-state-", dir=root))
    try:
        brief = b"x" * 30_000
        settled = create(work / "settled", files, brief)
        create(work / "removed", 2 * files, b"y" * 20_000)
        shutil.rmtree(work / "removed")
        after = create(work / "after", files, brief)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return [
        f"{root}: {files:,} files, nothing removed before: {settled[0]:.2f} CPU s "
        f"(kernel {settled[1]:.2f})",
        f"{root}: {files:,} files, right after {2 * files:,} were removed: {after[0]:.2f} "
        f"CPU s (kernel {after[1]:.2f}); {after[0] / max(settled[0], 1e-9):.1f} times",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="a folder on each file system")
    parser.add_argument("--files", type=int, default=20_000, help="brief files (two a person)")
    args = parser.parse_args()
    for folder in args.folders:
        for line in measure(folder, args.files):
            print(line, flush=True)


if __name__ == "__main__":
    main()
