"""Failure limits shared through a real redis-server by two app instances (two replicas)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
import redis
from localhost import free_port
from redis_server import redis_server
from starlette.testclient import TestClient
from verify_support import (
    VerifyFixture,
    credentials,
    guesses_at_once,
    make_fixture,
    match_rounds,
    wrong,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.skipif(shutil.which("redis-server") is None,
                       reason="redis-server is installed by scripts/bootstrap.sh"),
]
PROXY = ("127.0.0.1", 41000)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> VerifyFixture:
    return make_fixture(tmp_path_factory.mktemp("redis"))


@pytest.fixture
def replicas(fx: VerifyFixture, redis_url: str) -> Iterator[tuple[TestClient, TestClient]]:
    redis.Redis.from_url(redis_url).flushdb()
    settings = {"redis_url": redis_url, "trusted_proxies": (PROXY[0],),
                "failures_per_address": 4}
    with TestClient(fx.app(**settings), client=PROXY) as a, \
            TestClient(fx.app(**settings), client=PROXY) as b:
        yield a, b


def _post(client: TestClient, body: dict[str, str], address: str) -> bool:
    r = client.post("/api/verify", json=body, headers={"X-Forwarded-For": address})
    assert r.status_code == 200
    return bool(r.json()["match"])


def test_failures_on_either_replica_count_towards_one_id_limit(
        fx: VerifyFixture, replicas: tuple[TestClient, TestClient]) -> None:
    a, b = replicas
    s = fx.statements[0]
    bad = credentials(s, wrong(s.entry.candidate.secret))
    for i in range(10):  # alternate replicas and addresses: 5 failures on each instance
        assert not _post((a, b)[i % 2], bad, f"198.51.100.{i + 1}")
    assert not _post(a, credentials(s), "203.0.113.1")
    assert not _post(b, credentials(s), "203.0.113.2")
    other = fx.statements[1]
    assert _post(b, credentials(other), "203.0.113.3")


def test_per_address_limit_is_shared_too(fx: VerifyFixture,
                                         replicas: tuple[TestClient, TestClient]) -> None:
    a, b = replicas
    for i in range(4):
        assert not _post((a, b)[i % 2], {"candidate_id": f"Z{i}", "secret_number": "9999"},
                         "192.0.2.77")
    s = fx.statements[2]
    assert not _post(a, credentials(s), "192.0.2.77")
    assert not _post(b, credentials(s), "192.0.2.77")
    assert _post(b, credentials(s), "192.0.2.78")


def test_redis_keys_hold_no_candidate_id(fx: VerifyFixture, redis_url: str,
                                         replicas: tuple[TestClient, TestClient]) -> None:
    a, _ = replicas
    s = fx.statements[3]
    _post(a, credentials(s, wrong(s.entry.candidate.secret)), "192.0.2.5")
    r = redis.Redis.from_url(redis_url)
    keys = [k.decode() for k in r.keys("*")]
    assert keys
    dump = " ".join(keys) + " ".join(str(r.lrange(k, 0, -1)) for k in keys
                                     if r.type(k) == b"list")
    for value in fx.ids_and_secrets():
        assert value not in dump


def test_health_reports_redis(replicas: tuple[TestClient, TestClient]) -> None:
    a, b = replicas
    assert a.get("/healthz").json() == {"status": "ok"}
    assert b.get("/healthz").status_code == 200


def test_unreachable_redis_fails_closed_with_503(fx: VerifyFixture) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with TestClient(fx.app(redis_url=dead)) as client:
        r = client.post("/api/verify", json=credentials(fx.statements[0]))
        assert r.status_code == 503 and r.headers["cache-control"] == "no-store"
        assert "match" not in r.json()
        assert client.get("/healthz").status_code == 503


def test_pipelined_window_reads_answer_as_the_library_does(redis_url: str) -> None:
    """The app's batched reads give the windows limits' own RedisStorage gives, whether one
    read goes alone or many share a round trip."""
    import asyncio

    from limits import RateLimitItemPerDay
    from limits.aio.storage import RedisStorage
    from limits.aio.strategies import MovingWindowRateLimiter
    from redis.asyncio import from_url as async_redis

    from results_online.verify_app.windows import BatchedRedisStorage

    async def run() -> None:
        plain = RedisStorage("async+" + redis_url, implementation="redispy", key_prefix="eq")
        batched = BatchedRedisStorage("async+" + redis_url, implementation="redispy",
                                      key_prefix="eq")
        await plain.reset()
        item = RateLimitItemPerDay(5, namespace="id")
        limiter = MovingWindowRateLimiter(plain)
        for n in range(8):  # 0 to 7 failures: under, at and over the limit
            for _ in range(n):
                await limiter.hit(item, f"key-{n}")
        keys = [item.key_for(f"key-{n}") for n in range(8)]
        expected = [await plain.get_moving_window(k, 5, item.get_expiry()) for k in keys]
        alone = [await batched.get_moving_window(k, 5, item.get_expiry()) for k in keys]
        together = await asyncio.gather(
            *(batched.get_moving_window(k, 5, item.get_expiry()) for k in keys))
        assert [c for _, c in alone] == [c for _, c in together] == [min(n, 5)
                                                                     for n in range(8)]
        for got in (alone, together):
            assert [c for _, c in got] == [c for _, c in expected]
            # the window starts at the oldest failure kept: the same entry either way
            assert all(abs(a - b) < 1 for (a, _), (b, _) in zip(got, expected, strict=True))
        assert await MovingWindowRateLimiter(batched).test(item, "key-4") is True
        assert await MovingWindowRateLimiter(batched).test(item, "key-5") is False
        # A check's reads of several windows in one call answer as they do one by one...
        both = await batched.moving_windows(*((k, 5, item.get_expiry()) for k in keys))
        assert [c for _, c in both] == [c for _, c in expected]
        # ...also once Redis has forgotten the app's script (as after a restart).
        await async_redis(redis_url).script_flush()
        again = await batched.moving_windows((keys[3], 5, item.get_expiry()))
        assert [c for _, c in again] == [3]
        # Failures counted together land as the library's own count them, up to the limit.
        fresh = [item.key_for(f"new-{n}") for n in range(3)]
        counted = await asyncio.gather(*(batched.acquire_entries(
            *((k, 5, item.get_expiry()) for k in fresh)) for _ in range(7)))
        assert [all(c) for c in counted].count(True) == 5  # the last two find the window full
        assert [(await plain.get_moving_window(k, 5, item.get_expiry()))[1]
                for k in fresh] == [5, 5, 5]
        assert await limiter.test(item, "new-0") is False

    asyncio.run(run())


def test_a_cut_redis_connection_costs_no_check_an_answer(fx: VerifyFixture,
                                                          redis_url: str) -> None:
    """Redis drops the app's connections (CLIENT KILL, as a restart or an idle timeout
    would) between checks and while checks wait: every check still gets its answer,
    and the failures still count."""
    admin = redis.Redis.from_url(redis_url)
    admin.flushdb()
    s = fx.statements[4]
    app = fx.app(failures_per_id=3, redis_url=redis_url)
    bad = credentials(s, wrong(s.entry.candidate.secret))
    kills: list[int] = []
    real_reserve = app.state.results.throttle.reserve

    async def reserve_after_a_cut(key: bytes, address: str) -> bool:
        kills.append(admin.client_kill_filter(_type="normal", skipme=True))
        return await real_reserve(key, address)

    app.state.results.throttle.reserve = reserve_after_a_cut  # type: ignore[method-assign]
    right, at_once, two_bad, third_bad, locked = match_rounds(
        app, [credentials(s)], [credentials(s)] * 5, [bad, bad], [bad], [credentials(s)])
    assert right == [True] and at_once == [True] * 5
    assert two_bad == [False, False] and third_bad == [False]
    assert locked == [False]  # the three failures were counted: the ID is locked
    assert sum(kills) >= 5  # the app's connections were cut again and again



def test_a_refused_failure_makes_the_writes_a_counted_one_makes_and_changes_nothing(
        redis_url: str) -> None:
    """A locked ID's failure costs Redis the same three writes as a counted one (so its
    time tells nothing) and leaves its window as it was (the lock does not move)."""
    import asyncio

    from results_online.verify_app.windows import BatchedRedisStorage

    admin = redis.Redis.from_url(redis_url)
    admin.flushdb()
    storage = BatchedRedisStorage("async+" + redis_url, implementation="redispy",
                                  key_prefix="even")

    def writes() -> dict[str, int]:
        stats = admin.info("commandstats")
        return {c: stats.get(f"cmdstat_{c}", {}).get("calls", 0)
                for c in ("lpush", "lset", "ltrim", "expire")}

    def delta(before: dict[str, int]) -> tuple[int, int, int]:
        after = writes()
        moved = {c: after[c] - before[c] for c in after}
        return moved["lpush"] + moved["lset"], moved["ltrim"], moved["expire"]

    async def run() -> None:
        for _ in range(2):
            assert await storage.acquire_entry("id/k", 3, 86400)
        before = writes()
        assert await storage.acquire_entry("id/k", 3, 86400)  # the third: counted
        counted = delta(before)
        window = admin.lrange("even:id/k", 0, -1)
        assert len(window) == 3
        before = writes()
        assert not await storage.acquire_entry("id/k", 3, 86400)  # the fourth: refused
        assert delta(before) == counted == (1, 1, 1)
        assert admin.lrange("even:id/k", 0, -1) == window

    asyncio.run(run())


def test_concurrent_guesses_of_one_id_get_no_more_than_its_budget_in_redis(
        fx: VerifyFixture, redis_url: str) -> None:
    redis.Redis.from_url(redis_url).flushdb()
    app = fx.app(failures_per_id=3, redis_url=redis_url)
    guesses, after, granted = guesses_at_once(app, fx.statements[2])
    assert guesses == [False] * 20
    assert granted.count(True) == 3  # 20 guesses at once were checked as 3, the budget
    assert after == [False]  # locked
    assert app.state.results.throttle._flights == {}



def test_checks_of_one_id_that_keep_coming_are_never_refused_for_waiting(
        redis_url: str) -> None:
    """100 verifiers checking one candidate again and again, far more at once than the ID
    has failures left: each waits its turn, none is refused (the app would count a refused
    check as a failure, so right answers would lock the ID)."""
    import asyncio
    import hashlib

    from results_online.verify_app.throttle import Throttle

    redis.Redis.from_url(redis_url).flushdb()
    key = hashlib.sha256(b"one candidate").digest()

    async def run() -> list[bool]:
        throttle = Throttle(3, 10**6, redis_url)
        answers: list[bool] = []

        async def verifier() -> None:
            for _ in range(60):
                allowed = await throttle.reserve(key, "192.0.2.1")
                answers.append(allowed)
                await throttle.settle(key, "192.0.2.1", failed=not allowed)  # as Verifier does

        await asyncio.gather(*(verifier() for _ in range(100)))
        assert throttle._flights == {}
        return answers

    answers = asyncio.run(run())
    assert len(answers) == 6000 and answers.count(False) == 0


def test_many_right_checks_of_one_id_at_once_all_match_and_use_none_of_its_budget(
        fx: VerifyFixture, redis_url: str) -> None:
    """100 verifiers checking one candidate again and again at once (more than the ID has
    failures left) wait their turn; none is refused or counted as a failure."""
    redis.Redis.from_url(redis_url).flushdb()
    s = fx.statements[3]
    app = fx.app(failures_per_id=3, redis_url=redis_url)
    bad = credentials(s, wrong(s.entry.candidate.secret))
    many, two_bad, right, third_bad, locked = match_rounds(
        app, [credentials(s)] * 100, [bad, bad], [credentials(s)], [bad], [credentials(s)],
        first_repeat=10)
    assert many == [True] * 1000
    # Its whole budget is still there: two failures leave the right secret working...
    assert two_bad == [False, False] and right == [True]
    # ...and the third locks it.
    assert third_bad == [False] and locked == [False]
    assert app.state.results.throttle._flights == {}
