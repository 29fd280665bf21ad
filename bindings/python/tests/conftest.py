import sys
from pathlib import Path

import pytest

# The vector runner is a helper module next to the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Prints how many generated calls the fuzz suite made."""
    cases = getattr(sys.modules.get("test_fuzz"), "CASES", None)
    if cases:
        n, entries = sum(cases.values()), len(cases)
        terminalreporter.write_line(
            f"fuzz: {n} calls over {entries} entry points, each a result or a TeamKpiError"
        )
