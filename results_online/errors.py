"""Every exception the library raises; only the CLI turns them into messages.

ResultsError                  base; ``hint`` says what the user can do about it
├── ConfigError               configuration or environment is unusable
├── InputError                a series folder has problems (all of them, in one pass)
├── KeyStoreError             key files missing, unreadable, or wrong passphrase
├── BuildError                a stage failed; the previous output is untouched
├── PublishError              publishing to a store failed
├── MailError                 sending the outbox over SMTP failed
└── InvalidToken              a token, link or blob failed verification (no detail, by design)
"""

from __future__ import annotations

from dataclasses import dataclass


class ResultsError(Exception):
    """Base of every error Results Online raises."""

    hint: str = ""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint or self.hint

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross the render pool's process boundary by pickling: keep the hint.
        return _rebuild, (type(self), self.__dict__.copy(), self.args)


def _rebuild(cls: type[ResultsError], state: dict[str, object],
             args: tuple[object, ...]) -> ResultsError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigError(ResultsError):
    """The configuration or environment cannot be used."""


@dataclass(frozen=True)
class Problem:
    """One problem in the input, located by file, row and column."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.message}"


class InputError(ResultsError):
    """The series folder has one or more problems; ``problems`` lists all of them."""

    hint = "fix every problem listed, then run the build again"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the input:\n{lines}")


class KeyStoreError(ResultsError):
    """Key material is missing, unreadable or locked."""

    hint = "run `results keys init --keys DIR` or check RESULTS_KEY_PASSPHRASE"


class BuildError(ResultsError):
    """A build stage failed; the previous output was left as it was."""


class PublishError(ResultsError):
    """Publishing the site to a store failed."""


class MailError(ResultsError):
    """Sending the outbox over SMTP failed, or it cannot be sent yet."""


class InvalidToken(ResultsError):
    """A token, link or ciphertext failed verification; deliberately says nothing more."""

    def __init__(self) -> None:
        super().__init__("not valid")
