import sys
from pathlib import Path

# The vector runner is a helper module next to the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))
