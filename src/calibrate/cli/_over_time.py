"""``calibrate monitor`` and ``calibrate backtest``: the sheet over time."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..errors import CalibrateError
from . import (
    _SOURCE_HELP,
    _as_of,
    _fail,
    _half_life,
    _key,
    _out,
    _parse_pairs,
    _progress,
    _sources,
    app,
)
from . import _options as opt


@app.command()
def monitor(
    config: Annotated[
        Path, typer.Argument(help="scoring_config.json of the sheet in production.")
    ],
    data: Annotated[
        str, typer.Argument(help=f"Leads scored now (new, or recently closed): {_SOURCE_HELP}.")
    ],
    out: Annotated[Path, typer.Option(help="Folder for monitor.json and monitor.html.")],
    table: opt.Table = None,
    query: opt.Query = None,
    activities: opt.ConfigActivities = None,
    activities_table: opt.ActivitiesTable = None,
    activities_query: opt.ActivitiesQuery = None,
    password_env: opt.PasswordEnv = None,
    decided_at: Annotated[
        str | None,
        typer.Option(help="Decision time column of the leads (default: the config's)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(help="Score behaviour as of this moment (e.g. 2026-01-31 or 'now')."),
    ] = None,
    outcome: Annotated[
        str | None,
        typer.Option(help="Outcome column of closed leads: AUC, calibration, band effects."),
    ] = None,
    positive: opt.Positive = None,
    date: Annotated[
        str | None, typer.Option(help="Date column: MQLs a week, and periods with --every.")
    ] = None,
    every: Annotated[
        str | None, typer.Option(help="Measure per period too: week, month or quarter.")
    ] = None,
    sep: opt.Sep = None,
    encoding: opt.Encoding = "utf-8-sig",
    quiet: opt.Quiet = False,
    verify_key_env: opt.VerifyKeyEnv = None,
):
    """Watch a sheet in production: write monitor.json and monitor.html, with alerts."""
    from ..monitoring import monitor as run_monitor
    from ..production.config import ScoringConfig

    try:
        if out.exists() and not out.is_dir():
            raise CalibrateError(f"cannot write to {out}: it is a file, not a folder")
        cfg = ScoringConfig.load(config, key=_key(verify_key_env))
        if decided_at is not None and cfg.activities:
            import dataclasses

            rule = {**cfg.activities.get("decision_time", {}), "column": decided_at}
            cfg = dataclasses.replace(cfg, activities={**cfg.activities, "decision_time": rule})
        data, activities = _sources(
            data, table, query, activities, activities_table, activities_query, password_env
        )
        with _progress(quiet) as step:
            step("monitor")
            result = run_monitor(
                cfg,
                data,
                activities=activities,
                as_of=_as_of(as_of),
                outcome=outcome,
                positive=positive,
                date=date,
                every=every,
                sep=sep,
                encoding=encoding,
            )
            step("write")
            paths = result.save(out)
    except (CalibrateError, OSError) as exc:
        _fail(exc)
    if quiet:
        return
    acts = [a for a in result.alerts if a["level"] == "act"]
    watches = [a for a in result.alerts if a["level"] == "watch"]
    verdict = "recalibrate" if result.recalibrate else "keep the sheet"
    _out.print(
        escape(
            f"{result.overall['n_leads']:,} leads: {len(acts)} alert(s) to act on, "
            f"{len(watches)} to watch; {verdict}."
        )
    )
    for reason in result.reasons:
        _out.print(escape(f"  act: {reason}"))
    for note in result.notes:
        _out.print(escape(f"note: {note}"))
    for path in paths.values():
        _out.print(escape(f"wrote {path}"))


@app.command()
def backtest(
    data: opt.Data,
    outcome: opt.Outcome,
    date: Annotated[str, typer.Option(help="Date column: orders the leads, cuts the periods.")],
    out: Annotated[Path, typer.Option(help="Folder for backtest.json and backtest.html.")],
    positive: opt.Positive = None,
    id: opt.LeadId = None,
    exclude: opt.Exclude = [],  # noqa: B006 - typer reads the default, it is never mutated
    type: opt.KindOverride = [],  # noqa: B006
    table: opt.Table = None,
    query: opt.Query = None,
    password_env: opt.PasswordEnv = None,
    every: Annotated[str, typer.Option(help="Periods: month or quarter.")] = "quarter",
    window: Annotated[
        int, typer.Option(help="Months of history the recent-window strategy refits on.")
    ] = 12,
    recency_half_life: opt.RecencyHalfLife = "auto",
    min_train: Annotated[
        int, typer.Option(help="Leads of history needed before a period is scored.")
    ] = 1000,
    seed: opt.Seed = 0,
    max_bins: opt.MaxBins = 10,
    sep: opt.Sep = None,
    encoding: opt.Encoding = "utf-8-sig",
    quiet: opt.Quiet = False,
):
    """Replay a history period by period: how fast the sheet goes stale, how often to refit."""
    from ..backtesting import backtest as run_backtest

    try:
        if out.exists() and not out.is_dir():
            raise CalibrateError(f"cannot write to {out}: it is a file, not a folder")
        data, _ = _sources(data, table, query, None, None, None, password_env)
        options = {
            "id": id,
            "exclude": list(exclude),
            "positive": positive,
            "types": _parse_pairs(type, "--type", "COLUMN=KIND (e.g. TrafficType=categorical)"),
            "seed": seed,
            "max_bins": max_bins,
            "sep": sep,
            "encoding": encoding,
        }
        with _progress(quiet) as step:
            result = run_backtest(
                data,
                outcome=outcome,
                date=date,
                every=every,
                window=window,
                recency_half_life=_half_life(recency_half_life),
                min_train=min_train,
                progress=step,
                **options,
            )
            step("write")
            paths = result.save(out)
    except (CalibrateError, OSError) as exc:
        _fail(exc)
    if quiet:
        return
    _out.print(escape(result.recommendation["text"]))
    for path in paths.values():
        _out.print(escape(f"wrote {path}"))
