"""Writing OUTDIR: every brief (in parallel), the summary, the JSON, the workbook, the
trace and the manifest, built in a workspace beside OUTDIR and published all at once
(``talentrules.outdir``: the lock, the marker, --force, interruptions)."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import multiprocessing
import os
import resource
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from talentrules import processes, record
from talentrules.errors import OutputError
from talentrules.ingest.store import RowTable, StoredRows
from talentrules.interrupt import quiet_worker
from talentrules.model import RowAbout
from talentrules.outdir import claim_outdir, discard, publish, workspace
from talentrules.report.builder import ContextBuilder
from talentrules.report.data import write_recommendations
from talentrules.report.names import Namer
from talentrules.report.render import TEMPLATE_NAMES, Renderer
from talentrules.report.workbook import write_xlsx

if TYPE_CHECKING:
    from talentrules.run import RunResult


Progress = Callable[[str, int, int], None]
# A hook writes extra files into the run's folder before it is published; it gets the
# temporary folder and the result. manifest.json is written after the hooks, so it
# lists and hashes their files too.
Hook = Callable[[Path, "RunResult"], None]
RECOMMENDATIONS = "recommendations.json"


@dataclass(frozen=True)
class Written:
    """What write_outputs produced."""

    outdir: Path
    briefs: int  # people with a brief (each in HTML and Markdown)
    # Wall seconds: "briefs" (all of it, with what this process writes meanwhile:
    # "summary" and "files", recommendations.json and .xlsx; with one job after the
    # briefs; then "trace", what was left of trace.jsonl to chain from the workers'
    # lines after the last brief), "manifest" (hooks and manifest.json, last). CPU
    # seconds: "trace_cpu" (all the chaining), "summary_cpu",
    # "files_cpu" of this process; "briefs_context_cpu", "briefs_render_cpu"
    # (templates), "briefs_write_cpu" (of which "briefs_write_kernel_cpu" in the
    # kernel), "briefs_trace_cpu" (the trace lines) summed over the workers.
    timings: dict[str, float]
    # What was done beside OUTDIR: leftovers of interrupted runs removed or restored.
    notes: tuple[str, ...] = ()


_RENDER: dict[str, Any] = {}  # per worker process: builder, renderer, folder


def _start_renderer(state: dict[str, Any]) -> None:
    """A spawned worker's builder, renderer and folder (forked ones inherit them)."""
    quiet_worker()  # Ctrl-C is the parent's to handle: no traceback from a worker
    _RENDER.update(state)


# What a worker sends back for a span of people: where it starts, how many, CPU seconds
# building the contexts, rendering, writing and making the trace lines, the kernel's
# part of the writing, and each file written with the SHA-256 of its bytes.
Batch = tuple[int, int, float, float, float, float, float, list[tuple[str, str]]]
TRACE_PARTS = ".trace-parts"  # in the workspace: each span's trace lines, until chained
# People a span: at most _SPAN (about a second of a worker's time), fewer towards the
# end so that the workers finish together, and at least _SPAN_END.
_SPAN, _SPAN_END = 250, 10


def _render_span(span: tuple[int, int]) -> Batch:
    """Build, render and write the briefs of people ``span``, in CPU seconds so that a
    busy machine does not distort the split: the thread's clock, since the process's
    moves in scheduler ticks while a render's CPU time limit (an ITIMER_PROF) is
    armed, and so charged part of each context to the render after it. Each file is
    hashed as it is written, so that the manifest need not read 20,000 files back at
    the end of the run. The span's trace lines are made here too, while the person's
    facts are at hand (a brief derives them), and left in a file of the span for
    ``_write_trace``."""
    builder: ContextBuilder = _RENDER["builder"]
    renderer: Renderer = _RENDER["renderer"]
    folder: Path = _RENDER["folder"]
    building = rendering = writing = tracing = kernel = 0.0
    hashes: list[tuple[str, str]] = []
    lines: list[str] = []
    with builder.reading(*span), renderer.many():
        for index in range(*span):
            start = time.thread_time()
            context = builder.brief(index)
            built = time.thread_time()
            texts = (
                renderer.render("brief.html.j2", context),
                renderer.render("brief.md.j2", context),
            )
            rendered = time.thread_time()
            system = _system_seconds()
            for name, text in zip(context.files, texts, strict=True):
                data = text.encode("utf-8")
                _write_new(folder / name, data)
                hashes.append((name, hashlib.sha256(data).hexdigest()))
            written = time.thread_time()
            kernel += _system_seconds() - system
            line, at = record.unchained_line(builder.result, index)
            lines.append(f"{at}\t{line}\n")  # JSON text holds no tab or line break
            building += built - start
            rendering += rendered - built
            writing += written - rendered
            tracing += time.thread_time() - written
    start = time.thread_time()
    _trace_part(folder, span[0]).write_text("".join(lines), encoding="utf-8", newline="\n")
    tracing += time.thread_time() - start
    return span[0], span[1] - span[0], building, rendering, writing, tracing, kernel, hashes


_RUSAGE_THREAD: int | None = getattr(resource, "RUSAGE_THREAD", None)


def _system_seconds() -> float:
    """This thread's CPU seconds in the kernel, where the system has the count (Linux):
    a brief's files cost more there (creating them) than in encoding and hashing them,
    and how much depends on the file system's state (docs/scale.md, ninth part)."""
    if _RUSAGE_THREAD is None:
        return 0.0
    return resource.getrusage(_RUSAGE_THREAD).ru_stime


# Opened as Path.write_bytes opens (same mode, same permissions under the umask), but
# as a plain descriptor: Python's buffered file object costs three more system calls
# (fstat, ioctl, lseek) and its own setting up, for a file written in one call.
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | getattr(os, "O_BINARY", 0)


def _write_new(path: Path, data: bytes) -> None:
    """Write ``data`` into the file ``path``, created or truncated."""
    descriptor = os.open(path, _NEW_FILE, 0o666)
    try:
        view = memoryview(data)
        while view:  # a regular file takes it in one write; a signal may cut it short
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)


def _trace_part(folder: Path, start: int) -> Path:
    return folder / TRACE_PARTS / f"{start:012d}.txt"


def check_outdir(outdir: str | Path, force: bool = False) -> None:
    """Refuse an OUTDIR that write_outputs would refuse, before any work is done.

    Inside ``outdir.claim_outdir`` (as ``evaluate`` runs) this is the claim's own check;
    alone it takes the lock for the check only."""
    with claim_outdir(outdir, force):
        pass


def write_outputs(
    result: RunResult,
    outdir: str | Path,
    templates_dir: str | Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
    jobs: int | None = None,
    hooks: Sequence[Hook] = (),
    names: bool = True,
) -> Written:
    """Write briefs, summary, recommendations.xlsx/.json and trace.jsonl into ``outdir``.

    Everything is built in a temporary folder beside ``outdir`` and renamed into
    place at the end: a failure half-way leaves no partial ``outdir``. An existing
    ``outdir`` is refused unless ``force`` (and then only an earlier output folder is
    replaced). Briefs render in ``jobs`` processes (default: the machine's cores).
    ``names=False`` writes the summary's general edition: counts without names.
    """
    shown = Path(outdir).absolute()
    # The run (rows, facts, results) lives until the end: frozen, it is out of the
    # collector's full passes (1.2 of 1.5 CPU s of collection at 10,000 people) while
    # the outputs are made, in forked workers too, where those passes would also copy
    # every page of the parent's heap into each worker. A caller's own freeze (serve
    # freezes its run) is left as it was.
    caller_froze = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        with claim_outdir(outdir, force) as claim:
            folder = workspace(claim)
            try:
                timings = _write_all(
                    result, folder, templates_dir, force, progress, jobs, hooks, names
                )
                publish(folder, claim)
            except OSError as error:
                discard(folder)
                raise OutputError(f"{shown}: could not write the outputs: {error}") from error
            except BaseException:  # also Ctrl-C, SIGTERM: no half-written folder stays
                discard(folder)
                raise
    finally:
        if not caller_froze:
            gc.unfreeze()
    return Written(shown, len(result.results), timings, tuple(claim.notes))


def _write_all(
    result: RunResult,
    folder: Path,
    templates_dir: str | Path | None,
    force: bool,
    progress: Progress | None,
    jobs: int | None,
    hooks: Sequence[Hook],
    names: bool,
) -> dict[str, float]:
    """Every output file into ``folder``; returns the stage timings."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    renderer = Renderer(Path(templates_dir) if templates_dir is not None else None)
    for name in TEMPLATE_NAMES:
        renderer.template(name)  # template errors surface before any work
    namer = Namer(result.employees)
    builder = ContextBuilder(result, namer)
    (folder / "briefs").mkdir()

    # The SHA-256 of what this process writes meanwhile, taken while the workers render
    # rather than by the manifest at the end, when the other core has nothing to do.
    written: dict[str, str] = {}

    def summary() -> None:
        context = builder.summary(panel_edition=names)
        for name in ("summary.html", "summary.md"):
            renderer.write(f"{name}.j2", context, folder / name)  # streamed: not one string
            written[name] = record.sha256_file(folder / name)

    def files() -> None:
        write_recommendations(result, namer, folder / RECOMMENDATIONS)
        write_xlsx(result, folder / "recommendations.xlsx", namer)
        for name in (RECOMMENDATIONS, "recommendations.xlsx"):
            written[name] = record.sha256_file(folder / name)

    # What the parent writes while the workers render the briefs (after them with one job).
    meanwhile: list[tuple[str, Callable[[], object]]] = [
        ("summary", summary),
        ("files", files),
    ]
    total = len(result.results)
    with _TraceChain(folder) as chain:
        briefs, hashes = _render_briefs(
            builder, renderer, folder, total, jobs, progress, meanwhile, chain
        )
        timings.update(briefs)
        start = time.perf_counter()
        trace = chain.finish(total)
    timings["trace"] = time.perf_counter() - start  # what was left after the last brief
    timings["trace_cpu"] = chain.cpu
    timings["briefs"] = time.perf_counter() - clock
    clock = time.perf_counter()
    for hook in hooks:
        hook(folder, result)
    # Last: the manifest hashes every file written above (and marks the folder as ours).
    record.write_manifest(
        folder,
        result,
        templates_dir=templates_dir,
        options={
            "allow_rejects": result.allow_rejects,
            "names": names,
            "jobs": jobs,
            "force": force,
            **({"session": result.session} if result.session is not None else {}),
        },
        started=result.started or None,
        hashes={**hashes, **written},
        trace=trace,
    )
    timings["manifest"] = time.perf_counter() - clock
    return timings


def _render_briefs(
    builder: ContextBuilder,
    renderer: Renderer,
    folder: Path,
    total: int,
    jobs: int | None,
    progress: Progress | None,
    meanwhile: Sequence[tuple[str, Callable[[], object]]],
    chain: _TraceChain,
) -> tuple[dict[str, float], dict[str, str]]:
    """Every brief in both formats, and the ``meanwhile`` tasks in this process (while
    the workers render, or after the briefs with one job). Returns the wall seconds of
    each task and the CPU seconds this process spent on it ("summary_cpu"...), and the
    CPU seconds spent building the briefs' contexts, rendering and writing them and
    making the trace lines, summed over the workers ("briefs_context_cpu",
    "briefs_render_cpu", "briefs_write_cpu" and its "briefs_write_kernel_cpu",
    "briefs_trace_cpu"); and the SHA-256 of
    every brief file, by its name in the folder. Each span's trace lines are left in
    the folder's TRACE_PARTS for ``chain``, which chains them while the workers render
    the spans after."""
    jobs = max(1, min(jobs or os.cpu_count() or 1, total // 100 or 1))
    spans = _spans(total, jobs)
    _RENDER.update(builder=builder, renderer=renderer, folder=folder)
    done, building, rendering, writing, tracing, kernel = 0, 0.0, 0.0, 0.0, 0.0, 0.0
    timings: dict[str, float] = {}
    hashes: dict[str, str] = {}  # each brief's SHA-256, as its worker wrote it

    def count(batch: Batch) -> None:
        nonlocal done, building, rendering, writing, tracing, kernel
        chain.add(batch[0], batch[1])
        done += batch[1]
        building += batch[2]
        rendering += batch[3]
        writing += batch[4]
        tracing += batch[5]
        kernel += batch[6]
        hashes.update(batch[7])
        if progress is not None:
            progress("briefs", done, total)

    def run_meanwhile(ready: Callable[[], None]) -> None:
        with _employees_at_hand(builder.result):
            for stage, task in meanwhile:
                start, cpu = time.perf_counter(), time.process_time()
                task()
                timings[stage] = time.perf_counter() - start
                timings[f"{stage}_cpu"] = time.process_time() - cpu
                ready()  # count the batches done meanwhile: the progress bar moves on

    try:
        if jobs == 1:
            for span in spans:
                count(_render_span(span))
            run_meanwhile(lambda: None)
        else:
            # fork: workers inherit the run and the compiled templates instead of
            # unpickling them; results come back as small tuples. spawn (no fork, or
            # macOS): each worker gets them pickled once, by its initializer.
            pools = processes.context()
            if pools.get_start_method() == "fork":
                pool = pools.Pool(jobs, quiet_worker)
            else:
                pool = pools.Pool(jobs, _start_renderer, (dict(_RENDER),))
            try:
                batches = pool.imap_unordered(_render_span, spans)

                def ready() -> None:
                    while True:
                        try:
                            count(batches.next(timeout=0))
                        except (multiprocessing.TimeoutError, StopIteration):
                            return

                run_meanwhile(ready)  # the parent would only wait for the workers
                for batch in batches:
                    count(batch)
                    chain.chain()  # trace.jsonl as far as the spans in allow
            finally:
                pool.terminate()
                pool.join()
    finally:
        _RENDER.clear()
    timings["briefs_context_cpu"] = building
    timings["briefs_render_cpu"] = rendering
    timings["briefs_write_cpu"] = writing
    timings["briefs_trace_cpu"] = tracing
    timings["briefs_write_kernel_cpu"] = kernel
    return timings, hashes


@contextlib.contextmanager
def _employees_at_hand(result: RunResult) -> Iterator[None]:
    """While this process writes the summary and the results files: everyone's
    Employees row read in one query (``store.RowTable``), not one query a read. Set
    after the workers have started (they read theirs as they go) and put back after."""
    employees = result.employees
    about = employees.rows if isinstance(employees, RowAbout) else None
    rows = about.panel.rows.get(about.sheet) if about is not None else None
    if about is None or about.sheet != "Employees" or not isinstance(rows, StoredRows):
        yield
        return
    result.employees = RowTable(rows)
    try:
        yield
    finally:
        result.employees = employees


def _spans(total: int, jobs: int) -> list[tuple[int, int]]:
    """The people's spans, in order: each about an eighth of what is left for ``jobs``
    workers (at most _SPAN, at least _SPAN_END people), so that the last spans are
    short and no worker renders alone at the end while the other core idles."""
    spans = []
    start = 0
    while start < total:
        size = max(_SPAN_END, min(_SPAN, -(-(total - start) // (jobs * 4))))
        spans.append((start, min(start + size, total)))
        start += size
    return spans


class _TraceChain:
    """trace.jsonl from the spans' lines (``_render_span``), in order, each line with
    the hash of the one before (``record.rechain``): a span is chained as soon as the
    spans before it are in, while the workers render the rest, so that little is left
    to chain after the last brief. The bytes are hashed as they are written, and the
    lines counted, for the manifest (which need not read the file back)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        (folder / TRACE_PARTS).mkdir()
        self.handle = open(folder / record.TRACE, "wb")  # closed by __exit__ or finish
        self.digest = hashlib.sha256()
        self.prev = record.GENESIS  # the hash of the last line written
        self.lines = 0
        self.ends: dict[int, int] = {}  # spans rendered, not yet chained: start -> end
        self.next = 0  # where the next span to chain starts
        self.cpu = 0.0  # CPU seconds spent chaining

    def __enter__(self) -> _TraceChain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()

    def add(self, start: int, count: int) -> None:
        """The span of ``count`` people from ``start`` has its lines in its part."""
        self.ends[start] = start + count

    def chain(self) -> None:
        """Chain every span whose turn has come; their parts are removed."""
        cpu = time.process_time()
        while self.next in self.ends:
            start, self.next = self.next, self.ends.pop(self.next)
            part = _trace_part(self.folder, start)
            with open(part, encoding="utf-8", newline="\n") as lines:
                unchained = [text.rstrip("\n").split("\t", 1) for text in lines]
            part.unlink()
            chained = list(record.rechain(((line, int(at)) for at, line in unchained), self.prev))
            if chained:
                data = "".join(line + "\n" for line in chained).encode("utf-8")
                self.handle.write(data)
                self.digest.update(data)
                self.lines += len(chained)
                self.prev = record.sha256_text(chained[-1])
        self.cpu += time.process_time() - cpu

    def finish(self, total: int) -> tuple[str, int, str]:
        """Chain what is left; trace.jsonl's SHA-256, line count and last line's hash."""
        self.chain()
        self.handle.close()
        if self.ends or self.lines != total:  # a span lost: never a short trace
            raise OutputError(f"trace.jsonl: {self.lines} lines made for {total} people")
        (self.folder / TRACE_PARTS).rmdir()
        return self.digest.hexdigest(), self.lines, self.prev
