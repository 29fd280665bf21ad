"""Result containers shared by the native module and the pure-Python helpers."""

from __future__ import annotations

from typing import Any


class MetricRows(list[dict[str, Any]]):
    """Metric rows (a plain ``list`` of dicts) with the records that were not counted.

    ``rejected`` lists ``{"id", "code", "message"}`` for each bad record (resolved before
    created, negative duration, another tenant…); the rest are computed.
    """

    rejected: list[dict[str, Any]]

    def __init__(self, rows: list[dict[str, Any]], rejected: list[dict[str, Any]]) -> None:
        super().__init__(rows)
        self.rejected = rejected
