"""The body of HubSpot's Lead Scoring API (2026-09 beta) for a points sheet.

``POST /marketing/lead-scoring/2026-09-beta/scores`` creates a score as a
draft; publishing it (``POST .../scores/{scoreId}/draft/publish``) stays the
user's step. The reference documents a score as groups of rules, each rule a
constant number of points, per group a least and a most it adds, and the
score's ``maxScore``. A group is a criterion, in the category ``FIT`` (who
the lead is) or ``ENGAGEMENT`` (what the lead did). Each rule's condition is
set in HubSpot's editor: the reference gives the body no filter fields, so
the set-up sheet beside the body states every rule's condition in order.
"""

from __future__ import annotations

from .approximate import ToolSheet

__all__ = ["API_PATH", "hubspot_body"]

#: Where the body goes (the version is pinned: the 2027-03 beta changed the shape).
API_PATH = "/marketing/lead-scoring/2026-09-beta/scores"

_CATEGORY = {"fit": "FIT", "engagement": "ENGAGEMENT"}


def hubspot_body(sheet: ToolSheet, name: str) -> dict:
    """The JSON body that creates the sheet's score in HubSpot.

    Parameters
    ----------
    sheet : ToolSheet
        The config in HubSpot's terms (:func:`~.approximate.tool_sheet`).
    name : str
        The score's name in HubSpot.

    Returns
    -------
    dict
        ``name``, ``objectTypeId`` (``"0-1"``, contacts), ``maxScore``,
        ``allowedGroupTypes`` and ``groupConfigs``; a rule worth 0 points is
        left out, and so is a group with no rule left.
    """
    groups: dict[str, list] = {}
    for rule in (r for r in sheet.rules if r.points):
        groups.setdefault(rule.group, []).append(rule)
    configs = []
    for group, rules in groups.items():
        low, high = _group_range(sheet, group)
        configs.append(
            {
                "groupName": group,
                "groupCategory": _CATEGORY[rules[0].category],
                "minValue": low,
                "maxValue": high,
                "ruleConfigurations": [_rule(r.points) for r in rules],
            }
        )
    categories = sorted({c["groupCategory"] for c in configs}, key=["FIT", "ENGAGEMENT"].index)
    return {
        "name": name,
        "objectTypeId": "0-1",
        "maxScore": int(sheet.config.max_score),
        "allowedGroupTypes": categories,
        "groupConfigs": configs,
    }


def _group_range(sheet: ToolSheet, group: str) -> tuple[int, int]:
    """The least and most a group adds: one band of a property, any sum of event rules."""
    rules = [r for r in sheet.rules if r.group == group]
    if all(r.kind == "property" for r in rules):
        points = [r.points for r in rules]
        return min(points), max(points)
    return sum(min(0, r.points) for r in rules), sum(max(0, r.points) for r in rules)


def _rule(points: int) -> dict:
    return {
        "enabled": True,
        "minimumValue": min(0, points),
        "maximumValue": max(0, points),
        "configuration": {"calculation": {"type": "CONSTANT", "value": points}},
    }
