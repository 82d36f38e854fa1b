"""The benchmark scripts are code too: their formatting and small runs are tested."""

from benchmarks import activity_aggregation, real_data, scorer_throughput


def test_real_data_tables_by_hand():
    quality = [
        {
            "data": "d",
            "auc_model": 0.8,
            "auc_points": 0.7995,
            "auc_lost": 0.0005,
            "tau": 0.98,
            "tau_nearest": 0.97,
            "ece": 0.001,
        }
    ]
    policies = [
        {"data": "d", "policy": "p", "threshold": 40, "passed": 0.25, "wins": 0.6, "win_rate": 0.3}
    ]
    text = real_data.markdown(quality, policies)
    assert "| d | 0.800 | 0.799 | +0.0005 | 0.980 (0.970) | 0.0010 |" in text
    assert "| d | p | 40 | 25.0% | 60.0% | 30.0% |" in text


def test_activity_benchmark_runs_small(tmp_path):
    rows = activity_aggregation.generate(tmp_path, n_leads=200, per_lead=20, chunk=1500)
    assert rows == 4000
    figures = activity_aggregation.aggregate(tmp_path)
    assert figures["activities"] == 4000 and figures["leads"] == 200
    assert figures["features"] == 15
    assert figures["peak_rss_mb"] > 0


def _reference_scores(config, frame):
    """Score, level and MQL of every lead, worked out value by value in plain Python."""
    whitespace = " \t\n\r\f\v"
    missing_tokens = {"", "na", "n/a", "nan", "null", "none", "#n/a", "-"}
    total = [config.base_points] * len(frame)
    for criterion in config.criteria:
        bands = criterion.bands
        missing = next(b.points for b in bands if b.kind == "missing")
        other = next((b.points for b in bands if b.kind == "other"), missing)
        for row, value in enumerate(frame[criterion.column].tolist()):
            if value is None or value != value:  # None or NaN
                total[row] += missing
            elif criterion.kind == "numeric":
                x = float(value)
                total[row] += next(
                    b.points
                    for b in bands
                    if b.kind == "range"
                    and (b.lower is None or x >= b.lower)
                    and (b.upper is None or x < b.upper)
                )
            else:
                if isinstance(value, bool):
                    value = "true" if value else "false"
                text = value.strip(whitespace)
                if text.lower() in missing_tokens:
                    total[row] += missing
                else:
                    total[row] += next((b.points for b in bands if text in b.values), other)
    scores = [min(max(t, config.min_score), config.max_score) for t in total]
    levels = config.threshold["levels"]
    rule = config.threshold["fast_track"][0]
    flags = frame[rule["column"]].tolist()
    return {
        "score": scores,
        "level": [next(lv["name"] for lv in levels if s >= lv["min_score"]) for s in scores],
        "mql": [s >= config.mql_threshold or bool(f) for s, f in zip(scores, flags, strict=True)],
    }


def test_scorer_benchmark_runs_small_and_scores_right(tmp_path):
    figures, out = scorer_throughput.run(20_000, repeats=2, seed=1, folder=tmp_path)
    assert figures["leads"] == 20_000 and figures["criteria"] == 20
    for key in (
        "leads_per_second_best",
        "leads_per_second_median",
        "object_text_leads_per_second_best",
        "parquet_leads_per_second_best",
        "peak_rss_mb",
    ):
        assert figures[key] > 0, key
    assert figures["leads_per_second_best"] >= figures["leads_per_second_median"]
    assert isinstance(figures["target_met"], bool)
    # The sheet mixes the kinds as promised.
    config = scorer_throughput.build_config(seed=1)
    kinds = [c.kind for c in config.criteria]
    assert (kinds.count("numeric"), kinds.count("categorical"), kinds.count("boolean")) == (
        8,
        10,
        2,
    )
    assert all(4 <= len(c.bands) - 1 <= 6 for c in config.criteria if c.kind == "numeric")
    # The scores it timed are right: against plain Python on the same leads.
    frame = scorer_throughput.make_frame(config, 20_000, seed=1)
    expected = _reference_scores(config, frame)
    assert out["lead_id"].tolist() == frame["lead_id"].tolist()
    for column in ("score", "level", "mql"):
        assert out[column].tolist() == expected[column], column
    assert 0.05 < out["mql"].mean() < 0.6 and out["score"].nunique() > 30


def test_scorer_benchmark_main_prints_the_figures(capsys):
    scorer_throughput.main(["--leads", "3000", "--repeats", "1"])
    printed = capsys.readouterr().out
    assert "3,000 leads, 20 criteria" in printed and "Target 1,000,000 leads/s" in printed


def test_sql_benchmark_runs_small_and_checks_its_scores(tmp_path):
    from benchmarks import sql_throughput

    figures = sql_throughput.run(3000, 400, 10, tmp_path)
    table, behaviour = figures["lead_table"], figures["behaviour"]
    assert table["leads"] == 3000 and table["checked_against_python"] == 3000
    assert behaviour["activities"] == 4000 and behaviour["checked_against_python"] == 400
    assert table["leads_per_second"] > 0 and behaviour["leads_per_second"] > 0


def test_everyday_benchmark_times_every_stage_of_a_small_fit(tmp_path, capsys):
    from benchmarks import everyday

    leads, log = everyday.generated(800, tmp_path, seed=2)
    times = everyday.stages(leads, log)
    assert list(times) == [
        "read", "behaviour", "decay search", "bands", "model", "penalty search", "rounding",
        "bootstrap", "threshold", "report summary", "figures", "report HTML", "PDF",
    ]  # fmt: skip
    assert all(seconds >= 0 for seconds in times.values())
    assert times["PDF"] > 0 and times["behaviour"] > 0
    everyday._print("small", times)
    printed = capsys.readouterr().out
    assert "small:" in printed and "decay search" in printed and "%" in printed


def test_monitor_alarms_benchmark_counts_false_alarms_and_names_the_change(capsys):
    from benchmarks import monitor_alarms

    assert monitor_alarms.main(["--periods", "3", "--leads", "600"]) == 0
    out = capsys.readouterr().out
    assert "stable periods: 3 of about 600 leads each" in out
    assert "periods with an act alert (false alarms): 0 (0%)" in out
    after = next(line for line in out.splitlines() if line.startswith("| 2025-07 |"))
    assert "band_shift (lead_source)" in after and "unseen_categories (lead_source)" in after
    before = next(line for line in out.splitlines() if line.startswith("| 2025-06 |"))
    assert before.split("|")[3].strip() == "0"  # no act alert the month before


def test_bank_calls_get_their_year_from_the_row_order(shared_data):
    import pandas as pd
    from benchmarks import backtest

    frame = backtest.bank_with_dates(shared_data)
    months = frame["call_month"]
    assert months.iloc[0] == pd.Timestamp("2008-05-01")
    assert months.iloc[-1] == pd.Timestamp("2010-11-01")
    assert months.is_monotonic_increasing
    assert (months.dt.strftime("%b").str.lower() == frame["month"]).all()
