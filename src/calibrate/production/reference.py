"""Reference: what the training leads looked like, recorded in the config for monitoring.

:func:`check_reference` checks a config's ``reference`` (which
:func:`calibrate.production.record.training_reference` builds) against it;
:func:`band_win_probability` reads a score's win probability from the
config's calibration bands (the expectation a band's wins are compared with).
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError

__all__ = ["band_win_probability", "check_reference"]


def band_win_probability(bands, scores) -> np.ndarray:
    """Each score's win probability from calibration bands (``score_min``, ``score_max``,
    ``win_probability``), as the config's ``calibration`` lists them; NaN outside them.

    Examples
    --------
    >>> bands = [{"score_min": 0, "score_max": 49, "win_probability": 0.1},
    ...          {"score_min": 50, "score_max": 100, "win_probability": 0.4}]
    >>> band_win_probability(bands, np.array([10, 50, 100])).tolist()
    [0.1, 0.4, 0.4]
    """
    scores = np.asarray(scores)
    out = np.full(len(scores), np.nan)
    for band in bands:
        inside = (scores >= band["score_min"]) & (scores <= band["score_max"])
        probability = band.get("win_probability")
        out[inside] = np.nan if probability is None else probability
    return out


def check_reference(config) -> None:
    """The reference describes this config's criteria and scale."""
    reference = config.reference
    bands = {c.name: len(c.bands) for c in config.criteria}
    named = [entry.get("name") for entry in reference.get("criteria", [])]
    if sorted(named) != sorted(bands):
        raise ConfigError(
            f"reference criteria {sorted(map(str, named))} are not the config's criteria "
            f"{sorted(bands)}"
        )
    for entry in reference["criteria"]:
        for key in ("leads", "wins", "expected_wins"):
            if len(entry.get(key, [])) != bands[entry["name"]]:
                raise ConfigError(
                    f"reference criterion {entry['name']!r} has {len(entry.get(key, []))} "
                    f"band {key} counts for {bands[entry['name']]} bands"
                )
        if sum(entry["leads"]) != reference.get("n_leads"):
            raise ConfigError(
                f"reference criterion {entry['name']!r} counts {sum(entry['leads'])} leads, "
                f"not n_leads {reference.get('n_leads')}"
            )
        if any(w > n for w, n in zip(entry["wins"], entry["leads"], strict=True)):
            raise ConfigError(
                f"reference criterion {entry['name']!r} has a band with more wins than leads"
            )
    width = config.max_score - config.min_score + 1
    counts = reference.get("score_counts", [])
    if len(counts) != width:
        raise ConfigError(
            f"reference score_counts has {len(counts)} entries for the {width} scores "
            f"{config.min_score}-{config.max_score}"
        )
    if sum(counts) != reference.get("n_leads"):
        raise ConfigError(
            f"reference score_counts add up to {sum(counts)} leads, not n_leads "
            f"{reference.get('n_leads')}"
        )
