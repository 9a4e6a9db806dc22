"""``results serve``: preview a built site on localhost as a static host would serve it.

Serves OUT/site only (never private/), answers ``/statement`` with
``statement/index.html`` as static hosts with pretty URLs do, and sends the
headers the site's ``_headers`` file lists for each path.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from results_online.errors import ConfigError


@dataclass(frozen=True)
class HeaderRule:
    """Headers for the paths matching one ``_headers`` pattern (``*`` matches anything)."""

    pattern: str
    headers: tuple[tuple[str, str], ...]

    def matches(self, path: str) -> bool:
        """Whether this rule applies to a request path."""
        return fnmatch.fnmatchcase(path, self.pattern)


def parse_headers_file(text: str) -> tuple[HeaderRule, ...]:
    """Parse a ``_headers`` file: a path pattern, then indented ``Name: value`` lines."""
    rules: list[HeaderRule] = []
    pattern: str | None = None
    headers: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            if pattern is not None:
                rules.append(HeaderRule(pattern, tuple(headers)))
            pattern, headers = line.strip(), []
            continue
        name, sep, value = line.strip().partition(":")
        if pattern is None or not sep:
            raise ValueError(f"_headers line {number}: expected 'Name: value' under a path")
        headers.append((name.strip(), value.strip()))
    if pattern is not None:
        rules.append(HeaderRule(pattern, tuple(headers)))
    return tuple(rules)


class _Headers:
    """ASGI middleware: add the ``_headers`` rules' headers; later rules override earlier."""

    def __init__(self, app: ASGIApp, rules: tuple[HeaderRule, ...]) -> None:
        self.app = app
        self.rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra: dict[str, str] = {}
        for rule in self.rules:
            if rule.matches(scope["path"]):
                extra.update({name.lower(): value for name, value in rule.headers})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", [])
                        if k.decode("latin-1") not in extra]
                message["headers"] = kept + [(k.encode("latin-1"), v.encode("latin-1"))
                                             for k, v in extra.items()]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _PrettyUrls:
    """ASGI middleware: ``/statement`` serves ``statement/index.html`` without a redirect."""

    def __init__(self, app: ASGIApp, site: Path) -> None:
        self.app = app
        self.site = site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] == "http" and path and not path.endswith("/") and ".." not in path
                and (self.site / path.lstrip("/") / "index.html").is_file()):
            scope = dict(scope, path=path + "/index.html")
        await self.app(scope, receive, send)


def create_preview_app(out_dir: Path) -> ASGIApp:
    """A static server over OUT/site with its ``_headers``; raise ConfigError if none."""
    site = out_dir / "site"
    if not (site / "index.html").is_file():
        raise ConfigError(f"{out_dir} holds no built site (no site/index.html)",
                          hint="give the --out folder of a `results build`")
    headers = site / "_headers"
    rules = parse_headers_file(headers.read_text(encoding="utf-8")) if headers.is_file() else ()
    app = Starlette()
    app.mount("/", StaticFiles(directory=site, html=True))
    return _Headers(_PrettyUrls(app, site), rules)
