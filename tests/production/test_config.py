"""Tests for calibrate.production.config: the scoring config, its JSON and its checks."""

from __future__ import annotations

import copy
import json
import math

import jsonschema
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

import calibrate
from calibrate.datasets import make_leads
from calibrate.errors import ConfigError
from calibrate.production.config import SCHEMA_VERSION, ScoringConfig, _checksum, config_schema
from calibrate.sheet.criteria import Band, Criterion
from calibrate.sheet.pairs import Condition, PairCriterion

THRESHOLD = {"mql": 40, "policy": {"name": "manual"}}


def _size(*bands):
    return Criterion("size", "company_size", "numeric", "explicit", bands=bands)


def _title(*bands, name="title", kind="categorical"):
    return Criterion(name, "title", kind, "explicit", bands=bands)


SIZE = _size(
    Band("<10", "range", upper=10.0, points=5),
    Band("10 to <100", "range", lower=10.0, upper=100.0, points=20),
    Band(">=100", "range", lower=100.0, points=60),
    Band("Missing", "missing", points=-5),
)
TITLE = _title(
    Band("VP", "levels", values=("VP", "Vice President"), points=50),
    Band("Other", "other", points=10),
    Band("Missing", "missing", points=-40),
)


def _resign(data: dict) -> dict:
    """The mapping with its checksum recomputed, as a careful hand edit would do."""
    body = {k: v for k, v in data.items() if k not in ("checksum", "signature")}
    signature = {"signature": data["signature"]} if "signature" in data else {}
    return {**body, "checksum": _checksum(body), **signature}


def _all_points(data: dict) -> list[tuple[int, str, int]]:
    """Where every band's (or pair cell's) points are: criterion, "bands" or "cells", position."""
    return [
        (i, field, j)
        for i, criterion in enumerate(data["criteria"])
        for field in [("cells" if criterion.get("kind") == "pair" else "bands")]
        for j in range(len(criterion[field]))
    ]


@pytest.fixture(scope="module")
def small_config():
    return ScoringConfig(
        criteria=(SIZE, TITLE),
        base_points=10,
        threshold=THRESHOLD,
        id_column="lead_id",
        model={"type": "hand-made"},
    )


@pytest.fixture(scope="module")
def leads():
    return make_leads(1500, seed=0)


@pytest.fixture(scope="module")
def fitted(leads):
    return calibrate.fit(leads, outcome="converted", id="lead_id", seed=0)


@pytest.fixture(scope="module", params=["small", "fitted"])
def config(request, small_config, fitted):
    return small_config if request.param == "small" else fitted.config


# --- the tiny case, by hand --------------------------------------------------


def test_to_dict_of_small_config_by_hand(small_config):
    data = small_config.to_dict()
    assert data["schema_version"] == SCHEMA_VERSION == "1.1"
    assert data["id_column"] == "lead_id"
    assert data["score"] == {"min": 0, "max": 100, "base_points": 10}
    assert data["threshold"] == THRESHOLD
    assert data["model"] == {"type": "hand-made"}
    assert "calibration" not in data and "training_data" not in data
    assert data["criteria"][0]["bands"][1] == {
        "label": "10 to <100",
        "kind": "range",
        "lower": 10.0,
        "upper": 100.0,
        "points": 20,
    }
    assert data["criteria"][1]["bands"][0]["values"] == ["VP", "Vice President"]
    assert data["criteria"][1]["bands"][1] == {"label": "Other", "kind": "other", "points": 10}
    assert data["checksum"] == _checksum({k: v for k, v in data.items() if k != "checksum"})
    assert small_config.mql_threshold == 40


def test_points_sheet_lists_every_band(small_config):
    sheet = small_config.points_sheet()
    assert list(sheet.columns) == ["criterion", "group", "band", "points"]
    assert sheet["points"].tolist() == [5, 20, 60, -5, 50, 10, -40]
    assert sheet["criterion"].tolist() == ["size"] * 4 + ["title"] * 3


# --- round trips and determinism ---------------------------------------------


def test_dict_round_trip(config):
    again = ScoringConfig.from_dict(config.to_dict())
    assert again == config
    assert again.to_dict() == config.to_dict()


def test_to_json_is_deterministic_and_save_load_round_trips(config, tmp_path):
    text = config.to_json()
    assert text == config.to_json()
    assert text.endswith("\n")
    path = config.save(tmp_path / "sub" / "scoring_config.json")
    assert path == tmp_path / "sub" / "scoring_config.json"
    assert path.read_text(encoding="utf-8") == text
    loaded = ScoringConfig.load(path)
    assert loaded == config
    assert loaded.to_json() == text
    assert ScoringConfig.load(str(path)) == config
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["scoring_config.json"]


def test_same_data_and_seed_give_byte_identical_json(leads, fitted):
    again = calibrate.fit(leads.copy(), outcome="converted", id="lead_id", seed=0)
    assert again.config.to_json().encode("utf-8") == fitted.config.to_json().encode("utf-8")


def test_fitted_config_describes_its_training(fitted):
    config = fitted.config
    assert config.id_column == "lead_id"
    assert config.mql_threshold == fitted.threshold.threshold
    assert config.base_points == fitted.scorecard.base_points_
    assert config.training_data["n_leads"] == 1500
    assert [c.name for c in config.criteria] == [c.name for c in fitted.scorecard.criteria_]


def test_json_validates_against_the_schema(config):
    schema = config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(config.to_json()), schema, cls=jsonschema.Draft202012Validator)


def test_to_dict_does_not_share_state_with_the_config(small_config):
    before = small_config.to_json()
    data = small_config.to_dict()
    data["threshold"]["mql"] = 99
    data["model"]["type"] = "edited"
    assert small_config.mql_threshold == 40
    assert small_config.to_json() == before


def test_from_dict_does_not_share_state_with_its_input(small_config):
    data = small_config.to_dict()
    loaded = ScoringConfig.from_dict(data)
    data["threshold"]["policy"]["name"] = "edited"
    assert loaded.threshold["policy"]["name"] == "manual"
    assert loaded == small_config


# --- from_dict rejects -------------------------------------------------------


def _drop_version(d):
    del d["schema_version"]


def _version_2(d):
    d["schema_version"] = "2.0"


def _version_number(d):
    d["schema_version"] = 1.0


def _edit_points(d):
    d["criteria"][0]["bands"][0]["points"] += 1


def _edit_threshold(d):
    d["threshold"]["mql"] = 41


def _fractional_points(d):
    d["criteria"][1]["bands"][0]["points"] = 2.5


def _text_points(d):
    d["criteria"][1]["bands"][0]["points"] = "50"


def _unknown_band_kind(d):
    d["criteria"][0]["bands"][0]["kind"] = "triangle"


def _extra_top_level_key(d):
    d["comment"] = "added by hand"


def _missing_points(d):
    del d["criteria"][1]["bands"][2]["points"]


def _levels_without_values(d):
    del d["criteria"][1]["bands"][0]["values"]


def _bad_checksum_format(d):
    d["checksum"] = "md5:abc"


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (_drop_version, "unsupported schema_version None"),
        (_version_2, "unsupported schema_version '2.0'"),
        (_version_number, "unsupported schema_version 1.0"),
        (_edit_points, "checksum does not match"),
        (_edit_threshold, "checksum does not match"),
        (_fractional_points, "schema at criteria/1/bands/0/points"),
        (_text_points, "schema at criteria/1/bands/0/points"),
        (_unknown_band_kind, "schema at criteria/0/bands/0/kind"),
        (_extra_top_level_key, r"schema at \(top level\).*'comment'"),
        (_missing_points, "schema at criteria/1/bands/2: 'points' is a required"),
        (_levels_without_values, "schema at criteria/1/bands/0: 'values' is a required"),
        (_bad_checksum_format, "schema at checksum"),
    ],
)
def test_from_dict_rejects_damaged_configs(small_config, edit, match):
    data = small_config.to_dict()
    edit(data)
    with pytest.raises(ConfigError, match=match):
        ScoringConfig.from_dict(data)


@pytest.mark.parametrize("data", [[], "config", None])
def test_from_dict_rejects_a_non_object(data):
    with pytest.raises(ConfigError, match="a scoring config is a JSON object"):
        ScoringConfig.from_dict(data)


def _gap(d):
    d["criteria"][0]["bands"][1]["lower"] = 11.0


def _mql_above_scale(d):
    d["threshold"]["mql"] = 101


def _same_name(d):
    d["criteria"][1]["name"] = "size"


def _empty_range(d):
    d["criteria"][0]["bands"][1]["lower"] = 100.0


def _numeric_without_ranges(d):
    d["criteria"][0]["bands"] = [{"label": "Missing", "kind": "missing", "points": 0}]


def _non_finite_edge(d):
    d["criteria"][0]["bands"][0]["upper"] = math.inf
    d["criteria"][0]["bands"][1]["lower"] = math.inf
    d["criteria"][0]["bands"][1]["upper"] = None
    del d["criteria"][0]["bands"][2]


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (_gap, r"bands '<10' and '10 to <100' leave a gap or overlap \(10.0 vs 11.0\)"),
        (_mql_above_scale, "threshold mql 101 is outside the score scale 0-100"),
        (_same_name, r"criterion names must be unique; repeated: \['size'\]"),
        (_empty_range, "lower bound 100.0 is not below 100.0"),
        (_numeric_without_ranges, "criterion 'size' is numeric: it needs range bands"),
        (_non_finite_edge, "criterion 'size', band '<10': range bounds must be finite"),
    ],
)
def test_from_dict_rejects_inconsistent_configs_with_a_valid_checksum(small_config, edit, match):
    # The checksum is checked after the schema: recompute it so that the
    # consistency check is what fails.
    data = small_config.to_dict()
    edit(data)
    with pytest.raises(ConfigError, match=match):
        ScoringConfig.from_dict(_resign(data))


# --- bounds: numbers a points sheet on a 0-100 scale never holds ---------------


def _put(*where, value):
    def edit(d):
        target = d
        for key in where[:-1]:
            target = target[key]
        target[where[-1]] = value

    return edit


def _levels(first):
    return _put(
        "threshold",
        "levels",
        value=[{"name": "hot", "min_score": first}, {"name": "rest", "min_score": 0}],
    )


POINTS_AT = ("criteria", 0, "bands", 0, "points")


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (_put(*POINTS_AT, value=1e30), "criteria/0/bands/0/points: 1e\\+30 is not of type 'int"),
        (_put(*POINTS_AT, value=10**30), "criteria/0/bands/0/points: 10{30} is greater than the"),
        (_put(*POINTS_AT, value=5.0), "criteria/0/bands/0/points: 5.0 is not of type 'integer'"),
        (
            _put(*POINTS_AT, value=1001),
            "criterion 'size', band '<10': points 1001 are outside -1000 to 1000, 10 times the "
            "width of the score scale 0-100",
        ),
        (_put(*POINTS_AT, value=-1001), "band '<10': points -1001 are outside -1000 to 1000"),
        (_put("score", "base_points", value=1e30), "score/base_points: 1e\\+30 is not of type"),
        (_put("score", "base_points", value=-(10**20)), "score/base_points: -10{20} is less"),
        (_put("score", "base_points", value=2000), "base points 2000 are outside -1000 to 1000"),
        (_put("score", "max", value=10**6), "score/max: 1000000 is greater than the maximum"),
        (_put("score", "min", value=-1001), "score/min: -1001 is less than the minimum of -1000"),
        (_put("score", "max", value=100.0), "score/max: 100.0 is not of type 'integer'"),
        (_put("threshold", "mql", value=40.0), "threshold/mql: 40.0 is not of type 'integer'"),
        (_put("threshold", "mql", value=10**30), "threshold/mql: 10{30} is greater than the"),
        (_levels(1e30), "threshold/levels/0/min_score: 1e\\+30 is not of type 'integer'"),
        (_levels(10**9), "threshold/levels/0/min_score: 1000000000 is greater than the maximum"),
        (_levels(101), "level 'hot' starts at 101, above the scale's maximum 100"),
    ],
)
def test_from_dict_rejects_numbers_out_of_bounds_with_a_valid_checksum(small_config, edit, match):
    data = small_config.to_dict()
    edit(data)
    with pytest.raises(ConfigError, match=match):
        ScoringConfig.from_dict(_resign(data))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"base_points": 10**30}, "base points 10{30} are outside -1000 to 1000"),
        ({"base_points": 1e30}, "base points must be an integer, got 1e\\+30"),
        ({"max_score": 10**6}, "score max 1000000 is outside the supported scale -1000 to 1000"),
        ({"min_score": 0.5}, "score min must be an integer, got 0.5"),
    ],
)
def test_construction_rejects_numbers_out_of_bounds(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ScoringConfig(criteria=(SIZE, TITLE), **{"base_points": 10, "threshold": THRESHOLD,
                                                 **kwargs})  # fmt: skip


def test_construction_bounds_points_by_the_width_of_the_scale():
    wide = _size(Band("<10", "range", upper=10.0, points=0),
                 Band(">=10", "range", lower=10.0, points=5000),
                 Band("Missing", "missing", points=0))  # fmt: skip
    config = ScoringConfig(criteria=(wide,), base_points=0, threshold=THRESHOLD, max_score=1000)
    assert config.criteria[0].bands[1].points == 5000
    with pytest.raises(ConfigError, match="points 5000 are outside -1000 to 1000"):
        ScoringConfig(criteria=(wide,), base_points=0, threshold=THRESHOLD)


def test_fitted_config_lies_well_inside_the_bounds(fitted):
    """The bounds leave room: a fitted sheet uses a fraction of them."""
    config = fitted.config
    width = config.max_score - config.min_score
    points = [b.points for c in config.criteria for b in c.bands] + [config.base_points]
    assert (config.min_score, config.max_score) == (0, 100)
    assert max(abs(p) for p in points) <= 2 * width


# --- constructing a config rejects -------------------------------------------


def _numeric(*ranges, missing=1):
    bands = [
        Band(f"b{i}", "range", lower=lo, upper=hi, points=i) for i, (lo, hi) in enumerate(ranges)
    ]
    bands += [Band(f"Missing {i}", "missing", points=0) for i in range(missing)]
    return _size(*bands)


CONSTRUCTION_ERRORS = [
    pytest.param(
        (_numeric((None, 10.0), (11.0, None)),),
        {},
        r"bands 'b0' and 'b1' leave a gap or overlap \(10.0 vs 11.0\)",
        id="gap",
    ),
    pytest.param(
        (_numeric((None, 10.0), (5.0, None)),),
        {},
        r"bands 'b0' and 'b1' leave a gap or overlap \(10.0 vs 5.0\)",
        id="overlap",
    ),
    pytest.param(
        (_numeric((0.0, 10.0), (10.0, None)),),
        {},
        "range bands must cover all numbers",
        id="first-band-closed-below",
    ),
    pytest.param(
        (_numeric((None, 10.0), (10.0, 20.0)),),
        {},
        "range bands must cover all numbers",
        id="last-band-closed-above",
    ),
    pytest.param(
        (_numeric((None, 10.0), (10.0, None), missing=2),),
        {},
        "criterion 'size' needs exactly one missing band, has 2",
        id="two-missing-bands",
    ),
    pytest.param(
        (_numeric((None, 10.0), (10.0, None), missing=0),),
        {},
        "criterion 'size' needs exactly one missing band, has 0",
        id="no-missing-band",
    ),
    pytest.param(
        (_numeric(missing=1),),
        {},
        "criterion 'size' is numeric: it needs range bands",
        id="numeric-without-ranges",
    ),
    pytest.param(
        (_numeric((None, math.nan), (math.nan, None)),),
        {},
        "range bounds must be finite",
        id="nan-edge",
    ),
    pytest.param(
        (
            _title(
                Band("VP", "levels", values=("VP",), points=50),
                Band("Boss", "levels", values=("CEO", "VP"), points=60),
                Band("Missing", "missing", points=0),
            ),
        ),
        {},
        "value 'VP' is in both band 'VP' and 'Boss'",
        id="value-in-two-bands",
    ),
    pytest.param(
        (
            _title(
                Band("Other", "other", points=0),
                Band("Other again", "other", points=1),
                Band("Missing", "missing", points=0),
            ),
        ),
        {},
        "has more than one 'other' band",
        id="two-other-bands",
    ),
    pytest.param(
        (
            _title(
                Band("<10", "range", upper=10.0, points=0),
                Band(">=10", "range", lower=10.0, points=0),
                Band("Missing", "missing", points=0),
            ),
        ),
        {},
        "criterion 'title' is categorical: range bands are for numeric criteria",
        id="range-band-on-categorical",
    ),
    pytest.param(
        (_title(Band("Other", "other", points=1.5), Band("Missing", "missing", points=0)),),
        {},
        "band 'Other': points must be an integer",
        id="fractional-points",
    ),
    pytest.param(
        (_title(Band("Other", "other"), Band("Missing", "missing", points=0)),),
        {},
        "band 'Other': points must be an integer",
        id="no-points",
    ),
    pytest.param(
        (_title(Band("Other", "other", points=True), Band("Missing", "missing", points=0)),),
        {},
        "band 'Other': points must be an integer",
        id="boolean-points",
    ),
    pytest.param((SIZE, TITLE, SIZE), {}, r"repeated: \['size'\]", id="duplicate-names"),
    pytest.param((), {}, "at least one criterion", id="no-criteria"),
    pytest.param(
        (SIZE,), {"threshold": {"mql": -1}}, "mql -1 is outside the score scale 0-100", id="mql<0"
    ),
    pytest.param(
        (SIZE,), {"threshold": {"mql": 101}}, "mql 101 is outside the score scale", id="mql>100"
    ),
    pytest.param(
        (SIZE,), {"threshold": {"mql": 40.0}}, "mql must be an integer, got 40.0", id="mql-float"
    ),
    pytest.param((SIZE,), {"threshold": {}}, "mql must be an integer, got None", id="no-mql"),
    pytest.param(
        (SIZE,), {"min_score": 50, "max_score": 50}, "max 50 is not above min 50", id="flat-scale"
    ),
]


@pytest.mark.parametrize(("criteria", "kwargs", "match"), CONSTRUCTION_ERRORS)
def test_construction_rejects_inconsistent_configs(criteria, kwargs, match):
    arguments = {"criteria": criteria, "base_points": 0, "threshold": THRESHOLD, **kwargs}
    with pytest.raises(ConfigError, match=match):
        ScoringConfig(**arguments)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"threshold": {"mql": 40}}, "schema at threshold: 'policy' is a required property"),
        ({"criteria": (_title(*TITLE.bands, name=""),)}, "schema at criteria/0/name"),
    ],
)
def test_save_refuses_a_config_that_load_would_reject(tmp_path, kwargs, match):
    arguments = {"criteria": (SIZE,), "base_points": 0, "threshold": THRESHOLD, **kwargs}
    config = ScoringConfig(**arguments)
    with pytest.raises(ConfigError, match=match):
        config.save(tmp_path / "config.json")
    assert list(tmp_path.iterdir()) == []


# --- load rejects --------------------------------------------------------------


def _with_constant(text: str, constant: str) -> str:
    return text.replace('"upper": 10.0', f'"upper": {constant}', 1)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (lambda text: "{ not json", "is not valid JSON"),
        (lambda text: "", "is not valid JSON"),
        (lambda text: _with_constant(text, "NaN"), "NaN is not allowed in a scoring config"),
        (
            lambda text: _with_constant(text, "Infinity"),
            "Infinity is not allowed in a scoring config",
        ),
        (
            lambda text: _with_constant(text, "-Infinity"),
            "-Infinity is not allowed in a scoring config",
        ),
        (lambda text: _with_constant(text, "1e400"), "1e400 is not allowed in a scoring config"),
        (lambda text: "[]", "a scoring config is a JSON object, got list"),
        (lambda text: "[" + text + "]", "a scoring config is a JSON object, got list"),
        (lambda text: "42", "a scoring config is a JSON object, got int"),
    ],
)
def test_load_rejects_bad_files(small_config, tmp_path, content, match):
    text = content(small_config.to_json())
    assert text != small_config.to_json()
    path = tmp_path / "config.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        ScoringConfig.load(path)


def test_load_rejects_a_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config .*nope.json"):
        ScoringConfig.load(tmp_path / "nope.json")


def test_load_rejects_a_folder(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        ScoringConfig.load(tmp_path)


def test_load_rejects_text_that_is_not_utf8(small_config, tmp_path):
    path = tmp_path / "config.json"
    path.write_bytes(small_config.to_json().encode("utf-16"))
    with pytest.raises(ConfigError, match="config .*config.json is not UTF-8 text"):
        ScoringConfig.load(path)


# --- properties ----------------------------------------------------------------

NASTY_TEXT = st.one_of(
    st.sampled_from(
        ['"', "'", '"quoted"', ";", "a;b", " ", "  ", "\t", "\\", "é", "日本語", "🙂"]
    ),
    st.text(max_size=12),
)
#: Points within the bounds of every scale the strategies draw (at least 100 wide).
POINTS = st.integers(min_value=-1000, max_value=1000)
EDGES = st.lists(
    st.floats(allow_nan=False, allow_infinity=False),
    max_size=5,
    unique=True,
).map(sorted)


@st.composite
def numeric_criteria(draw, name):
    bounds = [None, *draw(EDGES), None]
    bands = [
        Band(draw(NASTY_TEXT), "range", lower=lo, upper=hi, points=draw(POINTS))
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    bands.append(Band(draw(NASTY_TEXT), "missing", points=draw(POINTS)))
    group = draw(st.sampled_from(["explicit", "implicit"]))
    return Criterion(name, draw(NASTY_TEXT.filter(bool)), "numeric", group, tuple(bands))


@st.composite
def categorical_criteria(draw, name):
    values = draw(st.lists(NASTY_TEXT, max_size=8, unique=True))
    sizes = draw(st.lists(st.integers(1, 3), min_size=len(values), max_size=len(values)))
    bands, start = [], 0
    for size in sizes:
        chunk = tuple(values[start : start + size])
        start += size
        if chunk:
            bands.append(Band(draw(NASTY_TEXT), "levels", values=chunk, points=draw(POINTS)))
    if draw(st.booleans()):
        bands.append(Band(draw(NASTY_TEXT), "other", points=draw(POINTS)))
    bands.insert(draw(st.integers(0, len(bands))), Band("Missing", "missing", points=draw(POINTS)))
    kind = draw(st.sampled_from(["categorical", "boolean"]))
    group = draw(st.sampled_from(["explicit", "implicit"]))
    return Criterion(name, draw(NASTY_TEXT.filter(bool)), kind, group, tuple(bands))


@st.composite
def pair_criteria(draw, criteria):
    """A pair rule on two of ``criteria``, each condition some (not all) of its bands."""
    first, second = draw(st.permutations(criteria))[:2]

    def condition(criterion):
        n = len(criterion.bands)
        taken = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n - 1, unique=True))
        return Condition(criterion, tuple(sorted(taken)))

    pair = PairCriterion.of(condition(first), condition(second))
    return pair.with_points([draw(POINTS), draw(POINTS)])


def _unique_names(criteria):
    """Leave out a pair whose name ("a & b") is already a criterion's."""
    out = []
    for c in criteria:
        if c.name not in {o.name for o in out}:
            out.append(c)
    return tuple(out)


@st.composite
def configs(draw):
    names = draw(st.lists(NASTY_TEXT.filter(bool), min_size=1, max_size=4, unique=True))
    criteria = tuple(
        draw(st.one_of(numeric_criteria(name), categorical_criteria(name))) for name in names
    )
    banded = [c for c in criteria if len(c.bands) >= 2]
    if len(banded) >= 2:
        pairs = draw(st.lists(pair_criteria(banded), max_size=2))
        criteria = _unique_names(criteria + tuple(pairs))
    low = draw(st.integers(-1000, 900))
    high = draw(st.integers(low + 100, 1000))
    threshold = {
        "mql": draw(st.integers(low, high)),
        "policy": {"name": draw(NASTY_TEXT), "win_value": draw(st.floats(0, 1e9))},
    }
    starts = draw(st.lists(st.integers(low + 1, high), max_size=3, unique=True))
    if starts:
        starts = [*sorted(starts, reverse=True), low]
        threshold["levels"] = [
            {"name": draw(NASTY_TEXT.filter(bool)), "min_score": start} for start in starts
        ]
    reference = {}
    if draw(st.booleans()):
        # Every lead in one band of each criterion and at one score.
        n_leads = draw(st.integers(1, 10**6))
        score_counts = [0] * (high - low + 1)
        score_counts[draw(st.integers(0, high - low))] = n_leads
        entries = []
        for c in criteria:
            leads = [0] * len(c.bands)
            leads[draw(st.integers(0, len(c.bands) - 1))] = n_leads
            wins = [draw(st.integers(0, n)) for n in leads]
            entries.append({"name": c.name, "leads": leads, "wins": wins,
                            "expected_wins": [w / 2 for w in wins]})  # fmt: skip
        reference = {
            "measured_on": draw(NASTY_TEXT),
            "n_leads": n_leads,
            "criteria": entries,
            "score_counts": score_counts,
            "categories": draw(st.dictionaries(NASTY_TEXT, st.lists(NASTY_TEXT), max_size=2)),
        }
    return ScoringConfig(
        criteria=criteria,
        base_points=draw(POINTS),
        threshold=threshold,
        min_score=low,
        max_score=high,
        id_column=draw(st.none() | NASTY_TEXT.filter(bool)),
        model=draw(st.dictionaries(NASTY_TEXT, NASTY_TEXT | POINTS, max_size=3)),
        reference=reference,
    )


@pytest.fixture(scope="module")
def property_dir(tmp_path_factory):
    # Hypothesis keeps caches in ./.hypothesis; keep them under the tmp folder too.
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis_home"))
    yield tmp_path_factory.mktemp("property")
    set_hypothesis_home_dir(None)


PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None)


@PROPERTY_SETTINGS
@given(config=configs())
def test_property_json_round_trip(property_dir, config):
    path = property_dir / "config.json"
    text = config.to_json()
    config.save(path)
    loaded = ScoringConfig.load(path)
    assert loaded == config
    assert loaded.to_json() == text
    assert path.read_bytes() == text.encode("utf-8")


@PROPERTY_SETTINGS
@given(config=configs(), data=st.data())
def test_property_edited_points_break_the_checksum(config, data):
    original = config.to_dict()
    edited = copy.deepcopy(original)
    i, field, j = data.draw(st.sampled_from(_all_points(edited)))
    delta = data.draw(st.integers(-1000, 1000).filter(bool))
    edited["criteria"][i][field][j]["points"] += delta
    with pytest.raises(ConfigError, match="checksum does not match"):
        ScoringConfig.from_dict(edited)
    assert ScoringConfig.from_dict(original) == config


def _number_sites(data: dict) -> list[tuple[tuple, int, int]]:
    """Every bounded number of a config: where it is and the integers it may take."""
    score = data["score"]
    low, high = score["min"], score["max"]
    limit = min(10_000, 10 * (high - low))
    sites = [
        (("score", "min"), -1000, high - 1),
        (("score", "max"), low + 1, 1000),
        (("score", "base_points"), -limit, limit),
        (("threshold", "mql"), low, high),
    ]
    sites += [
        (("criteria", i, field, j, "points"), -limit, limit) for i, field, j in _all_points(data)
    ]
    levels = data["threshold"].get("levels", [])
    if levels:
        # The first level starts above the second and at most at the maximum; the last at min.
        sites.append((("threshold", "levels", 0, "min_score"), levels[1]["min_score"] + 1, high))
        sites.append((("threshold", "levels", len(levels) - 1, "min_score"), low, low))
    return sites


@st.composite
def out_of_range(draw, low, high):
    """An integer outside ``low..high``, or a float (never an integer, whatever its value)."""
    return draw(
        st.one_of(
            st.integers(high + 1, high + 10**40),
            st.integers(low - 10**40, low - 1),
            st.integers(low, high).map(float),
            st.floats(allow_nan=False, allow_infinity=False),
        )
    )


@PROPERTY_SETTINGS
@given(config=configs(), data=st.data())
def test_property_numbers_out_of_bounds_are_refused(property_dir, config, data):
    """A bounded number set out of its range, checksum recomputed: a ConfigError, nothing else."""
    edited = config.to_dict()
    where, low, high = data.draw(st.sampled_from(_number_sites(edited)))
    _put(*where, value=data.draw(out_of_range(low, high)))(edited)
    edited = _resign(edited)
    with pytest.raises(ConfigError):
        ScoringConfig.from_dict(edited)
    path = property_dir / "out_of_bounds.json"
    path.write_text(json.dumps(edited), encoding="utf-8")
    with pytest.raises(ConfigError):
        ScoringConfig.load(path)


# --- signing ---------------------------------------------------------------------

KEY = b"a secret key \x00\xff"


def test_unsigned_json_is_unchanged_and_signing_only_adds_the_signature(config):
    unsigned = config.to_json()
    assert config.to_json(sign_key=None) == unsigned
    assert "signature" not in json.loads(unsigned)
    signed = config.to_json(sign_key=KEY)
    assert signed == config.to_json(sign_key=KEY)  # deterministic
    data = json.loads(signed)
    assert data.pop("signature").startswith("hmac-sha256:")
    assert json.dumps(data, indent=2, ensure_ascii=False) + "\n" == unsigned
    assert list(json.loads(signed))[-2:] == ["checksum", "signature"]


def test_a_signed_config_loads_with_its_key_and_without_one(small_config, tmp_path):
    path = tmp_path / "signed.json"
    small_config.save(path, sign_key=KEY)
    assert ScoringConfig.load(path, key=KEY) == small_config
    assert ScoringConfig.load(path) == small_config  # no key: the signature is not checked
    text_key = "clé"
    small_config.save(path, sign_key=text_key)
    assert ScoringConfig.load(path, key=text_key.encode("utf-8")) == small_config


def _resigned_with(key):
    from calibrate.production.config import _content, _signature

    def edit(d):
        d["signature"] = _signature(_content(d), key)

    return edit


@pytest.mark.parametrize(
    ("edit", "match", "well_formed"),
    [
        (lambda d: d.pop("signature"), "config is not signed, but a signing key was given", True),
        (
            _resigned_with(b"other key"),
            "signature does not match: the config was not signed",
            True,
        ),
        (_put("signature", value="hmac-sha256:" + "0" * 64), "signature does not match", True),
        (_put("signature", value="sha256:abc"), "signature does not match", False),
        (_put("signature", value=12), "signature does not match", False),
        # Edited and its checksum recomputed: the checksum holds, the signature does not.
        (lambda d: d["score"].update(base_points=11), "signature does not match", True),
    ],
)
def test_with_a_key_unsigned_or_differently_signed_configs_are_refused(
    small_config, edit, match, well_formed
):
    data = small_config.to_dict(sign_key=KEY)
    edit(data)
    data = _resign(data)
    with pytest.raises(ConfigError, match=match):
        ScoringConfig.from_dict(data, key=KEY)
    if well_formed:  # and its checksum holds: only the key tells
        assert isinstance(ScoringConfig.from_dict(data), ScoringConfig)


def test_a_malformed_signature_is_refused_without_a_key(small_config):
    data = {**small_config.to_dict(), "signature": "hmac-sha256:xyz"}
    with pytest.raises(ConfigError, match="schema at signature: 'hmac-sha256:xyz' does not match"):
        ScoringConfig.from_dict(data)


@pytest.mark.parametrize("key", [b"", "", 12])
def test_an_empty_or_odd_key_is_a_parameter_error(small_config, key):
    from calibrate.errors import ParameterError

    with pytest.raises(ParameterError, match="signing key"):
        small_config.to_json(sign_key=key)
    with pytest.raises(ParameterError, match="signing key"):
        ScoringConfig.from_dict(small_config.to_dict(sign_key=KEY), key=key)


def test_key_from_env_reads_the_bytes_and_names_a_missing_or_empty_variable(monkeypatch):
    from calibrate.errors import ParameterError
    from calibrate.production.config import key_from_env

    monkeypatch.setenv("CALIBRATE_TEST_KEY", "s3cret é")
    assert key_from_env("CALIBRATE_TEST_KEY") == "s3cret é".encode()
    monkeypatch.setenv("CALIBRATE_TEST_KEY", "")
    with pytest.raises(ParameterError, match="^environment variable CALIBRATE_TEST_KEY is empty"):
        key_from_env("CALIBRATE_TEST_KEY")
    monkeypatch.delenv("CALIBRATE_TEST_KEY")
    with pytest.raises(ParameterError, match="CALIBRATE_TEST_KEY is not set"):
        key_from_env("CALIBRATE_TEST_KEY")


@PROPERTY_SETTINGS
@given(config=configs(), key=st.binary(min_size=1, max_size=64), other=st.binary(min_size=1))
def test_property_a_signature_holds_for_its_key_alone(config, key, other):
    signed = config.to_dict(sign_key=key)
    assert ScoringConfig.from_dict(signed, key=key) == config
    # HMAC pads a short key with zero bytes: b"k" and b"k\x00" are the same key.
    if other.rstrip(b"\x00") != key.rstrip(b"\x00"):
        with pytest.raises(ConfigError, match="signature does not match"):
            ScoringConfig.from_dict(signed, key=other)


# --- the training reference (schema 1.1) ---------------------------------------------


def test_a_fitted_config_stores_its_training_reference(fitted):
    reference = fitted.config.reference
    card = fitted.scorecard
    assert reference["measured_on"] == "training leads"
    assert reference["n_leads"] == len(fitted.train_rows) == sum(reference["score_counts"])
    assert len(reference["score_counts"]) == card.max_score - card.min_score + 1
    for entry, criterion in zip(reference["criteria"], card.criteria_, strict=True):
        assert entry["name"] == criterion.name
        rows = card.points_[card.points_["criterion"] == criterion.name]
        assert entry["leads"] == rows["n_leads"].tolist()
        assert sum(entry["leads"]) == len(fitted.train_rows)
        assert entry["wins"] == pytest.approx(rows["wins"].tolist())
        # Every band expects the wins its leads' calibrated scores say; in all, about the wins.
        assert len(entry["expected_wins"]) == len(entry["wins"])
        assert sum(entry["expected_wins"]) == pytest.approx(sum(entry["wins"]), rel=0.15)
    # Every categorical column lists the values its training leads had.
    train = fitted.leads.features.iloc[fitted.train_rows]
    for column, values in reference["categories"].items():
        assert values == sorted(train[column].dropna().astype(str).unique())
    assert ScoringConfig.from_dict(fitted.config.to_dict()).reference == reference


def _as_version_1_0(data: dict) -> dict:
    body = {k: v for k, v in data.items() if k not in ("reference", "checksum")}
    body["schema_version"] = "1.0"
    return {**body, "checksum": _checksum(body)}


def test_a_schema_1_0_config_still_loads_without_a_reference(fitted):
    old = ScoringConfig.from_dict(_as_version_1_0(fitted.config.to_dict()))
    assert old.reference == {} and old.criteria == fitted.config.criteria
    assert old.to_dict()["schema_version"] == SCHEMA_VERSION and "reference" not in old.to_dict()


def test_a_schema_1_0_config_with_a_reference_is_refused(fitted):
    data = _as_version_1_0(fitted.config.to_dict())
    data = _resign({**data, "reference": fitted.config.reference})
    with pytest.raises(ConfigError, match="a schema 1.0 config has no reference section"):
        ScoringConfig.from_dict(data)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (
            lambda r: r["criteria"].pop(),
            r"reference criteria \[.*\] are not the config's criteria",
        ),
        (
            lambda r: r["criteria"][0]["leads"].append(0),
            r"reference criterion '.*' has \d+ band leads counts for \d+ bands",
        ),
        (
            lambda r: r["criteria"][0]["leads"].__setitem__(0, r["criteria"][0]["leads"][0] + 1),
            r"reference criterion '.*' counts \d+ leads, not n_leads",
        ),
        (
            lambda r: r["criteria"][0]["wins"].__setitem__(0, 10**9),
            r"reference criterion '.*' has a band with more wins than leads",
        ),
        (lambda r: r["score_counts"].pop(), r"reference score_counts has 100 entries for the 101"),
        (
            lambda r: r["score_counts"].__setitem__(0, r["score_counts"][0] + 1),
            r"reference score_counts add up to \d+ leads, not n_leads",
        ),
    ],
    ids=[
        "criterion-missing",
        "leads-length",
        "leads-total",
        "wins",
        "scores-length",
        "scores-total",
    ],
)
def test_an_inconsistent_reference_is_refused(fitted, edit, match):
    data = fitted.config.to_dict()
    edit(data["reference"])
    with pytest.raises(ConfigError, match=match):
        ScoringConfig.from_dict(_resign(data))


def test_the_schema_refuses_a_negative_reference_count(fitted):
    data = fitted.config.to_dict()
    data["reference"]["criteria"][0]["leads"][0] = -1
    with pytest.raises(ConfigError, match="reference"):
        ScoringConfig.from_dict(_resign(data))


# --- pair criteria (schema 1.2) ------------------------------------------------


def _pair_config(**changes):
    title = _title(
        Band("VP", "levels", values=("VP",), points=20),
        Band("Other", "other", points=0),
        Band("Missing", "missing", points=0),
    )
    size = _size(Band("<500", "range", upper=500.0, points=0),
                 Band(">=500", "range", lower=500.0, points=10),
                 Band("Missing", "missing", points=0))  # fmt: skip
    pair = PairCriterion.of(Condition(title, (0,)), Condition(size, (1,))).with_points([12, 0])
    threshold = {"mql": 30, "policy": {"name": "manual"}}
    criteria = (title, size, pair)
    return ScoringConfig(criteria=criteria, base_points=5, threshold=threshold, **changes)


def test_a_config_with_a_pair_is_schema_1_2_and_scores_the_rule(tmp_path):
    config = _pair_config()
    assert config.to_dict()["schema_version"] == "1.2"
    assert small_config_version() == SCHEMA_VERSION == "1.1"
    config.save(tmp_path / "c.json")
    loaded = ScoringConfig.load(tmp_path / "c.json")
    assert loaded == config
    frame = pd.DataFrame({"title": ["VP", "VP", "CEO"], "company_size": [900, 100, 900]})
    scored = loaded.score(frame)
    assert scored["score"].tolist() == [5 + 20 + 10 + 12, 5 + 20, 5 + 10]


def small_config_version():
    return ScoringConfig(criteria=(SIZE,), base_points=0, threshold=THRESHOLD).schema_version


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d.update(schema_version="1.1"), "pair criteria need schema 1.2"),
        (lambda d: d["criteria"][2].update(group="implicit"), "explicit only when both"),
        (lambda d: d["criteria"][2]["cells"].reverse(), "rule cell, then an otherwise cell"),
        (lambda d: d["criteria"][2]["conditions"][0].update(bands=[7]), "names a band it lacks"),
        (lambda d: d["criteria"][2]["conditions"][0].update(bands=[0, 1, 2]), "takes every band"),
        (lambda d: d["criteria"][2]["conditions"].pop(), "conditions"),
        (lambda d: d["criteria"][2]["cells"][0].update(points=1.5), "cells/0/points"),
    ],
)
def test_a_broken_pair_is_refused_in_one_line(edit, match):
    data = _pair_config().to_dict()
    edit(data)
    with pytest.raises(ConfigError, match=match):
        ScoringConfig.from_dict(_resign(data))
