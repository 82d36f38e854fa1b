"""The options of ``calibrate fit``, one type alias each (typer reads the help from here)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

#: What a lead table can be, for every command that reads one.
SOURCE_HELP = (
    "a CSV or Parquet file, a glob or folder of them, a DuckDB file (with --table or "
    "--query), a database URL such as postgresql://user@host/db (with --table or --query) "
    "or a Spark table or path, spark:db.leads"
)

Data = Annotated[str, typer.Argument(help=f"Past leads, one row per lead: {SOURCE_HELP}.")]
Outcome = Annotated[str, typer.Option(help="Outcome column (won/lost).")]
Out = Annotated[
    Path,
    typer.Option(
        help="Folder for scoring_config.json, metrics.json and report.html (and "
        "report.pdf with --pdf)."
    ),
]
Positive = Annotated[str | None, typer.Option(help="Outcome value meaning won, when not evident.")]
LeadId = Annotated[str | None, typer.Option("--id", help="Lead id column (unique).")]
Exclude = Annotated[
    list[str],
    typer.Option(help="Column not to use; 'COL:reason' records why. Repeatable."),
]
Date = Annotated[str | None, typer.Option(help="Decision date column: hold out the latest leads.")]
Activities = Annotated[
    str | None,
    typer.Option(
        help="Activity log, one row per activity: CSV or Parquet files, a DuckDB file, a "
        "database URL (a PostgreSQL log is aggregated inside PostgreSQL) or spark:TABLE or "
        "spark:PATH (aggregated inside Spark)."
    ),
]
DecidedAt = Annotated[
    str | None,
    typer.Option(
        "--decided-at",
        help="When the hand-off decision was made: COLUMN or 'COLUMN - N days'. "
        "Only earlier activity counts.",
    ),
]
ActivityIdCol = Annotated[str, typer.Option(help="Lead id column of the log.")]
ActivityTypeCol = Annotated[str, typer.Option(help="Activity type column of the log.")]
ActivityTimeCol = Annotated[str, typer.Option(help="Timestamp column of the log.")]
ActivityDetailCol = Annotated[
    str | None, typer.Option(help="Detail column of the log (URL, asset, campaign).")
]
DetailRule = Annotated[
    list[str],
    typer.Option(
        help="Re-type activities by detail: [TYPE:]PATTERN=NEW_TYPE, e.g. "
        "'page_view:/pricing*=pricing_page_view'. Repeatable."
    ),
]
Combo = Annotated[
    list[str],
    typer.Option(help="Activity types done together, e.g. 'whitepaper_download+case_study_view'."),
]
Family = Annotated[
    list[str], typer.Option(help="Put an activity type in a decay family: TYPE=FAMILY.")
]
NoDecay = Annotated[
    bool, typer.Option("--no-decay", help="Do not learn decay: behaviour never fades.")
]
ExtraFeature = Annotated[
    list[str],
    typer.Option(
        help="Optional behaviour feature to add: distinct_weeks (active in N different "
        "weeks of the last 90 days). Repeatable."
    ),
]
Holdout = Annotated[float, typer.Option(help="Share of leads held out.")]
Seed = Annotated[int, typer.Option(help="Seed of the split and folds.")]
Sep = Annotated[str | None, typer.Option(help="CSV separator (sniffed by default).")]
KindOverride = Annotated[
    list[str],
    typer.Option("--type", help="Override a column's kind: COL=numeric|categorical|boolean."),
]
Implicit = Annotated[list[str], typer.Option(help="Column to label behaviour.")]
Explicit = Annotated[list[str], typer.Option(help="Column to label fit.")]
WinValue = Annotated[float, typer.Option(help="Value of a won lead.")]
CostPerLead = Annotated[float, typer.Option(help="Cost of one sales follow-up.")]
Policy = Annotated[
    str,
    typer.Option(help="Policy setting the MQL threshold: expected_value, sales_capacity, target."),
]
CapacityPerWeek = Annotated[
    float | None, typer.Option(help="Sales capacity: leads sales can follow up per week.")
]
Reps = Annotated[float | None, typer.Option(help="Sales capacity: number of reps.")]
FollowUpsPerRepPerDay = Annotated[
    float | None, typer.Option(help="Sales capacity: follow-ups one rep makes a day.")
]
IncomingPerWeek = Annotated[
    float | None,
    typer.Option(help="Sales capacity: new leads a week, when the history has no dates."),
]
SlaHours = Annotated[
    float | None,
    typer.Option(help="Sales capacity: follow-up SLA in hours (busy weeks count)."),
]
TargetPrecision = Annotated[
    float | None, typer.Option(help="Target: win rate among MQLs to reach (0-1).")
]
TargetRecall = Annotated[
    float | None, typer.Option(help="Target: share of wins to pass to sales (0-1).")
]
Levels = Annotated[
    str | None,
    typer.Option(help="Score levels, e.g. 'A=80,B=60,C=40' (default hot/warm/nurture)."),
]
FastTrack = Annotated[
    list[str],
    typer.Option(
        help="Hand-raiser signal to test for fast-tracking (activity type or boolean "
        "column). Repeatable."
    ),
]
Monotone = Annotated[
    list[str],
    typer.Option(
        help="Points follow a criterion's order: COL=increasing|decreasing|auto|none. "
        "Behaviour counts are auto by default. Repeatable."
    ),
]
Order = Annotated[
    list[str],
    typer.Option(
        help="Order a categorical criterion's levels, lowest first, and keep its points "
        "increasing: COL=Student,Staff,Manager. Repeatable."
    ),
]
CurrentSheet = Annotated[
    Path | None,
    typer.Option(help="The points sheet in use today (YAML or CSV), to compare with."),
]
Bootstrap = Annotated[
    int, typer.Option(help="Bootstrap refits for each band's points interval (0: none).")
]
MaxBins = Annotated[int, typer.Option(help="Most ranges per numeric criterion.")]
ChooseBins = Annotated[
    bool,
    typer.Option(
        "--choose-bins/--fixed-bins",
        help="Choose each numeric criterion's number of ranges (up to --max-bins) by "
        "cross-validation, or cut each into --max-bins ranges.",
    ),
]
MaxPairs = Annotated[
    int,
    typer.Option(
        min=0,
        help="Most pair rules (an AND of two criteria, e.g. 'seniority in VP|C-level and "
        "company_size >= 500'), each kept only when it lowers the cross-validated log loss; "
        "0 adds none.",
    ),
]
ConfigActivities = Annotated[
    str | None, typer.Option(help="Activity log, when the config scores behaviour.")
]
KeepStructure = Annotated[
    Path | None,
    typer.Option(
        help="A previous scoring_config.json: refit only its points, on its criteria and bands.",
        metavar="OLD_CONFIG",
    ),
]
KeepThreshold = Annotated[
    bool,
    typer.Option(
        "--keep-threshold",
        help="With --keep-structure: keep its MQL threshold, passing the same share of leads.",
    ),
]
RecencyHalfLife = Annotated[
    str | None,
    typer.Option(
        help="Weigh recent leads more: half as much every DAYS before the latest, or 'auto' "
        "(chosen on the latest training leads); needs --date or --decided-at.",
        metavar="DAYS|auto",
    ),
]
Encoding = Annotated[str, typer.Option(help="Text encoding of a CSV file.")]
Pdf = Annotated[
    bool,
    typer.Option(
        "--pdf", help="Also write report.pdf, the report for printing (takes a few seconds)."
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")]
SignKeyEnv = Annotated[
    str | None,
    typer.Option(
        help="Environment variable holding a secret key: sign the config with it "
        "(HMAC-SHA256), so that scorers given the key refuse any other config."
    ),
]

#: Options every command that reads data shares.
Table = Annotated[
    str | None,
    typer.Option(help="Table of the DuckDB file or database DATA (schema.table)."),
]
Query = Annotated[
    str | None, typer.Option(help="SQL query reading the leads from the DuckDB file or database.")
]
ActivitiesTable = Annotated[
    str | None,
    typer.Option(
        help="Table of the activity log in the DuckDB file or database (--activities, or DATA)."
    ),
]
ActivitiesQuery = Annotated[
    str | None,
    typer.Option(help="SQL query reading the activity log (from --activities, or DATA)."),
]
SparkMaster = Annotated[
    str | None,
    typer.Option(
        help="Spark master for spark: sources (local[4], spark://host:7077, yarn); by default "
        "the active session's, or Spark's own configuration (spark-submit, "
        "spark-defaults.conf)."
    ),
]
PasswordEnv = Annotated[
    str | None,
    typer.Option(
        help="Environment variable holding the database password (libpq's PGPASSWORD, "
        "PGUSER... also work)."
    ),
]
VerifyKeyEnv = Annotated[
    str | None,
    typer.Option(
        help="Environment variable holding the signing key: refuse the config unless it is "
        "signed with it (see fit --sign-key-env)."
    ),
]
Reasons = Annotated[
    int,
    typer.Option(
        min=0,
        help="Add reason_1 .. reason_N: each lead's N largest contributions in words "
        "(e.g. 'seniority VP +22'), larger absolute points first, ties in config order.",
    ),
]
