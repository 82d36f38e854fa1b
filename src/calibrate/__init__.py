"""calibrate: learn lead-scoring points and MQL thresholds from won/lost history.

The data flows one way, one folder per step::

    sheet -> io -> learn -> decide -> production -> report

:func:`fit` runs them all on a lead table and returns a :class:`Calibration`;
the estimators (:class:`LeadBinner`, :class:`LeadScoreModel`,
:class:`Scorecard`) can also be used on their own, scikit-learn style.

The public names are imported on first use, so that scoring with a config
(:class:`ScoringConfig`, :func:`score_leads`) loads only numpy and pandas,
not the fitting stack (scikit-learn, scipy, ...).
"""

__version__ = "0.1.0"

#: Where each public name lives (imported when first used).
_PUBLIC = {
    "CalibrateError": "errors",
    "ConfigError": "errors",
    "DataError": "errors",
    "ParameterError": "errors",
    "ScoringConfig": "production.config",
    "diff_configs": "production.rules",
    "rule_sheet": "production.rules",
    "evaluation_report": "report",
    "scoring_sql": "production.sql_export",
    "LeadBinner": "learn.binning",
    "LeadData": "io.ingest",
    "load_leads": "io.ingest",
    "read_table": "io.tables",
    "LeadScoreModel": "learn.model",
    "split_holdout": "learn.model",
    "Calibration": "result",
    "fit": "pipeline",
    "monitor": "monitoring",
    "backtest": "backtesting",
    "Backtest": "backtesting",
    "Monitoring": "monitoring",
    "Scorecard": "learn.points",
    "Source": "io.sources",
    "score_leads": "production.scorer",
    "ExpectedValue": "decide.policies",
    "SalesCapacity": "decide.policies",
    "TargetRate": "decide.policies",
    "calibration_table": "decide.threshold",
    "recommend_threshold": "decide.threshold",
}

__all__ = [
    "Backtest",
    "CalibrateError",
    "Calibration",
    "ConfigError",
    "DataError",
    "ExpectedValue",
    "LeadBinner",
    "LeadData",
    "LeadScoreModel",
    "Monitoring",
    "ParameterError",
    "SalesCapacity",
    "Scorecard",
    "ScoringConfig",
    "Source",
    "TargetRate",
    "__version__",
    "backtest",
    "calibration_table",
    "diff_configs",
    "evaluation_report",
    "fit",
    "load_leads",
    "monitor",
    "read_table",
    "recommend_threshold",
    "rule_sheet",
    "score_leads",
    "scoring_sql",
    "split_holdout",
]


def __getattr__(name: str):
    """Import a public name (or a submodule) on first use (PEP 562)."""
    from importlib import import_module

    if name in _PUBLIC:
        value = getattr(import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value
        return value
    if not name.startswith("__"):
        from importlib.util import find_spec

        if find_spec(f"{__name__}.{name}") is not None:
            return import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
