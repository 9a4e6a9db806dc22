"""Stage: sign every entry of a series into a Statement with its token and QR text."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from results_online import token
from results_online.build.grading.enquiry import enquiry_deadline_of, series_closed_days
from results_online.ids import id_to_text, share_code, statement_id_bytes
from results_online.keys.store import KeyStore
from results_online.model import Entry, Series, Statement, Status


def token_data(entry: Entry, sid: bytes, kid: bytes, series: Series) -> token.TokenData:
    """What the token of this entry carries."""
    results = [
        token.TokenResult(
            code=r.component.code,
            value=r.mark if r.status is Status.OK else None,
            status=None if r.status is Status.OK else r.status.value,
            grade=r.grade or "",
        )
        for r in entry.components
    ]
    if entry.overall is not None:
        o = entry.overall
        results.append(token.TokenResult(
            code="",
            value=o.score if o.status is Status.OK else None,
            status=None if o.status is Status.OK else o.status.value,
            grade=o.grade or "",
            cefr=o.cefr or "",
        ))
    info = series.info
    return token.TokenData(
        key_id=kid, statement_id=sid, revision=entry.revision, issue_date=info.issue_date,
        series_year=info.year, series_month=info.month, test=entry.test.code,
        candidate_number=entry.candidate.number, name=entry.candidate.name,
        results=tuple(results),
    )


def seal_series(series: Series, keys: KeyStore) -> tuple[Statement, ...]:
    """Sign one statement per entry, in centre then candidate-number order."""
    sealer = Sealer(series, keys)
    return tuple(sealer.seal(entry) for entry in sorted(
        series.entries, key=lambda e: (e.candidate.centre, e.candidate.number, e.test.code)))


class Sealer:
    """Signs entries of one series one at a time (a streamed build seals centre by centre)."""

    def __init__(self, series: Series, keys: KeyStore) -> None:
        self.series, self.keys = series, keys
        self.centres = {c.number: c for c in series.centres}
        self._dated: dict[date, tuple[Series, dict[str, date | None]]] = {}

    def seal(self, entry: Entry, issued: date | None = None, before: bytes = b"") -> Statement:
        """The statement of ``entry``, issued on ``issued`` (default: the series' issue date).

        ``before``: the token of its previous statement, kept if it says the same.
        """
        series, deadlines = self._on(issued or self.series.info.issue_date)
        keys = self.keys
        sid = statement_id_bytes(keys.statement_secret, series.info.code, entry)
        signed = token.sign_token(keys.signing_key,
                                  token_data(entry, sid, keys.signing_kid, series), before=before)
        text_id = id_to_text(sid)
        return Statement(
            statement_id=text_id, entry=entry, centre=self.centres[entry.candidate.centre],
            series=series.info, token=signed, issue_date=series.info.issue_date,
            key_id=keys.signing_kid.hex(), enquiry_deadline=deadlines[entry.test.code],
            share_code=share_code(keys.statement_secret, text_id),
        )

    def _on(self, issued: date) -> tuple[Series, dict[str, date | None]]:
        if issued not in self._dated:
            info = self.series.info
            series = self.series if issued == info.issue_date else replace(
                self.series, info=replace(info, issue_date=issued))
            closed = series_closed_days(series.info)
            self._dated[issued] = (series, {t.code: enquiry_deadline_of(series.info, t, closed)
                                            for t in series.tests})
        return self._dated[issued]
