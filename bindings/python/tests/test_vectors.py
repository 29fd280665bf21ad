"""The golden vectors shared with Rust and Node, through the Python API."""

from __future__ import annotations

from typing import Any

import pytest

import teamkpi
from vectors import RUNNERS, load_cases, plain, same

CASES = load_cases()


def test_every_function_has_a_runner() -> None:
    assert len(CASES) > 300
    assert {f for f, _, _ in CASES} <= set(RUNNERS)


@pytest.mark.parametrize(
    ("function", "case_id", "case"), CASES, ids=[f"{f}/{i}" for f, i, _ in CASES]
)
def test_vector(function: str, case_id: str, case: dict[str, Any]) -> None:
    run = RUNNERS[function]
    if "error_code" in case:
        with pytest.raises(teamkpi.TeamKpiError) as info:
            run(case["input"])
        assert info.value.code == case["error_code"], str(info.value)
        if "error_position" in case:
            assert getattr(info.value, "position", None) == case["error_position"]
        return
    got = plain(run(case["input"]))
    assert same(case["expected"], got, "round" in case), f"expected {case['expected']}, got {got}"
