"""What every web page shares: templates, assets, CSP policies and the security headers.

One home for the policies: the static site (its pages' meta and ``_headers``), the
verification app, ``results serve``, the centre overview and the statement pages all
take their CSP and headers from here.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from results_online import wording

TEMPLATES_PACKAGE = "results_online.templates"

# Headers every response of the site and the app carries.
PERMISSIONS_POLICY = ("camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
                      "interest-cohort=()")
COMMON_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
}
SITE_HEADERS = COMMON_HEADERS


@cache
def environment() -> Environment:
    """The one Jinja environment of this process over results_online.templates."""
    env = Environment(
        loader=PackageLoader(TEMPLATES_PACKAGE, ""),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(wording.FILTERS)
    return env


@cache
def read_asset(name: str) -> str:
    """The text of a file shipped in results_online.templates (CSS, JS)."""
    return resources.files(TEMPLATES_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def csp_hash(text: str) -> str:
    """The CSP source expression allowing exactly this inline script or style."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def origin(url: str) -> str:
    """The scheme://host[:port] of a URL, as a CSP source."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"not an absolute URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def _policy(*directives: str, header: bool) -> str:
    # frame-ancestors works only as a header, so the meta version leaves it out.
    return "; ".join((*directives, "frame-ancestors 'none'") if header else directives)


def site_csp(verify_url: str, *, header: bool = False) -> str:
    """The public site's pages: own scripts and styles only; forms go to the verification app."""
    return _policy("default-src 'none'", "script-src 'self'", "style-src 'self'",
                   "img-src 'self' data:", "connect-src 'self'", "base-uri 'none'",
                   f"form-action 'self' {origin(verify_url)}", header=header)


def app_csp(*, header: bool = True) -> str:
    """The verification app's pages, and the QR verify page wherever it is served."""
    return _policy("default-src 'none'", "script-src 'self'", "style-src 'self'",
                   "img-src 'self' data:", "connect-src 'self'", "form-action 'self'",
                   "base-uri 'none'", header=header)


def statement_page_csp(css: str) -> str:
    """A plain statement web page: its one inline style, a data: QR, nothing else."""
    return _policy("default-src 'none'", f"style-src {csp_hash(css)}", "img-src data:",
                   "base-uri 'none'", "form-action 'none'", header=False)


def offline_page_csp(scripts: Sequence[str], css: str) -> str:
    """A self-contained offline page (the centre overview): its inline scripts and style."""
    return _policy("default-src 'none'", "script-src " + " ".join(map(csp_hash, scripts)),
                   f"style-src {csp_hash(css)}", "img-src 'self'", "base-uri 'none'",
                   "form-action 'none'", "object-src 'none'", header=False)


def app_headers() -> dict[str, str]:
    """The verification app's headers: never cached, framed or sniffed."""
    return COMMON_HEADERS | {"Content-Security-Policy": app_csp(), "Cache-Control": "no-store"}


def hsts_header(max_age: int) -> dict[str, str]:
    """Strict-Transport-Security for a response to an HTTPS request; none when ``max_age`` is 0.

    Only ever sent over HTTPS (the caller decides): on plain-http localhost it would be
    meaningless, and browsers ignore it there anyway.
    """
    if max_age <= 0:
        return {}
    return {"Strict-Transport-Security": f"max-age={max_age}; includeSubDomains"}


def headers_file(verify_url: str) -> str:
    """The ``_headers`` file (Netlify / Cloudflare Pages syntax) for the whole site."""
    lines = ["/*", f"  Content-Security-Policy: {site_csp(verify_url, header=True)}"]
    lines += [f"  {name}: {value}" for name, value in SITE_HEADERS.items()]
    lines += ["/s/*", "  Content-Type: application/octet-stream", "  Cache-Control: no-cache",
              "  X-Robots-Tag: noindex",
              "/c/*", "  Content-Type: application/octet-stream", "  Cache-Control: no-cache",
              "  X-Robots-Tag: noindex",
              "/statement*", "  Cache-Control: no-cache", "  X-Robots-Tag: noindex",
              "/q*", "  X-Robots-Tag: noindex",
              "/status/*", "  Cache-Control: no-cache"]
    return "\n".join(lines) + "\n"
