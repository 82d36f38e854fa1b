"""Measures: scored leads against the config's training reference and hold-out evidence.

Every measure compares counts now with counts at fit, so that an alert can
say how sure it is: population stability (PSI) of band shares and of the
score distribution, missing values and categories never seen in training,
the MQL volume against what the threshold assumed, fast-track hit rates
and, with outcomes, the AUC, the win rate per score band and every band's
win rate against the rest of its criterion (an effect that changed).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..learn.model import auc_interval
from ..sheet.criteria import category_codes

__all__ = ["SCORE_BIN", "measure", "population_stability"]

#: Width of the score bins of the score distribution's PSI.
SCORE_BIN = 10
#: Shares below this count as this in the PSI, so an empty band is not infinite.
SHARE_FLOOR = 1e-4


def population_stability(expected, observed) -> float:
    """The population stability index of two distributions over the same bins.

    ``sum((o - e) * ln(o / e))`` over the bins, both given as counts or
    shares (each is normalised), a share below ``SHARE_FLOOR`` counting as
    ``SHARE_FLOOR``. 0 for identical distributions; by convention below 0.1
    is stable, 0.1 to 0.25 a shift to watch, above 0.25 a shift to act on.

    Parameters
    ----------
    expected, observed : array-like of float
        Counts (or shares) per bin, at fit and now.

    Returns
    -------
    float

    Examples
    --------
    >>> round(population_stability([50, 30, 20], [50, 30, 20]), 6)
    0.0
    >>> round(population_stability([50, 30, 20], [20, 30, 50]), 3)
    0.55
    """
    e = np.asarray(expected, dtype=float)
    o = np.asarray(observed, dtype=float)
    e = np.maximum(e / e.sum(), SHARE_FLOOR)
    o = np.maximum(o / o.sum(), SHARE_FLOOR)
    return float(np.sum((o - e) * np.log(o / e)))


def measure(
    config,
    scored: pd.DataFrame,
    leads: pd.DataFrame,
    *,
    won=None,
    weeks: float | None = None,
) -> dict:
    """Every measure of one set of leads scored with ``config``.

    Parameters
    ----------
    config : ScoringConfig
        The config the leads were scored with.
    scored : pandas.DataFrame
        What :func:`~calibrate.production.scorer.score_leads` gives with
        ``bands=True``, its ``attrs`` included.
    leads : pandas.DataFrame
        The lead table the leads were scored from (its raw columns).
    won : array-like of bool, optional
        The leads' outcomes, when they are known.
    weeks : float, optional
        How many weeks the leads arrived over: MQLs per week.

    Returns
    -------
    dict
        Plain values: see :func:`calibrate.monitor` for the keys.
    """
    reference = config.reference or {}
    scores = scored["score"].to_numpy()
    out = {
        "n_leads": int(len(scored)),
        "reference": bool(reference),
        "criteria": _criteria(config, scored, leads, reference, won),
    }
    out.update(_scores(config, scores, reference))
    out["mql"] = _mql(config, scored, reference, weeks)
    out["fast_track"] = _fast_track(config, scored)
    out["activities"] = dict(scored.attrs.get("activity_counts", {}))
    if won is not None:
        out.update(_outcomes(config, scored, np.asarray(won, dtype=bool)))
    return out


def _criteria(config, scored, leads, reference, won) -> list[dict]:
    """Per criterion: PSI of band shares, missing values, unseen categories, effect changes."""
    from ..production.reference import band_win_probability

    at_fit = {entry["name"]: entry for entry in reference.get("criteria", [])}
    seen = reference.get("categories", {})
    expected = None
    if won is not None:
        bands = (config.calibration or {}).get("bands", [])
        expected = np.nan_to_num(band_win_probability(bands, scored["score"].to_numpy()))
    rows = []
    for criterion in config.criteria:
        labels = [b.label for b in criterion.bands]
        band = pd.Categorical(scored[f"band_{criterion.name}"], categories=labels).codes
        leads_now = np.bincount(band, minlength=len(labels))
        # A pair rule has no missing band: its two criteria's rows say it.
        missing = None if criterion.kind == "pair" else criterion.missing_index
        row = {
            "name": criterion.name,
            "column": ", ".join(criterion.columns),
            "group": criterion.group,
            "psi": None,
            "missing_now": None if missing is None else _share(leads_now[missing], len(band)),
            "missing_at_fit": None,
        }
        fit = at_fit.get(criterion.name)
        if fit is not None and len(band):
            row["psi"] = population_stability(fit["leads"], leads_now)
            if missing is not None:
                row["missing_at_fit"] = _share(fit["leads"][missing], sum(fit["leads"]))
        if criterion.kind == "categorical" and criterion.column in seen:
            row.update(_unseen(leads, criterion.column, seen[criterion.column]))
        outcomes = None
        if won is not None:
            outcomes = (
                np.bincount(band, weights=won, minlength=len(labels)),
                np.bincount(band, weights=expected, minlength=len(labels)),
            )
        row["bands"] = [
            _band(label, i, leads_now, outcomes, fit) for i, label in enumerate(labels)
        ]
        rows.append(row)
    return rows


def _band(label, i, leads_now, outcomes, fit) -> dict:
    """One band: its share now and at fit; with outcomes, its wins against the expected."""
    n = int(leads_now.sum())
    band = {"label": label, "leads_now": int(leads_now[i]), "share_now": _share(leads_now[i], n)}
    if fit is not None:
        band["share_at_fit"] = _share(fit["leads"][i], sum(fit["leads"]))
        band["win_rate_at_fit"] = _share(fit["wins"][i], fit["leads"][i])
    if outcomes is not None:
        wins, expected = outcomes
        band["win_rate_now"] = _share(wins[i], leads_now[i])
        band["expected_win_rate_now"] = _share(expected[i], leads_now[i])
        if fit is not None and "expected_wins" in fit:
            band["effect_z"] = _effect_change(
                (wins[i], expected[i], leads_now[i], wins.sum(), expected.sum(), n),
                (fit["wins"][i], fit["expected_wins"][i], fit["leads"][i],
                 sum(fit["wins"]), sum(fit["expected_wins"]), sum(fit["leads"])),
            )  # fmt: skip
    return band


#: A band's effect is compared only with this many leads, and wins expected, now and at fit.
EFFECT_MIN_LEADS, EFFECT_MIN_WINS = 30, 10


def _effect_change(now, fit) -> float | None:
    """z of the change, between fit and now, in a band's wins against the expected.

    ``now`` and ``fit`` are (wins, wins expected, leads) of the band's leads
    and then of all the criterion's leads, the expected wins from their
    scores' calibrated win probabilities. A band whose leads now win more or
    less than their scores say, compared with the criterion's other leads,
    has an effect that changed, whatever its share; comparing with the other
    leads keeps a shift that moves every band alike (a calibration drift)
    out of it. The log ratio of observed to expected wins, band against the
    rest, is compared between now and fit (Poisson wins, 0.5 added to each
    count).
    """
    parts = []
    for wins, expected, leads, all_wins, all_expected, all_leads in (now, fit):
        rest = (all_wins - wins, all_expected - expected, all_leads - leads)
        if min(leads, rest[2]) < EFFECT_MIN_LEADS or min(expected, rest[1]) < EFFECT_MIN_WINS:
            return None
        ratio = math.log((wins + 0.5) / (expected + 0.5)) - math.log(
            (rest[0] + 0.5) / (rest[1] + 0.5)
        )
        parts.append((ratio, 1.0 / (wins + 0.5) + 1.0 / (rest[0] + 0.5)))
    (now_ratio, now_var), (fit_ratio, fit_var) = parts
    return (now_ratio - fit_ratio) / math.sqrt(now_var + fit_var)


#: At most this many unseen categories are named as examples.
UNSEEN_EXAMPLES = 5


def _unseen(leads, column, seen) -> dict:
    """Share of leads with a value of ``column`` never seen in training, and examples."""
    if column not in leads.columns:
        return {}
    codes, texts = category_codes(leads[column], "categorical", column)
    known = set(seen)
    new = np.array([t is not None and t not in known for t in texts] + [False], dtype=bool)
    hits = new[codes]
    counts = pd.Series(texts[codes[hits]]).value_counts() if hits.any() else pd.Series(dtype=int)
    examples = sorted(counts.index[:UNSEEN_EXAMPLES].tolist(), key=lambda v: (-counts[v], v))
    return {"unseen_share": _share(hits.sum(), len(codes)), "unseen_examples": examples}


def _scores(config, scores, reference) -> dict:
    """The score distribution now and at fit, in ``SCORE_BIN``-point bins, and its PSI."""
    low, high = config.min_score, config.max_score
    # Bins of SCORE_BIN points from the scale's minimum; the last one ends at its maximum.
    edges = np.arange(low, high, SCORE_BIN)
    now = np.bincount(np.searchsorted(edges, scores, side="right") - 1, minlength=len(edges))
    out = {
        "score_bins": [int(e) for e in edges],
        "score_shares_now": [_share(c, len(scores)) for c in now],
        "score_mean_now": float(np.mean(scores)) if len(scores) else None,
        "score_psi": None,
    }
    counts = reference.get("score_counts")
    if counts:
        per_score = np.asarray(counts, dtype=float)
        at_fit = np.add.reduceat(per_score, edges - low)
        out["score_shares_at_fit"] = [_share(c, per_score.sum()) for c in at_fit]
        out["score_mean_at_fit"] = float(np.arange(low, high + 1) @ per_score / per_score.sum())
        if len(scores):
            out["score_psi"] = population_stability(at_fit, now)
    return out


def _mql(config, scored, reference, weeks) -> dict:
    """MQLs now against the share at fit and the volume the threshold assumed."""
    mql = scored["mql"].to_numpy()
    out = {"threshold": config.mql_threshold, "mqls": int(mql.sum())}
    out["share_now"] = _share(mql.sum(), len(mql))
    counts = reference.get("score_counts")
    if counts:
        above = sum(counts[config.mql_threshold - config.min_score :])
        out["share_at_fit"] = _share(above, sum(counts))
    policy = config.threshold.get("policy", {})
    out["capacity_per_week"] = policy.get("capacity_per_week")
    out["per_week_assumed"] = config.threshold.get("mqls_per_week")
    out["per_week_now"] = float(mql.sum() / weeks) if weeks else None
    return out


def _fast_track(config, scored) -> list[dict]:
    """Every fast-track rule's hit rate now (column ``fast_track_k``) and on the fit's leads."""
    n_fit = (config.training_data or {}).get("n_leads")
    rows = []
    for k, rule in enumerate(config.threshold.get("fast_track", []), start=1):
        hit = int(scored[f"fast_track_{k}"].sum())
        if rule["kind"] == "activity":
            name = f"{rule['activity_type']} in the last {rule['within_days']} days"
        else:
            name = f"{rule['column']} is {rule['equals']}"
        evidence = rule.get("evidence", {})
        rows.append(
            {
                "rule": name,
                "hits_now": int(hit),
                "hit_rate_now": _share(hit, len(scored)),
                "hit_rate_at_fit": _share(evidence.get("leads"), n_fit),
                "leads_at_fit": n_fit,
            }
        )
    return rows


def _outcomes(config, scored, won) -> dict:
    """With outcomes: AUC now and at fit, calibration per score band, the threshold's catch."""
    scores = scored["score"].to_numpy()
    out = {"wins": int(won.sum()), "win_rate_now": _share(won.sum(), len(won))}
    holdout = (config.model or {}).get("holdout", {})
    if "auc_points" in holdout:
        interval = holdout.get("auc_points_interval") or [holdout["auc_points"]] * 2
        out["auc_at_fit"] = [holdout["auc_points"], *interval]
    if 0 < won.sum() < len(won):
        out["auc_now"] = list(auc_interval(won, scores))
    out["calibration"] = _calibration(config, scores, won)
    mql = scored["mql"].to_numpy()
    out["threshold_now"] = {
        "share_passed": _share(mql.sum(), len(mql)),
        "share_wins_captured": _share((mql & won).sum(), won.sum()),
        "win_rate_passed": _share((mql & won).sum(), mql.sum()),
    }
    out["threshold_at_fit"] = {
        k: config.threshold.get(k)
        for k in ("share_passed", "share_wins_captured", "win_rate_passed")
    }
    return out


def _calibration(config, scores, won) -> dict:
    """Win rate per score band of the config's calibration, now and on its hold-out leads.

    Each band's z compares the two win rates (pooled binomial variance); the
    overall z compares the wins now with the wins the hold-out's band rates
    expect, the hold-out's own uncertainty included.
    """
    bands = (config.calibration or {}).get("bands", [])
    rows, expected, variance = [], 0.0, 0.0
    for band in bands:
        inside = (scores >= band["score_min"]) & (scores <= band["score_max"])
        n, wins = int(inside.sum()), int(won[inside].sum())
        n_fit, rate_fit = band["leads"], band.get("win_rate")
        row = {
            "score_min": band["score_min"],
            "score_max": band["score_max"],
            "leads_now": n,
            "wins_now": wins,
            "win_rate_now": _share(wins, n),
            "leads_at_fit": n_fit,
            "win_rate_at_fit": rate_fit,
            "z": None,
        }
        if n and n_fit and rate_fit is not None:
            pooled = (wins + rate_fit * n_fit) / (n + n_fit)
            spread = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n + 1 / n_fit))
            row["z"] = (wins / n - rate_fit) / spread
            expected += n * rate_fit
            p = min(max(rate_fit, 1e-6), 1 - 1e-6)
            variance += n * p * (1 - p) + n * n * p * (1 - p) / n_fit
        rows.append(row)
    observed = float(sum(r["wins_now"] for r in rows if r["z"] is not None))
    overall = (observed - expected) / math.sqrt(variance) if variance > 0 else None
    return {
        "bands": rows,
        "wins_expected": expected,
        "wins_observed": observed,
        "z": overall,
    }


def _share(part, whole):
    """``part / whole`` as a float, or None when either is unknown or the whole is 0."""
    if part is None or whole is None or not whole:
        return None
    return float(part) / float(whole)
