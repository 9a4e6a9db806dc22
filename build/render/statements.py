"""Stage: render statements into one-page A4 PDFs, web pages and viewer fragments.

Fast path: one WeasyPrint document per batch (a centre, or a slice of one), laid
out with one FontConfiguration and pre-parsed CSS per process, then split page
by page into per-candidate PDFs (each with its own font subsets, so no PDF
carries glyphs of another candidate's name); the QR is drawn straight into each
page as vector rectangles (qr.py says why). Names in CJK scripts are set in a copy
of the CJK face cut down to this series' characters (fonts.py says why). Batches
run in a process pool whose workers write their files and return their paths.

Files: <out_dir>/<centre>/<candidate number>-<test code>.pdf and .html (standalone
page, CSP with the hash of its one style element). The viewer fragment (the
statement body only: no scripts, no inline styles; styled by statement_base.css +
statement_web.css) is returned with them, not written: it goes only into the
statement's ciphertext, beside the PDF.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, islice
from pathlib import Path
from typing import Any

from markupsafe import Markup
from weasyprint import CSS
from weasyprint.document import Document, DocumentMetadata, Page
from weasyprint.text.fonts import FontConfiguration

from results_online.build.output import remove_stale_temp, temp_prefix
from results_online.build.render.chart import (
    ChartLayout,
    chart_layout,
    chart_svg,
    paint_chart,
    print_markup,
)
from results_online.build.render.fonts import (
    INSTALLED_FONTS,
    SeriesFonts,
    reduce_fonts,
    statement_texts,
)
from results_online.build.render.qr import SVG_TITLE, Symbol, draw_qr, make_qr, svg_of
from results_online.build.render.sealpdf import SEAL_REASON, seal_pdf
from results_online.build.render.weasy import (
    Painter,
    anchor,
    archival_pdf,
    metadata,
    paint_into_slot,
)
from results_online.build.render.weasy_document import (
    parsed_html,
    shared_line_breaks,
    shared_pseudo_styles,
)
from results_online.build.render.weasy_layout import quicker_layout
from results_online.build.render.weasy_speed import (
    quicker_tokens,
    shared_font_subsets,
    shared_text_drawing,
)
from results_online.build.render.weasy_styles import shared_page_styles
from results_online.errors import BuildError
from results_online.keys.seal import Seal
from results_online.model import Statement
from results_online.names import statement_files
from results_online.progress import Progress
from results_online.web import environment, read_asset, statement_page_csp

log = logging.getLogger("results_online.build.render.statements")
Made = tuple[str, str, str]  # a statement's PDF and web page paths, and its viewer fragment


@dataclass(frozen=True)
class RenderedStatement:
    """A statement and the files rendered for it."""

    statement: Statement
    pdf: Path
    html: Path
    # What the viewer shows (in the ciphertext only); None for one carried by an amend.
    fragment: str | None = None


BatchDone = Callable[[Sequence[RenderedStatement]], None]
# The ids of the slots drawn into: the same on every page (each page is written as a
# PDF of its own), so that no page has a style of its own.
QR_SLOT, CHART_SLOT = "qr-slot", "chart-slot"


@dataclass(frozen=True)
class _Item:
    statement: Statement
    code: Symbol
    qr: Markup  # inline SVG, for the web page, the fragment and the naive print path
    chart: ChartLayout | None  # the Cambridge English Scale chart (chart.py), or None

    @property
    def web_chart(self) -> Markup | None:
        """The chart as inline SVG for the web page and the fragment."""
        return None if self.chart is None else chart_svg(self.chart)

    def print_chart(self, *, painted: bool) -> Markup | None:
        """The chart for print: its slot and HTML labels (chart.py says why)."""
        if self.chart is None:
            return None
        return print_markup(self.chart, CHART_SLOT, painted=painted)

    @property
    def slot(self) -> Markup:
        """An empty box the batch renderer draws the QR into (see qr.py: why)."""
        return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="qr-slot" '  # noqa: S704
                      f'id="{QR_SLOT}" viewBox="0 0 1 1">'
                      f"<title>{SVG_TITLE}</title></svg>")


class Renderer:
    """Per-process rendering state, made once: templates, fonts and parsed CSS."""

    # Print HTML without the web page's ids and lang (_statement_body.html says why).
    print_only = True

    def __init__(self, series_fonts: SeriesFonts = INSTALLED_FONTS) -> None:
        self.env = environment()
        self.series_fonts = series_fonts
        base = read_asset("statement_base.css")
        self.print_css = series_fonts.apply(base + read_asset("statement_print.css"))
        self.web_css = base + read_asset("statement_web.css")
        self.web_csp = statement_page_csp(self.web_css)
        self.fonts = FontConfiguration()
        self.css = CSS(string=self.print_css, font_config=self.fonts)

    def print_html(self, statements: Sequence[Statement], *, embed_css: bool) -> str:
        """The print HTML of these statements, one page each (CSS inline if embed_css)."""
        return self._print_html([_item(s) for s in statements], embed_css)

    def _print_html(self, items: Sequence[_Item], embed_css: bool, slots: bool = False) -> str:
        return self.env.get_template("statement_print.html").render(
            items=[(i.statement, i.slot if slots else i.qr, i.print_chart(painted=slots))
                   for i in items],
            embed_css=embed_css, css=Markup(self.print_css), for_print=self.print_only)  # noqa: S704

    def render_batch(self, statements: Sequence[Statement], out_dir: Path, now: datetime,
                     seal: Seal | None = None) -> list[Made]:
        """Lay out one batch as one document, then write each statement's PDF and page.

        ``now`` is the PDFs' creation time; with a ``seal`` each PDF is sealed.
        """
        # Lines are shared from layout to the last page's drawing (weasy_document.py).
        with (_collector_paused(), shared_line_breaks(), quicker_layout(),
              shared_font_subsets(), shared_text_drawing(), quicker_tokens()):
            return self._render_batch(statements, out_dir, now, seal)

    def _render_batch(self, statements: Sequence[Statement], out_dir: Path, created: datetime,
                      seal: Seal | None) -> list[Made]:
        items = [_item(s) for s in statements]
        with shared_pseudo_styles(), shared_page_styles():
            document = parsed_html(self._print_html(items, embed_css=False, slots=True)).render(
                font_config=self.fonts, stylesheets=[self.css])
        pages = _page_per_statement(document, statements)
        web = self.env.get_template("statement_web.html")
        fragment = self.env.get_template("statement_fragment.html")
        out: list[Made] = []
        for item, page in zip(items, pages, strict=True):
            s = item.statement
            pdf, html = statement_files(out_dir, s.centre.number, s.entry.candidate.number,
                                        s.entry.test.code)
            pdf.parent.mkdir(parents=True, exist_ok=True)
            paint_into_slot(page, QR_SLOT, _qr_painter(item.code))
            if item.chart is not None:
                paint_into_slot(page, CHART_SLOT, paint_chart(item.chart))
            data = archival_pdf(document.copy([page]), statement_metadata(s, created))
            if data is None:
                raise BuildError("WeasyPrint wrote no PDF")
            if seal is not None:
                data = seal_pdf(data, seal, SEAL_REASON)
            pdf.write_bytes(data)
            html.write_text(web.render(s=s, qr=item.qr, chart=item.web_chart,
                                       css=Markup(self.web_css),  # noqa: S704
                                       csp=self.web_csp, pdf_name=pdf.name),
                            encoding="utf-8")
            out.append((str(pdf), str(html),
                        fragment.render(s=s, qr=item.qr, chart=item.web_chart)))
        return out


_renderer: Renderer | None = None


def renderer(series_fonts: SeriesFonts = INSTALLED_FONTS) -> Renderer:
    """This process's Renderer for these fonts, made on first use and then reused."""
    global _renderer  # noqa: PLW0603 - one per process by design (pool initializer)
    if _renderer is None or _renderer.series_fonts != series_fonts:
        _renderer = Renderer(series_fonts)
    return _renderer


def render_statements(
    statements: Sequence[Statement], out_dir: Path, *, workers: int, batch_size: int,
    progress: Progress, now: datetime, seal: Seal | None = None,
    on_batch: BatchDone | None = None, scheduler: str | None = None,
) -> tuple[RenderedStatement, ...]:
    """Render every statement to out_dir/<centre>/<number>-<test>.{pdf,html}, with its fragment.

    ``now`` (the build's time) is the PDFs' creation date; with a ``seal`` every PDF
    carries a PAdES signature by it. ``on_batch`` is called in this process with each
    batch as soon as it is written, so later stages can start on it while the other
    batches render. ``scheduler``: run the batches on Dask distributed instead of the
    process pool (cluster.py).
    """
    if batch_size < 1:
        raise ValueError("workers and batch_size must be at least 1")
    rendered: dict[str, RenderedStatement] = {}

    def done(made: Sequence[RenderedStatement]) -> None:
        rendered.update((r.statement.statement_id, r) for r in made)
        if on_batch is not None:
            on_batch(made)

    render_stream(([statements[i] for i in batch] for batch in make_batches(statements,
                                                                            batch_size)),
                  (t for s in statements for t in statement_texts(s)), out_dir,
                  total=len(statements), workers=workers, progress=progress, now=now,
                  seal=seal, on_batch=done, scheduler=scheduler)
    return tuple(rendered[s.statement_id] for s in statements)


def render_stream(
    batches: Iterable[Sequence[Statement]], texts: Iterable[str], out_dir: Path, *,
    total: int, workers: int, progress: Progress, now: datetime, seal: Seal | None = None,
    on_batch: BatchDone, scheduler: str | None = None,
) -> None:
    """Render batches as they are drawn from ``batches``, a few ahead of the workers.

    ``texts`` are all the batches' printable texts (the CJK faces are cut down to
    them before the first batch); ``total`` is how many statements the batches hold.
    Only a few batches are in flight at once, on the process pool as on Dask, so a
    series of any size is never held here whole.
    """
    if workers < 1:
        raise ValueError("workers and batch_size must be at least 1")
    with ExitStack() as stack:
        client = None
        if scheduler is not None:
            from results_online.build.render import cluster

            client = stack.enter_context(cluster.connecting(scheduler, workers))
        remove_stale_temp(Path(tempfile.gettempdir()))
        fonts_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix=temp_prefix("fonts")))
        fonts = reduce_fonts(texts, Path(fonts_dir))
        log.info("stage: render %d statements on %d worker(s)", total, workers)
        with progress("render", total) as advance:

            def done(batch: Sequence[Statement], made: list[Made]) -> None:
                on_batch([RenderedStatement(s, Path(pdf), Path(html), fragment)
                          for s, (pdf, html, fragment) in zip(batch, made, strict=True)])
                advance(len(batch))

            if client is None:
                _render_batches(batches, out_dir, fonts, workers=workers, done=done, now=now,
                                seal=seal)
            else:
                cluster.render_on_cluster(client(), batches, out_dir, fonts, done=done,
                                          now=now, seal=seal)


def _render_batches(batches: Iterable[Sequence[Statement]], out_dir: Path,
                    fonts: SeriesFonts, *, workers: int,
                    done: Callable[[Sequence[Statement], list[Made]], None], now: datetime,
                    seal: Seal | None) -> None:
    queue = iter(batches)
    first = list(islice(queue, 2))
    if workers == 1 or len(first) <= 1:
        for batch in chain(first, queue):
            done(batch, _render_batch(batch, out_dir, fonts, now, seal))
        return
    queue = chain(first, queue)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    # Two batches per worker in flight: one rendering, one waiting, none held longer.
    ahead = 2 * workers
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=renderer, initargs=(fonts,)) as pool:
        futures: dict[Future[list[Made]], Sequence[Statement]] = {}

        def submit() -> None:
            for batch in islice(queue, ahead - len(futures)):
                futures[pool.submit(_render_batch, batch, out_dir, fonts, now, seal)] = batch

        try:
            submit()
            while futures:
                finished, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in finished:
                    done(futures.pop(future), future.result())
                submit()
        except BaseException as exc:
            for future in futures:
                future.cancel()
            if isinstance(exc, BrokenProcessPool):
                raise BuildError("a render worker process died",
                                 hint="check free memory, or run with fewer workers") from exc
            raise


def make_batches(statements: Sequence[Statement], batch_size: int) -> list[list[int]]:
    """Indices of the statements grouped by centre, each centre cut into batch_size slices."""
    by_centre: dict[str, list[int]] = {}
    for i, s in enumerate(statements):
        by_centre.setdefault(s.centre.number, []).append(i)
    return [group[i : i + batch_size]
            for group in by_centre.values() for i in range(0, len(group), batch_size)]


def _render_batch(batch: Sequence[Statement], out_dir: Path, fonts: SeriesFonts,
                  now: datetime, seal: Seal | None) -> list[Made]:
    try:
        return renderer(fonts).render_batch(batch, out_dir, now, seal)
    except BuildError:
        raise
    except Exception as exc:
        raise BuildError(f"rendering a batch of centre {batch[0].centre.number} failed: "
                         f"{type(exc).__name__}") from exc


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one batch, then collect once."""
    # A batch's layout makes hundreds of thousands of boxes and styles that all live
    # until the batch ends, so the collector's passes during it free nothing and walk
    # them again and again: measured at about 10% of the layout time even at raised
    # thresholds. One collection after the batch frees its cycles; memory stays bounded
    # by the batch size.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect(1)


def _item(s: Statement) -> _Item:
    code = make_qr(s.qr_text)
    return _Item(s, code, Markup(svg_of(code)),  # noqa: S704 - module runs, no user text
                 chart_layout(s.entry))


def _qr_painter(code: Symbol) -> Painter:
    def paint(stream: Any, x: float, y: float, width: float, height: float) -> None:
        draw_qr(stream, code, x, y, width)
    return paint


def statement_metadata(s: Statement, created: datetime) -> DocumentMetadata:
    """The statement PDF's title, author, language and creation time."""
    return metadata(title=f"Statement of Results: {s.entry.test.name}, {s.series.name}, "
                          f"{s.entry.candidate.name}",
                    author=s.series.board, lang="en", created=created)


def _page_per_statement(document: Document, statements: Sequence[Statement]) -> list[Page]:
    """Each statement's page; BuildError if one spilled onto a second page."""
    pages: list[Page] = []
    for page in document.pages:
        k = len(pages)
        # The QR slot is at the foot of the statement: on its page unless it spilled.
        if k < len(statements) and anchor(page, QR_SLOT):
            pages.append(page)
        else:
            spilled = statements[min(k, len(statements) - 1)]
            raise BuildError(
                f"statement {spilled.display_id} (centre {spilled.centre.number}, candidate "
                f"{spilled.entry.candidate.number}) does not fit on one A4 page",
                hint="shorten the long fields (names, titles) or adjust statement_print.css")
    if len(pages) != len(statements):
        raise BuildError("the print layout lost a statement page")
    return pages
