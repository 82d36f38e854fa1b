"""Native exports for marketing-automation tools: HubSpot and Mautic.

:func:`export_config` translates a config into a tool's terms
(:func:`~.approximate.tool_sheet`), writes the body the tool's API takes
(:func:`~.hubspot.hubspot_body`, :func:`~.mautic.mautic_body`), checks it
against the JSON Schema written from the tool's documentation, and keeps
what the tool cannot express with the approximation used.
:func:`measure_export` scores labelled leads both ways, with calibrate's
exact scorer, to say what the approximation costs: the hold-out AUC of the
sheet as the tool would compute it, beside the config's.

Calling the tool's API stays the user's step: the export writes the body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from ...errors import DataError, ParameterError
from ..config import ScoringConfig
from .approximate import TOOLS, Gap, ToolRule, ToolSheet, mautic_action, tool_sheet
from .hubspot import API_PATH, hubspot_body
from .mautic import mautic_body

__all__ = [
    "DISPLAY",
    "TOOLS",
    "Gap",
    "ToolExport",
    "ToolRule",
    "ToolSheet",
    "export_config",
    "measure_export",
    "mautic_action",
    "tool_schema",
    "tool_sheet",
]

_SCHEMAS = {
    "hubspot": "hubspot_lead_score_2026_09_beta.schema.json",
    "mautic": "mautic_points.schema.json",
}
_WRITERS = {"hubspot": hubspot_body, "mautic": mautic_body}
#: How each tool writes its name.
DISPLAY = {"hubspot": "HubSpot", "mautic": "Mautic"}
_STEPS = {
    "hubspot": [
        "1. POST the body to " + API_PATH + " (HubSpot Lead Scoring API, 2026-09 beta): it "
        "creates a draft score with its groups and points.",
        "2. In HubSpot's lead-scoring editor, give every rule its condition, group by group and "
        "rule by rule, as the table below says: the API's body holds the points, not the "
        "conditions.",
        "3. Publish the draft (POST .../scores/{scoreId}/draft/publish).",
    ],
    "mautic": [
        "1. POST each entry of pointActions to /api/points/new, then pick in Mautic the forms, "
        "pages, assets or emails each one counts (its properties are left empty to fill in), "
        "as its condition below says.",
        "2. POST each entry of pointTriggers to /api/points/triggers/new (the MQL threshold and "
        "each level tag the contact).",
        "3. POST each entry of segments to /api/segments/new, and give each segment a campaign "
        "with the action 'Adjust contact's points' of its campaignActions entry: that is how a "
        "fit band earns its points in Mautic.",
    ],
}
_CAVEATS = {
    "hubspot": [
        "",
        "HubSpot's own score decay settings are not in the documented 2026-09 body: each "
        "learned half-life is approximated by time windows instead (below), and that is what "
        "the cost measures. Leave HubSpot's decay off, or the score fades twice.",
    ],
    "mautic": [
        "",
        "Mautic never removes a tag when points fall (an unsubscribe's negative points do not "
        "untag an MQL), and a campaign does not take a fit band's points back when the contact's "
        "field changes later.",
    ],
}


@cache
def tool_schema(tool: str) -> dict:
    """The JSON Schema of a tool's body, written from the tool's API documentation."""
    if tool not in _SCHEMAS:
        raise ParameterError(f"tool must be one of {', '.join(TOOLS)}; got {tool!r}")
    text = resources.files("calibrate.production").joinpath("schema", _SCHEMAS[tool]).read_text()
    return json.loads(text)


@dataclass(frozen=True)
class ToolExport:
    """A config exported to a tool.

    Parameters
    ----------
    tool : str
        One of :data:`TOOLS`.
    body : dict
        What the tool's API takes (valid against :func:`tool_schema`).
    sheet : ToolSheet
        The rules behind the body, the gaps, and the sheet as the tool
        computes it.
    """

    tool: str
    body: dict
    sheet: ToolSheet

    @property
    def json(self) -> str:
        """The body as JSON text, keys in a stable order."""
        return json.dumps(self.body, indent=2, ensure_ascii=False) + "\n"

    def setup(self, measured: dict | None = None) -> str:
        """The set-up sheet in Markdown: where the body goes, every rule, every gap.

        Parameters
        ----------
        measured : dict, optional
            What :func:`measure_export` gave, for the cost of the gaps.
        """
        lines = [f"# {DISPLAY[self.tool]} set-up for the calibrate sheet", ""]
        lines += _STEPS[self.tool] + [""]
        sheet = self.sheet
        if sheet.folded_into is not None and sheet.folded:
            lines += [
                f"The tool has no starting points: the {sheet.folded:+d} points every lead gets "
                f"(the sheet's starting points, each activity criterion's lowest band) are in "
                f"every rule of {sheet.folded_into}, which every lead matches once. Its rules "
                "read lower or higher than the sheet's band points; every score is the same.",
                "",
            ]
        lines += ["## Rules, in the order of the body", ""]
        lines += [
            "| group | rule | category | condition | points | exact |",
            "|---|---|---|---|---|---|",
        ]
        within: dict[str, int] = {}
        for rule in (r for r in sheet.rules if r.points):
            within[rule.group] = within.get(rule.group, 0) + 1
            exact = "yes" if rule.exact else "approximate"
            lines.append(
                f"| {_cell(rule.group)} | {within[rule.group]} | {rule.category} | "
                f"{_cell(rule.condition)} | {rule.points:+d} | {exact} |"
            )
        config = self.sheet.config
        lines += ["", f"MQL: a score of {config.mql_threshold} or more."]
        for rule in config.threshold.get("fast_track", []):
            if rule["kind"] == "activity":
                what = f"{rule['activity_type']} in the last {rule['within_days']} days"
            else:
                what = f"{rule['column']} is {rule['equals']}"
            lines.append(f"Fast-track (MQL whatever the score, as a workflow): {_cell(what)}.")
        lines += _CAVEATS[self.tool]
        lines += ["", "## What the tool cannot express", ""]
        if not self.sheet.gaps:
            lines.append("Nothing: the tool scores every lead as the config does.")
        else:
            lines += ["| criterion | the config scores | the export uses |", "|---|---|---|"]
            lines += [
                f"| {_cell(g.criterion)} | {_cell(g.cannot)} | {_cell(g.instead)} |"
                for g in self.sheet.gaps
            ]
        if measured is not None:
            lines += ["", "## What the approximation costs", ""]
            lines.append(
                f"On {measured['measured_on']}: AUC {measured['auc_config']:.4f} with the "
                f"config's points, {measured['auc_tool']:.4f} as {DISPLAY[self.tool]} "
                f"would compute them ({measured['auc_tool'] - measured['auc_config']:+.4f})."
            )
        return "\n".join(lines) + "\n"


def export_config(config: ScoringConfig, tool: str, *, name: str = "calibrate") -> ToolExport:
    """A config as the body of a tool's API, with what the tool cannot express.

    Parameters
    ----------
    config : ScoringConfig
        The fitted config.
    tool : {"hubspot", "mautic"}
        The tool.
    name : str, default="calibrate"
        The score's name in HubSpot; the prefix of every name in Mautic.

    Returns
    -------
    ToolExport

    Raises
    ------
    ParameterError
        For an unknown tool.
    ConfigError
        If the body does not match the tool's schema (a defect in calibrate,
        never written out).

    Examples
    --------
    >>> from calibrate.sheet.criteria import Band, Criterion
    >>> title = Criterion("title", "title", "categorical", "explicit", bands=(
    ...     Band("VP", "levels", values=("VP",), points=30),
    ...     Band("Other", "other", points=0), Band("Missing", "missing", points=0)))
    >>> config = ScoringConfig(criteria=(title,), base_points=10,
    ...     threshold={"mql": 40, "policy": {"name": "manual"}})
    >>> body = export_config(config, "hubspot").body
    >>> [r["configuration"]["calculation"]["value"] for r in
    ...  body["groupConfigs"][0]["ruleConfigurations"]]
    [40, 10, 10]
    """
    sheet = tool_sheet(config, tool)
    body = _WRITERS[tool](sheet, name)
    _check_body(body, tool)
    return ToolExport(tool, body, sheet)


def _check_body(body: dict, tool: str) -> None:
    import jsonschema

    from ...errors import ConfigError

    errors = list(jsonschema.Draft202012Validator(tool_schema(tool)).iter_errors(body))
    if errors:
        error = min(errors, key=lambda e: list(map(str, e.absolute_path)))
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ConfigError(f"the {tool} body does not match its schema at {where}: {error.message}")


def measure_export(
    export: ToolExport,
    config: ScoringConfig,
    leads: pd.DataFrame,
    *,
    activities: pd.DataFrame | None = None,
    outcome: str | None = None,
    positive=None,
) -> dict:
    """The AUC of the config and of the sheet as the tool computes it, on labelled leads.

    When the leads are the fit's own (as many leads and wins as the config
    was fitted on), they are split as the fit split them (the config records
    how), and both are measured on the fit's hold-out leads; the config's
    AUC then equals its recorded hold-out AUC. Otherwise every lead counts.

    Parameters
    ----------
    export : ToolExport
        What :func:`export_config` gave.
    config : ScoringConfig
        The config exported.
    leads : pandas.DataFrame
        Labelled leads, with the columns the config reads.
    activities : pandas.DataFrame, optional
        Their activity log, when the config scores behaviour.
    outcome : str, optional
        The outcome column; by default the config's.
    positive : optional
        The outcome value meaning won, when not evident.

    Returns
    -------
    dict
        ``measured_on`` (words), ``leads``, ``auc_config`` and ``auc_tool``.

    Raises
    ------
    DataError
        When the outcome column is missing, or the leads hold one class.
    """
    from sklearn.metrics import roc_auc_score

    from ...io.ingest import require_column
    from ...io.values import known_label, parse_outcome
    from ..scorer import score_leads

    trained = config.training_data.get("outcome", {})
    outcome = outcome or trained.get("column")
    if outcome is None:
        raise DataError("the config does not record its outcome column: name it (--outcome)")
    require_column(outcome, [str(c) for c in leads.columns], "outcome")
    if positive is None:
        positive = known_label(leads[outcome], trained.get("positive"))
    won = parse_outcome(leads[outcome], outcome, positive)[0].to_numpy().astype(bool)
    rows, measured_on = _holdout_rows(config, leads, won)
    if won[rows].all() or not won[rows].any():
        raise DataError(f"{measured_on} are all won or all lost: no AUC to measure")
    # Every lead is scored (the log holds them all), then the measured ones are taken.
    scores = [
        score_leads(c, leads, activities=activities)["score"].to_numpy()[rows]
        for c in (config, export.sheet.config)
    ]
    return {
        "measured_on": measured_on,
        "leads": int(len(rows)),
        "auc_config": float(roc_auc_score(won[rows], scores[0])),
        "auc_tool": float(roc_auc_score(won[rows], scores[1])),
    }


def _holdout_rows(config: ScoringConfig, leads: pd.DataFrame, won) -> tuple[np.ndarray, str]:
    """The fit's hold-out rows when these are the fit's leads, else every row."""
    from ...io.values import parse_dates
    from ...learn.model import split_holdout

    every = np.arange(len(leads)), f"these {len(leads):,} leads"
    data, split = config.training_data, config.model.get("split", {})
    same = len(leads) == data.get("n_leads") and int(won.sum()) == data.get("n_wins")
    if not (same and split.get("holdout_fraction") and data.get("n_holdout")):
        return every
    dates = None
    if split.get("kind") == "time-ordered":
        column = data.get("date_column")
        if column not in leads.columns:
            return every
        dates = parse_dates(leads[column], column)
    _, held = split_holdout(
        won, fraction=split["holdout_fraction"], dates=dates, random_state=split.get("seed", 0)
    )
    if len(held) != data["n_holdout"]:
        return every
    return held, f"the fit's {len(held):,} hold-out leads ({split.get('kind', 'random')})"


def _cell(text: str) -> str:
    """Text as one Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")
