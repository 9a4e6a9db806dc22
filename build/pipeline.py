"""``build()``: chain the stages, from a series folder to the output folder, atomically.

    load → seal → render (each batch encrypted, each centre bundled and its candidates'
         messages written as it completes)
         → manifest, index, site → release plan, outbox

Each stage is a plain function in its own module; the output is written into a
staging folder that replaces the previous output only when every stage succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from results_online.build.amend import (
    affected_centres,
    carry_bundles,
    carry_rendered,
    plan_statements,
    read_previous,
)
from results_online.build.inputs.load import load_series
from results_online.build.manifest import write_manifest
from results_online.build.output import staged_output
from results_online.build.release.outbox import Outbox
from results_online.build.release.plan import release_stage
from results_online.build.render.statements import RenderedStatement, render_statements
from results_online.build.site.pages import write_site
from results_online.build.stream import AfterRender
from results_online.build.verification.index import (
    budget_for,
    shortest_secret,
    update_index,
    write_index,
    write_status_list,
)
from results_online.config import BuildConfig
from results_online.errors import BuildError, InvalidToken
from results_online.index import GUESS_TARGET, SecretBudget
from results_online.keys.seal import load_seal
from results_online.keys.store import KeyStore, load_keys
from results_online.model import Statement
from results_online.names import status_list_path
from results_online.progress import Progress, no_progress

log = logging.getLogger("results_online.build")


@dataclass(frozen=True)
class BuildReport:
    """What a build made, for the CLI to summarise."""

    out_dir: Path
    statements: int
    centres: int
    rendered: int = 0  # statements rendered (all, or only the new ones when amending)
    retired: int = 0  # statements superseded or withdrawn so far
    guessing: str = ""  # the secret-number bound (``guess_bound``), for the CLI to print


def build(config: BuildConfig, progress: Progress = no_progress, *,
          amend: bool = False) -> BuildReport:
    """Build one series into ``config.out_dir``; on any error the old output stays.

    Over a previous build, changed results get new statements and the old ones are
    superseded; ``amend`` renders only the new statements and carries the rest over.
    """
    log.info("stage: load %s", config.series_dir)
    series = load_series(config.series_dir)
    keys = load_keys(config.keys_dir, config.passphrase)
    seal = load_seal(config.keys_dir, config.passphrase)
    check_signing_key(keys, series.info.issue_date)
    previous = read_previous(config.out_dir, series.info.code)
    if amend and previous is None:
        raise BuildError(f"{config.out_dir} holds no previous build of {series.info.code}",
                         hint="run `results build` first; `results amend` updates its output")
    log.info("stage: seal %d statements", len(series.entries))
    plan = plan_statements(series, keys, previous, config.now.date())
    statements = plan.statements
    to_render = [s for s in statements if s.statement_id in plan.new] if amend else statements
    with staged_output(config.out_dir) as out:
        private = out / "private"
        carried: tuple[RenderedStatement, ...] = ()
        centres: frozenset[str] | None = None
        if amend and previous is not None:
            carried = carry_rendered(statements, plan.new, previous, out)
            centres = affected_centres(statements, plan.new, previous)
        log.info("stage: render, encrypt and bundle")
        # Bundles are staged privately, laid out as the site's c/<centre>/<series>.zip.age;
        # the release plan decides when they go public.
        outbox = Outbox(series, keys.statement_secret, private,
                        previous=config.out_dir / "private")
        with AfterRender(series, to_render, out, statement_secret=keys.statement_secret,
                         now=config.now, carried=carried, centres=centres, seal=seal,
                         outbox=outbox, order=statements) as after:
            fresh = render_statements(
                to_render, private / "statements", workers=config.workers,
                batch_size=config.batch_size, progress=progress, now=config.now, seal=seal,
                on_batch=after.batch, scheduler=config.scheduler)
            rendered = _in_order(statements, (*fresh, *carried))
            write_manifest(out, rendered)
            log.info("stage: index")
            index = private / "verify.sqlite"
            if not (amend and previous is not None and update_index(
                    previous.root / "private" / "verify.sqlite", index, to_render, keys.pepper,
                    retired=plan.retired, current=statements)):
                write_index(statements, keys.pepper, index, superseded=plan.retired)
            guessing = guess_bound(budget_for(statements), shortest_secret(statements))
            write_status_list(out / "site" / status_list_path(series.info.code), plan.retired)
            log.info("stage: site pages")
            write_site(series, keys.keyset, out / "site")
            bundles = [b.path for b in after.bundles()]
        if centres is not None and previous is not None:
            bundles += carry_bundles(series, centres, previous, out)
        # Last: it plans every file the stages above put in site/, plus the bundles.
        log.info("stage: release plan and outbox")
        release_stage(series.info, out, sorted(bundles), config.now)
        outbox.finish(statements)
    log.info("done: %d statements for %d centres", len(statements), len(series.centres))
    return BuildReport(config.out_dir, len(statements), len(series.centres), len(to_render),
                       len(plan.retired), guessing)


def guess_bound(budget: SecretBudget, digits: int) -> str:
    """The chance of guessing the series' shortest secret per ID per year, logged and returned.

    A warning when it is 1% or more: then only the share code is a sound proof.
    """
    chance = budget.chance(digits)
    line = (f"secret numbers: shortest {digits} digits; the app's per-ID budget of "
            f"{budget.describe()} allows at most {budget.per_year()} guesses a year, "
            f"a {chance:.2%} chance per ID per year")
    if chance >= GUESS_TARGET:
        log.warning("%s: above the 1%% target; use longer secret numbers", line)
        return line + " (WARNING: above 1%; use longer secret numbers)"
    log.info("%s", line)
    return line


def _in_order(statements: Sequence[Statement], rendered: Sequence[RenderedStatement],
              ) -> tuple[RenderedStatement, ...]:
    by_id = {r.statement.statement_id: r for r in rendered}
    return tuple(by_id[s.statement_id] for s in statements)


def check_signing_key(keys: KeyStore, issued: date) -> None:
    """Refuse to sign statements the published keyset would not accept for their date."""
    try:
        keys.keyset.find(keys.signing_kid, issued)
    except InvalidToken:
        raise BuildError(
            f"the active signing key {keys.signing_kid.hex()} is not valid on the series' "
            f"issue date {issued.isoformat()}, so no verifier would accept its statements",
            hint="make the key store with `results keys init --valid-from DATE` (a date on or "
                 "before the issue date), or correct issue_date in series.toml") from None
