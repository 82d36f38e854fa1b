"""The scorer stands alone: scoring with a config needs only numpy, pandas and pyarrow.

Each test here runs a fresh interpreter in which the fitting stack (and
jsonschema) cannot be imported, loads configs fitted in this process and
checks that it scores exactly like the normal, in-process scorer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

import calibrate
from calibrate import ConfigError, ScoringConfig, score_leads
from calibrate.datasets import make_leads
from calibrate.production.config import (
    STRUCTURE_KEYWORDS,
    _check_structure,
    _checksum,
    config_schema,
)

#: What a production scorer must not need (imported by the fitting stack).
BLOCKED = (
    "sklearn",
    "scipy",
    "matplotlib",
    "duckdb",
    "sqlglot",
    "jinja2",
    "typer",
    "rich",
    "yaml",
    "jsonschema",
)

#: Prepended to every script: a meta-path finder that makes BLOCKED modules
#: (and their submodules) fail to import, as if they were not installed.
BLOCKER = f"""
import importlib.abc
import sys

BLOCKED = {BLOCKED!r}


class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
        return None


sys.meta_path.insert(0, Blocker())
"""

#: Appended to every script: none of them was imported after all.
CHECK_NOTHING_BLOCKED_LOADED = """
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(BLOCKED))
assert not loaded, f"imported: {loaded}"
print("BLOCKED-NOT-LOADED")
"""


def run_blocked(script: str, cwd: Path) -> str:
    """Run ``script`` in a fresh interpreter with BLOCKED unimportable; its output."""
    src = str(Path(calibrate.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    code = BLOCKER + textwrap.dedent(script) + CHECK_NOTHING_BLOCKED_LOADED
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "BLOCKED-NOT-LOADED" in result.stdout
    return result.stdout


# --------------------------------------------------------------------------- fitted configs


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """A config fitted on generated leads (no activity log), saved, and the leads as files."""
    folder = tmp_path_factory.mktemp("plain")
    leads = make_leads(2000, seed=3)
    config = calibrate.fit(leads, outcome="converted", id="lead_id", seed=0, bootstrap=0).config
    config.save(folder / "config.json")
    leads.to_parquet(folder / "leads.parquet", index=False)
    leads.to_csv(folder / "leads.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def behaviour(tmp_path_factory):
    """A config scoring behaviour from an activity log (with decay), saved, and its files."""
    folder = tmp_path_factory.mktemp("behaviour")
    leads, log = make_leads(2000, seed=4, activities=True)
    config = calibrate.fit(
        leads,
        outcome="converted",
        id="lead_id",
        activities=log,
        decided_at="decided_at",
        seed=0,
        bootstrap=0,
    ).config
    assert config.activities and any(
        f["kernel"]["kind"] == "decay" for f in config.activities["features"] if "kernel" in f
    )
    config.save(folder / "config.json")
    leads.to_parquet(folder / "leads.parquet", index=False)
    log.to_parquet(folder / "activities.parquet", index=False)
    log.to_csv(folder / "activities.csv", index=False)
    return folder


def _expected(folder: Path, **kwargs) -> pd.DataFrame:
    config = ScoringConfig.load(folder / "config.json")
    return score_leads(config, pd.read_parquet(folder / "leads.parquet"), breakdown=True, **kwargs)


# --------------------------------------------------------------------------- scoring


def test_plain_config_scores_alike_without_the_fitting_stack(plain):
    run_blocked(
        """
        import pandas as pd
        import calibrate.production.scorer
        from calibrate import ScoringConfig, score_leads

        for name in ("jsonschema", "sklearn", "scipy.stats", "yaml"):
            try:
                __import__(name)
            except ImportError:
                pass
            else:
                raise AssertionError(f"{name} is importable")
        config = ScoringConfig.load("config.json")
        frame = pd.read_parquet("leads.parquet")
        score_leads(config, frame, breakdown=True).to_pickle("frame.pkl")
        score_leads(config, "leads.parquet", breakdown=True).to_pickle("parquet.pkl")
        config.score("leads.csv", breakdown=True).to_pickle("csv.pkl")
        """,
        plain,
    )
    expected = _expected(plain)
    assert expected["score"].nunique() > 20 and 0 < expected["mql"].mean() < 1
    for name in ("frame", "parquet", "csv"):
        pd.testing.assert_frame_equal(pd.read_pickle(plain / f"{name}.pkl"), expected)


def test_behaviour_config_scores_alike_without_the_fitting_stack(behaviour):
    run_blocked(
        """
        import pandas as pd
        from calibrate import ScoringConfig, score_leads

        config = ScoringConfig.load("config.json")
        frame = pd.read_parquet("leads.parquet")
        log = pd.read_parquet("activities.parquet")
        out = score_leads(config, frame, activities=log, breakdown=True)
        out.to_pickle("decision.pkl")
        out = score_leads(
            config, "leads.parquet", activities="activities.csv", as_of="2026-03-01",
            breakdown=True,
        )
        out.to_pickle("as_of.pkl")
        """,
        behaviour,
    )
    log = pd.read_parquet(behaviour / "activities.parquet")
    at_decision = _expected(behaviour, activities=log)
    later = _expected(behaviour, activities=log, as_of="2026-03-01")
    pd.testing.assert_frame_equal(pd.read_pickle(behaviour / "decision.pkl"), at_decision)
    pd.testing.assert_frame_equal(pd.read_pickle(behaviour / "as_of.pkl"), later)
    # Behaviour counts, and decays: scored a long while later, leads lose points.
    assert not at_decision["score"].equals(later["score"])
    assert later["score"].mean() < at_decision["score"].mean()


# --------------------------------------------------------------------------- broken configs


def _break(data: dict, how: str) -> dict:
    data = json.loads(json.dumps(data))
    if how == "band without kind":
        del data["criteria"][0]["bands"][0]["kind"]
    elif how == "band points as text":
        data["criteria"][0]["bands"][0]["points"] = "10"
    elif how == "criteria not a list":
        data["criteria"] = {"size": data["criteria"][0]}
    elif how == "score without base points":
        del data["score"]["base_points"]
    elif how == "level without name":
        data["threshold"]["levels"] = [{"min_score": data["score"]["min"]}]
    elif how == "fast-track rule without column":
        data["threshold"]["fast_track"] = [{"kind": "column", "equals": "true"}]
    elif how == "decision time not an object":
        data["activities"]["decision_time"] = "decided_at"
    elif how == "feature kernel without kind":
        feature = next(f for f in data["activities"]["features"] if "kernel" in f)
        del feature["kernel"]["kind"]
    else:
        raise ValueError(how)
    data.pop("checksum")
    data["checksum"] = _checksum(data)  # a consistent checksum: the structure is the problem
    return data


BROKEN = [
    "band without kind",
    "band points as text",
    "criteria not a list",
    "score without base points",
    "level without name",
    "fast-track rule without column",
    "decision time not an object",
    "feature kernel without kind",
]


@pytest.fixture(scope="module")
def broken(behaviour, tmp_path_factory):
    """Each broken config as a file, named by how it is broken."""
    folder = tmp_path_factory.mktemp("broken")
    data = json.loads((behaviour / "config.json").read_text())
    for i, how in enumerate(BROKEN):
        (folder / f"{i}.json").write_text(json.dumps(_break(data, how)))
    return folder


def test_broken_structure_is_a_config_error_without_jsonschema(broken):
    out = run_blocked(
        f"""
        import json
        from calibrate import ConfigError, ScoringConfig

        results = []
        for i in range({len(BROKEN)}):
            try:
                ScoringConfig.load(f"{{i}}.json")
            except ConfigError as exc:
                results.append(["ConfigError", str(exc)])
            except Exception as exc:
                results.append([type(exc).__name__, str(exc)])
            else:
                results.append(["loaded", ""])
        print("RESULTS", json.dumps(results))
        """,
        broken,
    )
    line = next(x for x in out.splitlines() if x.startswith("RESULTS "))
    results = dict(zip(BROKEN, json.loads(line.removeprefix("RESULTS ")), strict=True))
    assert {how: kind for how, (kind, _) in results.items()} == dict.fromkeys(
        BROKEN, "ConfigError"
    )
    assert results["band without kind"][1] == (
        "config does not match the schema at criteria/0/bands/0: 'kind' is a required property"
    )


@pytest.mark.parametrize("how", BROKEN)
def test_broken_structure_is_a_config_error_with_jsonschema(broken, how):
    with pytest.raises(ConfigError, match="does not match the schema"):
        ScoringConfig.load(broken / f"{BROKEN.index(how)}.json")


def test_without_jsonschema_the_checks_still_run(behaviour, monkeypatch):
    """In-process: jsonschema made unimportable, the same configs load or fail."""
    data = json.loads((behaviour / "config.json").read_text())
    monkeypatch.setitem(sys.modules, "jsonschema", None)  # import jsonschema -> ImportError
    assert ScoringConfig.from_dict(data) == ScoringConfig.load(behaviour / "config.json")
    for how in BROKEN:
        with pytest.raises(ConfigError, match="does not match the schema"):
            ScoringConfig.from_dict(_break(data, how))
    edited = json.loads(json.dumps(data))
    edited["score"]["base_points"] += 1
    with pytest.raises(ConfigError, match="checksum does not match"):
        ScoringConfig.from_dict(edited)
    inconsistent = json.loads(json.dumps(data))
    inconsistent["threshold"]["mql"] = inconsistent["score"]["max"] + 1
    del inconsistent["checksum"]
    inconsistent["checksum"] = _checksum(inconsistent)
    with pytest.raises(ConfigError, match="outside the score scale"):
        ScoringConfig.from_dict(inconsistent)


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        items = ()
    for key, item in items:
        yield from _paths(item, (*path, key))


def test_structure_check_agrees_with_jsonschema(behaviour):
    """The stand-in check accepts and rejects what jsonschema does, for many edits."""
    import random

    data = json.loads((behaviour / "config.json").read_text())
    for free_form in ("model", "training_data"):  # any object: nothing to check inside
        data.pop(free_form, None)
    schema = config_schema()
    validator = jsonschema.Draft202012Validator(schema)
    paths = [p for p in _paths(data) if p]
    values = [None, "x", "", 0, -1, 1.5, True, [], {}, ["x"], {"a": 1}, "range", "column"]
    rng = random.Random(0)
    rejected = 0
    for _ in range(250):
        edited = json.loads(json.dumps(data))
        path = rng.choice(paths)
        parent = edited
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and rng.random() < 0.4:
            del parent[path[-1]]
        else:
            parent[path[-1]] = rng.choice(values)
        valid = not list(validator.iter_errors(edited))
        try:
            _check_structure(edited, schema)
        except ConfigError:
            assert not valid, path
            rejected += 1
        else:
            assert valid, path
    assert rejected > 75


def test_structure_check_knows_every_keyword_of_the_schema():
    annotations = {"$schema", "$id", "$defs", "title", "description"}
    used = set()

    def walk(node, parent=None):
        if isinstance(node, dict):
            for key, value in node.items():
                if parent not in ("properties", "$defs"):
                    used.add(key)
                walk(value, key)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config_schema())
    assert used - annotations <= STRUCTURE_KEYWORDS


# --------------------------------------------------------------------------- lazy package


def test_public_names_are_lazy_but_all_there():
    import calibrate as package

    assert package.__version__ == "0.1.0"
    for name in package.__all__:
        assert getattr(package, name) is not None
        assert name in dir(package)
    from calibrate import Calibration, fit

    assert callable(fit) and isinstance(Calibration, type)
    assert package.datasets.make_leads is make_leads  # submodules too
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        package.no_such_name  # noqa: B018
    with pytest.raises(ImportError):
        from calibrate import no_such_name  # noqa: F401
