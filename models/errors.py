"""Exceptions of biblio-ia: every user-facing error carries a French message in ``str()``."""

from __future__ import annotations

from typing import Any


class BiblioError(Exception):
    """Base class: a problem the user can fix, explained in French (no traceback needed)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class DataReadError(BiblioError):
    """A data file cannot be read (missing, empty, unknown encoding, unknown column...)."""


class DataValidationError(BiblioError):
    """A data set does not match the entry's schema; ``report`` lists every problem."""

    def __init__(self, report: Any, message: str | None = None) -> None:
        self.report = report
        if message is None:
            to_text = getattr(report, "to_text", None)
            message = to_text() if callable(to_text) else str(report)
        super().__init__(message)


class UntrustedModelError(BiblioError):
    """A model file contains types outside the explicit trusted list: loading is refused."""

    def __init__(self, message: str, untrusted_types: list[str] | None = None) -> None:
        super().__init__(message)
        self.untrusted_types = list(untrusted_types or [])


class ModelFileError(BiblioError):
    """A model file is missing or unreadable (not a skops archive, truncated...)."""
