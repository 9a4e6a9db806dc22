"""Helpers for the servers and the browser tests start on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx

# Debian's chromium, headless, with nothing that reaches past this machine.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, attempts: int = 400) -> None:
    """Return once ``url`` answers at all; RuntimeError if it never does."""
    for _ in range(attempts):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answered at {url}")


@contextmanager
def results_server(args: Sequence[str], url: str, **popen: Any) -> Iterator[None]:
    """Run ``results ARGS`` (serve, verify-app) until the block ends, once ``url`` answers."""
    proc = subprocess.Popen([sys.executable, "-m", "results_online.commands", *args], **popen)
    try:
        wait_for(url)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@contextmanager
def smtp_server(handler: Any) -> Iterator[str]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 with this handler; yields HOST:PORT."""
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        controller.stop()


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()
