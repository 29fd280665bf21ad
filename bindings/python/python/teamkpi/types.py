"""The typed shapes of teamkpi's results and inputs, for type checkers (at run time results are
plain dicts, so a Django view or a Flask route returns them unchanged).

    from teamkpi.types import MeasurementRow
"""

from ._types import *  # noqa: F403
from ._types import __all__ as __all__
