"""Render batches on Dask distributed: ``--scheduler tcp://HOST:8786``, or ``local``.

Each batch is one task (hundreds of statements: the scheduler's per-task cost is
about a millisecond). A worker plugin carries the series' reduced CJK fonts as bytes,
writes them once per worker and makes that process's Renderer (templates, CSS,
font configuration) before any task runs. A task renders its batch into a folder
of the worker's own and sends the files back as bytes; the client writes them into
the staged output as each batch completes, so the output is the same atomic folder
as with the process pool and no worker needs a shared filesystem or write access to
it. Bytes rather than a shared store: about 30 KB a statement, 3 MB/s at 100
statements/s, which any network carries; and nothing is left behind on a worker.

What reaches a worker: the statements as printed (name, candidate number and ID,
centre, results, the signed token and its QR text), the build's time and the reduced
fonts. Not the signing key, pepper, statement secret or PAdES seal key (signing,
the PDFs' seals and encryption stay on the client),
nor the candidates' secret numbers or e-mail addresses, which are blanked before
sending: nothing printed uses them.

A worker that dies mid-batch has its batch run again elsewhere by the scheduler
(up to its ``allowed-failures``); a batch that fails raises the same BuildError as
on the process pool. With a seal, the client seals each batch's PDFs in processes of
its own machine, beside the loop that feeds the cluster: sealed one by one in it
(5 ms a PDF), they would cap a cluster at about 200 statements/s.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures import Future as LocalFuture
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import datetime
from itertools import count, islice
from pathlib import Path
from typing import Any

import dask
from distributed import Client, Future, LocalCluster, WorkerPlugin, as_completed
from distributed.scheduler import KilledWorker

from results_online.build.output import remove_stale_temp, temp_prefix
from results_online.build.render.fonts import ReducedFont, SeriesFonts
from results_online.build.render.sealpdf import seal_all
from results_online.build.render.statements import Made, renderer
from results_online.errors import BuildError
from results_online.keys.seal import Seal
from results_online.model import Statement
from results_online.names import STATEMENT_EXTENSIONS

log = logging.getLogger("results_online.build.render.cluster")
LOCAL = "local"
# Imported by each LocalCluster worker as it starts (``dask worker --preload`` on a cluster).
PRELOAD = "results_online.build.render.statements"
# The render workers' Dask settings: applied to a LocalCluster, DASK_CONFIG for `dask worker`.
WORKER_CONFIG = Path(__file__).with_name("dask-worker.yaml")
_PRE_SPAWN = "distributed.nanny.pre-spawn-environ."
AHEAD_PER_THREAD = 2  # batches in flight per worker thread: one rendering, one queued
# (stem relative to out_dir, bytes per extension, the viewer fragment) per statement
_Files = list[tuple[str, list[bytes], str]]
_fonts: dict[str, tuple[SeriesFonts, Path]] = {}  # per worker process: plugin name -> fonts


class RenderSetup(WorkerPlugin):
    """Installs one build's reduced fonts on a worker and makes its Renderer, once."""

    def __init__(self, name: str, fonts: SeriesFonts) -> None:
        self.name = name
        self.files = [(f.replaces, f.weight, f.path.name, f.path.read_bytes()) for f in fonts.fonts]

    def setup(self, worker: Any) -> None:
        """Write the fonts into a folder of this worker's and make the Renderer."""
        remove_stale_temp(Path(tempfile.gettempdir()))
        folder = Path(tempfile.mkdtemp(prefix=temp_prefix("fonts")))
        made = []
        for family, weight, name, data in self.files:
            (folder / name).write_bytes(data)
            made.append(ReducedFont(family, weight, folder / name))
        fonts = SeriesFonts(tuple(made))
        renderer(fonts)
        _fonts[self.name] = (fonts, folder)

    def teardown(self, worker: Any) -> None:
        """Remove this build's fonts from the worker."""
        entry = _fonts.pop(self.name, None)
        if entry is not None:
            shutil.rmtree(entry[1], ignore_errors=True)


def render_remote(plugin: str, batch: Sequence[Statement], now: datetime) -> _Files:
    """On a worker: render one batch and return its files' bytes."""
    if plugin not in _fonts:
        raise BuildError("a Dask worker has no fonts for this build (its plugin did not run)")
    fonts, _ = _fonts[plugin]
    with tempfile.TemporaryDirectory(prefix=temp_prefix("batch")) as tmp:
        root = Path(tmp)
        try:
            made = renderer(fonts).render_batch(batch, root, now, None)
        except BuildError:
            raise
        except Exception as exc:
            raise BuildError(f"rendering a batch of centre {batch[0].centre.number} failed: "
                             f"{type(exc).__name__}") from exc
        pdf_ext = STATEMENT_EXTENSIONS[0]
        return [(str(Path(pdf).relative_to(root)).removesuffix(pdf_ext),
                 [Path(pdf).read_bytes(), Path(html).read_bytes()], fragment)
                for pdf, html, fragment in made]


@contextmanager
def connecting(scheduler: str, workers: int) -> Iterator[Callable[[], Client]]:
    """Connect to the scheduler (or start the LocalCluster) on a thread; yield a wait for it.

    The build makes its reduced fonts meanwhile: a LocalCluster's worker processes
    start Python, import Dask and the renderer (their preload) in parallel with it.
    Leaving closes the client and cluster on that thread, beside the stages after
    rendering (a LocalCluster takes seconds to stop its workers); the process waits
    for it before it exits.
    """
    stack = ExitStack()
    thread = ThreadPoolExecutor(1, thread_name_prefix="dask-connect")
    try:
        yield thread.submit(_open, scheduler, workers, stack).result
    finally:
        thread.submit(_close, stack)
        thread.shutdown(wait=False)


def render_on_cluster(client: Client, batches: Iterable[Sequence[Statement]], out_dir: Path,
                      fonts: SeriesFonts, *,
                      done: Callable[[Sequence[Statement], list[Made]], None],
                      now: datetime, seal: Seal | None = None) -> None:
    """Run the batches as Dask tasks, drawn as the workers need them; write each as it completes.

    At most two batches per worker thread are in flight (one rendering, one queued),
    as on the process pool, so the series is never held here whole. With a ``seal``,
    each PDF is sealed here on the client as it arrives: the seal's key never goes to
    a worker.
    """
    name = f"results-render-{uuid.uuid4().hex}"
    client.register_plugin(RenderSetup(name, fonts), name=name)
    queue = iter(batches)
    running: dict[Future[_Files], Sequence[Statement]] = {}
    finished = as_completed()
    keys = (f"render-{name[-8:]}-{k}" for k in count())

    def submit() -> None:
        # Counted again each time: workers may join or leave a real cluster mid-build.
        ahead = AHEAD_PER_THREAD * max(1, sum(client.nthreads().values()))
        for batch in islice(queue, max(0, ahead - len(running))):
            future = client.submit(render_remote, name, [_blank(s) for s in batch], now,
                                   key=next(keys), pure=False)
            running[future] = batch
            finished.add(future)

    writer = _Writer(out_dir, seal, done)
    try:
        submit()
        for future in finished:
            batch = running.pop(future)
            files = future.result()
            submit()  # before writing: the workers are not kept waiting on this client
            writer.put(batch, files)
        writer.finish()
    except KilledWorker as exc:
        raise BuildError("a render worker process died",
                         hint="check free memory on the Dask workers") from exc
    finally:
        writer.close()
        client.cancel(list(running))
        client.unregister_worker_plugin(name)


def worker_settings() -> dict[str, Any]:
    """The settings of ``dask-worker.yaml`` as dotted keys, for ``dask.config.set``."""
    settings: dict[str, Any] = {}
    for tree in dask.config.collect_yaml([str(WORKER_CONFIG)]):
        settings.update(_dotted(tree))
    return settings


@contextmanager
def applying_worker_settings(settings: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Apply the worker settings (the file's, or ``settings``) while a LocalCluster spawns.

    A variable the settings leave unset is also kept from the workers while they spawn
    (each inherits this process's environment): an earlier nanny in this process,
    started with Dask's defaults, leaves MALLOC_TRIM_THRESHOLD_ set here.
    """
    settings = worker_settings() if settings is None else settings
    unset = [k.removeprefix(_PRE_SPAWN) for k, v in settings.items()
             if k.startswith(_PRE_SPAWN) and v is None]
    kept = {name: os.environ.pop(name) for name in unset if name in os.environ}
    try:
        with dask.config.set(settings):
            yield
    finally:
        os.environ.update(kept)


def _dotted(tree: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    # Leaves only: a whole mapping given to dask.config.set would replace Dask's defaults.
    for key, value in tree.items():
        if isinstance(value, Mapping):
            yield from _dotted(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _close(stack: ExitStack) -> None:
    try:
        stack.close()
    except Exception:  # the build is done: a cluster that stops badly only costs a warning
        log.warning("the Dask cluster did not close cleanly", exc_info=True)


def _open(scheduler: str, workers: int, stack: ExitStack) -> Client:
    """The client, closed (with its LocalCluster) by ``stack``.

    Not Client's own context manager: it is entered on the connecting thread and
    would be left on the build's, and its current-client marker is per thread.
    """
    if scheduler == LOCAL:
        with applying_worker_settings():
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None,
                                   preload=[PRELOAD])
        stack.callback(cluster.close)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout=10)
        except OSError as exc:
            raise BuildError(f"no Dask scheduler answers at {scheduler}",
                             hint="start one with `dask scheduler`, or use --scheduler local"
                             ) from exc
    stack.callback(client.close)
    return client


def _blank(s: Statement) -> Statement:
    """The statement without what rendering never prints (secret number, e-mail)."""
    candidate = replace(s.entry.candidate, secret="", email="")
    return replace(s, entry=replace(s.entry, candidate=candidate))


class _Writer:
    """Writes each batch's files into the output; with a seal, seals their PDFs first in
    processes of this machine (the seal's key stays on it), a few batches in flight."""

    def __init__(self, out_dir: Path, seal: Seal | None,
                 done: Callable[[Sequence[Statement], list[Made]], None]) -> None:
        self.out_dir, self.seal, self.done = out_dir, seal, done
        # One core is this process's: it feeds the cluster and writes the files.
        self.processes = max(1, (os.cpu_count() or 2) - 1)
        self.pool = None if seal is None else ProcessPoolExecutor(
            self.processes, mp_context=multiprocessing.get_context("forkserver"))
        self.sealing: dict[LocalFuture[list[bytes]], tuple[Sequence[Statement], _Files]] = {}

    def put(self, batch: Sequence[Statement], files: _Files) -> None:
        """Write (or start sealing) one rendered batch."""
        if self.pool is None or self.seal is None:
            self.done(batch, [_write(self.out_dir, f) for f in files])
            return
        pdfs = [contents[0] for _, contents, _ in files]
        self.sealing[self.pool.submit(seal_all, pdfs, self.seal)] = (batch, files)
        self._collect(block=len(self.sealing) > 2 * self.processes)

    def finish(self) -> None:
        """Write every batch still being sealed."""
        while self.sealing:
            self._collect(block=True)

    def close(self) -> None:
        """Stop the sealing processes (what is still queued is dropped: the build failed)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _collect(self, *, block: bool) -> None:
        ready, _ = wait(self.sealing, timeout=None if block else 0, return_when=FIRST_COMPLETED)
        for future in ready:
            batch, files = self.sealing.pop(future)
            sealed = future.result()
            self.done(batch, [_write(self.out_dir, (stem, [pdf, *contents[1:]], fragment))
                              for (stem, contents, fragment), pdf
                              in zip(files, sealed, strict=True)])


def _write(out_dir: Path, files: tuple[str, list[bytes], str]) -> Made:
    stem, contents, fragment = files
    pdf, html = (out_dir / (stem + ext) for ext in STATEMENT_EXTENSIONS)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    for path, data in zip((pdf, html), contents, strict=True):
        path.write_bytes(data)
    return str(pdf), str(html), fragment
