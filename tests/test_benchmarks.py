"""The benchmark scripts are code too: their formatting and small runs are tested."""

from benchmarks import activity_aggregation, real_data


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
