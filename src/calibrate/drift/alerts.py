"""Alerts: the measures of :func:`~calibrate.drift.measures.measure` on stated thresholds.

Two levels: ``watch`` (look at it at the next review) and ``act`` (the
sheet no longer describes these leads: recalibrate). Every threshold is in
:data:`THRESHOLDS`; the counts behind a comparison must be large enough
for it to mean something, so that leads from the training period's own
distribution raise no ``act`` alert (``benchmarks/monitor_alarms.py``
counts them on simulated stable periods).
"""

from __future__ import annotations

__all__ = ["THRESHOLDS", "alerts", "verdict"]

#: Every alert's threshold: (watch, act). PSI: the usual 0.1 and 0.25.
#: Shares: of leads (missing values: the rise in points of share). z: standard
#: errors of the difference between now and the fit's leads.
THRESHOLDS = {
    "band_shift": (0.10, 0.25),
    "score_shift": (0.10, 0.25),
    "missing": (0.10, 0.30),
    "unseen_categories": (0.05, 0.20),
    "unseen_activity_types": (0.05, 0.20),
    "mql_volume": (1.20, 1.50),
    "fast_track": (2.0, None),
    "calibration": (3.0, 4.0),
    "effect_change": (3.0, 4.0),
}
#: Fewer leads than this in a period: shares are too noisy to alert on.
MIN_LEADS = 100
#: A share comparison also needs this many standard errors to alert.
MIN_Z = 3.0


def alerts(measures: dict) -> list[dict]:
    """The alerts of one set of measures, ``act`` first, each with its evidence in words.

    Parameters
    ----------
    measures : dict
        What :func:`~calibrate.drift.measures.measure` gives.

    Returns
    -------
    list of dict
        ``{"level", "kind", "criterion", "message"}``; ``criterion`` is None
        for an alert on the whole sheet.
    """
    found = []
    enough = measures["n_leads"] >= MIN_LEADS
    for row in measures["criteria"]:
        if enough:
            found += _criterion_shift(row)
        found += _effects(row)
    if enough:
        found += _score_shift(measures)
        found += _mql_volume(measures["mql"], measures["n_leads"])
        found += _fast_track(measures["fast_track"], measures["n_leads"])
    found += _activities(measures.get("activities", {}))
    found += _auc(measures)
    found += _calibration(measures.get("calibration"))
    return sorted(found, key=lambda a: a["level"] != "act")


def verdict(found: list[dict]) -> tuple[bool, list[str]]:
    """Whether to recalibrate, and why: every ``act`` alert's message."""
    reasons = [a["message"] for a in found if a["level"] == "act"]
    return bool(reasons), reasons


def _level(value, kind, *, below=False):
    """``act``, ``watch`` or None for a value against the kind's thresholds."""
    watch, act = THRESHOLDS[kind]
    if value is None:
        return None
    if below:
        value = -value
        watch, act = -watch, (-act if act is not None else None)
    if act is not None and value >= act:
        return "act"
    if value >= watch:
        return "watch"
    return None


def _alert(level, kind, criterion, message) -> list[dict]:
    return [{"level": level, "kind": kind, "criterion": criterion, "message": message}]


def _criterion_shift(row) -> list[dict]:
    found = []
    name = row["name"]
    if (level := _level(row["psi"], "band_shift")) is not None:
        moved = max(
            (b for b in row["bands"] if b.get("share_at_fit") is not None),
            key=lambda b: abs(b["share_now"] - b["share_at_fit"]) if b["share_now"] else 0.0,
        )
        found += _alert(
            level,
            "band_shift",
            name,
            f"{name}: its leads fall into its bands differently from the training leads "
            f"(PSI {row['psi']:.2f}); most moved: {moved['label']!r}, "
            f"{_pct(moved['share_now'])} of leads now against {_pct(moved['share_at_fit'])}",
        )
    if row.get("missing_at_fit") is not None and row["missing_now"] is not None:
        rise = row["missing_now"] - row["missing_at_fit"]
        if (level := _level(rise, "missing")) is not None:
            found += _alert(
                level,
                "missing",
                name,
                f"{row['column']} is empty for {_pct(row['missing_now'])} of leads, against "
                f"{_pct(row['missing_at_fit'])} in training: a form or a sync may have "
                "stopped filling it",
            )
    if (level := _level(row.get("unseen_share"), "unseen_categories")) is not None:
        examples = ", ".join(repr(v) for v in row.get("unseen_examples", []))
        found += _alert(
            level,
            "unseen_categories",
            name,
            f"{_pct(row['unseen_share'])} of leads have a {row['column']} never seen in "
            f"training ({examples}); they earn the points of its band for other values",
        )
    return found


def _effects(row) -> list[dict]:
    found = []
    for band in row["bands"]:
        z = band.get("effect_z")
        if z is None or (level := _level(abs(z), "effect_change")) is None:
            continue
        direction = "more" if z > 0 else "less"
        found += _alert(
            level,
            "effect_change",
            row["name"],
            f"leads with {row['name']} = {band['label']!r} now win {direction} often than their "
            f"scores say ({_pct(band['win_rate_now'])} won, {_pct(band['expected_win_rate_now'])}"
            f" expected; z = {z:.1f} against the fit): the band's {band['label']!r} points no "
            "longer match what it says about a lead",
        )
    return found


def _score_shift(measures) -> list[dict]:
    psi = measures.get("score_psi")
    if (level := _level(psi, "score_shift")) is None:
        return []
    return _alert(
        level,
        "score_shift",
        None,
        f"scores are distributed differently from the training leads' (PSI {psi:.2f}; mean "
        f"score {measures['score_mean_now']:.1f} against {measures['score_mean_at_fit']:.1f})",
    )


def _share_z(now, at_fit, n) -> float:
    """Standard errors between a share now (of ``n`` leads) and a share at fit."""
    p = min(max(at_fit, 1e-6), 1 - 1e-6)
    return abs(now - at_fit) / (p * (1 - p) / n) ** 0.5


def _mql_volume(mql, n) -> list[dict]:
    capacity, per_week = mql.get("capacity_per_week"), mql.get("per_week_now")
    if capacity and per_week is not None:
        level = _level(per_week / capacity, "mql_volume")
        if level is None:
            return []
        return _alert(
            level,
            "mql_volume",
            None,
            f"{per_week:.1f} MQLs a week against the sales capacity of {capacity:.0f} the "
            f"threshold {mql['threshold']} assumed",
        )
    now, at_fit = mql.get("share_now"), mql.get("share_at_fit")
    if now is None or not at_fit or _share_z(now, at_fit, n) < MIN_Z:
        return []
    ratio = max(now / at_fit, at_fit / now) if now else float("inf")
    if (level := _level(ratio, "mql_volume")) is None:
        return []
    return _alert(
        level,
        "mql_volume",
        None,
        f"{_pct(now)} of leads reach the MQL threshold {mql['threshold']}, against "
        f"{_pct(at_fit)} of the training leads",
    )


def _fast_track(rules, n) -> list[dict]:
    found = []
    for rule in rules:
        now, at_fit = rule["hit_rate_now"], rule["hit_rate_at_fit"]
        if now is None or not at_fit or _share_z(now, at_fit, n) < MIN_Z:
            continue
        ratio = max(now / at_fit, at_fit / now) if now else float("inf")
        if _level(ratio, "fast_track") is not None:
            found += _alert(
                "watch",
                "fast_track",
                None,
                f"the fast-track rule '{rule['rule']}' makes {_pct(now)} of leads MQLs, "
                f"against {_pct(at_fit)} at fit",
            )
    return found


def _activities(counts) -> list[dict]:
    rows = counts.get("counted", counts.get("rows"))
    unknown = counts.get("unknown_types") or {}
    if not rows or not unknown:
        return []
    share = sum(unknown.values()) / rows
    if (level := _level(share, "unseen_activity_types")) is None:
        return []
    listed = ", ".join(f"{t!r} ({n:,})" for t, n in sorted(unknown.items(), key=lambda x: -x[1]))
    return _alert(
        level,
        "unseen_activity_types",
        None,
        f"{_pct(share)} of the activities that count are of types never seen in training and "
        f"score no points: {listed}",
    )


def _auc(measures) -> list[dict]:
    now, at_fit = measures.get("auc_now"), measures.get("auc_at_fit")
    if not now or not at_fit:
        return []
    if now[2] < at_fit[1]:
        level = "act"
    elif now[2] < at_fit[0]:
        level = "watch"
    else:
        return []
    return _alert(
        level,
        "auc_drop",
        None,
        f"the sheet ranks these leads worse than the hold-out leads at fit: AUC "
        f"{now[0]:.3f} (95% interval {now[1]:.3f} to {now[2]:.3f}) against {at_fit[0]:.3f} "
        f"({at_fit[1]:.3f} to {at_fit[2]:.3f})",
    )


def _calibration(calibration) -> list[dict]:
    if not calibration:
        return []
    found = []
    z = calibration.get("z")
    if z is not None and _level(abs(z), "calibration") == "act":
        found += _alert(
            "act",
            "calibration",
            None,
            f"the win probabilities no longer hold: {calibration['wins_observed']:.0f} wins "
            f"against {calibration['wins_expected']:.0f} expected from the score bands' win "
            f"rates at fit (z = {z:.1f})",
        )
    for band in calibration["bands"]:
        if band["z"] is None or _level(abs(band["z"]), "calibration") is None:
            continue
        found += _alert(
            "watch",
            "calibration",
            None,
            f"scores {band['score_min']}-{band['score_max']} win {_pct(band['win_rate_now'])} "
            f"of {band['leads_now']:,} leads, against {_pct(band['win_rate_at_fit'])} at fit "
            f"(z = {band['z']:.1f})",
        )
    return found


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"
