"""The spool keeps a series' objects by reference: read back, statements share them."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from factories import cambridge_series, sealed, step_series

from results_online.build.inputs.spool import Spool
from results_online.model import Series


@pytest.mark.parametrize("make", [step_series, cambridge_series])
def test_spooled_statements_read_back_equal_and_share_the_series_objects(
        tmp_path: Path, make: Callable[..., Series]) -> None:
    series = make(per_centre=4, n_centres=2)
    statements = sealed(series, tmp_path / "keys")
    assert all(s.key_id and s.share_code and s.token for s in statements)
    spool = Spool(tmp_path / "spool.sqlite")
    spool.share(series.info, series.tests, series.centres)
    for centre in series.centres:
        spool.put_statements(centre.number, [s for s in statements
                                             if s.centre.number == centre.number])
    back = list(spool.statements())
    spool.close()
    assert back == sorted(statements, key=lambda s: s.centre.number)
    test, first = series.tests[0], back[0]
    assert first.entry.test is test and first.series is series.info
    assert first.centre is next(c for c in series.centres if c.number == first.centre.number)
    assert first.entry.components[0].component is test.components[0]


def test_a_spooled_value_holds_a_reference_not_a_copy_of_a_shared_object(tmp_path: Path) -> None:
    series = step_series()
    spool = Spool(":memory:")
    spool.share(series.info, series.tests, series.centres)
    entry, test = series.entries[0], series.tests[0]
    name = test.name.encode()
    assert name in pickle.dumps(entry, pickle.HIGHEST_PROTOCOL)
    assert name not in spool.dumps(entry) and spool.loads(spool.dumps(entry)) == entry
    pickled = spool.dumps(("a value with no row of its own", test))
    assert name not in pickled
    assert spool.loads(pickled)[1] is test
    with pytest.raises(pickle.UnpicklingError, match="without the spool"):
        pickle.loads(pickled[1:])
    spool.close()


def test_a_value_not_made_of_the_shared_objects_is_spooled_as_it_is() -> None:
    series = step_series()
    spool = Spool(":memory:")
    spool.share(series.info, series.tests, series.centres)
    entry = series.entries[0]
    other = replace(entry, test=replace(entry.test, name="A test of another series"))
    back = spool.loads(spool.dumps(other))
    assert back == other and back.test is not entry.test
    result = entry.components[0]
    part = ("component", result.component.code, result)
    spool.add_part(entry.candidate.candidate_id, entry.test.code, 2, part)
    spool.add_candidate(entry.candidate, 2)
    (listed,) = spool.candidates_with_parts()
    assert listed.candidate == entry.candidate
    assert listed.parts == [(entry.test.code, 2, part)]
    assert listed.parts[0][2][2].component is result.component
    spool.close()
