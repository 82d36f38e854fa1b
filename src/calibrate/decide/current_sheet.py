"""The sheet in use today: read it, score the same history, compare.

Marketing usually has a hand-made points sheet already. calibrate reads it
from YAML or CSV, scores the same leads with it, and sets it beside the
calibrated sheet: hold-out AUC, wins captured at its own threshold, and a
rule-by-rule comparison.

YAML::

    threshold: 70
    rules:
      - column: seniority
        in: [VP, C-level]
        points: 20
      - column: company_size
        at_least: 500
        points: 10
      - column: role
        equals: Student
        points: -10
      - activity: webinar_attended     # activities before the decision
        at_least: 1
        within_days: 90                # optional; default: all history
        points: 10

Conditions: ``equals``, ``in`` (a list), ``at_least``, ``at_most``,
``below``, ``between: [low, high]`` (both included), ``missing: true``.

CSV, one rule per row (``criterion,condition,points``), the threshold on a
row of its own::

    criterion,condition,points
    seniority,in VP|C-level,20
    company_size,>= 500,10
    role,= Student,-10
    activity:webinar_attended,>= 1 within 90 days,10
    threshold,,70

A lead's score is the sum of the points of every rule it meets (no base,
no clipping); it is an MQL at ``score >= threshold``.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from ..errors import DataError
from ..sheet.criteria import coerce_column

__all__ = ["CurrentSheet", "Rule", "compare_sheets", "read_current_sheet"]

CONDITIONS = ("equals", "in", "at_least", "at_most", "below", "between", "missing")


@dataclass(frozen=True)
class Rule:
    """One rule of a hand-made sheet.

    Exactly one of ``column`` (a lead-table column) or ``activity`` (an
    activity type, counted before the decision) is set.
    """

    points: float
    condition: str
    value: object = None
    column: str | None = None
    activity: str | None = None
    within_days: float | None = None

    def __post_init__(self):
        if (self.column is None) == (self.activity is None):
            raise DataError("a current-sheet rule names either a column or an activity")
        if self.condition not in CONDITIONS:
            raise DataError(
                f"rule on {self.target!r}: condition must be one of {', '.join(CONDITIONS)}, "
                f"got {self.condition!r}"
            )

    @property
    def target(self) -> str:
        """The column or ``activity:TYPE`` the rule reads."""
        return self.column if self.column is not None else f"activity:{self.activity}"

    @property
    def label(self) -> str:
        """The rule in words: ``"seniority in VP, C-level"``."""
        value, condition = self.value, self.condition
        if condition == "equals":
            words = f"= {value}"
        elif condition == "in":
            words = "in " + ", ".join(map(str, value))
        elif condition == "between":
            words = f"between {_text(value[0])} and {_text(value[1])}"
        elif condition == "missing":
            words = "is missing"
        else:
            words = {"at_least": ">=", "at_most": "<=", "below": "<"}[condition]
            words += f" {_text(value)}"
        within = f" within {self.within_days:g} days" if self.within_days else ""
        return f"{self.target} {words}{within}"

    def matches(self, values: pd.Series) -> np.ndarray:
        """Which leads meet the rule, given the column's (or activity count's) values."""
        if self.condition == "missing":
            return values.isna().to_numpy()
        if self.condition in ("equals", "in"):
            text = coerce_column(values, "categorical", self.target)
            wanted = [self.value] if self.condition == "equals" else list(self.value)
            wanted = [str(v).strip().lower() if isinstance(v, bool) else str(v) for v in wanted]
            return text.isin(wanted).to_numpy()
        x = coerce_column(values, "numeric", self.target).to_numpy()
        with np.errstate(invalid="ignore"):
            if self.condition == "at_least":
                return x >= float(self.value)
            if self.condition == "at_most":
                return x <= float(self.value)
            if self.condition == "below":
                return x < float(self.value)
            low, high = self.value
            return (x >= float(low)) & (x <= float(high))


@dataclass(frozen=True)
class CurrentSheet:
    """A hand-made points sheet: rules and an MQL threshold."""

    rules: tuple
    threshold: float
    source: str = ""

    def score(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Scores, and a matrix of which rule each lead meets (rules as columns).

        ``frame`` holds the lead columns and, for activity rules, a column
        named ``activity:TYPE|DAYS`` with the lead's count.
        """
        met = np.zeros((len(frame), len(self.rules)), dtype=bool)
        for j, rule in enumerate(self.rules):
            key = rule.column if rule.column is not None else count_column(rule)
            if key not in frame.columns:
                raise DataError(f"the current sheet's rule reads {rule.target!r}, not in the data")
            met[:, j] = rule.matches(frame[key])
        points = np.array([r.points for r in self.rules], dtype=float)
        return met @ points, met


def _text(value) -> str:
    """Numbers as people write them: 100, not 100.0."""
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def count_column(rule: Rule) -> str:
    """The name of the activity count an activity rule reads (``activity:TYPE|DAYS``)."""
    return f"activity:{rule.activity}|{rule.within_days or 0:g}"


def read_current_sheet(path: os.PathLike | str) -> CurrentSheet:
    """Read a hand-made sheet from YAML (``.yaml``/``.yml``) or CSV.

    Raises
    ------
    DataError
        Naming the rule (row or position) and what is wrong with it.
    """
    path = Path(os.fspath(path))
    if not path.exists():
        raise DataError(f"cannot read current sheet {path}: no such file")
    if path.suffix.lower() in (".yaml", ".yml"):
        return _read_yaml(path)
    return _read_csv(path)


def _read_yaml(path: Path) -> CurrentSheet:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataError(f"current sheet {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or "rules" not in data or "threshold" not in data:
        raise DataError(f"current sheet {path} needs 'threshold' and 'rules'")
    rules = []
    for i, item in enumerate(data["rules"], start=1):
        if not isinstance(item, dict) or "points" not in item:
            raise DataError(f"current sheet {path}, rule {i}: needs points")
        found = [c for c in CONDITIONS if c in item]
        if len(found) != 1:
            raise DataError(
                f"current sheet {path}, rule {i}: give exactly one condition of "
                f"{', '.join(CONDITIONS)}"
            )
        value = item[found[0]]
        if found[0] == "between" and not (isinstance(value, list) and len(value) == 2):
            raise DataError(f"current sheet {path}, rule {i}: between takes [low, high]")
        try:
            rules.append(
                Rule(
                    points=float(item["points"]),
                    condition=found[0],
                    value=value,
                    column=item.get("column"),
                    activity=item.get("activity"),
                    within_days=item.get("within_days"),
                )
            )
        except DataError as exc:
            raise DataError(f"current sheet {path}, rule {i}: {exc}") from None
    return CurrentSheet(tuple(rules), float(data["threshold"]), str(path))


_CSV_CONDITION = re.compile(
    r"^(?:(?P<op>>=|<=|<|=|in|between)\s*(?P<value>.*?)"
    r"(?:\s+within\s+(?P<days>\d+(?:\.\d+)?)\s+days?)?|(?P<missing>missing|is missing))$",
    re.IGNORECASE,
)


def _read_csv(path: Path) -> CurrentSheet:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or not {"criterion", "condition", "points"} <= set(rows[0]):
        raise DataError(f"current sheet {path} needs columns criterion, condition, points")
    rules, threshold = [], None
    for line, row in enumerate(rows, start=2):
        criterion = (row["criterion"] or "").strip()
        if criterion.lower() == "threshold":
            threshold = _number(row["points"], path, line)
            continue
        match = _CSV_CONDITION.match((row["condition"] or "").strip())
        if not criterion or not match:
            raise DataError(
                f"current sheet {path}, line {line}: cannot read condition "
                f"{row['condition']!r} (e.g. '= VP', 'in VP|C-level', '>= 500', "
                "'between 5 and 10', 'missing', '>= 1 within 90 days')"
            )
        column, activity = criterion, None
        if criterion.startswith("activity:"):
            column, activity = None, criterion.split(":", 1)[1]
        if match["missing"]:
            condition, value = "missing", True
        else:
            op, text = match["op"].lower(), match["value"].strip()
            condition = {"=": "equals", ">=": "at_least", "<=": "at_most", "<": "below"}.get(
                op, op
            )
            if op == "in":
                value = [v.strip() for v in text.split("|")]
            elif op == "between":
                parts = re.split(r"\s+and\s+", text, flags=re.IGNORECASE)
                if len(parts) != 2:
                    raise DataError(f"current sheet {path}, line {line}: between A and B")
                value = [_number(p, path, line) for p in parts]
            elif op == "=":
                value = text
            else:
                value = _number(text, path, line)
        days = float(match["days"]) if match["days"] else None
        rules.append(
            Rule(
                points=_number(row["points"], path, line),
                condition=condition,
                value=value,
                column=column,
                activity=activity,
                within_days=days,
            )
        )
    if threshold is None:
        raise DataError(f"current sheet {path} needs a 'threshold' row")
    return CurrentSheet(tuple(rules), threshold, str(path))


def _number(text, path, line) -> float:
    try:
        return float(str(text).strip())
    except ValueError:
        raise DataError(f"current sheet {path}, line {line}: {text!r} is not a number") from None


def compare_sheets(
    sheet: CurrentSheet,
    frame: pd.DataFrame,
    y,
    calibrated_scores,
    calibrated_threshold: int,
    calibrated_points: pd.DataFrame,
) -> dict:
    """The hand-made sheet beside the calibrated one, on the same leads.

    Parameters
    ----------
    sheet : CurrentSheet
        The sheet in use today.
    frame : pandas.DataFrame
        The leads (hold-out), with activity counts for activity rules.
    y : array-like of bool
        Their outcomes.
    calibrated_scores : array-like of int
        The calibrated sheet's scores of the same leads.
    calibrated_threshold : int
        The calibrated MQL threshold.
    calibrated_points : pandas.DataFrame
        Each lead's calibrated points per criterion (``score_breakdown``).

    Returns
    -------
    dict
        ``current`` and ``calibrated``: auc, share_passed,
        share_wins_captured, win_rate_passed at each sheet's threshold;
        ``calibrated_at_same_volume``: the calibrated sheet passing as many
        leads as the current one; ``rules``: per rule, leads meeting it,
        their win rate, current points and the calibrated points those leads
        earn in the same criterion (mean).
    """
    y = np.asarray(y, dtype=float)
    current, met = sheet.score(frame)
    calibrated = np.asarray(calibrated_scores, dtype=float)

    def at(scores, threshold):
        passed = scores >= threshold
        k, wins = passed.sum(), y[passed].sum()
        return {
            "threshold": float(threshold),
            "share_passed": float(k / len(y)),
            "share_wins_captured": float(wins / y.sum()) if y.sum() else np.nan,
            "win_rate_passed": float(wins / k) if k else np.nan,
        }

    share = float((current >= sheet.threshold).mean())
    # The calibrated threshold passing the same share of leads (or just fewer).
    order = np.sort(calibrated)[::-1]
    k = int(round(share * len(order)))
    same = order[k - 1] if k > 0 else order[0] + 1
    rules = []
    for j, rule in enumerate(sheet.rules):
        hit = met[:, j]
        criterion = rule.column if rule.column is not None else rule.activity
        earned = (
            float(calibrated_points.loc[hit, criterion].mean())
            if criterion in calibrated_points.columns and hit.any()
            else np.nan
        )
        rules.append(
            {
                "rule": rule.label,
                "leads": int(hit.sum()),
                "win_rate": float(y[hit].mean()) if hit.any() else np.nan,
                "current_points": rule.points,
                "calibrated_points": earned,
            }
        )
    both = len(np.unique(current)) > 1
    return {
        "current": {
            "auc": float(roc_auc_score(y, current)) if both else 0.5,
            **at(current, sheet.threshold),
        },
        "calibrated": {
            "auc": float(roc_auc_score(y, calibrated)),
            **at(calibrated, calibrated_threshold),
        },
        "calibrated_at_same_volume": at(calibrated, same),
        "rules": rules,
    }
