"""The spool keeps a series' objects by reference: read back, statements share them."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from factories import sealed, step_series

from results_online.build.inputs.spool import Spool


def test_spooled_statements_read_back_equal_and_share_the_series_objects(tmp_path: Path) -> None:
    series = step_series(per_centre=4, n_centres=2)
    statements = sealed(series, tmp_path / "keys")
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
    entry = series.entries[0]
    by_reference, copied = spool.dumps(entry), pickle.dumps(entry, pickle.HIGHEST_PROTOCOL)
    name = series.tests[0].name.encode()
    assert name in copied and name not in by_reference
    assert spool.loads(by_reference) == entry
    with pytest.raises(pickle.UnpicklingError, match="without the spool"):
        pickle.loads(by_reference)
    spool.close()
