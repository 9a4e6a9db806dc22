"""A small signed series, its verification index and key store, for the app's tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
from factories import cambridge_series, make_keys, seal_series, step_series
from starlette.applications import Starlette

from results_online.build.verification.index import write_index
from results_online.config import app_config
from results_online.model import Series, Statement
from results_online.verify_app.app import create_app


@dataclass(frozen=True)
class VerifyFixture:
    """Paths and statements of one built index."""

    keys_dir: Path
    index: Path
    statements: tuple[Statement, ...]

    def app(self, **settings: object) -> Starlette:
        """A fresh app over this index; settings go to app_config."""
        return create_app(app_config(str(self.index), str(self.keys_dir), **settings))  # type: ignore[arg-type]

    def ids_and_secrets(self) -> list[str]:
        """Every candidate ID and secret number, to search logs and responses for."""
        out = []
        for s in self.statements:
            out += [s.entry.candidate.candidate_id, s.entry.candidate.secret]
        return out


def small_series() -> Series:
    """Three STEP and three B2 First candidates, distinct IDs, scores without result codes."""
    step = step_series(per_centre=3, n_centres=1, with_codes=False)
    fce = cambridge_series(per_centre=3, n_centres=1, with_codes=False)
    renamed = tuple(replace(e, candidate=replace(e.candidate, candidate_id="F" +
                                                 e.candidate.candidate_id[1:]))
                    for e in fce.entries)
    entries = (*step.entries, *renamed)
    return replace(step, tests=(*step.tests, *fce.tests),
                   candidates=tuple(e.candidate for e in entries), entries=entries)


def make_fixture(tmp: Path) -> VerifyFixture:
    """Keys, a sealed small series and its index under ``tmp``."""
    keys = make_keys(tmp / "keys")
    statements = seal_series(small_series(), keys)
    index = tmp / "out" / "private" / "verify.sqlite"
    write_index(statements, keys.pepper, index)
    return VerifyFixture(tmp / "keys", index, statements)


def post_from(app: Starlette, calls: list[tuple[str, str, dict[str, str]]],
              headers: dict[str, str] | None = None) -> list[httpx.Response]:
    """POST JSON bodies to the app, each (peer address, path, body), in one event loop."""
    async def run() -> list[httpx.Response]:
        out = []
        for address, path, body in calls:
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            async with httpx.AsyncClient(transport=transport,
                                         base_url="http://verify.test") as client:
                out.append(await client.post(path, json=body, headers=headers))
        return out

    return asyncio.run(run())


def credentials(s: Statement, secret: str | None = None) -> dict[str, str]:
    """The JSON body of a check of this statement's candidate (optionally another secret)."""
    c = s.entry.candidate
    return {"candidate_id": c.candidate_id, "secret_number": c.secret if secret is None else secret}


def wrong(secret: str) -> str:
    """A different secret number of the same length."""
    return str((int(secret) + 1) % 10 ** len(secret)).zfill(len(secret))


def match_rounds(app: Starlette, *rounds: list[dict[str, str]], first_repeat: int = 1
                 ) -> list[list[bool]]:
    """POST each round's bodies to /api/verify all at once (in the first round each
    ``first_repeat`` times in turn, from its own client task), round after round, in one
    event loop (the app's Redis connections belong to it); each answer's ``match``."""
    async def run() -> list[list[bool]]:
        out = []
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("192.0.2.200", 1))
            async with httpx.AsyncClient(transport=transport, base_url="http://v.test") as c:
                async def post(body: dict[str, str], repeat: int) -> list[bool]:
                    return [bool((await c.post("/api/verify", json=body)).json()["match"])
                            for _ in range(repeat)]

                for n, bodies in enumerate(rounds):
                    repeat = first_repeat if n == 0 else 1
                    answers = await asyncio.gather(*(post(b, repeat) for b in bodies))
                    out.append([m for ms in answers for m in ms])
        return out

    return asyncio.run(run())


def guesses_at_once(app: Starlette, s: Statement, n: int = 20
                    ) -> tuple[list[bool], list[bool], list[bool]]:
    """``n`` wrong guesses of ``s``'s secret at once, then the right one: their answers,
    and the throttle's grant for each check that reached it."""
    throttle = app.state.results.throttle
    granted: list[bool] = []
    real_reserve = throttle.reserve

    async def counting_reserve(key: bytes, address: str) -> bool:
        granted.append(await real_reserve(key, address))
        return granted[-1]

    throttle.reserve = counting_reserve
    bad = credentials(s, wrong(s.entry.candidate.secret))
    guesses, after = match_rounds(app, [bad] * n, [credentials(s)])
    return guesses, after, granted
