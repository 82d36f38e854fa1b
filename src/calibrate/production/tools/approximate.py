"""The sheet as a marketing-automation tool can hold it: its rules, what it cannot say, and why.

A calibrate config is exact in Python and SQL. A tool such as HubSpot or
Mautic holds a narrower language: a property is one of some values or in a
range; an activity happened N+ times in the last D days (HubSpot), or once
ever (Mautic). :func:`tool_sheet` translates a config into that language:

- **rules** the tool's writers turn into its native body (:class:`ToolRule`):
  a *property* rule on a lead column, an *event* rule on activity types, or
  an *and* rule (a pair of property conditions);
- **gaps** (:class:`Gap`): what the tool cannot express, each with the nearest
  expressible approximation ("a half-life of 84 days" becomes "1+
  demo_request in the last 112 days");
- and the **sheet as the tool computes it**, itself a :class:`ScoringConfig`,
  so that the cost of the approximation is measured by calibrate's own exact
  scorer: its hold-out AUC against the config's.

Rules of a criterion's bands are exclusive (a lead matches one) for a
property; an activity criterion becomes cumulative rules, one per band edge,
each worth the step in points from the band below ("1+ demo_request in the
last 112 days: +15"; "2+ ... in the last 10 days: +7 more"). Points a tool
has no place for, the starting points and every criterion's lowest band,
are folded into the bands of the first property criterion, which every lead
matches exactly once: that keeps every score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ...errors import ParameterError
from ...sheet.criteria import Band, Criterion
from ...sheet.feature import ActivityFeature, Kernel
from ...sheet.pairs import PairCriterion
from ..config import ScoringConfig
from ..rules import band_words, condition_words, pair_words

__all__ = ["TOOLS", "Gap", "ToolRule", "ToolSheet", "mautic_action", "tool_sheet"]

#: The tools calibrate exports to, with what each holds.
TOOLS = ("hubspot", "mautic")

_FIRST_ONLY = "left out: Mautic adds points once, at the first"

#: Feature kinds a tool counts as events of some types; the rest it cannot say.
_COUNTED = {"count", "distinct_details", "active_days", "distinct_weeks"}

#: Mautic's point-action types, by what an activity type's name says, first match wins.
_MAUTIC_ACTIONS = (
    ("form.submit", ("demo", "contact", "form", "trial", "quote", "request", "signup")),
    ("asset.download", ("download", "paper", "ebook", "asset", "guide", "report")),
    ("email.open", ("email_open", "mail_open", "newsletter_open")),
    ("page.hit", ("page", "visit", "view")),
)


def mautic_action(activity_type: str, spec=None) -> dict | None:
    """The Mautic point action an activity type is, or None when Mautic has none.

    A type made by a detail rule on a URL (``page_view:/pricing*``) is a URL
    hit on that pattern; otherwise the type's name decides (a demo request is
    a form submission, a white paper an asset download). Mautic's actions are
    form.submit, asset.download, email.open, email.send, page.hit and url.hit:
    an email click, an unsubscribe or a webinar has none.

    Returns
    -------
    dict or None
        ``{"type": ..., "properties": {...}}``.

    Examples
    --------
    >>> mautic_action("demo_request")
    {'type': 'form.submit', 'properties': {}}
    >>> mautic_action("unsubscribe") is None
    True
    """
    for rule in getattr(spec, "detail_rules", ()):
        if rule.becomes == activity_type and rule.pattern.startswith("/"):
            return {"type": "url.hit", "properties": {"page_url": "*" + rule.pattern}}
    name = activity_type.lower()
    if "click" in name or "unsub" in name or "bounce" in name:
        return None
    for action, words in _MAUTIC_ACTIONS:
        if any(w in name for w in words):
            return {"type": action, "properties": {}}
    return None


@dataclass(frozen=True)
class ToolRule:
    """One rule of a tool's sheet.

    Parameters
    ----------
    group : str
        The criterion the rule comes from (the tool's group).
    category : {"fit", "engagement"}
        Who the lead is, or what the lead did.
    kind : {"property", "event", "and"}
        A condition on a lead column; on activities; or two property
        conditions at once.
    condition : str
        The condition in words, as the tool's filters say it.
    points : int
        Points the tool adds when the condition holds.
    exact : bool
        Whether the rule says exactly what the config scores.
    column : str or None
        The lead column of a property rule.
    band : Band or None
        The band of a property rule (its values or range).
    criterion : Criterion or None
        The criterion of a property rule, whose other bands an "any other
        value" band excludes.
    types : tuple of str
        The activity types of an event rule.
    at_least : int or None
        Fewest activities of an event rule.
    within_days : int or None
        The window of an event rule, in days; None for ever.
    parts : tuple of Condition
        The two conditions of an "and" rule (see :class:`calibrate.sheet.pairs.Condition`).
    """

    group: str
    category: str
    kind: str
    condition: str
    points: int
    exact: bool = True
    column: str | None = None
    band: Band | None = None
    criterion: Criterion | None = None
    types: tuple[str, ...] = ()
    at_least: int | None = None
    within_days: int | None = None
    parts: tuple = ()


@dataclass(frozen=True)
class Gap:
    """Something a tool cannot express, and the nearest it can.

    Parameters
    ----------
    criterion : str
        The criterion (or ``"(every lead)"`` for the starting points).
    cannot : str
        What the config scores that the tool cannot hold.
    instead : str
        The approximation the export uses.
    """

    criterion: str
    cannot: str
    instead: str


@dataclass(frozen=True)
class ToolSheet:
    """A config in a tool's terms (see the module docstring).

    Parameters
    ----------
    tool : str
        One of :data:`TOOLS`.
    rules : tuple of ToolRule
        In config order.
    gaps : tuple of Gap
        What the tool cannot express, and the approximation used.
    config : ScoringConfig
        The sheet as the tool computes it, which calibrate's scorer scores.
    folded : int, default=0
        Points every lead gets that the tool has no place for: the starting
        points, every activity criterion's lowest band, the otherwise cell of
        every pair.
    folded_into : str or None, default=None
        The criterion whose rules carry ``folded`` (None: left out).
    """

    tool: str
    rules: tuple
    gaps: tuple
    config: ScoringConfig
    folded: int = 0
    folded_into: str | None = None

    @property
    def exact(self) -> bool:
        """Whether the tool scores every lead as the config does."""
        return not self.gaps


def tool_sheet(config: ScoringConfig, tool: str) -> ToolSheet:
    """Translate a config into the rules a tool can hold, with what it cannot say.

    Parameters
    ----------
    config : ScoringConfig
        The fitted config.
    tool : {"hubspot", "mautic"}
        The tool. HubSpot counts activities of some types in the last N days
        and combines property conditions with AND; Mautic adds points once
        per contact for a first activity (a point action) and for segment
        membership (a campaign action), with no time window.

    Returns
    -------
    ToolSheet

    Raises
    ------
    ParameterError
        For an unknown tool.

    Examples
    --------
    >>> from calibrate.sheet.criteria import Band, Criterion
    >>> title = Criterion("title", "title", "categorical", "explicit", bands=(
    ...     Band("VP", "levels", values=("VP",), points=30),
    ...     Band("Other", "other", points=0), Band("Missing", "missing", points=0)))
    >>> config = ScoringConfig(criteria=(title,), base_points=10,
    ...     threshold={"mql": 40, "policy": {"name": "manual"}})
    >>> sheet = tool_sheet(config, "hubspot")
    >>> [r.points for r in sheet.rules]  # the starting points fold into every band
    [40, 10, 10]
    >>> sheet.rules[0].condition
    "title = 'VP'"
    >>> sheet.exact
    True
    """
    if tool not in TOOLS:
        raise ParameterError(f"tool must be one of {', '.join(TOOLS)}; got {tool!r}")
    return _Translation(config, tool).sheet()


def _edge(feature: ActivityFeature, band: Band, lookback: int) -> tuple[int, int | None]:
    """A band's lower edge as "n+ in the last days": fewest activities, and their window.

    The window is a decayed count's (None when no window reaches the edge).
    """
    n = max(1, math.ceil(band.lower - 1e-9))
    if not (feature.kind == "count" and feature.kernel.kind == "decay"):
        return n, None
    reach = feature.kernel.reach_days(n, band.lower, lookback)
    return n, int(reach) if reach else None


def _edge_words(feature: ActivityFeature, band: Band, lookback: int) -> str:
    """A fading count's band edge as a tool's rule: "1+ demo_request in the last 31 days"."""
    n, days = _edge(feature, band, lookback)
    return f"{n}+ {' or '.join(feature.types)} in the last {days} days" if days else band.label


class _Translation:
    """One config's translation into one tool (the steps of :func:`tool_sheet`)."""

    def __init__(self, config: ScoringConfig, tool: str):
        self.config, self.tool = config, tool
        self.spec = config.activity_spec
        self.features = {f.name: f for f in self.spec.features} if self.spec else {}
        self.rules: list[ToolRule] = []
        self.gaps: list[Gap] = []
        self.criteria: list = []  # of the sheet as the tool computes it
        self.new_features: list[ActivityFeature] = []
        self.folded = 0  # lowest bands and otherwise cells: points every lead gets

    @property
    def lookback(self) -> int:
        return self.spec.lookback_days if self.spec else 0

    def sheet(self) -> ToolSheet:
        for criterion in self.config.criteria:
            if isinstance(criterion, PairCriterion):
                self._pair(criterion)
            elif criterion.column in self.features:
                self._activity(criterion, self.features[criterion.column])
            else:
                self._property(criterion)
        everyone = self.config.base_points + self.folded
        folded_into = self._fold_starting_points(everyone)
        activities = self.config.activities
        if activities:
            spec = replace(self.spec, features=tuple(self.new_features))
            activities = {**activities, **spec.to_dict()}
        measured = replace(
            self.config,
            criteria=tuple(self.criteria),
            # Points no criterion holds are left out of the tool's sheet.
            base_points=everyone if folded_into is not None else 0,
            activities=activities,
            calibration={},
            reference={},
        )
        return ToolSheet(
            self.tool, tuple(self.rules), tuple(self.gaps), measured,
            folded=everyone, folded_into=folded_into,
        )  # fmt: skip

    # --- properties of the lead ---------------------------------------------------

    def _property(self, criterion: Criterion) -> None:
        category = "fit" if criterion.group == "explicit" else "engagement"
        for band in criterion.bands:
            self.rules.append(
                ToolRule(
                    group=criterion.name,
                    category=category,
                    kind="property",
                    condition=condition_words(criterion, band),
                    points=int(band.points),
                    column=criterion.column,
                    band=band,
                    criterion=criterion,
                )
            )
        self.criteria.append(criterion)

    def _fold_starting_points(self, total: int) -> str | None:
        """Points every lead gets into the first property criterion's bands; its name.

        None when there is no property criterion: the points are left out.
        """
        first = next((i for i, r in enumerate(self.rules) if r.kind == "property"), None)
        if first is None:
            if total:
                self.gaps.append(
                    Gap(
                        "(every lead)",
                        f"starting points {total:+d}",
                        "left out: no criterion every lead matches once holds them",
                    )
                )
            return None
        group = self.rules[first].group
        self.rules = [
            replace(r, points=r.points + total) if r.kind == "property" and r.group == group else r
            for r in self.rules
        ]
        return group

    # --- what the lead did ----------------------------------------------------------

    def _activity(self, criterion: Criterion, feature: ActivityFeature) -> None:
        if feature.kind == "recency":
            self._recency(criterion, feature)
        elif feature.kind == "all_of":
            self._all_of(criterion, feature)
        elif feature.kind in _COUNTED:
            self._counted(criterion, feature)
        else:
            self._drop(criterion, f"a {feature.kind} feature", "left out")

    def _counted(self, criterion: Criterion, feature: ActivityFeature) -> None:
        """A count-like criterion as one cumulative event rule per band edge."""
        if self.tool == "mautic":
            lacking = [t for t in feature.types if not mautic_action(t, self.spec)]
            if lacking or len(feature.types) != 1:
                why = (
                    f"{' or '.join(lacking)}: no Mautic point action"
                    if lacking
                    else (f"one count of {' or '.join(feature.types)}")
                )
                self._drop(criterion, why, "left out")
                return
        ranges = [b for b in criterion.bands if b.kind == "range"]
        if len(ranges) < 2:  # one band: the same points for every lead
            self.folded += int(ranges[0].points) if ranges else 0
            return
        missing = next((b for b in criterion.bands if b.kind == "missing"), None)
        if missing is not None and missing.points and self._seen(criterion, missing):
            self.gaps.append(
                Gap(
                    criterion.name,
                    f"{missing.points:+d} points when not known (no decision time)",
                    "the lowest band's points",
                )
            )
        window, exact = self._window(criterion, feature)
        decays = feature.kind == "count" and feature.kernel.kind == "decay"
        if self.tool == "mautic" and (decays or window != self.lookback):
            fading = feature.kernel.label if decays else f"activity in the last {window} days"
            self.gaps.append(Gap(criterion.name, fading, "every activity ever"))
            exact = False
        elif decays:
            self.gaps.append(
                Gap(
                    criterion.name,
                    f"points that fade with {feature.kernel.label}",
                    "each band's fewest activities in the window that reaches it: "
                    + "; ".join(_edge_words(feature, b, self.lookback) for b in ranges[1:]),
                )
            )
            exact = False
        self.folded += int(ranges[0].points)
        below, first = int(ranges[0].points), 0
        for band in ranges[1:]:
            step, below = int(band.points) - below, int(band.points)
            n, reach = _edge(feature, band, self.lookback)
            if self.tool == "mautic":
                # Every edge a first activity reaches is one point action ("1+ ever").
                if n > 1:
                    self._gap_edge(criterion, band, _FIRST_ONLY)
                else:
                    first += step
                continue
            days = reach if decays else window
            if days is None:
                self._gap_edge(criterion, band, "left out: no window reaches it")
                continue
            self._event_rule(criterion, feature, step, n, days, exact)
        if self.tool == "mautic":
            self._event_rule(criterion, feature, first, 1, None, exact)

    def _window(self, criterion: Criterion, feature: ActivityFeature) -> tuple[int | None, bool]:
        """The window a count-like feature counts in (None: its kernel fades), and if exact."""
        if feature.kind == "count":
            kernel = feature.kernel
            if kernel.kind == "window":
                return int(kernel.days), True
            return (self.lookback, True) if kernel.kind == "all" else (None, True)
        if feature.kind == "distinct_details":
            self.gaps.append(
                Gap(
                    criterion.name,
                    "different details (assets, pages) counted once",
                    "every activity counted",
                )
            )
            return self.lookback, False
        days = int(feature.window_days)
        what = "days" if feature.kind == "active_days" else "weeks"
        self.gaps.append(
            Gap(
                criterion.name,
                f"{what} with activity counted once",
                f"every activity in the last {days} days counted",
            )
        )
        return days, False

    def _gap_edge(self, criterion, band, instead: str) -> None:
        self.gaps.append(Gap(criterion.name, band_words(criterion, band, self.spec), instead))

    def _event_rule(self, criterion, feature, step, n, days, exact) -> None:
        """An event rule, and its criterion in the sheet as the tool computes it."""
        types = tuple(feature.types)
        span = f" in the last {days} days" if days is not None else " ever"
        rule = ToolRule(
            group=criterion.name,
            category="engagement",
            kind="event",
            condition=f"{n}+ {' or '.join(types)}{span}",
            points=step,
            exact=exact,
            types=types,
            at_least=n,
            within_days=days,
        )
        self.rules.append(rule)
        # "Ever" is the config's lookback: the log reaches no further back.
        kernel = Kernel("window", float(days)) if days is not None else Kernel("all")
        first = name = f"{criterion.name} {n}+{f' in {days}d' if days is not None else ''}"
        taken = {c.name for c in self.criteria} | {f.name for f in self.new_features}
        k = 0
        while name in taken:  # two criteria on one type may give the same rule
            k += 1
            name = f"{first} ({k})"
        self.new_features.append(
            ActivityFeature(name, "count", types, kernel=kernel, family=feature.family)
        )
        self.criteria.append(
            Criterion(
                name,
                name,
                "numeric",
                criterion.group,
                bands=(
                    Band(f"<{n}", "range", upper=float(n), points=0),
                    Band(f">={n}", "range", lower=float(n), points=step),
                    Band("Missing", "missing", points=0),
                ),
            )
        )

    def _recency(self, criterion: Criterion, feature: ActivityFeature) -> None:
        """Days since the latest activity: the tool's last-activity date, per band."""
        if self.tool == "mautic":
            self._drop(criterion, "days since the latest activity", "left out")
            return
        which = " or ".join(feature.types) if feature.types else "activity of the log"
        # HubSpot's date counts what HubSpot records, which need not be the log's types;
        # the cost measured assumes they agree.
        self.gaps.append(
            Gap(
                criterion.name,
                f"days since the latest {which}",
                "HubSpot's last activity date property, per band (the cost assumes it counts "
                "the same activities)",
            )
        )
        for band in criterion.bands:
            self.rules.append(
                ToolRule(
                    criterion.name,
                    "engagement",
                    "property",
                    band_words(criterion, band, self.spec).replace(
                        "latest activity", "last activity date:"
                    ),
                    int(band.points),
                    exact=False,
                    column="last activity date",
                    band=band,
                )
            )
        self.new_features.append(feature)
        self.criteria.append(criterion)

    def _all_of(self, criterion: Criterion, feature: ActivityFeature) -> None:
        """Did every one of some types: an AND of event conditions (HubSpot only)."""
        if self.tool == "mautic":
            self._drop(
                criterion,
                band_words(criterion, criterion.bands[0], self.spec),
                "left out: Mautic adds points for one activity at a time",
            )
            return
        points = {b.values[0] if b.values else None: int(b.points) for b in criterion.bands}
        did, did_not = points.get("true", 0), points.get("false", 0)
        unknown = next((b for b in criterion.bands if b.kind == "missing"), None)
        if points.get(None, 0) and self._seen(criterion, unknown):
            self.gaps.append(
                Gap(
                    criterion.name,
                    f"{points[None]:+d} points when not known",
                    "the points of not having done them all",
                )
            )
        self.folded += did_not
        self.rules.append(
            ToolRule(
                criterion.name,
                "engagement",
                "event",
                f"{' and '.join(f'1+ {t}' for t in feature.types)} in the last "
                f"{self.lookback} days",
                did - did_not,
                types=tuple(feature.types),
                at_least=1,
                within_days=self.lookback,
            )
        )
        self.new_features.append(feature)
        self.criteria.append(
            replace(
                criterion,
                bands=tuple(
                    replace(b, points=did - did_not if b.values == ("true",) else 0)
                    for b in criterion.bands
                ),
            )
        )

    def _seen(self, criterion, band) -> bool:
        """Whether training leads fell in the band (True when the config does not say)."""
        for entry in self.config.reference.get("criteria", []):
            if entry["name"] == criterion.name:
                return entry["leads"][criterion.bands.index(band)] > 0
        return True

    def _drop(self, criterion, cannot: str, instead: str) -> None:
        self.gaps.append(Gap(criterion.name, cannot, instead))

    # --- pairs ------------------------------------------------------------------------

    def _pair(self, pair: PairCriterion) -> None:
        """A pair of property conditions is an AND rule; with an activity, left out."""
        rule, otherwise = pair.cells
        sides = (pair.first, pair.second)
        if any(s.criterion.column in self.features for s in sides):
            self._drop(pair, f"the pair rule {rule.label!r} on what the lead did", "left out")
            return
        parts = sides
        self.folded += int(otherwise.points)
        self.rules.append(
            ToolRule(
                pair.name,
                "fit" if pair.group == "explicit" else "engagement",
                "and",
                pair_words(pair, self.spec),
                int(rule.points) - int(otherwise.points),
                parts=parts,
            )
        )
        cells = (
            replace(rule, points=int(rule.points) - int(otherwise.points)),
            replace(otherwise, points=0),
        )
        self.criteria.append(replace(pair, cells=cells))
