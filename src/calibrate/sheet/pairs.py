"""Pair criteria: a rule on two criteria at once, such as "VP or C-level and 500+ staff".

An additive sheet gives a VP the same points at a firm of 10 as at a firm of
10,000. A *pair criterion* holds one rule on two criteria, each condition a
set of that criterion's bands, and two cells: the leads the rule holds for
(both conditions true) and every other lead. The rule cell earns its points
on top of what the two criteria earn on their own; the other cell earns 0.
This is the AND rule marketing tools hold ("seniority in VP|C-level and
company_size >= 500: +12").

Each condition names the bands of its criterion, copied into the pair, so a
pair is read, scored and exported without the rest of the sheet. Like
:mod:`calibrate.sheet.criteria`, this module needs only numpy and pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .criteria import Criterion

#: The pair's cells, in code order.
RULE, OTHERWISE = 0, 1


@dataclass(frozen=True)
class Cell:
    """One cell of a pair criterion: the rule's leads, or every other lead.

    Parameters
    ----------
    label : str
        What people read: the rule in words, or ``"otherwise"``.
    kind : {"rule", "otherwise"}
        Which cell it is.
    points : int or None
        Points the cell earns, once a points sheet is fitted.
    """

    label: str
    kind: str
    points: int | None = None

    def to_dict(self) -> dict:
        """Plain JSON-ready mapping."""
        out: dict = {"label": self.label, "kind": self.kind}
        if self.points is not None:
            out["points"] = self.points
        return out


@dataclass(frozen=True)
class Condition:
    """One side of a pair rule: a criterion and the bands of it the rule takes.

    Parameters
    ----------
    criterion : Criterion
        The criterion, with its bands (their points are not used).
    bands : tuple of int
        Positions, in ``criterion.bands``, of the bands the condition holds for.

    Examples
    --------
    >>> from calibrate.sheet.criteria import Band
    >>> size = Criterion("company_size", "company_size", "numeric", "explicit", bands=(
    ...     Band("<500", "range", upper=500.0), Band(">=500", "range", lower=500.0),
    ...     Band("Missing", "missing")))
    >>> Condition(size, (1,)).label
    'company_size >= 500'
    >>> Condition(size, (0, 2)).label
    'company_size < 500 or missing'
    """

    criterion: Criterion
    bands: tuple[int, ...]

    def __post_init__(self):
        n = len(self.criterion.bands)
        if not self.bands or len(set(self.bands)) != len(self.bands):
            raise ValueError(f"a condition on {self.criterion.name!r} needs distinct bands")
        if min(self.bands) < 0 or max(self.bands) >= n:
            raise ValueError(f"a condition on {self.criterion.name!r} names a band it lacks")
        if len(self.bands) == n:
            raise ValueError(f"a condition on {self.criterion.name!r} takes every band")

    def holds(self, codes) -> np.ndarray:
        """Whether leads of these band codes (of ``criterion``) meet the condition."""
        member = np.zeros(len(self.criterion.bands), dtype=bool)
        member[list(self.bands)] = True
        return member[np.asarray(codes, dtype=np.intp)]

    def range_runs(self) -> list[list]:
        """The range bands taken, as runs of adjacent ones (in band order)."""
        runs, run = [], []
        for i, band in enumerate(self.criterion.bands):
            if band.kind != "range":
                continue
            if i in self.bands:
                run.append(band)
            elif run:
                runs, run = [*runs, run], []
        return runs + [run] if run else runs

    @property
    def label(self) -> str:
        """The condition in words: a range, a list of levels, or their complement."""
        c, chosen = self.criterion, set(self.bands)
        missing = c.missing_index
        name = c.name
        if c.kind == "numeric":
            ranges = [b for b in c.bands if b.kind == "range"]
            runs = self.range_runs()
            every = len(runs) == 1 and len(runs[0]) == len(ranges)
            text = "" if every else " or ".join(_range_text(name, r) for r in runs)
            if missing in chosen:
                return f"{text} or missing" if text else f"{name} missing"
            return text if text else f"{name} known"
        named = [c.bands[i].label for i in sorted(chosen)]
        rest = [b.label for i, b in enumerate(c.bands) if i not in chosen]
        if c.kind == "boolean" and len(named) == 1:
            return f"{name} {named[0]}"
        if len(rest) < len(named):
            return f"{name} not in {'|'.join(rest)}"
        return f"{name} in {'|'.join(named)}"

    def to_dict(self) -> dict:
        """Plain JSON-ready mapping: the criterion with its bands, and the bands taken."""
        return {"criterion": self.criterion.to_dict(), "bands": list(self.bands)}

    @classmethod
    def from_dict(cls, d: dict) -> Condition:
        """Inverse of :meth:`to_dict`."""
        return cls(Criterion.from_dict(d["criterion"]), tuple(int(b) for b in d["bands"]))


def _range_text(name: str, bands: list) -> str:
    """A run of adjacent range bands (not all of them) in words."""
    lower, upper = bands[0].lower, bands[-1].upper
    if lower is None:
        return f"{name} < {_number(upper)}"
    if upper is None:
        return f"{name} >= {_number(lower)}"
    return f"{name} {_number(lower)} to <{_number(upper)}"


def _number(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


@dataclass(frozen=True)
class PairCriterion:
    """A rule on two criteria: its leads earn points beyond what each criterion earns.

    Parameters
    ----------
    name : str
        Name shown on the points sheet: the two criteria's names joined by " & ".
    first, second : Condition
        The two conditions of the rule; a lead meets the rule when it meets both.
    group : {"explicit", "implicit"}
        ``explicit`` when both criteria are (who the lead is), else
        ``implicit``: a rule that involves behaviour is engagement.
    cells : tuple of Cell
        The rule's cell, then "otherwise".

    Examples
    --------
    >>> from calibrate.sheet.criteria import Band
    >>> title = Criterion("seniority", "seniority", "categorical", "explicit", bands=(
    ...     Band("VP", "levels", values=("VP",)), Band("C-level", "levels", values=("C-level",)),
    ...     Band("Other", "other"), Band("Missing", "missing")))
    >>> size = Criterion("company_size", "company_size", "numeric", "explicit", bands=(
    ...     Band("<500", "range", upper=500.0), Band(">=500", "range", lower=500.0),
    ...     Band("Missing", "missing")))
    >>> pair = PairCriterion.of(Condition(title, (0, 1)), Condition(size, (1,)))
    >>> pair.cells[0].label
    'seniority in VP|C-level and company_size >= 500'
    >>> frame = pd.DataFrame({"seniority": ["VP", "VP", "Staff"], "company_size": [900, 20, 900]})
    >>> pair.assign(frame).tolist()
    [0, 1, 1]
    """

    name: str
    first: Condition
    second: Condition
    group: str
    cells: tuple[Cell, ...]

    kind = "pair"

    @classmethod
    def of(cls, first: Condition, second: Condition) -> PairCriterion:
        """The pair of two conditions, named and labelled from them, without points."""
        if first.criterion.name == second.criterion.name:
            raise ValueError(f"a pair needs two criteria, got {first.criterion.name!r} twice")
        both = {first.criterion.group, second.criterion.group}
        return cls(
            name=f"{first.criterion.name} & {second.criterion.name}",
            first=first,
            second=second,
            group="explicit" if both == {"explicit"} else "implicit",
            cells=(
                Cell(f"{first.label} and {second.label}", "rule"),
                Cell("otherwise", "otherwise"),
            ),
        )

    @property
    def bands(self) -> tuple[Cell, ...]:
        """The cells, under the name every criterion's bands go by."""
        return self.cells

    @property
    def columns(self) -> tuple[str, str]:
        """The two lead columns the rule reads."""
        return self.first.criterion.column, self.second.criterion.column

    @property
    def criteria(self) -> tuple[Criterion, Criterion]:
        """The two criteria, as the conditions copy them."""
        return self.first.criterion, self.second.criterion

    def cell_of(self, first_codes, second_codes) -> np.ndarray:
        """Cell code (0 the rule, 1 otherwise) of leads given their two band codes."""
        rule = self.first.holds(first_codes) & self.second.holds(second_codes)
        return np.where(rule, RULE, OTHERWISE).astype(np.int64)

    def assign(self, frame: pd.DataFrame) -> np.ndarray:
        """Cell code of every lead of ``frame``, from its two columns' raw values."""
        a, b = self.criteria
        return self.cell_of(a.assign(frame[a.column]), b.assign(frame[b.column]))

    def assign_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """Cell code of every lead of ``frame``, as every criterion's ``assign_frame`` gives."""
        return self.assign(frame)

    def with_points(self, points) -> PairCriterion:
        """Copy whose cells carry ``points`` (one integer per cell)."""
        cells = tuple(replace(c, points=int(p)) for c, p in zip(self.cells, points, strict=True))
        return replace(self, cells=cells)

    def to_dict(self) -> dict:
        """Plain JSON-ready mapping."""
        return {
            "name": self.name,
            "kind": self.kind,
            "group": self.group,
            "conditions": [self.first.to_dict(), self.second.to_dict()],
            "cells": [c.to_dict() for c in self.cells],
        }

    @classmethod
    def from_dict(cls, d: dict) -> PairCriterion:
        """Inverse of :meth:`to_dict`."""
        if len(d["conditions"]) != 2:
            raise ValueError(f"pair {d['name']!r} has {len(d['conditions'])} conditions, not 2")
        first, second = (Condition.from_dict(c) for c in d["conditions"])
        cells = tuple(Cell(c["label"], c["kind"], c.get("points")) for c in d["cells"])
        return cls(name=d["name"], first=first, second=second, group=d["group"], cells=cells)
