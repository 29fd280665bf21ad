"""The exception hierarchy. Every exception carries the core's stable ``.code``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")


class TeamKpiError(Exception):
    """Base of every teamkpi error; ``code`` is the stable code shared with Rust and Node."""

    code: str
    message: str

    def __init__(self, message: str, code: str = "invalid_argument") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InvalidInputError(TeamKpiError, ValueError):
    """The input was wrong: a bad number, date, zone, choice, range, calendar, policy…"""


class FormulaError(InvalidInputError):
    """A formula that does not parse or type-check; ``position`` is the character offset."""

    position: int | None

    def __init__(self, message: str, code: str, position: int | None = None) -> None:
        super().__init__(message, code)
        self.position = position


class NotFoundError(TeamKpiError, LookupError):
    """An id or key that does not exist: definition, assignment, agent, ticket."""


class ConflictError(TeamKpiError):
    """The input contradicts stored state: a duplicate assignment, a late event, another tenant."""


class NoEligibleAgentError(TeamKpiError):
    """Nobody can take the item; ``reason`` says why (``nobody_available``, ``all_at_capacity``,
    …)."""

    reason: str | None

    def __init__(self, message: str, code: str, reason: str | None = None) -> None:
        super().__init__(message, code)
        self.reason = reason


class StorageError(TeamKpiError):
    """The database failed (connection, constraint, corrupt file)."""


class InvalidTypeError(InvalidInputError, TypeError):
    """A value of the wrong type (a string where a number is expected); also a ``TypeError``."""


class InternalError(TeamKpiError):
    """A bug in teamkpi, caught at the language boundary (code ``internal``): the call failed and
    the object it was called on is still usable. Please report it."""


_FORMULA = {"formula_syntax", "formula_type", "formula_too_large", "formula_too_deep"}
_NOT_FOUND = {"unknown_definition", "unknown_assignment", "unknown_agent", "unknown_ticket"}
_CONFLICT = {"duplicate_assignment", "incompatible_state", "late_event", "tenant_mismatch"}


def exception_class(code: str) -> type[TeamKpiError]:
    """The exception class raised for ``code``."""
    if not isinstance(code, str):
        raise InvalidTypeError(f"code: expected a str, got {type(code).__name__}", "invalid_type")
    if code in _FORMULA:
        return FormulaError
    if code in _NOT_FOUND:
        return NotFoundError
    if code in _CONFLICT:
        return ConflictError
    if code == "no_eligible_agent":
        return NoEligibleAgentError
    if code == "storage":
        return StorageError
    if code == "invalid_type":
        return InvalidTypeError
    if code == "internal":
        return InternalError
    if code == "arithmetic_overflow":
        return TeamKpiError
    return InvalidInputError


def _from_native(code: str, message: str, position: int | None, reason: str | None) -> TeamKpiError:
    """Called by the native module to build the exception for a coded error."""
    cls = exception_class(code)
    if cls is FormulaError or position is not None:
        return FormulaError(message, code, position)
    if cls is NoEligibleAgentError:
        return NoEligibleAgentError(message, code, reason)
    return cls(message, code)


def _coded(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """``fn`` raising coded errors where Python refuses to convert an argument before teamkpi
    sees it: ``TypeError`` becomes ``InvalidTypeError`` (still a ``TypeError``), ``OverflowError``
    (a negative or too large int) ``out_of_range``."""

    @functools.wraps(fn)
    def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return fn(*args, **kwargs)
        except TeamKpiError:
            raise
        except OverflowError as e:
            raise InvalidInputError(str(e), "out_of_range") from e
        except TypeError as e:
            raise InvalidTypeError(str(e), "invalid_type") from e

    return call
