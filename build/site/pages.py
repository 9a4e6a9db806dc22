"""Stage: the public static site's pages, assets, keyset and headers (OUT/site).

Pages: ``index.html`` (what the site is, how to open a statement and check a
result), ``statement/`` (the secure-link viewer), ``q/`` (the QR verify page),
``centres/`` (with ``centres/open/``, where an exams officer opens the bundle in the
browser, and ``centres/enrol/``, where they make an identity), ``explanation/`` and
``converter/``. A page whose content depends
on the release also gets a ``.before-release`` version ("forthcoming results"):
the release plan serves it until the candidates' release. Nothing here names a
candidate or a result; the statements themselves are ciphertext (encrypt.py).

Every page carries its CSP and referrer policy as meta; ``_headers`` lists the
full set for hosts that read one (and ``results serve`` sends them). The site is
served at the root of its host: pages use root-absolute paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from results_online import web
from results_online.build.bundle.explanation import explanation_context
from results_online.build.grading.converter import SOURCE, conversions
from results_online.build.release.plan import BEFORE_SUFFIX, withdrawal_time
from results_online.build.site.catalogue import catalogue_json, catalogue_path
from results_online.errors import BuildError
from results_online.keyset import Keyset
from results_online.model import Family, Series
from results_online.web import environment, read_asset
from results_online.wording import STATUS_WORDS, wording_json

# Assets copied as they are (templates/ → site root).
ASSETS = ("site.css", "statement.js", "statement_blob.js", "converter.js", "explanation.css",
          "verify.js", "verify_status.js", "token.js", "wording.js", "verify_app.css",
          "overview.js", "centres_open.js", "centres_identity.js", "centres_enrol.js",
          "textsize.js")
# The npm libraries bundled by scripts/bundle-js.mjs (templates/vendor/ → /vendor/).
VENDOR = ("age.js", "fflate.js", "vendor.json")


@dataclass(frozen=True)
class Page:
    """One page: its template, where it goes, and whether it has a forthcoming version."""

    template: str
    path: str
    key: str  # for the navigation's aria-current
    released_only: bool = True  # differs before the candidates' release


PAGES = (
    Page("site_index.html", "index.html", "index"),
    Page("site_statement.html", "statement/index.html", "statement"),
    Page("site_centres.html", "centres/index.html", "centres", released_only=False),
    Page("site_centres_open.html", "centres/open/index.html", "centres", released_only=False),
    Page("site_centres_enrol.html", "centres/enrol/index.html", "centres", released_only=False),
    Page("site_explanation.html", "explanation/index.html", "explanation"),
    Page("site_converter.html", "converter/index.html", "converter", released_only=False),
    Page("site_help.html", "help/index.html", "help", released_only=False),
    Page("site_verifying.html", "verifying/index.html", "verifying", released_only=False),
    Page("site_terms.html", "terms/index.html", "terms", released_only=False),
    Page("site_privacy.html", "privacy/index.html", "privacy", released_only=False),
    Page("site_accessibility.html", "accessibility/index.html", "accessibility",
         released_only=False),
)


def vendor_asset(name: str) -> str:
    """A bundled npm library from templates/vendor/, or BuildError if it was not bundled."""
    try:
        return read_asset(f"vendor/{name}")
    except FileNotFoundError as exc:
        raise BuildError(f"the browser library {name} is missing from templates/vendor/",
                         hint="run scripts/bootstrap.sh (it runs npm ci and "
                              "scripts/bundle-js.mjs)") from exc


def write_site(series: Series, keyset: Keyset, site: Path) -> tuple[Path, ...]:
    """Write the pages, assets, keyset, robots.txt and _headers into ``site``."""
    info = series.info
    env = environment()
    converter = any(t.family is Family.CAMBRIDGE_ENGLISH for t in series.tests)
    common = {
        "info": info, "csp": web.site_csp(info.verify_url),
        "verify_url": info.verify_url, "converter": converter,
        "conversions": conversions(), "source": SOURCE, "status_words": STATUS_WORDS,
        "withdrawn_at": withdrawal_time(info),
    } | explanation_context(series, distributions=False)
    written: list[Path] = []

    def write(rel: str, text: str) -> None:
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)

    for page in PAGES:
        if page.key == "converter" and not converter:
            continue
        template = env.get_template(page.template)
        write(page.path, template.render(common, page=page.key, released=True))
        if page.released_only:
            write(page.path + BEFORE_SUFFIX,
                  template.render(common, page=page.key, released=False))
    about = {"board": info.board, "contact": info.contact, "site_url": info.site_url}
    write("q/index.html", env.get_template("verify.html").render(
        csp=web.app_csp(header=False), about=about))
    write(catalogue_path(info.year, info.month), catalogue_json(info, series.tests))
    write("statement.css", read_asset("statement_base.css") + read_asset("statement_web.css"))
    # The bundle's overview shown inside /centres/open: its rules apply inside #bundle only.
    write("overview.css", "#bundle {\n" + read_asset("overview.css") + "}\n")
    for name in ASSETS:
        write(name, read_asset(name))
    for name in VENDOR:
        write(f"vendor/{name}", vendor_asset(name))
    write(".well-known/results-keys.json", keyset.to_json())
    write("wording.json", wording_json())
    write("robots.txt", "User-agent: *\nDisallow: /s/\nDisallow: /c/\nDisallow: /statement\n"
                        "Disallow: /q\n")
    write("_headers", web.headers_file(info.verify_url))
    return tuple(written)
