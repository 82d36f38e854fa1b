"""calibrate: learn lead-scoring points and MQL thresholds from won/lost history.

The data flows one way, one module per step::

    ingest -> features -> model -> points -> threshold -> report / export

:func:`fit` runs them all on a lead table and returns a :class:`Calibration`;
the estimators (:class:`LeadBinner`, :class:`LeadScoreModel`,
:class:`Scorecard`) can also be used on their own, scikit-learn style.
"""

__version__ = "0.1.0"

from .errors import CalibrateError, ConfigError, DataError, ParameterError  # noqa: E402
from .export import ScoringConfig  # noqa: E402
from .features import LeadBinner  # noqa: E402
from .ingest import LeadData, load_leads, read_table  # noqa: E402
from .model import LeadScoreModel, split_holdout  # noqa: E402
from .pipeline import Calibration, fit  # noqa: E402
from .points import Scorecard  # noqa: E402
from .scorer import score_leads  # noqa: E402
from .threshold import ExpectedValue, calibration_table, recommend_threshold  # noqa: E402

__all__ = [
    "CalibrateError",
    "Calibration",
    "ConfigError",
    "DataError",
    "ExpectedValue",
    "LeadBinner",
    "LeadData",
    "LeadScoreModel",
    "ParameterError",
    "Scorecard",
    "ScoringConfig",
    "__version__",
    "calibration_table",
    "fit",
    "load_leads",
    "read_table",
    "recommend_threshold",
    "score_leads",
    "split_holdout",
]
