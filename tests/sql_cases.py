"""A scoring config that uses every feature of the format, and messy leads to score with it.

Shared by the SQL export tests (DuckDB) and the engine tests (PostgreSQL, Spark).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

import calibrate
from calibrate.datasets import make_leads
from calibrate.sheet.criteria import Band, Criterion
from calibrate.sheet.kinds import FEATURE_KINDS, kind_of
from calibrate.sheet.pairs import Condition, PairCriterion

DETAIL_RULES = (
    "page_view:/pricing*=pricing_page_view",
    "page_view:/careers*=careers_page_view",
)


def with_flag(leads: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A boolean column (opted in to the newsletter), a little telling of a win."""
    rng = np.random.default_rng(seed)
    out = leads.copy()
    p = np.where(out["converted"], 0.6, 0.4) if "converted" in out else 0.5
    out["opted_in"] = rng.random(len(out)) < p
    return out


def rich_config(n: int = 3000, seed: int = 21) -> calibrate.ScoringConfig:
    """A fitted config, then edited so that every kernel and rule kind appears.

    It has categorical, numeric and boolean criteria; decayed, windowed and
    plain counts; recency, distinct details, active days and a combination;
    detail rules; a decision time one day before ``decided_at``; levels; and
    fast-track rules on an activity type and on a boolean column; and pair
    rules (:func:`with_pairs`).
    """
    leads, log = make_leads(n, seed=seed, activities=True)
    result = calibrate.fit(
        with_flag(leads, seed),
        outcome="converted",
        id="lead_id",
        decided_at="decided_at - 1 days",
        activities=log,
        activity_columns={"detail": "detail"},
        detail_rules=DETAIL_RULES,
        combos=["whitepaper_download+case_study_view"],
        fast_track=["demo_request", "opted_in"],
        exclude=["created_at"],
        bootstrap=0,
        seed=seed,
        max_pairs=0,  # with_pairs adds pair rules of every kind
        max_bins=5,  # and needs three ranges or more of company_size
        choose_bins=False,
    )
    config = result.config
    activities = config.to_dict()["activities"]
    counts = [f for f in activities["features"] if f["kind"] == "count"]
    counts[0]["kernel"] = {"kind": "window", "window_days": 30.0}
    counts[1]["kernel"] = {"kind": "all"}
    threshold = dict(config.threshold)
    rules = [r for r in threshold.get("fast_track", []) if r["kind"] == "activity"]
    rules.append({"kind": "column", "column": "opted_in", "equals": "true"})
    rules.append({"kind": "activity", "activity_type": "form_fill", "within_days": 7})
    threshold["fast_track"] = rules
    # A criterion the fit rounded to 0 everywhere still gets points, so that a
    # scorer that skips a criterion cannot pass.
    criteria = tuple(
        c.with_points(range(len(c.bands))) if len({b.points for b in c.bands}) == 1 else c
        for c in config.criteria
    )
    config = dataclasses.replace(config, criteria=criteria, activities=activities,
                                 threshold=threshold)  # fmt: skip
    return with_pairs(config)


def with_pairs(config: calibrate.ScoringConfig) -> calibrate.ScoringConfig:
    """The config with three pair rules: fit x fit, fit x behaviour, boolean x category.

    Their conditions take missing bands, "Other" and runs of ranges, so that
    every engine must read a pair's two criteria as their own bands do.
    """
    by_name = {c.name: c for c in config.criteria}

    def bands_of(name, labels):
        criterion = by_name[name]
        return Condition(criterion, tuple(i for i, b in enumerate(criterion.bands)
                                          if b.label in labels))  # fmt: skip

    seniority, size = by_name["seniority"], by_name["company_size"]
    top = [b.label for b in size.bands if b.kind == "range"][-2:]
    pairs = [
        PairCriterion.of(bands_of("seniority", {"VP", "C-level", "Other"}),
                         bands_of("company_size", {*top, "Missing"})).with_points([9, 0]),
        PairCriterion.of(bands_of("lead_source", {"Purchased list", "Missing"}),
                         Condition(by_name["email_open"], (3, 4))).with_points([-7, 0]),
        PairCriterion.of(bands_of("opted_in", {"Yes"}),
                         bands_of("seniority", {"Student", "Missing"})).with_points([5, 1]),
    ]  # fmt: skip
    assert seniority and size
    return dataclasses.replace(config, criteria=(*config.criteria, *pairs), reference={})


def with_kinds(config: calibrate.ScoringConfig, kinds=FEATURE_KINDS) -> calibrate.ScoringConfig:
    """The config with one more criterion per feature kind: the kind's example feature.

    By default every registered kind, so that a new kind is scored on every
    engine by the exactness tests without a test of its own.
    """
    activities = config.to_dict()["activities"]
    known = sorted(activities["known_types"])
    criteria = list(config.criteria)
    for name in kinds:
        kind = kind_of(name)
        feature = kind.example(known)
        activities["features"].append(feature.to_dict())
        if kind.column_kind == "boolean":
            bands = (
                Band("Yes", "levels", values=("true",), points=6),
                Band("No", "levels", values=("false",), points=0),
                Band("Missing", "missing", points=0),
            )
        else:
            bands = (
                Band("<1", "range", upper=1.0, points=0),
                Band("1 to <4", "range", lower=1.0, upper=4.0, points=4),
                Band(">=4", "range", lower=4.0, points=9),
                Band("Missing", "missing", points=2),
            )
        criteria.append(Criterion(feature.name, feature.name, kind.column_kind, "implicit", bands))
    # Added criteria have no training reference: the derived config carries none.
    return dataclasses.replace(
        config, activities=activities, criteria=tuple(criteria), reference={}
    )


def messy_leads(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leads to score, with the mess real tables have, and their activity log.

    Categories come padded with spaces, as missing-value tokens, in another
    case, or unseen in training; some numbers are missing; some leads have
    no activity at all; some of the log's lead ids are padded.
    """
    leads, log = make_leads(n, seed=seed, activities=True)
    leads = with_flag(leads.drop(columns=["converted", "created_at"]), seed)
    rng = np.random.default_rng(seed)
    role = leads["role"].astype(object).to_numpy(copy=True)
    pick = rng.random(n)
    role[pick < 0.02] = [f" {v} " if isinstance(v, str) else v for v in role[pick < 0.02]]
    role[(pick >= 0.02) & (pick < 0.03)] = "N/A"
    role[(pick >= 0.03) & (pick < 0.04)] = "Chief Vibes Officer"
    role[(pick >= 0.04) & (pick < 0.05)] = ""
    leads["role"] = pd.Series(role, dtype=object)
    size = leads["company_size"].to_numpy(copy=True)
    size[rng.random(n) < 0.03] = np.nan
    leads["company_size"] = size
    leads["lead_id"] = leads["lead_id"].astype(object)
    # A tenth of the leads are quiet: they have no activity.
    quiet = set(leads["lead_id"].sample(frac=0.1, random_state=seed))
    log = log[~log["lead_id"].isin(quiet)].reset_index(drop=True)
    for column in ("lead_id", "activity_type", "detail"):
        log[column] = log[column].astype(object)
    # Some of the log's ids are padded: they are the same leads.
    ids = log["lead_id"].to_numpy(copy=True)
    pad = rng.random(len(log))
    ids[pad < 0.03] = [f" {i}" for i in ids[pad < 0.03]]
    ids[(pad >= 0.03) & (pad < 0.05)] = [f"{i}\t\n" for i in ids[(pad >= 0.03) & (pad < 0.05)]]
    log["lead_id"] = pd.Series(ids, dtype=object)
    return leads.reset_index(drop=True), log


def python_scores(config, leads, log, as_of=None, reasons=0) -> pd.DataFrame:
    """The Python scorer's output with breakdown (and reasons), as the reference."""
    return calibrate.score_leads(
        config, leads, activities=log, breakdown=True, as_of=as_of, reasons=reasons
    )


def assert_same_scores(expected: pd.DataFrame, got: pd.DataFrame, id_column: str, engine: str):
    """Every lead has the same points, score, level and MQL flag."""
    got = got.copy()
    got.columns = [str(c) for c in got.columns]
    assert list(got.columns) == list(expected.columns), engine
    assert len(got) == len(expected), engine
    got[id_column] = got[id_column].astype(str)
    left = expected.set_index(id_column).sort_index()
    right = got.set_index(id_column).sort_index()
    assert left.index.equals(right.index), f"{engine}: different lead ids"
    for column in left.columns:
        # A missing value (a reason past a lead's last) is NULL on both sides.
        a = left[column].astype(object).where(left[column].notna(), "NULL").astype(str)
        b = right[column].map(_plain).astype(object)
        a, b = a.to_numpy(), b.where(right[column].notna(), "NULL").astype(str).to_numpy()
        bad = np.flatnonzero(a != b)
        assert len(bad) == 0, (
            f"{engine}: column {column!r} differs for {len(bad)} leads, e.g. "
            f"{left.index[bad[0]]}: python {a[bad[0]]} vs {engine} {b[bad[0]]}"
        )


def _plain(value):
    """Engine values as the Python scorer writes them (numpy ints, bools)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
