"""``json_default``: makes teamkpi results ``json.dumps``-able."""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
from typing import Any


def json_default(value: Any) -> Any:
    """``json.dumps(result, default=teamkpi.json_default)``.

    ``Decimal`` becomes a JSON number (front ends call ``.toFixed`` on them), ``date`` an ISO
    ``YYYY-MM-DD`` string, an aware ``datetime`` an ISO 8601 string in UTC with ``Z``.
    """
    if isinstance(value, _decimal.Decimal):
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime is not JSON serialisable by teamkpi")
        return value.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
