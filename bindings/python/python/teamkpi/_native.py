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


class MetricColumns(dict[str, Any]):
    """Metric rows as columns (``ticket_metrics_columns(..., output="numpy")``): each key of a
    row maps to a numpy array with one value per (group, period).

    Counts and sums are ``int64``; ``period_start`` / ``period_end`` ``datetime64[D]``; averages,
    rates and percentages ``float64`` (NaN = no data; the exact decimals are in the rows
    output); optional integers (``agent_id``, medians, p90s) ``int64`` when every row has one,
    else ``float64`` with NaN; ``team`` an object array. ``pandas.DataFrame(result)`` or
    ``pyarrow.table(result)`` take it as it is. ``rejected`` is as in ``MetricRows``.
    """

    rejected: list[dict[str, Any]]

    def __init__(self, columns: dict[str, Any], rejected: list[dict[str, Any]]) -> None:
        super().__init__(columns)
        self.rejected = rejected
