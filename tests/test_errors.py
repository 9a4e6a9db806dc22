"""The exception tree: every error keeps its message and hint across a process boundary."""

from __future__ import annotations

import pickle

import pytest

from results_online.errors import (
    BuildError,
    ConfigError,
    InputError,
    InvalidToken,
    MailError,
    Problem,
    ResultsError,
)


@pytest.mark.parametrize("error", [
    BuildError("a stage failed", hint="try again"),
    ConfigError("bad setting"),
    MailError("the SMTP server refused", hint="check --smtp"),
    InputError([Problem("results.csv", 3, "mark", "not a number")]),
    InvalidToken(),
])
def test_errors_pickle_with_their_hint_and_details(error: ResultsError) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error) and back.hint == error.hint
    if isinstance(error, InputError):
        assert isinstance(back, InputError) and back.problems == error.problems
