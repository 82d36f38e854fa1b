"""Drift: how leads scored by a config compare with the leads it was fitted on.

:func:`~calibrate.drift.measures.measure` compares one set of scored leads
with the config's training reference (band shares, score distribution,
categories seen) and, when outcomes are known, with the hold-out evidence
of the fit (AUC, win rate per score band, each band's win rate against its
criterion's). :func:`~calibrate.drift.alerts.alerts` turns the measurements
into ``watch`` and ``act`` alerts on stated thresholds, and a verdict.
"""

from .alerts import THRESHOLDS, alerts, verdict
from .measures import measure, population_stability

__all__ = ["THRESHOLDS", "alerts", "measure", "population_stability", "verdict"]
