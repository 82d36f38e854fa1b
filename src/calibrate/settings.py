"""Settings of a fit: small frozen values that the Python API and the CLI both build.

:func:`calibrate.fit` takes its settings as keyword arguments, for a
notebook; :func:`calibrate.pipeline.fit_with` takes them as these four
objects, which the command line builds from its options:

- :class:`LeadColumns`: how to read the lead table (outcome, id, dates,
  kinds, exclusions);
- :class:`ActivitySettings`: how to read the activity log and what to learn
  from it;
- :class:`PolicySettings`: how to choose the MQL threshold, levels and
  fast-track rules;
- :class:`ModelSettings`: the split, the bands and the bootstrap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .decide.policies import ExpectedValue, SalesCapacity, TargetRate
from .errors import ParameterError

__all__ = ["ActivitySettings", "LeadColumns", "ModelSettings", "PolicySettings", "PreviousSheet"]


def _names(values) -> tuple:
    """A tuple of names; a single string is one name, not its characters."""
    if values is None:
        return ()
    return (values,) if isinstance(values, str) else tuple(values)


@dataclass(frozen=True)
class LeadColumns:
    """How the lead table is read: see :func:`calibrate.load_leads`.

    Parameters
    ----------
    outcome : str
        Outcome column (won/lost).
    positive : optional
        The outcome value meaning won, when not evident.
    id : str, optional
        Lead id column; row numbers when None.
    exclude : mapping or iterable of str
        Columns not to use, optionally with the reason.
    date : str, optional
        Date ordering the hold-out.
    decided_at : str, optional
        When the hand-off decision was made: a column or ``"COLUMN - N days"``.
    types : mapping, optional
        Column kinds overriding inference.
    implicit, explicit : iterable of str
        Columns labelled behaviour or fit.
    sep : str, optional
        CSV separator (sniffed by default).
    encoding : str, default="utf-8-sig"
        Text encoding of a CSV file.

    Examples
    --------
    >>> LeadColumns("converted", id="lead_id", exclude="notes").exclude
    ('notes',)
    """

    outcome: str
    positive: object = None
    id: str | None = None
    exclude: Mapping[str, str] | Iterable[str] = ()
    date: str | None = None
    decided_at: str | None = None
    types: Mapping[str, str] = field(default_factory=dict)
    implicit: Iterable[str] = ()
    explicit: Iterable[str] = ()
    sep: str | None = None
    encoding: str = "utf-8-sig"

    def __post_init__(self):
        if not isinstance(self.exclude, Mapping):
            object.__setattr__(self, "exclude", _names(self.exclude))
        else:
            object.__setattr__(self, "exclude", dict(self.exclude))
        object.__setattr__(self, "types", dict(self.types or {}))
        object.__setattr__(self, "implicit", _names(self.implicit))
        object.__setattr__(self, "explicit", _names(self.explicit))

    def read_options(self) -> dict:
        """The keyword arguments of :func:`calibrate.load_leads`."""
        return {
            "outcome": self.outcome,
            "positive": self.positive,
            "id": self.id,
            "exclude": self.exclude,
            "date": self.date,
            "decided_at": self.decided_at,
            "types": self.types,
            "implicit": self.implicit,
            "explicit": self.explicit,
            "sep": self.sep,
            "encoding": self.encoding,
        }


@dataclass(frozen=True)
class ActivitySettings:
    """How the activity log is read and what is learned from it.

    Parameters
    ----------
    columns : mapping, optional
        Column names of the log by role: ``lead_id``, ``activity_type``,
        ``occurred_at`` (defaults as named) and ``detail`` (none by default).
    detail_rules : iterable of str
        Re-type activities by detail: ``"page_view:/pricing*=pricing_page_view"``.
    combos : iterable of str
        Activity types done together: ``"whitepaper_download+case_study_view"``.
    families : mapping, optional
        ``{activity type: family}``; a family shares one decay.
    learn_decay : bool, default=True
        Learn each family's half-life; otherwise behaviour never fades.
    extra_features : iterable of str
        Optional feature kinds to add to the defaults, e.g. ``"distinct_weeks"``
        (active in N different weeks of the last 90 days).

    Raises
    ------
    ParameterError
        For a column role other than the four above.
    """

    columns: Mapping[str, str | None] = field(default_factory=dict)
    detail_rules: Iterable[str] = ()
    combos: Iterable[str] = ()
    families: Mapping[str, str] = field(default_factory=dict)
    learn_decay: bool = True
    extra_features: Iterable[str] = ()

    ROLES = ("lead_id", "activity_type", "occurred_at", "detail")

    def __post_init__(self):
        columns = dict(self.columns or {})
        unknown = sorted(set(columns) - set(self.ROLES))
        if unknown:
            raise ParameterError(f"unknown activity column roles: {unknown}")
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "detail_rules", _names(self.detail_rules))
        object.__setattr__(self, "combos", _names(self.combos))
        object.__setattr__(self, "families", dict(self.families or {}))
        object.__setattr__(self, "extra_features", _names(self.extra_features))


@dataclass(frozen=True)
class PolicySettings:
    """How the MQL threshold, the levels and the fast-track rules are chosen.

    Parameters
    ----------
    policy : {"expected_value", "sales_capacity", "target"}
        The policy that sets the threshold; every policy given its
        parameters is evaluated and recorded.
    win_value, cost_per_lead : float
        The expected-value policy (always evaluated).
    capacity : mapping, optional
        :class:`~calibrate.decide.threshold.SalesCapacity` parameters.
    target : mapping, optional
        :class:`~calibrate.decide.threshold.TargetRate` parameters.
    levels : str, optional
        Score levels ``"A=80,B=60,C=40"``; hot/warm/nurture by default.
    fast_track : iterable of str, optional
        Hand-raiser signals to test; None tests the usual ones.

    Raises
    ------
    ParameterError
        When the chosen policy is not given what it needs (see
        :meth:`policies`).

    Examples
    --------
    >>> list(PolicySettings(capacity={"leads_per_week": 250}).policies())
    ['expected_value', 'sales_capacity']
    """

    policy: str = "expected_value"
    win_value: float = 5000.0
    cost_per_lead: float = 250.0
    capacity: Mapping[str, float] = field(default_factory=dict)
    target: Mapping[str, float] = field(default_factory=dict)
    levels: str | None = None
    fast_track: Iterable[str] | None = None

    def __post_init__(self):
        object.__setattr__(self, "capacity", dict(self.capacity or {}))
        object.__setattr__(self, "target", dict(self.target or {}))
        if self.fast_track is not None:
            object.__setattr__(self, "fast_track", _names(self.fast_track))
        self.policies()  # the chosen policy has what it needs

    def policies(self) -> dict:
        """``{name: policy}`` for every policy given its parameters."""
        policies = {
            "expected_value": ExpectedValue(
                win_value=self.win_value, cost_per_lead=self.cost_per_lead
            )
        }
        if self.capacity:
            policies["sales_capacity"] = SalesCapacity(**self.capacity)
        if self.target:
            policies["target"] = TargetRate(**self.target)
        if self.policy not in policies:
            needs = {"sales_capacity": "capacity", "target": "a target precision or recall"}
            raise ParameterError(
                f"policy {self.policy!r} needs {needs.get(self.policy, 'a known policy name')}; "
                f"available: {', '.join(policies)}"
            )
        return policies


@dataclass(frozen=True)
class ModelSettings:
    """The split, the bands, monotone rules and the bootstrap of a fit.

    Parameters
    ----------
    holdout : float, default=0.3
        Share of leads held out for evaluation.
    seed : int, default=0
        Seed of the split, the folds and the bootstrap.
    monotone : mapping, optional
        ``{column: "increasing" | "decreasing" | "auto" | "none" | [levels]}``.
    bootstrap : int, default=100
        Bootstrap refits for every band's 95% interval; 0 skips them.
    max_bins : int, default=10
        Most ranges per numeric criterion.
    choose_bins : bool, default=True
        Choose every numeric criterion's number of ranges, up to
        ``max_bins``, by cross-validation; False gives each ``max_bins``
        ranges (as far as its leads allow).
    max_pairs : int, default=8
        Most pair rules added to the additive sheet, each kept only when it
        lowers the cross-validated log loss (see
        :class:`~calibrate.learn.model.LeadScoreModel`); 0 adds none.
    recency_half_life : float, "auto" or None, default=None
        Weigh training leads by ``2 ** (-age / half_life)``, their age in days
        before the latest training lead (it needs a date column); ``"auto"``
        chooses the half-life by time-ordered validation
        (:func:`calibrate.learn.recency.choose_half_life`). None weighs every
        lead alike.
    """

    holdout: float = 0.3
    seed: int = 0
    monotone: Mapping[str, object] = field(default_factory=dict)
    bootstrap: int = 100
    max_bins: int = 10
    choose_bins: bool = True
    recency_half_life: float | str | None = None
    max_pairs: int = 8

    def __post_init__(self):
        object.__setattr__(self, "monotone", dict(self.monotone or {}))
        if not isinstance(self.choose_bins, bool | np.bool_):
            raise ParameterError(f"choose_bins must be True or False, got {self.choose_bins!r}")
        if isinstance(self.max_pairs, bool) or not isinstance(self.max_pairs, int | np.integer):
            raise ParameterError(f"max_pairs must be a whole number, got {self.max_pairs!r}")
        if self.max_pairs < 0:
            raise ParameterError(f"max_pairs must be 0 or more, got {self.max_pairs}")
        h = self.recency_half_life
        if h is not None and h != "auto":
            try:
                days = float(h)
            except (TypeError, ValueError):
                days = float("nan")
            if not days > 0 or days == float("inf"):
                raise ParameterError(
                    f"recency_half_life must be a number of days above 0, 'auto' or None; "
                    f"got {h!r}"
                )
            object.__setattr__(self, "recency_half_life", days)


@dataclass(frozen=True)
class PreviousSheet:
    """The sheet a refit keeps what the meeting agreed of.

    Parameters
    ----------
    config : ScoringConfig, str or os.PathLike
        The previous sheet's config (or its path).
    structure : bool, default=True
        Refit the weights on its criteria and bands only, so that a
        marketing-automation tool needs only new point values (no band is
        pooled, so no monotone order is enforced); its behaviour features
        are computed as they are, nothing learned of the log.
    threshold : bool, default=False
        Keep its MQL threshold, the points shifted so that it passes the same
        share of leads as before
        (:class:`calibrate.decide.threshold.KeptThreshold`).
    """

    config: object
    structure: bool = True
    threshold: bool = False

    def __post_init__(self):
        from .production.config import ScoringConfig

        if not isinstance(self.config, ScoringConfig):
            object.__setattr__(self, "config", ScoringConfig.load(self.config))
