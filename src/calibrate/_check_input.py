"""Checks of the arrays handed to estimators: one place for the whole library."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import DataError, format_examples


def check_frame(X) -> pd.DataFrame:
    """``X`` must be a non-empty DataFrame of lead attributes."""
    if not isinstance(X, pd.DataFrame):
        raise DataError(f"X must be a pandas DataFrame of lead attributes, got {type(X).__name__}")
    if len(X) == 0:
        raise DataError("X has no rows")
    return X


def check_target(y, n: int) -> np.ndarray:
    """``y`` must hold one boolean or 0/1 outcome per lead, both classes present."""
    y = np.asarray(y)
    if y.shape != (n,):
        raise DataError(f"y must hold one outcome per lead ({n}), got shape {y.shape}")
    values = set(pd.unique(y).tolist())
    if not values <= {0, 1}:
        raise DataError(f"y must be boolean or 0/1, got values {format_examples(sorted(values))}")
    if len(values) < 2:
        raise DataError("y holds a single class: calibrate needs both won and lost leads")
    return y.astype(float)


def check_sample_weight(sample_weight, n: int) -> np.ndarray:
    """Weights default to one per lead; they must be finite and non-negative."""
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=float)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
        raise DataError(f"sample_weight must be {n} finite non-negative numbers, not all zero")
    return w


def check_columns(X: pd.DataFrame, expected) -> None:
    """Every column seen in ``fit`` must be present; extra columns are fine."""
    missing = [c for c in expected if c not in X.columns]
    if missing:
        raise DataError(
            f"{len(missing)} criterion column(s) missing from the data: {format_examples(missing)}"
        )
