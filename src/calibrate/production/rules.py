"""The sheet as rules for a marketing-automation tool, and what changed between two configs.

:func:`rule_sheet` writes every band as a rule (criterion, condition,
points, and behaviour in activity-filter words); :func:`render_rules` writes
the rules as CSV, Markdown or HTML, values escaped as text; and
:func:`diff_configs` says what changed between two configs.
"""

from __future__ import annotations

import html
import re

import pandas as pd

from ..errors import ParameterError
from ..sheet.criteria import Band, Criterion
from ..sheet.pairs import PairCriterion
from .config import ScoringConfig

__all__ = [
    "RULE_FORMATS",
    "band_words",
    "condition_words",
    "diff_configs",
    "pair_words",
    "render_rules",
    "rule_sheet",
]


def rule_sheet(config: ScoringConfig) -> pd.DataFrame:
    """The points sheet as rules a person can type into a marketing-automation tool.

    Returns
    -------
    pandas.DataFrame
        criterion, group, condition (in words, exact), points, in_practice;
        first a row for the base points, then one per band; then the MQL
        threshold and any fast-track rules, whose points column says what
        they do. ``in_practice`` puts a behaviour band's lower bound in the
        terms marketing-automation tools filter on: counts of activities in
        the last N days (for a decayed count, the most recent activities
        that reach it: "1+ demo_request in the last 73 days"), days since
        the latest activity, distinct assets.

    Examples
    --------
    >>> from calibrate.sheet.criteria import Band
    >>> size = Criterion("size", "size", "numeric", "explicit", bands=(
    ...     Band("<10", "range", upper=10.0, points=0),
    ...     Band(">=10", "range", lower=10.0, points=15),
    ...     Band("Missing", "missing", points=5)))
    >>> sheet = rule_sheet(ScoringConfig(criteria=(size,), base_points=20,
    ...     threshold={"mql": 30, "policy": {"name": "manual"}}))
    >>> sheet["condition"].tolist()[:4]
    ['starting points', 'size < 10', 'size >= 10', 'size is empty']
    >>> sheet["condition"].iloc[-1]
    'score >= 30 (score kept in 0-100)'
    >>> sheet["points"].tolist()
    ['20', '0', '15', '5', 'threshold']

    A decayed count of demo requests with a half-life of 30 days reaches 0.5
    with one request up to 30 days old:

    >>> from calibrate.sheet.activity import ActivitySpec
    >>> from calibrate.sheet.feature import ActivityFeature, Kernel
    >>> demo = Criterion("demo", "demo", "numeric", "implicit", bands=(
    ...     Band("<0.5", "range", upper=0.5, points=0),
    ...     Band(">=0.5", "range", lower=0.5, points=25),
    ...     Band("Missing", "missing", points=0)))
    >>> spec = ActivitySpec(features=(ActivityFeature("demo", "count", ("demo_request",),
    ...     kernel=Kernel("decay", 30.0)),), known_types=("demo_request",))
    >>> sheet = rule_sheet(ScoringConfig(criteria=(demo,), base_points=20,
    ...     threshold={"mql": 30, "policy": {"name": "manual"}}, id_column="id",
    ...     activities={**spec.to_dict(), "decision_time": {"column": "at"}}))
    >>> sheet["in_practice"].tolist()[1:3]
    ['not (1+ demo_request in the last 31 days)', '1+ demo_request in the last 31 days']
    """
    spec = config.activity_spec
    described = {f.name: f.description for f in spec.features} if spec is not None else {}
    rows = [
        {
            "criterion": "(every lead)",
            "group": "",
            "condition": "starting points",
            "points": str(config.base_points),
        }
    ]
    features = {f.name: f for f in spec.features} if spec is not None else {}
    for criterion in config.criteria:
        if isinstance(criterion, PairCriterion):
            rows += _pair_rows(criterion, described, features, spec)
            continue
        what = criterion.column
        if criterion.column in described:
            what = f"{criterion.column} [{described[criterion.column]}]"
        listed = [v for b in criterion.bands for v in b.values]
        feature = features.get(criterion.column)
        for band in criterion.bands:
            rows.append(
                {
                    "criterion": criterion.name,
                    "group": "fit" if criterion.group == "explicit" else "engagement",
                    "condition": _condition(what, criterion, band, listed),
                    "points": str(band.points),
                    "in_practice": (
                        _in_practice(feature, band, spec.lookback_days) if feature else ""
                    ),
                }
            )
    rows.append(
        {
            "criterion": "(MQL)",
            "group": "",
            "condition": f"score >= {config.mql_threshold} "
            f"(score kept in {config.min_score}-{config.max_score})",
            "points": "threshold",
        }
    )
    for rule in config.threshold.get("fast_track", []):
        if rule["kind"] == "activity":
            condition = f"{rule['activity_type']} in the last {rule['within_days']} days"
        else:
            condition = f"{rule['column']} is {rule['equals']}"
        rows.append(
            {"criterion": "(fast-track)", "group": "", "condition": condition, "points": "MQL"}
        )
    columns = ["criterion", "group", "condition", "points", "in_practice"]
    return pd.DataFrame(rows, columns=columns).fillna("")


#: Formats :func:`render_rules` writes, by file suffix.
RULE_FORMATS = {".csv": "csv", ".md": "markdown", ".html": "html", ".htm": "html"}


def render_rules(sheet: pd.DataFrame, fmt: str = "csv") -> str:
    """The rule sheet as text: CSV, Markdown or an HTML page.

    Values come from the data (criterion names, categories), so they are
    text, never markup: HTML escapes ``&``, ``<`` and ``>``; Markdown escapes
    them the same way, backslash-escapes what would start Markdown markup or
    end a cell (``|``, ``[``, ``*``...), and writes a line break inside a
    value as ``<br>``, so that every rule stays one table row. The Markdown
    is the same whatever optional packages are installed.

    Parameters
    ----------
    sheet : pandas.DataFrame
        The rules, as :func:`rule_sheet` gives them.
    fmt : {"csv", "markdown", "html"}, default="csv"
        The format.

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        For an unknown format.

    Examples
    --------
    >>> sheet = pd.DataFrame({"criterion": ["title"], "condition": ["title = '<b>VP|CEO'"]})
    >>> print(render_rules(sheet, "markdown"), end="")
    | criterion | condition |
    |---|---|
    | title | title = '&lt;b&gt;VP\\|CEO' |
    """
    if fmt == "csv":
        return sheet.to_csv(index=False, lineterminator="\n")
    if fmt == "markdown":
        lines = [
            "| " + " | ".join(_markdown_cell(c) for c in sheet.columns) + " |",
            "|" + "---|" * len(sheet.columns),
        ]
        lines += [
            "| " + " | ".join(_markdown_cell(v) for v in row) + " |"
            for row in sheet.itertuples(index=False)
        ]
        return "\n".join(lines) + "\n"
    if fmt == "html":
        table = sheet.to_html(index=False, escape=True, border=0)
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            "<title>Scoring rules</title></head><body>\n" + table + "\n</body></html>\n"
        )
    raise ParameterError(f"rules format must be csv, markdown or html; got {fmt!r}")


#: Markdown that a value could start: emphasis, code, links and images, strike-through.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def _markdown_cell(value) -> str:
    """A value as the text of one Markdown table cell, never markup, always one line."""
    text = html.escape(str(value), quote=False)
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return re.sub(r"\r\n|\r|\n", "<br>", text)


def _pair_rows(pair: PairCriterion, described: dict, features: dict, spec) -> list[dict]:
    """A pair rule's two rows: the rule, both conditions in exact words, then otherwise."""
    words, practice = [], []
    for condition in (pair.first, pair.second):
        criterion = condition.criterion
        what = criterion.column
        if criterion.column in described:
            what = f"{criterion.column} [{described[criterion.column]}]"
        listed = [v for b in criterion.bands for v in b.values]
        # Every run of adjacent ranges as one range, then the other bands taken.
        ranges = [
            Band("run", "range", lower=r[0].lower, upper=r[-1].upper)
            for r in condition.range_runs()
        ]
        bands = ranges + [criterion.bands[i] for i in sorted(condition.bands)
                          if criterion.bands[i].kind != "range"]  # fmt: skip
        parts = [_condition(what, criterion, band, listed) for band in bands]
        words.append(parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")")
        feature = features.get(criterion.column)
        if feature is not None and len(ranges) == 1:
            practice.append(_in_practice(feature, ranges[0], spec.lookback_days))
    group = "fit" if pair.group == "explicit" else "engagement"
    rule, otherwise = pair.cells
    return [
        {
            "criterion": pair.name,
            "group": group,
            "condition": " and ".join(words),
            "points": str(rule.points),
            "in_practice": " and ".join(p for p in practice if p),
        },
        {
            "criterion": pair.name,
            "group": group,
            "condition": "otherwise (the rule above does not hold)",
            "points": str(otherwise.points),
        },
    ]


def _condition(what: str, criterion: Criterion, band, listed) -> str:
    from ..sheet.criteria import format_number

    if band.kind == "missing":
        return f"{what} is empty"
    if band.kind == "range":
        parts = []
        if band.lower is not None:
            parts.append(f"{what} >= {format_number(band.lower).replace(',', '')}")
        if band.upper is not None:
            parts.append(f"{what} < {format_number(band.upper).replace(',', '')}")
        return " and ".join(parts) if parts else f"{what} has any value"
    if band.kind == "other":
        return f"{what} is any other value (not {', '.join(repr(v) for v in listed)})"
    if criterion.kind == "boolean":
        return f"{what} is {band.values[0]}"
    if len(band.values) == 1:
        return f"{what} = {band.values[0]!r}"
    return f"{what} is one of {', '.join(repr(v) for v in band.values)}"


def _in_practice(feature, band, lookback_days: int) -> str:
    """A behaviour band in the terms of activity filters ("2+ webinar in the last 30 days")."""
    if band.kind != "range":
        return ""
    if band.lower is None:
        if band.upper is None:
            return ""
        above = _at_least(feature, band.upper, lookback_days)
        return f"not ({above})" if above else ""
    return _at_least(feature, band.lower, lookback_days)


def condition_words(criterion: Criterion, band: Band) -> str:
    """A band of a lead column as the rule sheet's exact condition ("size >= 10").

    Examples
    --------
    >>> size = Criterion("size", "company_size", "numeric", "explicit", bands=(
    ...     Band("<10", "range", upper=10.0), Band(">=10", "range", lower=10.0),
    ...     Band("Missing", "missing")))
    >>> [condition_words(size, b) for b in size.bands]
    ['company_size < 10', 'company_size >= 10', 'company_size is empty']
    """
    listed = [v for b in criterion.bands for v in b.values]
    return _condition(criterion.column, criterion, band, listed)


def _either(values: list[str]) -> str:
    """Levels as words: "a, b or c"."""
    return ", ".join(values[:-1]) + " or " + values[-1]


def pair_words(pair: PairCriterion, spec=None) -> str:
    """A pair rule in words: each condition as its bands say it, joined by "and".

    A condition on an activity feature reads as :func:`band_words` says its
    run of bands ("as much demo_request as 1 in the last 112 days"); one on a
    lead column keeps its label, its levels as "a, b or c". A condition of
    several parts is in parentheses.

    Examples
    --------
    >>> from calibrate.sheet.pairs import Cell, Condition
    >>> size = Criterion("size", "size", "numeric", "explicit", bands=(
    ...     Band("<500", "range", upper=500.0), Band(">=500", "range", lower=500.0),
    ...     Band("Missing", "missing")))
    >>> title = Criterion("title", "title", "categorical", "explicit", bands=(
    ...     Band("VP", "levels", values=("VP",)), Band("CEO", "levels", values=("CEO",)),
    ...     Band("Other", "other"), Band("Missing", "missing")))
    >>> pair = PairCriterion("size & title", Condition(size, (1,)), Condition(title, (0, 1)),
    ...     group="explicit", cells=(Cell("rule", "rule"), Cell("otherwise", "otherwise")))
    >>> pair_words(pair)
    'size >= 500 and (title in VP or CEO)'
    """
    sides = []
    for condition in (pair.first, pair.second):
        criterion = condition.criterion
        if _feature_of(criterion, spec) is None or criterion.kind != "numeric":
            text = re.sub(r"(\S+(?:\|\S+)+)$", lambda m: _either(m.group(1).split("|")),
                          condition.label)  # fmt: skip
        else:
            parts = [
                band_words(
                    criterion, Band("run", "range", lower=r[0].lower, upper=r[-1].upper), spec
                )  # fmt: skip
                for r in condition.range_runs()
            ]
            if criterion.missing_index in condition.bands:
                parts.append(f"{criterion.name} not known")
            text = " or ".join(parts)
        sides.append(f"({text})" if " or " in text else text)
    return " and ".join(sides)


def band_words(criterion: Criterion, band: Band, spec=None) -> str:
    """A band in the words a meeting reads: an engagement band as what the lead did.

    A fit band keeps its label (``"VP"``, ``">=500"``). A band of an activity
    feature reads as activity-filter words: a count's band as the number of
    activities in a window ("2 to 7 email_click in the last 1095 days"); a
    fading count's band as the fewest recent activities that reach it, which
    more older ones may match ("as much demo_request as 1 in the last 112
    days"); a band below the first bound as the negation ("no demo_request in
    the last 112 days"), and a middle band says both ends. Every lead in the
    band meets its words.
    A combination reads as what the lead did ("did all of: a, b"). Where the
    words cannot be said, the label stays.

    Parameters
    ----------
    criterion : Criterion
        The criterion the band belongs to.
    band : Band
        One of its bands.
    spec : ActivitySpec or None, default=None
        The config's activity features (``config.activity_spec``); without
        it every band keeps its label.

    Returns
    -------
    str

    Examples
    --------
    >>> from calibrate.sheet.activity import ActivitySpec
    >>> from calibrate.sheet.feature import ActivityFeature, Kernel
    >>> spec = ActivitySpec(features=(ActivityFeature("demo", "count", ("demo_request",),
    ...     kernel=Kernel("decay", 30.0)),), known_types=("demo_request",))
    >>> demo = Criterion("demo", "demo", "numeric", "implicit", bands=(
    ...     Band("<0.5", "range", upper=0.5), Band("0.5 to <1.2", "range", lower=0.5, upper=1.2),
    ...     Band(">=1.2", "range", lower=1.2), Band("Missing", "missing")))
    >>> [band_words(demo, b, spec) for b in demo.bands]  # doctest: +NORMALIZE_WHITESPACE
    ['no demo_request in the last 31 days',
     'as much demo_request as 1 in the last 31 days, fewer than 2 in the last 23 days',
     'as much demo_request as 2 in the last 23 days', 'not known']
    """
    feature = _feature_of(criterion, spec)
    if feature is None:
        return band.label
    return _tidy(_feature_band_words(criterion, band, feature, spec.lookback_days))


def _feature_of(criterion: Criterion, spec):
    """The activity feature a criterion reads, or None (a lead column, or no spec)."""
    if spec is None:
        return None
    return next((f for f in spec.features if f.name == criterion.column), None)


def _feature_band_words(criterion, band, feature, lookback_days: int) -> str:
    """The words of a band of an activity feature, before :func:`_tidy`."""
    words = _count_band_words(criterion, band, feature, lookback_days)
    if feature.kind == "count" and feature.kernel.kind == "decay":
        # A fading count reaches a band with its fewest recent activities, or
        # with more older ones: "as much as" is true of every lead in the band
        # ("fewer than", the upper end, is true as it stands).
        words = _AS_MUCH.sub(r"as much \2 as \1 ", words)
    return words


#: "3+ form_fill in" -> "as much form_fill as 3 in" (a fading count's band).
_AS_MUCH = re.compile(r"\b(\d+)\+ (.+?) (?=in the last)")


def _count_band_words(criterion, band, feature, lookback_days: int) -> str:
    """The words of a band of an activity feature, counts said as counts."""
    if band.kind == "missing":
        return "not known"
    if criterion.kind == "boolean" and band.values:
        from ..sheet.kinds import kind_of

        did = kind_of(feature.kind).describe(feature)
        return did if band.values[0] in (True, "True", "true") else f"not ({did})"
    if band.kind != "range":
        return band.label
    low = _at_least(feature, band.lower, lookback_days) if band.lower is not None else ""
    high = _at_least(feature, band.upper, lookback_days) if band.upper is not None else ""
    if (band.lower is not None and not low) or (band.upper is not None and not high):
        return band.label
    if not high:
        return low or band.label
    if not low:
        return _fewer(high)
    # A middle band: "2 to 7 email_click in the last 1095 days" when both ends
    # say the same but the count; else the upper end after the lower.
    lo, hi = _COUNT.search(low), _COUNT.search(high)
    if (
        lo
        and hi
        and (low[: lo.start()], low[lo.end() :]) == (high[: hi.start()], high[hi.end() :])
    ):
        first, last = int(lo.group(1)), int(hi.group(1)) - 1
        count = f"{first}" if last <= first else f"{first} to {last}"
        return f"{low[: lo.start()]}{count}{low[lo.end() :]}"
    rest = high[hi.end() :] if hi and hi.start() == 0 else ""
    if rest.startswith(_lead(feature)):  # "..., fewer than 2 in the last 10 days"
        return f"{low}, fewer than {hi.group(1)}{rest.removeprefix(_lead(feature))}"
    return f"{low}, {_fewer(high)}"


#: The count in an activity-filter phrase: "3+ webinar ...", "active on 3+ days ...".
_COUNT = re.compile(r"(\d+)\+")


#: Edge counts in plain English, in order: "fewer than 1 x" -> "no x", "none in", "1 day".
_TIDY = ((re.compile(r"latest activity fewer than (\d+) days ago"),
          r"latest activity in the last \1 days"),
         (re.compile(r"fewer than 1 days ago"), "0 days ago"),
         (re.compile(r"fewer than 1 in "), "none in "),
         (re.compile(r"fewer than 1 "), "no "), (re.compile(r"\b1 days\b"), "1 day"))  # fmt: skip


def _tidy(words: str) -> str:
    """Plain English for the edge counts: "no x" for "fewer than 1 x", "1 day"."""
    for pattern, plain in _TIDY:
        words = pattern.sub(plain, words)
    return words


def _lead(feature) -> str:
    """What follows the count in a count phrase: " demo_request or form_fill"."""
    return " " + " or ".join(feature.types)


def _fewer(phrase: str) -> str:
    """The negation of an activity-filter phrase: "3+ x" -> "fewer than 3 x"."""
    count = _COUNT.search(phrase)
    if count is None:
        return f"not ({phrase})"
    return f"{phrase[: count.start()]}fewer than {count.group(1)}{phrase[count.end() :]}"


def _at_least(feature, bound: float, lookback_days: int) -> str:
    """What it takes to reach ``bound``, in activity-filter words; "" when it cannot say."""
    from ..sheet.kinds import kind_of

    return kind_of(feature.kind).in_practice(feature, bound, lookback_days)


def diff_configs(old: ScoringConfig, new: ScoringConfig) -> dict:
    """What changed between two configs: criteria, band points, thresholds.

    Returns
    -------
    dict
        ``added`` and ``removed`` criteria; ``changed``: per criterion whose
        bands differ, the bands as ``(band in words, old points, new
        points)`` (None where a band exists on one side only; the words of
        :func:`band_words`, an engagement band as what the lead did);
        ``base_points``, ``threshold`` and ``levels`` as ``(old, new)`` when
        they differ.

    Examples
    --------
    >>> from calibrate.sheet.criteria import Band
    >>> def config(vp, mql):
    ...     c = Criterion("title", "title", "categorical", "explicit", bands=(
    ...         Band("VP", "levels", values=("VP",), points=vp),
    ...         Band("Other", "other", points=0), Band("Missing", "missing", points=0)))
    ...     return ScoringConfig(criteria=(c,), base_points=10,
    ...                          threshold={"mql": mql, "policy": {"name": "manual"}})
    >>> d = diff_configs(config(20, 40), config(25, 45))
    >>> d["changed"], d["threshold"]
    ({'title': [('VP', 20, 25)]}, (40, 45))
    """
    before = {c.name: c for c in old.criteria}
    after = {c.name: c for c in new.criteria}
    changed = {}
    specs = old.activity_spec, new.activity_spec
    for name in before.keys() & after.keys():
        a = {b.label: b.points for b in before[name].bands}
        b = {b.label: b.points for b in after[name].bands}
        words = {
            band.label: band_words(criterion, band, spec)
            for spec, criterion in zip(specs, (before[name], after[name]), strict=True)
            if not isinstance(criterion, PairCriterion)
            for band in criterion.bands
        }
        rows = [
            (words.get(label, label), a.get(label), b.get(label))
            for label in dict.fromkeys([*a, *b])
            if a.get(label) != b.get(label)
        ]
        if rows:
            changed[name] = rows
    out = {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": dict(sorted(changed.items())),
    }
    if old.base_points != new.base_points:
        out["base_points"] = (old.base_points, new.base_points)
    if old.mql_threshold != new.mql_threshold:
        out["threshold"] = (old.mql_threshold, new.mql_threshold)
    levels = [old.threshold.get("levels"), new.threshold.get("levels")]
    starts = [[(lv["name"], lv["min_score"]) for lv in (x or [])] for x in levels]
    if starts[0] != starts[1]:
        out["levels"] = tuple(starts)
    return out
