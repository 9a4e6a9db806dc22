"""Rendering on Dask distributed: a real LocalCluster of two worker processes on 127.0.0.1.

The output must equal the process pool's file for file; a worker killed mid-build
loses no statement; a batch that cannot render fails the build with the pool's error.
"""

from __future__ import annotations

import importlib.resources
import io
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import cloudpickle
import pytest
from asn1crypto import x509 as asn1_x509
from distributed import Client, LocalCluster
from outputs import Series, differences, example_series, files
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from results_online.build.pipeline import build
from results_online.build.render import cluster as dask_path
from results_online.build.render.fonts import statement_texts
from results_online.build.render.statements import (
    RenderedStatement,
    render_statements,
    render_stream,
)
from results_online.build.verification.seal import seal_series
from results_online.config import build_config
from results_online.errors import BuildError
from results_online.keys.seal import init_seal_cert, load_seal
from results_online.keys.store import load_keys
from results_online.model import Statement
from results_online.progress import Advance

NOW = "2026-08-13T07:30:00+00:00"
TRIM = "MALLOC_TRIM_THRESHOLD_"  # Dask's nanny sets it by default; the render workers must not
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as c:
        yield c


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Series:
    return example_series(tmp_path_factory.mktemp("cluster"))


@pytest.fixture(scope="module")
def pooled(series: Series) -> Path:
    out = series.folder.parent / "pooled"
    build(build_config(str(series.folder), str(series.keys), str(out), now=NOW, workers=2,
                       batch_size=2))
    return out


def _on_cluster(series: Series, out: Path, scheduler: str, progress: object = None) -> None:
    config = build_config(str(series.folder), str(series.keys), str(out), now=NOW, workers=2,
                          batch_size=2, scheduler=scheduler)
    if progress is None:
        build(config)
    else:
        build(config, progress=progress)  # type: ignore[arg-type]


def test_cluster_output_equals_the_pool_output(series: Series, pooled: Path,
                                               cluster: LocalCluster, tmp_path: Path) -> None:
    out = tmp_path / "dask"
    _on_cluster(series, out, cluster.scheduler_address)
    assert differences(out, pooled, series) == []
    pdfs = [n for n in files(out) if n.startswith("private/statements/") and n.endswith(".pdf")]
    assert len(pdfs) == 12  # every candidate of the example
    assert all((out / n).read_bytes() == (pooled / n).read_bytes() for n in pdfs)


def test_a_worker_killed_mid_build_loses_no_statement(series: Series, pooled: Path,
                                                      cluster: LocalCluster,
                                                      tmp_path: Path) -> None:
    counted: list[int] = []
    killed = threading.Event()

    @contextmanager
    def progress(stage: str, total: int) -> Iterator[Advance]:
        def advance(n: int) -> None:
            counted.append(n)
            if not killed.is_set():  # after the first batch: kill a worker still busy
                killed.set()
                _kill_a_worker(cluster)
        yield advance

    out = tmp_path / "dask"
    _on_cluster(series, out, cluster.scheduler_address, progress)
    assert killed.is_set()
    assert sum(counted) == 12  # the bar counts statements, each once
    assert differences(out, pooled, series) == []


def test_on_a_cluster_every_pdf_is_sealed_by_the_client_and_no_worker_gets_the_seal_key(
        cluster: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sealed = example_series(tmp_path)
    init_seal_cert(sealed.keys, "Test Awarding Body", datetime(2026, 8, 1, tzinfo=UTC))
    seal = load_seal(sealed.keys)
    assert seal is not None
    sent: list[bytes] = []  # everything the client hands the cluster, as it is sent
    submit, register = Client.submit, Client.register_plugin

    def submitting(self: Client, *args: object, **kwargs: object) -> object:
        sent.append(cloudpickle.dumps((args, kwargs)))
        return submit(self, *args, **kwargs)  # type: ignore[arg-type]

    def registering(self: Client, *args: object, **kwargs: object) -> object:
        sent.append(cloudpickle.dumps((args, kwargs)))
        return register(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Client, "submit", submitting)
    monkeypatch.setattr(Client, "register_plugin", registering)
    out = tmp_path / "dask"
    _on_cluster(sealed, out, cluster.scheduler_address)
    pdfs = sorted((out / "private" / "statements").rglob("*.pdf"))
    assert len(pdfs) == 12 and len(sent) > 1
    trusted = ValidationContext(trust_roots=[asn1_x509.Certificate.load(seal.cert_der)])
    for pdf in pdfs:
        (signature,) = PdfFileReader(io.BytesIO(pdf.read_bytes()), strict=False).embedded_signatures
        status = validate_pdf_signature(signature, trusted)
        assert status.intact and status.bottom_line, pdf.name
    # What went is what rendering needs (the statements as printed), and not the key.
    assert any("Łukasz Wróblewski".encode() in data for data in sent)
    assert not any(seal.key_der in data for data in sent)


def test_a_failing_batch_fails_the_build_with_the_pools_error(series: Series,
                                                              cluster: LocalCluster,
                                                              tmp_path: Path) -> None:
    statements = _statements(series)
    long = statements[1]
    long = replace(long, entry=replace(long.entry, candidate=replace(
        long.entry.candidate, name=" ".join(["Bartholomew"] * 900))))
    batch = [statements[0], long, *statements[2:4]]
    errors = []
    for scheduler in (None, cluster.scheduler_address):
        with pytest.raises(BuildError) as err:
            render_statements(batch, tmp_path / str(scheduler is None), workers=2,
                              batch_size=2, progress=_no_progress, scheduler=scheduler,
                              now=datetime.fromisoformat(NOW))
        errors.append((str(err.value), err.value.hint))
    assert errors[0] == errors[1]
    assert "does not fit on one A4 page" in errors[0][0]


def test_the_cluster_draws_batches_only_as_the_workers_need_them(series: Series,
                                                                 cluster: LocalCluster,
                                                                 tmp_path: Path) -> None:
    statements = _statements(series)
    drawn: list[int] = []
    finished: list[int] = []

    def batches() -> Iterator[list[Statement]]:
        for s in statements:
            drawn.append(1)
            yield [s]

    def on_batch(made: Sequence[RenderedStatement]) -> None:
        finished.append(len(made))
        assert len(drawn) - len(finished) <= 2 * 2  # two batches per worker in flight

    render_stream(batches(), (t for s in statements for t in statement_texts(s)), tmp_path,
                  total=len(statements), workers=2, progress=_no_progress,
                  now=datetime.fromisoformat(NOW), on_batch=on_batch,
                  scheduler=cluster.scheduler_address)
    assert sum(finished) == len(drawn) == len(statements) == 12
    assert len(list(tmp_path.rglob("*.pdf"))) == 12


def test_a_local_cluster_runs_its_workers_with_the_worker_settings(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # What an earlier nanny with Dask's defaults leaves in this process (the module's cluster).
    monkeypatch.setenv(TRIM, "65536")
    with dask_path.connecting(dask_path.LOCAL, 2) as client:
        states = list(client().run(_worker_state).values())
    assert states == [(True, None, False, _expected())] * 2
    assert os.environ[TRIM] == "65536"  # this process's own environment is left as it was


def test_dask_worker_given_the_file_as_dask_config_runs_with_its_settings(
        tmp_path: Path) -> None:
    # A worker machine's shell, which no nanny has run in (this process may have had one).
    env = {k: v for k, v in os.environ.items() if k != TRIM}
    env["PYTHONPATH"] = str(Path(__file__).parent)  # it unpickles _worker_state from here
    env["DASK_CONFIG"] = str(importlib.resources.files("results_online.build.render")
                             / "dask-worker.yaml")
    with (LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as scheduler,
          Client(scheduler) as client, (tmp_path / "worker.log").open("wb") as log):
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker",
                                   scheduler.scheduler_address, "--nworkers", "1",
                                   "--nthreads", "1", "--preload", dask_path.PRELOAD,
                                   "--no-dashboard"], env=env, stderr=log)
        try:
            client.wait_for_workers(1, timeout=120)
            states = list(client.run(_worker_state).values())
        finally:
            worker.terminate()
            worker.wait(60)
    assert states == [(True, None, False, _expected())]


def _worker_state() -> tuple[bool, str | None, bool, dict[str, object]]:
    import dask

    return ("results_online.build.render.statements" in sys.modules, os.environ.get(TRIM),
            bool(dask.config.get("distributed.worker.profile.enabled")),
            {k: dask.config.get(k) for k in _expected()})


def _expected() -> dict[str, object]:
    return {"distributed.admin.tick.interval": "500ms",
            "distributed.worker.memory.monitor-interval": "1s",
            "distributed.admin.system-monitor.interval": "2s"}


def test_no_scheduler_at_the_address_is_a_clear_error(series: Series, tmp_path: Path) -> None:
    from localhost import free_port

    with pytest.raises(BuildError, match="no Dask scheduler answers") as err:
        _on_cluster(series, tmp_path / "out", f"tcp://127.0.0.1:{free_port()}")
    assert "dask scheduler" in err.value.hint
    assert not (tmp_path / "out").exists()


def _statements(series: Series) -> tuple[Statement, ...]:
    from results_online.build.inputs.load import load_series

    return seal_series(load_series(series.folder), load_keys(series.keys))


@contextmanager
def _no_progress(stage: str, total: int) -> Iterator[Advance]:
    yield lambda n: None


def _kill_a_worker(cluster: LocalCluster) -> None:
    with Client(cluster.scheduler_address) as client:
        busy = [w for w, info in client.processing().items() if info]
        pids = client.run(os.getpid, workers=busy or None)
    os.kill(next(iter(pids.values())), signal.SIGKILL)
