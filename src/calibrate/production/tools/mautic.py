"""The bodies of Mautic's REST API that set up a points sheet.

Mautic adds points in two ways. A *point action* (``POST /api/points/new``)
adds its ``delta`` when a contact does something: submits a form, hits a
page or URL, opens an email, downloads an asset. With ``repeatable`` false it
counts the first time only, which is "1+ ever". A *campaign action*, "Adjust
contact's points" (``lead.changepoints``), adds points to the contacts of a
segment (``POST /api/segments/new``, filters on contact fields): that is how
a fit band earns points. A *point trigger* (``POST /api/points/triggers/new``)
fires when a contact's points reach a number: the MQL threshold tags the
contact ``MQL``, and each level tags it with the level.
"""

from __future__ import annotations

import itertools
import re

from .approximate import ToolRule, ToolSheet, mautic_action

__all__ = ["mautic_body"]

_TAG_COLOUR = {"mql": "e76f51", "level": "2a9d8f"}

#: The property of each point action that names what counts (left empty to fill in).
_PICK = {
    "form.submit": "forms",
    "page.hit": "pages",
    "asset.download": "assets",
    "email.open": "emails",
    "email.send": "emails",
    "url.hit": "page_url",
}


def mautic_body(sheet: ToolSheet, name: str) -> dict:
    """The bodies that set the sheet up in Mautic, by endpoint.

    Parameters
    ----------
    sheet : ToolSheet
        The config in Mautic's terms (:func:`~.approximate.tool_sheet`).
    name : str
        Prefix of every name, so the sheet's items are found together.

    Returns
    -------
    dict
        ``pointActions``, ``pointTriggers``, ``segments`` and
        ``campaignActions``; a rule worth 0 points is left out.
    """
    spec = sheet.config.activity_spec
    actions, segments, campaign = [], [], []
    for rule in (r for r in sheet.rules if r.points):
        if rule.kind == "event":
            action = mautic_action(rule.types[0], spec)
            actions.append(
                {
                    "name": f"{name}: {rule.group}: {rule.condition}",
                    "description": f"{rule.group}: {rule.points:+d} points",
                    "type": action["type"],
                    "delta": rule.points,
                    "repeatable": False,
                    "isPublished": True,
                    # Which forms, pages, assets or emails: the user picks them.
                    "properties": action["properties"] or {_PICK[action["type"]]: []},
                }
            )
            continue
        alias = _alias(name, rule.group, len(segments) + 1)
        segments.append(
            {
                "name": f"{name}: {rule.condition}",
                "alias": alias,
                "description": f"{rule.group}: {rule.points:+d} points (campaign action)",
                "isPublished": True,
                "filters": _filters(rule),
            }
        )
        campaign.append(
            {
                "segment": alias,
                "type": "lead.changepoints",
                "name": f"{rule.group}: {rule.points:+d}",
                "properties": {"points": rule.points},
            }
        )
    return {
        "pointActions": actions,
        "pointTriggers": _triggers(sheet, name),
        "segments": segments,
        "campaignActions": campaign,
    }


def _triggers(sheet: ToolSheet, name: str) -> list[dict]:
    config = sheet.config
    marks = [("MQL", config.mql_threshold, "mql")]
    for level in config.threshold.get("levels") or []:
        if level["min_score"] > config.min_score:
            marks.append((f"level {level['name']}", int(level["min_score"]), "level"))
    return [
        {
            "name": f"{name}: {tag}",
            "description": f"points reach {points}: tag the contact {tag!r}",
            "points": points,
            "color": _TAG_COLOUR[kind],
            "triggerExistingLeads": True,
            "isPublished": True,
            "events": [
                {
                    "type": "lead.changetags",
                    "name": f"tag {tag}",
                    "properties": {"add_tags": [tag]},
                }
            ],
        }
        for tag, points, kind in marks
    ]


def _alias(name: str, group: str, number: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", f"{name} {group}".lower()).strip("-")
    return f"{slug}-{number}"


def _filters(rule: ToolRule) -> list[dict]:
    """A property rule's segment filters; an "and" rule's as OR of AND groups."""
    if rule.kind == "property":
        groups = [_band_filters(rule.criterion, rule.band)]
    else:
        sides = [
            [_band_filters(s.criterion, s.criterion.bands[i]) for i in sorted(s.bands)]
            for s in rule.parts
        ]
        groups = [a + b for a, b in itertools.product(*sides)]
    out = []
    for g, group in enumerate(groups):
        for f, item in enumerate(group):
            out.append({"glue": "or" if g and not f else "and", **item})
    return out


def _band_filters(criterion, band) -> list[dict]:
    """The filters a lead of one band meets (a range is two)."""
    column = criterion.column
    kind = {"numeric": "number", "boolean": "boolean"}.get(criterion.kind, "text")

    def one(operator, value=None):
        item = {"field": column, "object": "lead", "type": kind, "operator": operator}
        if operator not in ("empty", "!empty"):
            item["properties"] = {"filter": value}
        return item

    if band.kind == "missing":
        return [one("empty")]
    if band.kind == "range":
        parts = []
        if band.lower is not None:
            parts.append(one("gte", band.lower))
        if band.upper is not None:
            parts.append(one("lt", band.upper))
        return parts or [one("!empty")]
    if band.kind == "other":
        listed = [v for b in criterion.bands for v in b.values]
        return [one("!in", listed), one("!empty")]
    if criterion.kind == "boolean":
        return [one("=", 1 if band.values[0] in ("true", "True") else 0)]
    if len(band.values) == 1:
        return [one("=", band.values[0])]
    return [one("in", list(band.values))]
