"""Columnar input for ``ticket_metrics_columns``: numpy and pyarrow arrays as native buffers.

Arrays that already have the kernel's layout (int64 Unix seconds, uint64 ids, uint32 priority
codes, no nulls) are passed without a copy; others are converted once, vectorised.
"""

from __future__ import annotations

from typing import Any, Literal, overload

from . import _teamkpi
from ._errors import InvalidTypeError
from ._native import MetricColumns, MetricRows

NULL_INSTANT: int = _teamkpi.NULL_INSTANT

_INSTANTS = ("created_at", "first_response_at", "resolved_at")


def _np() -> Any:
    try:
        import numpy
    except ImportError as e:  # pragma: no cover - numpy is a dependency of the columns extra
        raise _teamkpi_error("ticket_metrics_columns needs numpy (pip install numpy)") from e
    return numpy


def _teamkpi_error(message: str) -> Exception:
    from ._errors import InvalidInputError

    return InvalidInputError(message, "invalid_argument")


def _is_arrow(obj: Any) -> bool:
    return type(obj).__module__.startswith("pyarrow")


def _arrow_array(obj: Any) -> Any:
    """A pyarrow Array from an Array or ChunkedArray."""
    if hasattr(obj, "combine_chunks"):
        return obj.combine_chunks()
    return obj


def _column(columns: Any, name: str) -> Any:
    if hasattr(columns, "schema") and hasattr(columns, "column"):  # Table or RecordBatch
        names = columns.schema.names
        return columns.column(name) if name in names else None
    if isinstance(columns, dict):
        return columns.get(name)
    raise InvalidTypeError(
        "columns: expected a pyarrow Table or RecordBatch, or a dict of arrays, "
        f"got {type(columns).__name__}",
        "invalid_type",
    )


def _instants(obj: Any, name: str) -> Any:
    """int64 Unix seconds with NULL_INSTANT for missing values."""
    np = _np()
    if obj is None:
        raise _teamkpi_error(f"{name}: column missing")
    if _is_arrow(obj):
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = _arrow_array(obj)
        if pa.types.is_timestamp(arr.type):
            if arr.type.unit != "s":
                # Whole seconds, truncated (docs/semantics.md); floor for instants before 1970.
                arr = pc.floor_temporal(arr, unit="second").cast(pa.timestamp("s", arr.type.tz))
            arr = arr.cast(pa.int64())
        elif not pa.types.is_integer(arr.type):
            raise _teamkpi_error(f"{name}: expected timestamps, got {arr.type}")
        if arr.null_count:
            arr = pc.fill_null(arr.cast(pa.int64()), NULL_INSTANT)
        return np.asarray(arr.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
    a = np.asarray(obj)
    if a.dtype.kind == "M":
        if a.dtype != np.dtype("datetime64[s]"):
            # whole seconds; NaT stays NaT (the same bits as NULL_INSTANT)
            a = a.astype("datetime64[s]")
        return np.ascontiguousarray(a).view(np.int64)
    if a.dtype.kind in "iu":
        return np.ascontiguousarray(a, dtype=np.int64)
    raise _teamkpi_error(f"{name}: expected datetime64 or int64 seconds, got {a.dtype}")


def _ids(obj: Any, name: str) -> tuple[Any, Any]:
    """uint64 values and, when some are missing, a uint8 validity mask."""
    np = _np()
    if _is_arrow(obj):
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = _arrow_array(obj)
        valid = None
        if arr.null_count:
            valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=np.uint8)
            arr = pc.fill_null(arr, 0)
        values = arr.cast(pa.uint64()).to_numpy(zero_copy_only=False)
        return np.ascontiguousarray(values, dtype=np.uint64), valid
    a = np.asarray(obj)
    if a.dtype.kind == "f":
        valid = ~np.isnan(a)
        a = np.where(valid, a, 0)
        if (a < 0).any():
            raise _teamkpi_error(f"{name}: ids must not be negative")
        return a.astype(np.uint64), valid.view(np.uint8)
    if a.dtype.kind == "i" and a.size and a.min() < 0:
        raise _teamkpi_error(f"{name}: ids must not be negative")
    if a.dtype.kind not in "iu":
        raise _teamkpi_error(f"{name}: expected integer ids, got {a.dtype}")
    return np.ascontiguousarray(a, dtype=np.uint64), None


def _priorities(obj: Any, labels: list[str] | None) -> tuple[Any, list[str]]:
    """uint32 codes into a label list; a missing priority is the empty label (no SLA)."""
    np = _np()
    if _is_arrow(obj):
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = _arrow_array(obj)
        if not pa.types.is_dictionary(arr.type):
            arr = pc.dictionary_encode(arr)
        out_labels = [str(x) for x in arr.dictionary.to_pylist()]
        indices = arr.indices
        if indices.null_count:
            out_labels.append("")
            indices = pc.fill_null(indices, len(out_labels) - 1)
        return np.ascontiguousarray(
            indices.to_numpy(zero_copy_only=False), dtype=np.uint32
        ), out_labels
    if hasattr(obj, "codes") and hasattr(obj, "categories"):  # pandas Categorical
        codes = np.asarray(obj.codes)
        out_labels = [str(c) for c in obj.categories]
        if (codes < 0).any():
            out_labels.append("")
            codes = np.where(codes < 0, len(out_labels) - 1, codes)
        return np.ascontiguousarray(codes, dtype=np.uint32), out_labels
    a = np.asarray(obj)
    if a.dtype.kind in "iu":
        if labels is None:
            raise _teamkpi_error("priority: integer codes need priority_labels")
        return np.ascontiguousarray(a, dtype=np.uint32), list(labels)
    texts = np.where(a == None, "", a).astype(str)  # noqa: E711 - elementwise None test
    uniques, codes = np.unique(texts, return_inverse=True)
    return np.ascontiguousarray(codes, dtype=np.uint32), [str(u) for u in uniques]


@overload
def ticket_metrics_columns(
    columns: Any,
    *,
    priority_labels: list[str] | None = ...,
    output: Literal["rows"] = ...,
    **options: Any,
) -> MetricRows: ...
@overload
def ticket_metrics_columns(
    columns: Any,
    *,
    priority_labels: list[str] | None = ...,
    output: Literal["numpy"],
    **options: Any,
) -> MetricColumns: ...
def ticket_metrics_columns(
    columns: Any,
    *,
    priority_labels: list[str] | None = None,
    output: str = "rows",
    **options: Any,
) -> MetricRows | MetricColumns:
    """Ticket metrics from columns: a pyarrow Table or RecordBatch, or a dict of numpy / pyarrow
    arrays with ``agent_id``, ``created_at``, ``first_response_at``, ``resolved_at`` and
    optionally ``id`` and ``priority``. Instants are pyarrow timestamps (null = missing), numpy
    ``datetime64`` (NaT = missing) or int64 Unix seconds; tz-naive columns are read as UTC.

    ``output="rows"`` (the default) gives ``MetricRows`` like ``ticket_metrics``;
    ``output="numpy"`` gives ``MetricColumns``, one numpy array per key — columns in, columns
    out, without building a dict per row (for a million tickets that is most of the call).

    Keyword options are those of ``ticket_metrics``, plus ``threads`` (default 1): the rows are
    split over that many threads (inputs under 200 000 rows a thread use fewer), with the same
    result. The arrays must not be written to during the call (they are read in place with the
    GIL released).
    """
    agent_id, agent_valid = _ids(_column(columns, "agent_id"), "agent_id")
    id_col = _column(columns, "id")
    ids = None if id_col is None else _ids(id_col, "id")[0]
    prio_col = _column(columns, "priority")
    codes, labels = (None, []) if prio_col is None else _priorities(prio_col, priority_labels)
    created, first, resolved = (_instants(_column(columns, n), n) for n in _INSTANTS)
    result = _teamkpi._ticket_metrics_buffers(
        ids,
        agent_id,
        agent_valid,
        codes,
        labels,
        created,
        first,
        resolved,
        output=output,
        **options,
    )
    if isinstance(result, MetricRows):
        return result
    np = _np()
    raw, rejected = result
    arrays = {
        name: np.array(data, dtype=object) if dtype == "O" else np.frombuffer(data, dtype=dtype)
        for name, (dtype, data) in raw.items()
    }
    return MetricColumns(arrays, rejected)
