"""Command line: ``calibrate fit``, ``calibrate score``, ``calibrate report``...

The CLI only parses options, calls the public API and prints. Every
:class:`~calibrate.errors.CalibrateError` becomes one line on standard error
and exit code 1, with nothing written.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Annotated

import typer
import typer.core
from rich.console import Console
from rich.markup import escape

from .. import __version__
from ..errors import CalibrateError, DataError, ParameterError
from . import _options as opt


class _Commands(typer.core.TyperGroup):
    """The commands; Ctrl-C says whether anything was written (files are all or none)."""

    def invoke(self, ctx):
        from ..io.files import written

        before = len(written())
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            _interrupted(written()[before:])
            raise typer.Exit(130) from None


app = typer.Typer(
    name="calibrate",
    help="Learn lead-scoring points and an MQL threshold from won/lost history.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_Commands,
)
_err = Console(stderr=True, highlight=False, soft_wrap=True)
_out = Console(highlight=False, soft_wrap=True)


def _version(value: bool):
    if value:
        _out.print(f"calibrate {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
):
    """Learn lead-scoring points and an MQL threshold from won/lost history."""


def _fail(exc: Exception):
    # Escape: column names and values like 'price[usd]' are not rich markup.
    _err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
    raise typer.Exit(1)


def _parse_pairs(specs: list[str], option: str, form: str) -> dict[str, str]:
    pairs = {}
    for spec in specs:
        key, sep, value = spec.rpartition("=")
        if not sep or not key or not value:
            raise CalibrateError(f"{option} takes {form}, got {spec!r}")
        pairs[key] = value
    return pairs


_SOURCE_HELP = opt.SOURCE_HELP


def _key(variable: str | None) -> bytes | None:
    from ..production.config import key_from_env

    return None if variable is None else key_from_env(variable)


def _sources(data, table, query, activities, activities_table, activities_query, password_env):
    from ..io.sources import from_arguments

    return from_arguments(
        data,
        table=table,
        query=query,
        activities=activities,
        activities_table=activities_table,
        activities_query=activities_query,
        password_env=password_env,
    )


def _read_leads(leads, table, query, activities, activities_table, activities_query,
                password_env):  # fmt: skip
    """``--leads`` (and their activity log) read as frames; ``(None, None)`` without them."""
    if leads is None:
        if table is not None or query is not None:
            raise DataError("--table and --query name where the --leads are: give --leads")
        return None, None
    from ..io.tables import read_table

    leads, activities = _sources(
        leads, table, query, activities, activities_table, activities_query, password_env
    )
    frame = read_table(leads, copy=False)
    log = None if activities is None else read_table(activities, allow_empty=True, copy=False)
    return frame, log


@app.command()
def fit(
    data: opt.Data,
    outcome: opt.Outcome,
    out: opt.Out,
    positive: opt.Positive = None,
    id: opt.LeadId = None,
    exclude: opt.Exclude = [],  # noqa: B006 - typer reads the default, it is never mutated
    date: opt.Date = None,
    table: opt.Table = None,
    query: opt.Query = None,
    activities: opt.Activities = None,
    activities_table: opt.ActivitiesTable = None,
    activities_query: opt.ActivitiesQuery = None,
    password_env: opt.PasswordEnv = None,
    spark_master: opt.SparkMaster = None,
    decided_at: opt.DecidedAt = None,
    activity_id_col: opt.ActivityIdCol = "lead_id",
    activity_type_col: opt.ActivityTypeCol = "activity_type",
    activity_time_col: opt.ActivityTimeCol = "occurred_at",
    activity_detail_col: opt.ActivityDetailCol = None,
    detail_rule: opt.DetailRule = [],  # noqa: B006
    combo: opt.Combo = [],  # noqa: B006
    family: opt.Family = [],  # noqa: B006
    no_decay: opt.NoDecay = False,
    extra_feature: opt.ExtraFeature = [],  # noqa: B006
    holdout: opt.Holdout = 0.3,
    seed: opt.Seed = 0,
    sep: opt.Sep = None,
    type: opt.KindOverride = [],  # noqa: B006
    implicit: opt.Implicit = [],  # noqa: B006
    explicit: opt.Explicit = [],  # noqa: B006
    win_value: opt.WinValue = 5000.0,
    cost_per_lead: opt.CostPerLead = 250.0,
    policy: opt.Policy = "expected_value",
    capacity_per_week: opt.CapacityPerWeek = None,
    reps: opt.Reps = None,
    follow_ups_per_rep_per_day: opt.FollowUpsPerRepPerDay = None,
    incoming_per_week: opt.IncomingPerWeek = None,
    sla_hours: opt.SlaHours = None,
    target_precision: opt.TargetPrecision = None,
    target_recall: opt.TargetRecall = None,
    levels: opt.Levels = None,
    fast_track: opt.FastTrack = [],  # noqa: B006
    monotone: opt.Monotone = [],  # noqa: B006
    order: opt.Order = [],  # noqa: B006
    current_sheet: opt.CurrentSheet = None,
    bootstrap: opt.Bootstrap = 100,
    max_bins: opt.MaxBins = 10,
    choose_bins: opt.ChooseBins = True,
    max_pairs: opt.MaxPairs = 8,
    recency_half_life: opt.RecencyHalfLife = None,
    keep_structure: opt.KeepStructure = None,
    keep_threshold: opt.KeepThreshold = False,
    encoding: opt.Encoding = "utf-8-sig",
    pdf: opt.Pdf = False,
    quiet: opt.Quiet = False,
    sign_key_env: opt.SignKeyEnv = None,
):
    """Learn a points sheet and an MQL threshold; write config, metrics and report."""
    from ..pipeline import fit_with
    from ..settings import ModelSettings

    try:
        sign_key = _key(sign_key_env)
        if out.exists() and not out.is_dir():
            raise CalibrateError(f"cannot write to {out}: it is a file, not a folder")
        data, activities = _sources(
            data, table, query, activities, activities_table, activities_query, password_env
        )
        _spark_master(spark_master, data, activities)
        columns = _lead_columns(
            outcome, positive, id, exclude, date, decided_at, type, implicit, explicit, sep,
            encoding,
        )  # fmt: skip
        activity = _activity_settings(
            (activity_id_col, activity_type_col, activity_time_col, activity_detail_col),
            detail_rule,
            combo,
            family,
            no_decay,
            extra_feature,
        )
        choose = _policy_settings(
            policy,
            (win_value, cost_per_lead),
            (capacity_per_week, reps, follow_ups_per_rep_per_day, sla_hours, incoming_per_week),
            (target_precision, target_recall),
            levels,
            fast_track,
        )
        model = ModelSettings(
            holdout=holdout,
            seed=seed,
            monotone=_monotone_rules(monotone, order),
            bootstrap=bootstrap,
            max_bins=max_bins,
            choose_bins=choose_bins,
            max_pairs=max_pairs,
            recency_half_life=_half_life(recency_half_life),
        )
        with _progress(quiet) as step:
            result = fit_with(
                data,
                columns,
                activities=activities,
                activity=activity,
                policy=choose,
                model=model,
                current_sheet=current_sheet,
                progress=step,
                previous=_previous(keep_structure, keep_threshold),
            )
            step("write")
            paths = result.save(out, sign_key=sign_key, pdf=pdf)
    except (CalibrateError, OSError) as exc:
        _fail(exc)
    _print_fit(result, policy, paths, quiet)


def _spark_master(master, *sources) -> None:
    """Start the Spark session of ``spark:`` sources on ``master`` (refused without one)."""
    if master is None:
        return
    if not any(getattr(s, "kind", None) == "spark" for s in sources):
        raise DataError("--spark-master is for spark: sources; no source is one")
    from ..io.engines import spark_session

    spark_session(master)


def _lead_columns(
    outcome, positive, id, exclude, date, decided_at, types, implicit, explicit, sep, encoding
):
    """``calibrate fit``'s options on reading the lead table, as :class:`LeadColumns`."""
    from ..settings import LeadColumns

    return LeadColumns(
        outcome,
        positive=positive,
        id=id,
        exclude=exclude,
        date=date,
        decided_at=decided_at,
        types=_parse_pairs(types, "--type", "COLUMN=KIND (e.g. TrafficType=categorical)"),
        implicit=implicit,
        explicit=explicit,
        sep=sep,
        encoding=encoding,
    )


def _activity_settings(columns, detail_rule, combo, family, no_decay, extra_feature):
    """``calibrate fit``'s options on the activity log, as :class:`ActivitySettings`."""
    from ..settings import ActivitySettings

    return ActivitySettings(
        columns=dict(
            zip(("lead_id", "activity_type", "occurred_at", "detail"), columns, strict=True)
        ),
        detail_rules=detail_rule,
        combos=combo,
        families=_parse_pairs(family, "--family", "TYPE=FAMILY"),
        learn_decay=not no_decay,
        extra_features=extra_feature,
    )


def _policy_settings(policy, values, capacity, target, levels, fast_track):
    """``calibrate fit``'s options on the threshold, as :class:`PolicySettings`.

    ``values`` is (win value, cost per lead), ``capacity`` the five sales
    capacity options, ``target`` (precision, recall).
    """
    from ..settings import PolicySettings

    goals = dict(zip(("precision", "recall"), target, strict=True))
    return PolicySettings(
        policy=policy,
        win_value=values[0],
        cost_per_lead=values[1],
        capacity=_capacity(*capacity),
        target={k: v for k, v in goals.items() if v is not None},
        levels=levels,
        fast_track=fast_track or None,
    )


def _print_fit(result, policy: str, paths: dict, quiet: bool) -> None:
    """What ``calibrate fit`` found: the quality, the threshold, rules and warnings."""
    if quiet:
        _print_warnings(result.warnings)
        return
    m = result.metrics
    _out.print(
        f"Hold-out AUC {m['holdout_auc_points']:.3f} with integer points "
        f"({m['holdout_auc_model']:.3f} unrounded), "
        f"{m['n_holdout']:,} {m['split']} hold-out leads."
    )
    pairs = result.scorecard.model_.describe_pairs()
    if pairs:
        _out.print(escape(pairs))
    if m["signal"] != "usable":
        _out.print("No MQL threshold recommended: the sheet ranks leads no better than chance.")
    else:
        _out.print(
            f"MQL threshold {m['threshold']} ({policy.replace('_', ' ')}): passes "
            f"{m['share_passed']:.1%} of leads, captures {m['share_wins_captured']:.1%} of wins."
        )
    if not result.threshold.met and m["signal"] == "usable":
        _err.print(
            f"[yellow]warning:[/] the {escape(policy)} goal cannot be met on this history; "
            "the closest threshold is given"
        )
    for rule in result.config.threshold.get("fast_track", []):
        what = rule.get("activity_type") or rule.get("column")
        evidence = rule["evidence"]
        _out.print(
            escape(
                f"fast-track {what!r}: {evidence['leads']:,} leads won {evidence['win_rate']:.1%} "
                f"(leads at the threshold: {evidence['reference_rate']:.1%})"
            )
        )
    if result.comparison is not None:
        now, new = result.comparison["current"], result.comparison["calibrated_at_same_volume"]
        _out.print(
            f"Sheet in use today: hold-out AUC {now['auc']:.3f}, captures "
            f"{now['share_wins_captured']:.1%} of wins passing {now['share_passed']:.1%} of "
            f"leads; calibrated, passing as many: {new['share_wins_captured']:.1%} of wins."
        )
    for column, reason in result.leads.excluded.items():
        _out.print(escape(f"left out {column!r}: {reason}"))
    _print_warnings(result.warnings)
    for path in paths.values():
        _out.print(escape(f"wrote {path}"))


def _print_warnings(warnings) -> None:
    for warning in warnings:
        _err.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)


@app.command()
def report(
    config: Annotated[
        Path, typer.Argument(help="scoring_config.json written by 'calibrate fit'.")
    ],
    data: Annotated[
        str, typer.Argument(help=f"Labelled leads with their outcome: {_SOURCE_HELP}.")
    ],
    outcome: Annotated[
        str | None,
        typer.Option(
            help="Outcome column (won/lost); by default the one the config was fitted on."
        ),
    ] = None,
    positive: Annotated[
        str | None, typer.Option(help="Outcome value meaning won, when not evident.")
    ] = None,
    table: opt.Table = None,
    query: opt.Query = None,
    activities: opt.ConfigActivities = None,
    activities_table: opt.ActivitiesTable = None,
    activities_query: opt.ActivitiesQuery = None,
    password_env: opt.PasswordEnv = None,
    current_sheet: Annotated[
        Path | None,
        typer.Option(help="The points sheet in use today (YAML or CSV), to compare with."),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            help="Date column for the period and MQLs a week (default: the config's date or "
            "decision column, when the leads have it)."
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Folder for report.html (and report.pdf with --pdf).")
    ] = Path("."),
    sep: Annotated[str | None, typer.Option(help="CSV separator (sniffed by default).")] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of a CSV file.")] = "utf-8-sig",
    pdf: Annotated[
        bool,
        typer.Option(
            "--pdf", help="Also write report.pdf, the report for printing (takes a few seconds)."
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
):
    """Review a scoring config on labelled leads: write report.html (and report.pdf)."""
    from ..report import evaluation_report

    try:
        if out.exists() and not out.is_dir():
            raise CalibrateError(f"cannot write to {out}: it is a file, not a folder")
        data, activities = _sources(
            data, table, query, activities, activities_table, activities_query, password_env
        )
        with _progress(quiet) as step:
            result = evaluation_report(
                config,
                data,
                outcome=outcome,
                positive=positive,
                activities=activities,
                current_sheet=current_sheet,
                date=date,
                sep=sep,
                encoding=encoding,
                progress=step,
            )
            step("render")
            paths = result.save(out, pdf=pdf)
    except (CalibrateError, OSError) as exc:
        _fail(exc)
    _print_warnings(result.summary["warnings"])
    if quiet:
        return
    rec = result.summary["recommendation"]
    auc = dict(result.summary["metrics"])["AUC of the score on these leads"]
    _out.print(
        f"On {rec['leads']} leads: AUC {auc}; MQL threshold {rec['threshold']} passes "
        f"{rec['share_passed']} of leads and captures {rec['share_wins_captured']} of wins."
    )
    for path in paths.values():
        _out.print(escape(f"wrote {path}"))


@app.command()
def score(
    config: Annotated[
        Path, typer.Argument(help="scoring_config.json written by 'calibrate fit'.")
    ],
    data: Annotated[str, typer.Argument(help=f"Leads to score: {_SOURCE_HELP}.")],
    out: Annotated[Path, typer.Option(help="Output file: .csv or .parquet.")],
    sep: Annotated[str | None, typer.Option(help="CSV separator (sniffed by default).")] = None,
    breakdown: Annotated[
        bool, typer.Option("--breakdown", help="Add every criterion's points.")
    ] = False,
    reasons: opt.Reasons = 0,
    encoding: Annotated[str, typer.Option(help="Text encoding of a CSV file.")] = "utf-8-sig",
    table: opt.Table = None,
    query: opt.Query = None,
    activities: opt.ConfigActivities = None,
    activities_table: opt.ActivitiesTable = None,
    activities_query: opt.ActivitiesQuery = None,
    password_env: opt.PasswordEnv = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Score behaviour as of this moment (e.g. 2026-01-31 or 'now'); by default "
            "each lead's decision time."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
    verify_key_env: opt.VerifyKeyEnv = None,
):
    """Score leads with a scoring config alone: id, score (0-100) and mql per lead."""
    from ..io.files import write_files
    from ..production.config import ScoringConfig

    try:
        _check_output_file(out)
        data, activities = _sources(
            data, table, query, activities, activities_table, activities_query, password_env
        )
        cfg = ScoringConfig.load(config, key=_key(verify_key_env))
        scored = cfg.score(
            data,
            sep=sep,
            encoding=encoding,
            breakdown=breakdown,
            activities=activities,
            as_of=_as_of(as_of),
            reasons=reasons,
        )
        write_files({out: _table_bytes(scored, out)})
    except (CalibrateError, OSError) as exc:
        _fail(exc)
    _print_warnings(scored.attrs.get("warnings", []))
    if not quiet:
        _out.print(
            escape(
                f"scored {len(scored):,} leads, {int(scored['mql'].sum()):,} MQLs "
                f"(threshold {cfg.mql_threshold}); wrote {out}"
            )
        )


@app.command()
def validate(
    config: Annotated[Path, typer.Argument(help="A scoring config to check.")],
    verify_key_env: opt.VerifyKeyEnv = None,
):
    """Check a config against its JSON Schema, its checksum and its own consistency."""
    from ..production.config import ScoringConfig

    try:
        key = _key(verify_key_env)
        cfg = ScoringConfig.load(config, key=key)
    except CalibrateError as exc:
        _fail(exc)
    signed = ", signature verified" if key is not None else ""
    _out.print(
        escape(
            f"{config}: valid (schema {cfg.to_dict()['schema_version']}, "
            f"{len(cfg.criteria)} criteria, MQL at {cfg.mql_threshold}{signed})"
        )
    )


@app.command()
def rules(
    config: Annotated[Path, typer.Argument(help="A scoring config.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Write to .csv, .md or .html (default: CSV on standard output)."),
    ] = None,
):
    """The points sheet as rules (criterion, condition, points) for a marketing-automation tool."""
    from ..io.files import write_files
    from ..production.config import ScoringConfig
    from ..production.rules import RULE_FORMATS, render_rules, rule_sheet

    try:
        sheet = rule_sheet(ScoringConfig.load(config))
        suffix = out.suffix.lower() if out is not None else ".csv"
        # Values from the data are escaped: a category is text, never markup.
        text = render_rules(sheet, RULE_FORMATS.get(suffix, "csv"))
        if out is None:
            sys.stdout.write(text)
            return
        _check_output_file(out)
        write_files({out: text})
    except (CalibrateError, OSError) as exc:
        _fail(exc)
    _out.print(escape(f"wrote {len(sheet)} rules to {out}"))


@app.command("export-sql")
def export_sql(
    config: Annotated[Path, typer.Argument(help="A scoring config.")],
    leads_table: Annotated[
        str, typer.Option(help="The lead table, as the dialect writes it (schema.table).")
    ],
    dialect: Annotated[
        str, typer.Option(help="duckdb, postgres, spark, snowflake or bigquery.")
    ] = "duckdb",
    activities_table: Annotated[
        str | None, typer.Option(help="The activity log table (configs that score behaviour).")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(help="Score behaviour as of this time (UTC unless zoned), or 'now'."),
    ] = None,
    id_column: Annotated[
        str | None, typer.Option("--id", help="The lead id column, for a config without one.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the query here (default: stdout).")
    ] = None,
    reasons: opt.Reasons = 0,
    verify_key_env: opt.VerifyKeyEnv = None,
):
    """One SQL query that scores a lead table exactly as `calibrate score` does."""
    from ..io.files import write_files
    from ..production.config import ScoringConfig
    from ..production.sql_export import scoring_sql

    try:
        text = scoring_sql(
            ScoringConfig.load(config, key=_key(verify_key_env)),
            dialect=dialect.lower(),
            leads_table=leads_table,
            activities_table=activities_table,
            as_of=as_of,
            id_column=id_column,
            reasons=reasons,
        )
        if out is None:
            sys.stdout.write(text)
            return
        _check_output_file(out)
        write_files({out: text})
    except (CalibrateError, OSError) as exc:
        _fail(exc)
    _out.print(escape(f"wrote the {dialect} scoring query to {out}"))


@app.command("export")
def export_tool(
    config: Annotated[Path, typer.Argument(help="A scoring config.")],
    to: Annotated[str, typer.Option(help="The tool: hubspot or mautic.")],
    out: Annotated[
        Path,
        typer.Option(
            help="Write the tool's JSON body here; the set-up sheet (every rule's condition, "
            "what the tool cannot express) goes beside it as .md."
        ),
    ],
    leads: Annotated[
        str | None,
        typer.Option(
            help="Labelled leads to measure the tool's approximation on (the fit's own leads: "
            f"its hold-out): {_SOURCE_HELP}."
        ),
    ] = None,
    table: opt.Table = None,
    query: opt.Query = None,
    activities: Annotated[str | None, typer.Option(help="Activity log for the leads.")] = None,
    activities_table: opt.ActivitiesTable = None,
    activities_query: opt.ActivitiesQuery = None,
    password_env: opt.PasswordEnv = None,
    outcome: Annotated[
        str | None, typer.Option(help="Outcome column of --leads; by default the config's.")
    ] = None,
    name: Annotated[str, typer.Option(help="The score's name in the tool.")] = "calibrate",
    verify_key_env: opt.VerifyKeyEnv = None,
):
    """The sheet as a marketing-automation tool's API body (HubSpot, Mautic), with its gaps."""
    from ..io.files import write_files
    from ..production.config import ScoringConfig
    from ..production.tools import DISPLAY, export_config, measure_export

    try:
        loaded = ScoringConfig.load(config, key=_key(verify_key_env))
        exported = export_config(loaded, to.lower(), name=name)
        measured = None
        frame, log = _read_leads(
            leads, table, query, activities, activities_table, activities_query, password_env
        )
        if frame is not None:
            measured = measure_export(exported, loaded, frame, activities=log, outcome=outcome)
        _check_output_file(out)
        setup = out.with_suffix(".md")
        if setup == out:
            raise ParameterError(
                f"--out {out} would be overwritten by the set-up sheet: give the body a .json name"
            )
        write_files({out: exported.json, setup: exported.setup(measured)})
    except (CalibrateError, OSError) as exc:
        _fail(exc)
    sheet, tool = exported.sheet, DISPLAY[exported.tool]
    _out.print(
        escape(
            f"{len([r for r in sheet.rules if r.points])} {tool} rules; "
            f"{len(sheet.gaps)} things {tool} cannot express (see {setup})"
        )
    )
    if measured is not None:
        _out.print(
            escape(
                f"AUC on {measured['measured_on']}: {measured['auc_config']:.4f} with the "
                f"config, {measured['auc_tool']:.4f} as {tool} computes it"
            )
        )
    _out.print(escape(f"wrote {out} and {setup}"))


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The config in use.")],
    new: Annotated[Path, typer.Argument(help="The candidate config.")],
    leads: Annotated[
        str | None,
        typer.Option(help=f"Leads to score with both, how many change level: {_SOURCE_HELP}."),
    ] = None,
    table: opt.Table = None,
    query: opt.Query = None,
    activities: Annotated[str | None, typer.Option(help="Activity log for the leads.")] = None,
    activities_table: opt.ActivitiesTable = None,
    activities_query: opt.ActivitiesQuery = None,
    password_env: opt.PasswordEnv = None,
    as_of: Annotated[str | None, typer.Option(help="Score behaviour as of this moment.")] = None,
):
    """What changed between two configs: criteria, points, thresholds, and leads changing level."""
    from ..production.config import ScoringConfig
    from ..production.rules import diff_configs

    try:
        before, after = ScoringConfig.load(old), ScoringConfig.load(new)
        changes = diff_configs(before, after)
        moved = None
        # Read once for both configs: the same leads, one query (a table may
        # change between two).
        leads, activities = _read_leads(
            leads, table, query, activities, activities_table, activities_query, password_env
        )
        if leads is not None:
            kwargs = {"activities": activities, "as_of": _as_of(as_of)}
            a = before.score(leads, **kwargs)
            b = after.score(leads, **kwargs)
            moved = _level_moves(a, b)
            for which, scored in (("old", a), ("new", b)):
                for warning in scored.attrs.get("warnings", []):
                    _err.print(f"[yellow]warning:[/] {which}: {escape(warning)}", soft_wrap=True)
    except CalibrateError as exc:
        _fail(exc)
    for name in changes["added"]:
        _out.print(escape(f"+ criterion {name!r}"))
    for name in changes["removed"]:
        _out.print(escape(f"- criterion {name!r}"))
    for name, bands in changes["changed"].items():
        for label, was, now in bands:
            _out.print(escape(f"~ {name} / {label}: {was} -> {now} points"))
    for key in ("base_points", "threshold", "levels"):
        if key in changes:
            was, now = changes[key]
            _out.print(escape(f"~ {key.replace('_', ' ')}: {was} -> {now}"))
    if not any(changes[k] for k in ("added", "removed", "changed")) and len(changes) == 3:
        _out.print("no changes")
    if moved is not None:
        _out.print(
            f"{moved['changed_level']:,} of {moved['leads']:,} leads change level; "
            f"{moved['new_mql']:,} become MQLs, {moved['no_longer_mql']:,} stop being MQLs"
        )


def _level_moves(a, b) -> dict:
    level_a = a["level"] if "level" in a else a["mql"]
    level_b = b["level"] if "level" in b else b["mql"]
    return {
        "leads": len(a),
        "changed_level": int((level_a.astype(str) != level_b.astype(str)).sum()),
        "new_mql": int((~a["mql"] & b["mql"]).sum()),
        "no_longer_mql": int((a["mql"] & ~b["mql"]).sum()),
    }


@app.command("make-leads")
def make_leads_command(
    out: Annotated[Path, typer.Argument(help="Output file: .csv or .parquet.")],
    n: Annotated[int, typer.Option(help="Number of leads.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    activities: Annotated[
        Path | None,
        typer.Option(help="Also write an activity log here (.csv or .parquet)."),
    ] = None,
):
    """Write simulated B2B leads with known effects, to try calibrate on."""
    from ..datasets import make_leads
    from ..io.files import write_files

    try:
        _check_output_file(out)
        files = {}
        if activities is not None:
            _check_output_file(activities)
            leads, log = make_leads(n, seed=seed, activities=True)
            files[activities] = _table_bytes(log, activities)
        else:
            leads = make_leads(n, seed=seed)
        files[out] = _table_bytes(leads, out)
        write_files(files)
    except (CalibrateError, OSError) as exc:
        _fail(exc)
    _out.print(escape(f"wrote {len(leads):,} leads to {out}"))
    if activities is not None:
        _out.print(escape(f"wrote {len(log):,} activities to {activities}"))


def _monotone_rules(monotone: list[str], order: list[str]) -> dict:
    """``--monotone COL=DIRECTION`` and ``--order COL=L1,L2`` as one mapping."""
    rules = _parse_pairs(monotone, "--monotone", "COLUMN=increasing|decreasing|auto|none")
    for column, ordered in _parse_pairs(order, "--order", "COLUMN=LEVEL,LEVEL").items():
        rules[column] = [level.strip() for level in ordered.split(",")]
    return rules


def _capacity(per_week, reps, per_rep_per_day, sla_hours, incoming) -> dict:
    values = {
        "leads_per_week": per_week,
        "reps": reps,
        "follow_ups_per_rep_per_day": per_rep_per_day,
        "sla_hours": sla_hours,
        "incoming_per_week": incoming,
    }
    return {k: v for k, v in values.items() if v is not None}


def _previous(keep_structure, keep_threshold):
    """``--keep-structure`` and ``--keep-threshold`` as a PreviousSheet, or None."""
    from ..settings import PreviousSheet

    if keep_structure is None:
        if keep_threshold:
            raise CalibrateError("--keep-threshold needs the previous sheet: --keep-structure OLD")
        return None
    return PreviousSheet(keep_structure, structure=True, threshold=keep_threshold)


def _half_life(text: str | None):
    """``--recency-half-life``: None, "auto" or days (checked by ModelSettings)."""
    if text is None or text.strip().lower() == "auto":
        return None if text is None else "auto"
    try:
        return float(text)
    except ValueError:
        raise CalibrateError(
            f"--recency-half-life takes a number of days or 'auto', got {text!r}"
        ) from None


def _as_of(text: str | None):
    if text is None or text.lower() == "now":
        return text
    import pandas as pd

    try:
        return pd.Timestamp(text)
    except ValueError:
        raise CalibrateError(
            f"--as-of takes a date or timestamp (or 'now'), got {text!r}"
        ) from None


def _check_output_file(path: Path):
    if path.is_dir():
        raise CalibrateError(f"cannot write to {path}: it is a folder, not a file")


def _table_bytes(frame, path: Path) -> bytes:
    buffer = io.BytesIO()
    if path.suffix.lower() in {".parquet", ".pq"}:
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    booleans = frame.select_dtypes(include="bool").columns
    text = frame.assign(**{c: frame[c].map({True: "true", False: "false"}) for c in booleans})
    text.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


class _progress:
    """Show the current step on standard error; silent when quiet or not a terminal."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.status = None

    def __enter__(self):
        if not self.quiet and _err.is_terminal:
            self.status = _err.status("reading leads")
            self.status.start()
        return self.step

    def step(self, name: str):
        from ..io.engines import ProgressLine

        if isinstance(name, ProgressLine):
            # A line of long work in a database or Spark: kept, as a log line.
            if not self.quiet:
                _err.print(escape(name), style="dim", highlight=False)
            return
        if self.status is not None:
            self.status.update(_STEP_TEXT.get(name, name))

    def __exit__(self, *exc):
        if self.status is not None:
            self.status.stop()
        return False


_STEP_TEXT = {
    "read": "reading and checking leads",
    "split": "holding out leads for evaluation",
    "activities": "aggregating the activity log and learning decay",
    "fit": "fitting the model (cross-validating the penalty)",
    "points": "scaling weights into integer points",
    "threshold": "choosing the MQL threshold",
    "export": "building the scoring config",
    "write": "writing the config, the metrics and the report",
    "score": "scoring the leads with the config",
    "measure": "measuring what the report shows",
    "render": "drawing the figures and writing the report",
}


def main():
    """Entry point of the ``calibrate`` command."""
    try:
        app()
    except KeyboardInterrupt:
        # Before or after a command ran (an interrupt in one is handled by _Commands).
        _err.print("interrupted; nothing written")
        sys.exit(130)


def _interrupted(done: list) -> None:
    """Say whether anything was written: output files are written all or none."""
    if done:
        _err.print(escape(f"interrupted after writing {', '.join(map(str, done))}"))
    else:
        _err.print("interrupted; nothing written")


# The commands on the sheet over time (they use the helpers above).
from . import _over_time  # noqa: E402, F401
