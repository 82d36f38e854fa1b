"""Policies: what a threshold is for, one class each.

:class:`ExpectedValue` passes a lead when its expected win value pays for a
sales follow-up; :class:`SalesCapacity` passes what sales can follow up;
:class:`TargetRate` meets a precision or recall; :class:`KeptThreshold`
keeps a previous sheet's agreed threshold. :func:`calibrate.decide.threshold.
recommend_threshold` reads them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import ParameterError
from ..validation import check_params, optional, real

__all__ = ["ExpectedValue", "KeptThreshold", "SalesCapacity", "TargetRate"]


#: A finite amount, count or rate above zero.
_POSITIVE = real(0, low_open=True, finite=True)


@dataclass(frozen=True)
class ExpectedValue:
    """Pass a lead to sales when ``P(win) * win_value >= cost_per_lead``.

    Parameters
    ----------
    win_value : float, default=5000
        What a won lead is worth (e.g. first-year contract value times margin).
    cost_per_lead : float, default=250
        What a sales follow-up of one lead costs (time of the rep, tools).

    Examples
    --------
    >>> ExpectedValue(win_value=5000, cost_per_lead=250).break_even
    0.05
    """

    win_value: float = 5000.0
    cost_per_lead: float = 250.0
    name = "expected_value"
    _rules = {"win_value": _POSITIVE, "cost_per_lead": _POSITIVE}

    def __post_init__(self):
        check_params(self, self._rules)

    @property
    def break_even(self) -> float:
        """Win probability at which a follow-up pays for itself."""
        return self.cost_per_lead / self.win_value

    def describe(self) -> str:
        """The policy in one sentence, for the report."""
        return (
            f"It maximises expected value with a win worth {self.win_value:,.0f} and a "
            f"follow-up costing {self.cost_per_lead:,.0f}: a follow-up pays when a lead's win "
            f"chance is at least {self.break_even:.1%}."
        )

    def to_dict(self) -> dict:
        """The policy's name and parameters, for the config."""
        return {"name": self.name, **asdict(self)}


@dataclass(frozen=True)
class SalesCapacity:
    """Pass as many leads as sales can follow up: the lowest threshold within capacity.

    Capacity per week is ``leads_per_week``, or ``reps x
    follow_ups_per_rep_per_day x working_days``. The expected MQLs per week
    at a threshold are the historical leads per week times the share of
    hold-out leads passed. With a follow-up SLA (``sla_hours``) the busiest
    weeks count: the 90th percentile of weekly lead volume must stay within
    capacity, so the SLA holds in nine weeks out of ten; without it, the
    average week. The weekly volume comes from the leads' dates, or from
    ``incoming_per_week`` (new leads a week) when the history has no dates.

    Examples
    --------
    >>> SalesCapacity(reps=4, follow_ups_per_rep_per_day=20).capacity_per_week
    400.0
    """

    leads_per_week: float | None = None
    reps: float | None = None
    follow_ups_per_rep_per_day: float | None = None
    sla_hours: float | None = None
    working_days: float = 5
    incoming_per_week: float | None = None
    name = "sales_capacity"
    _rules = {
        "leads_per_week": optional(_POSITIVE),
        "reps": optional(_POSITIVE),
        "follow_ups_per_rep_per_day": optional(_POSITIVE),
        "sla_hours": optional(_POSITIVE),
        "working_days": real(0, 7, low_open=True),
        "incoming_per_week": optional(_POSITIVE),
    }

    def __post_init__(self):
        check_params(self, self._rules)
        by_team = self.reps is not None and self.follow_ups_per_rep_per_day is not None
        if (self.leads_per_week is None) == (not by_team):
            raise ParameterError(
                "SalesCapacity needs either leads_per_week, or reps and "
                "follow_ups_per_rep_per_day (not both)"
            )

    def describe(self) -> str:
        """The policy in one sentence, for the report."""
        week = "the busiest weeks (90th percentile)" if self.sla_hours else "an average week"
        sla = f" within the {self.sla_hours:g}-hour follow-up SLA" if self.sla_hours else ""
        return (
            f"It is the lowest threshold whose MQLs sales can follow up{sla}: "
            f"{self.capacity_per_week:,.0f} leads a week, judged on {week}."
        )

    @property
    def capacity_per_week(self) -> float:
        """Leads sales can follow up in a week."""
        if self.leads_per_week is not None:
            return float(self.leads_per_week)
        return float(self.reps * self.follow_ups_per_rep_per_day * self.working_days)

    def to_dict(self) -> dict:
        """The policy's name and parameters, for the config."""
        return {"name": self.name, **asdict(self), "capacity_per_week": self.capacity_per_week}


@dataclass(frozen=True)
class TargetRate:
    """Meet a target: a win rate among MQLs (precision) or a share of wins passed (recall).

    With ``precision``, the lowest threshold whose MQLs win at least that
    often (the most leads for the quality asked); with ``recall``, the highest
    threshold that still passes that share of wins (the fewest leads).
    """

    precision: float | None = None
    recall: float | None = None
    name = "target"
    _rules = {
        "precision": optional(real(0, 1, low_open=True)),
        "recall": optional(real(0, 1, low_open=True)),
    }

    def __post_init__(self):
        check_params(self, self._rules)
        if (self.precision is None) == (self.recall is None):
            raise ParameterError("TargetRate needs exactly one of precision and recall")

    def to_dict(self) -> dict:
        """The policy's name and parameters, for the config."""
        return {"name": self.name, **asdict(self)}

    def describe(self) -> str:
        """The policy in one sentence, for the report."""
        if self.precision is not None:
            return (
                f"It is the lowest threshold whose MQLs win at least {self.precision:.0%} of "
                "the time."
            )
        return f"It is the highest threshold that still passes {self.recall:.0%} of wins."


@dataclass(frozen=True)
class KeptThreshold:
    """Keep the MQL threshold agreed for the previous sheet.

    After a refit the points move; the base points are shifted so that the
    agreed number keeps its meaning by volume: on the hold-out leads, the
    new sheet passes at ``mql`` about the share the previous sheet passed
    (``share_passed_before``).

    Parameters
    ----------
    mql : int
        The agreed threshold.
    share_passed_before : float
        The share of hold-out leads the previous sheet passed at it.

    Examples
    --------
    >>> KeptThreshold(mql=55, share_passed_before=0.25).describe()[:52]
    'It keeps the MQL threshold agreed for the previous s'
    """

    mql: int
    share_passed_before: float
    name = "kept"

    def describe(self) -> str:
        """The policy in one sentence, for the report."""
        return (
            f"It keeps the MQL threshold agreed for the previous sheet, {self.mql}: the points "
            f"were shifted so that it passes about the same share of leads as before "
            f"({self.share_passed_before:.1%} of these hold-out leads)."
        )

    def to_dict(self) -> dict:
        """The policy's name and parameters, for the config."""
        return {"name": self.name, "mql": int(self.mql), "meaning": "the same share of leads",
                "share_passed_before": round(float(self.share_passed_before), 6)}  # fmt: skip
