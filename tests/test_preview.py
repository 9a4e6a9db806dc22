"""`results serve`: the site as a static host serves it, with the _headers, and nothing more."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from results_online.errors import ConfigError
from results_online.preview import create_preview_app, parse_headers_file

HEADERS = """\
# comment
/*
  Referrer-Policy: no-referrer
  X-Content-Type-Options: nosniff
/s/*
  Cache-Control: no-cache
"""


@pytest.fixture
def out(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "statement").mkdir(parents=True)
    (site / "s").mkdir()
    (site / "index.html").write_text("<h1>home</h1>")
    (site / "statement" / "index.html").write_text("<h1>viewer</h1>")
    (site / "s" / "ABCD.bin").write_bytes(b"\x00\x01")
    (site / "_headers").write_text(HEADERS)
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "links.csv").write_text("secret links")
    return tmp_path


def test_headers_file_is_parsed_per_path() -> None:
    rules = parse_headers_file(HEADERS)
    assert [r.pattern for r in rules] == ["/*", "/s/*"]
    assert rules[1].headers == (("Cache-Control", "no-cache"),)
    assert rules[1].matches("/s/ABCD.bin") and not rules[1].matches("/statement")
    with pytest.raises(ValueError, match="line 1"):
        parse_headers_file("  Orphan: header\n")


def test_pages_get_the_listed_headers(out: Path) -> None:
    client = TestClient(create_preview_app(out))
    home = client.get("/")
    assert home.text == "<h1>home</h1>"
    assert home.headers["referrer-policy"] == "no-referrer"
    assert home.headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in home.headers
    blob = client.get("/s/ABCD.bin")
    assert blob.content == b"\x00\x01" and blob.headers["cache-control"] == "no-cache"


def test_the_secure_link_path_serves_the_viewer_without_a_redirect(out: Path) -> None:
    client = TestClient(create_preview_app(out))
    r = client.get("/statement", follow_redirects=False)
    assert r.status_code == 200 and r.text == "<h1>viewer</h1>"


def test_private_files_are_out_of_reach(out: Path) -> None:
    client = TestClient(create_preview_app(out))
    for path in ("/private/links.csv", "/../private/links.csv", "/%2e%2e/private/links.csv"):
        r = client.get(path)
        assert r.status_code == 404 and "secret" not in r.text


def test_a_folder_without_a_site_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no built site"):
        create_preview_app(tmp_path)
