"""Export: the scoring config, the single source of truth for production.

:class:`ScoringConfig` holds everything a scorer needs: the criteria with
their bands and integer points, the base points, the score scale, the MQL
threshold and the policy that chose it, the hold-out calibration of score
bands, and metadata on the model and training data. It is plain JSON with a
``schema_version``, checked against the JSON Schema shipped in the package
(``calibrate/schema/scoring_config.schema.json``) and against its own
consistency; loading never executes code.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import math
import os
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..errors import ConfigError, ParameterError
from ..io.files import write_files
from ..sheet.criteria import Criterion
from ..sheet.pairs import PairCriterion

__all__ = [
    "SCHEMA_VERSION",
    "ScoringConfig",
    "config_schema",
    "key_from_env",
]

SCHEMA_VERSION = "1.1"
#: The version of a config holding a pair criterion; one without any is
#: written as :data:`SCHEMA_VERSION`, which scorers of 1.1 still read.
PAIR_SCHEMA_VERSION = "1.2"
#: Schema versions this calibrate reads: 1.0 has no training reference, and
#: only 1.2 holds pair criteria.
READABLE_VERSIONS = ("1.0", "1.1", "1.2")

#: A score scale lies within -SCALE_LIMIT to SCALE_LIMIT (calibrate fits 0-100).
SCALE_LIMIT = 1000
#: Band and base points lie within POINTS_WIDTHS widths of the score scale
#: either way (-1000 to 1000 on a 0-100 scale), and within POINTS_LIMIT.
POINTS_WIDTHS = 10
POINTS_LIMIT = 10_000


@cache
def config_schema() -> dict:
    """The JSON Schema of the scoring config, as shipped in the package."""
    text = (
        resources.files("calibrate.production")
        .joinpath("schema/scoring_config.schema.json")
        .read_text()
    )
    return json.loads(text)


@dataclass(frozen=True)
class ScoringConfig:
    """A versioned, self-checking scoring config.

    Parameters
    ----------
    criteria : tuple of Criterion and PairCriterion
        Criteria whose bands all carry integer points; pair rules (whose
        cells carry them) after the criteria of one column.
    base_points : int
        Points every lead starts with.
    threshold : dict
        ``{"mql": int, "policy": {...}, ...}``: leads scoring at least
        ``mql`` are MQLs.
    min_score, max_score : int
        The score scale; scores are clipped to it.
    id_column : str or None
        The lead id column; None means row numbers from 1.
    calibration : dict
        ``{"measured_on": ..., "bands": [...]}``: win rate per score band.
    model, training_data : dict
        Metadata: how the sheet was fitted and on what.
    activities : dict
        How behaviour features are computed from an activity log (see
        :class:`calibrate.sheet.activity.ActivitySpec`) and the decision time rule;
        empty when the sheet uses the lead table alone.
    reference : dict
        What the training leads looked like, for monitoring: ``n_leads``;
        ``criteria``, every criterion's training leads, wins and the wins
        its calibration expects, per band (``{"name", "leads", "wins",
        "expected_wins"}``, in band order); ``score_counts``,
        training leads per score from ``min_score`` to ``max_score``;
        ``categories``, the values seen per categorical column. Empty for a
        config made without one (schema 1.0).

    Notes
    -----
    The ``checksum`` (SHA-256 of the content) proves integrity, not origin:
    anyone editing the file can recompute it. A *signature* proves origin:
    :meth:`save` with ``sign_key`` adds an HMAC-SHA256 of the same content
    with a secret key, and :meth:`load` with ``key`` refuses a config that
    has no signature or one that does not match. It protects against a
    config edited or made by someone without the key; it does not protect
    the key itself (whoever holds it can sign anything), does not hide the
    config's content, does not stop an older config signed with the same key
    from being used again, and is only checked where a key is given.

    Examples
    --------
    >>> from calibrate.sheet.criteria import Band
    >>> crit = Criterion("title", "title", "categorical", "explicit", bands=(
    ...     Band("VP", "levels", values=("VP",), points=30),
    ...     Band("Other", "other", points=0), Band("Missing", "missing", points=0)))
    >>> config = ScoringConfig(criteria=(crit,), base_points=10, threshold={
    ...     "mql": 40, "policy": {"name": "manual"}})
    >>> config.score(pd.DataFrame({"title": ["VP", "CEO", None]}))
      row  score    mql
    0   1     40   True
    1   2     10  False
    2   3     10  False
    """

    criteria: tuple
    base_points: int
    threshold: dict
    min_score: int = 0
    max_score: int = 100
    id_column: str | None = None
    calibration: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)
    training_data: dict = field(default_factory=dict)
    activities: dict = field(default_factory=dict)
    reference: dict = field(default_factory=dict)

    def __post_init__(self):
        # Own copies of the mappings, so that no caller can change a frozen config.
        names = ("threshold", "calibration", "model", "training_data", "activities", "reference")
        for name in names:
            object.__setattr__(self, name, copy.deepcopy(getattr(self, name)))
        _check_consistency(self)

    def check_bounds(self) -> None:
        """Refuse a scale or points out of the sane range of a points sheet.

        Every config is checked when it is made or loaded; the scorers check
        again before they start, so that no sum of points can overflow.

        Raises
        ------
        ConfigError
            Naming the field and its value.
        """
        _check_bounds(self)

    @property
    def activity_spec(self):
        """The behaviour features as an ``ActivitySpec``, or None without activities."""
        if not self.activities:
            return None
        from ..sheet.activity import ActivitySpec

        return ActivitySpec.from_dict(self.activities)

    @property
    def schema_version(self) -> str:
        """The oldest schema that holds this config: 1.2 with a pair criterion, else 1.1."""
        pairs = any(isinstance(c, PairCriterion) for c in self.criteria)
        return PAIR_SCHEMA_VERSION if pairs else SCHEMA_VERSION

    @property
    def mql_threshold(self) -> int:
        """Leads scoring at least this are MQLs."""
        return int(self.threshold["mql"])

    def to_dict(self, sign_key: bytes | str | None = None) -> dict:
        """Plain JSON-ready mapping, with its checksum (and signature, with ``sign_key``).

        Parameters
        ----------
        sign_key : bytes or str, optional
            Secret key (text is encoded as UTF-8): adds ``signature``, an
            HMAC-SHA256 of the content the checksum covers. Without it the
            mapping has no ``signature`` field.
        """
        body = {
            "schema_version": self.schema_version,
            "calibrate_version": __version__,
            "id_column": self.id_column,
            "score": {
                "min": int(self.min_score),
                "max": int(self.max_score),
                "base_points": int(self.base_points),
            },
            "criteria": [c.to_dict() for c in self.criteria],
            "threshold": copy.deepcopy(self.threshold),
        }
        if self.activities:
            body["activities"] = copy.deepcopy(self.activities)
        if self.calibration:
            body["calibration"] = copy.deepcopy(self.calibration)
        if self.model:
            body["model"] = copy.deepcopy(self.model)
        if self.training_data:
            body["training_data"] = copy.deepcopy(self.training_data)
        if self.reference:
            body["reference"] = copy.deepcopy(self.reference)
        body["checksum"] = _checksum(body)
        if sign_key is not None:
            body["signature"] = _signature(_content(body), _signing_key(sign_key))
        return body

    @classmethod
    def from_dict(cls, data: dict, key: bytes | str | None = None) -> ScoringConfig:
        """Check a mapping against the schema, its checksum and its consistency.

        Parameters
        ----------
        data : dict
            The mapping, as read from JSON.
        key : bytes or str, optional
            The signing key: the config must carry a ``signature`` made with
            it (checked first, before anything else is read).

        Raises
        ------
        ConfigError
            Naming the first problem found and where it is.
        ParameterError
            When ``key`` is empty.
        """
        if not isinstance(data, dict):
            raise ConfigError(f"a scoring config is a JSON object, got {type(data).__name__}")
        version = data.get("schema_version")
        if version not in READABLE_VERSIONS:
            raise ConfigError(
                f"unsupported schema_version {version!r}; this calibrate reads "
                + " and ".join(repr(v) for v in READABLE_VERSIONS)
            )
        if version == "1.0" and "reference" in data:
            raise ConfigError("a schema 1.0 config has no reference section; found one")
        pairs = [c.get("name") for c in data.get("criteria") or [] if _is_pair_entry(c)]
        if pairs and version != PAIR_SCHEMA_VERSION:
            raise ConfigError(
                f"pair criterion {pairs[0]!r} in a schema {version} config: pair criteria "
                f"need schema {PAIR_SCHEMA_VERSION}"
            )
        try:
            content = _content(data)
            expected = _checksum(content)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"config is not plain JSON data: {exc}") from None
        if key is not None:
            _verify_signature(data.get("signature"), content, _signing_key(key))
        _validate_schema(data)
        if data.get("checksum") != expected:
            raise ConfigError(
                "checksum does not match the content: the config was edited by hand or damaged"
            )
        try:
            return cls._from_checked_dict(data)
        except ConfigError:
            raise
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
            # A backstop: the schema check catches a broken structure first.
            what = f"missing key {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
            raise ConfigError(
                f"config does not have the structure of a scoring config: {what}"
            ) from None

    @classmethod
    def _from_checked_dict(cls, data: dict) -> ScoringConfig:
        score = data["score"]
        try:
            criteria = tuple(
                PairCriterion.from_dict(c) if _is_pair_entry(c) else Criterion.from_dict(c)
                for c in data["criteria"]
            )
        except ValueError as exc:
            raise ConfigError(f"config criteria are inconsistent: {exc}") from None
        return cls(
            criteria=criteria,
            base_points=score["base_points"],
            threshold=data["threshold"],
            min_score=score["min"],
            max_score=score["max"],
            id_column=data.get("id_column"),
            calibration=data.get("calibration", {}),
            model=data.get("model", {}),
            training_data=data.get("training_data", {}),
            activities=data.get("activities", {}),
            reference=data.get("reference", {}),
        )

    def to_json(self, sign_key: bytes | str | None = None) -> str:
        """The config as JSON text (deterministic: same config and key, same bytes).

        Parameters
        ----------
        sign_key : bytes or str, optional
            Secret key: the JSON ends with a ``signature`` (see :meth:`to_dict`).
            Without it, the text is the same as that of an unsigned config
            always was.

        Raises
        ------
        ConfigError
            When the config does not match the schema (so :meth:`load` would
            reject it).
        ParameterError
            When ``sign_key`` is empty.
        """
        data = self.to_dict(sign_key=sign_key)
        _validate_schema(data)
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def save(self, path: os.PathLike | str, sign_key: bytes | str | None = None) -> Path:
        """Write the config as JSON, atomically; signed with ``sign_key`` when given.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from calibrate.sheet.criteria import Band
        >>> crit = Criterion("title", "title", "categorical", "explicit", bands=(
        ...     Band("VP", "levels", values=("VP",), points=30),
        ...     Band("Other", "other", points=0), Band("Missing", "missing", points=0)))
        >>> config = ScoringConfig(criteria=(crit,), base_points=10, threshold={
        ...     "mql": 40, "policy": {"name": "manual"}})
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "config.json"
        >>> _ = config.save(path, sign_key=b"secret")
        >>> ScoringConfig.load(path, key=b"secret") == config
        True
        >>> ScoringConfig.load(path, key=b"guess")
        Traceback (most recent call last):
        ...
        calibrate.errors.ConfigError: signature does not match: the config was not signed with \
this key, or it was changed after signing
        """
        return write_files({path: self.to_json(sign_key=sign_key)})[0]

    @classmethod
    def load(cls, path: os.PathLike | str, key: bytes | str | None = None) -> ScoringConfig:
        """Read and check a config file.

        Parameters
        ----------
        path : str or os.PathLike
            The config file.
        key : bytes or str, optional
            The signing key (see :func:`key_from_env`): refuse the config
            unless it carries a signature made with this key.

        Raises
        ------
        ConfigError
            When the file is missing, not JSON, or not a valid config; with
            ``key``, when it is not signed, or not with this key.
        ParameterError
            When ``key`` is empty.
        """
        path = Path(os.fspath(path))
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"config {path} is not UTF-8 text (byte {exc.start} cannot be read)"
            ) from None
        try:
            data = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
        except (json.JSONDecodeError, ValueError) as exc:
            raise ConfigError(f"config {path} is not valid JSON: {exc}") from None
        return cls.from_dict(data, key=key)

    def score(self, data, **kwargs) -> pd.DataFrame:
        """Score leads with this config alone.

        Keyword arguments (``sep``, ``encoding``, ``breakdown``) go to
        :func:`calibrate.production.scorer.score_leads`.
        """
        from .scorer import score_leads

        return score_leads(self, data, **kwargs)

    def points_sheet(self) -> pd.DataFrame:
        """One row per band: criterion, group, band, points."""
        return pd.DataFrame(
            [
                {"criterion": c.name, "group": c.group, "band": b.label, "points": b.points}
                for c in self.criteria
                for b in c.bands
            ]
        )


def _is_pair_entry(entry) -> bool:
    return isinstance(entry, dict) and entry.get("kind") == "pair"


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed in a scoring config")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        _reject_constant(text)  # e.g. 1e400, which Python would read as inf
    return value


def key_from_env(variable: str) -> bytes:
    """The signing key held by an environment variable: its value, as bytes.

    Keep the key out of the command line (where other users can read it in
    the process list) and out of the config: set it in the environment of
    the job that fits and of the jobs that score.

    Raises
    ------
    ParameterError
        When the variable is not set or empty, naming it.

    Examples
    --------
    >>> import os
    >>> os.environ["CALIBRATE_DOCTEST_KEY"] = "s3cret"
    >>> key_from_env("CALIBRATE_DOCTEST_KEY")
    b's3cret'
    >>> key_from_env("CALIBRATE_DOCTEST_UNSET")
    Traceback (most recent call last):
    ...
    calibrate.errors.ParameterError: environment variable CALIBRATE_DOCTEST_UNSET is not set; \
it should hold the signing key
    """
    value = os.environ.get(variable)
    if value is None:
        raise ParameterError(
            f"environment variable {variable} is not set; it should hold the signing key"
        )
    if not value:
        raise ParameterError(
            f"environment variable {variable} is empty; it should hold the signing key"
        )
    return os.fsencode(value)


#: How a signature starts: the algorithm, then the hex digest.
SIGNATURE_PREFIX = "hmac-sha256:"


def _signing_key(key: bytes | str) -> bytes:
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, bytes | bytearray):
        raise ParameterError(f"a signing key is bytes or text, got {type(key).__name__}")
    if not key:
        raise ParameterError("the signing key is empty")
    return bytes(key)


def _content(data: dict) -> dict:
    """What the checksum and the signature cover: every field but themselves."""
    return {k: v for k, v in data.items() if k not in ("checksum", "signature")}


def _canonical(body: dict) -> bytes:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def _signature(content: dict, key: bytes) -> str:
    return SIGNATURE_PREFIX + hmac.new(key, _canonical(content), hashlib.sha256).hexdigest()


def _verify_signature(signature, content: dict, key: bytes) -> None:
    if signature is None:
        raise ConfigError(
            "config is not signed, but a signing key was given: refusing an unsigned config"
        )
    if not isinstance(signature, str) or not hmac.compare_digest(
        signature.encode("utf-8", "replace"), _signature(content, key).encode("ascii")
    ):
        raise ConfigError(
            "signature does not match: the config was not signed with this key, or it was "
            "changed after signing"
        )


def _checksum(body: dict) -> str:
    return "sha256:" + hashlib.sha256(_canonical(body)).hexdigest()


def _validate_schema(data: dict) -> None:
    """Check ``data`` against the JSON Schema.

    With jsonschema installed, it validates. The standalone scorer needs only
    numpy and pandas: without jsonschema, :func:`_check_structure` checks the
    keywords the shipped schema uses (types, required and allowed keys,
    enumerations, bounds), so a broken structure is still a ConfigError.
    """
    try:
        import jsonschema
    except ImportError:
        _check_structure(data, config_schema())
        return
    validator = _strict_validator(jsonschema)(config_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ConfigError(f"config does not match the schema at {where}: {error.message}")


@cache
def _strict_validator(jsonschema):
    """Draft 2020-12, but an integer must be written as one (1.0 and 1e30 are not)."""
    checker = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, v: isinstance(v, int) and not isinstance(v, bool)
    )
    return jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=checker)


#: JSON Schema keywords :func:`_check_structure` checks; others are annotations.
STRUCTURE_KEYWORDS = frozenset(
    "$ref type const enum required properties additionalProperties items minItems minLength "
    "pattern minimum maximum exclusiveMinimum allOf oneOf if then else".split()
)

_JSON_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    # Strict: an integer is written as one; 1.0 or 1e30 is a number, not an integer.
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
}


class _Mismatch(Exception):
    pass


def _check_structure(data, schema: dict) -> None:
    """Check ``data`` against ``schema`` with the keywords of :data:`STRUCTURE_KEYWORDS`.

    A small stand-in for jsonschema, raising ConfigError at the first problem.

    Examples
    --------
    >>> _check_structure({"n": 1}, {"properties": {"n": {"enum": [2, 3]}}})
    Traceback (most recent call last):
    ...
    calibrate.errors.ConfigError: config does not match the schema at n: 1 is not one of [2, 3]
    """
    try:
        _match(data, schema, schema, [])
    except _Mismatch as exc:
        where, message = exc.args
        where = "/".join(str(p) for p in where) or "(top level)"
        raise ConfigError(f"config does not match the schema at {where}: {message}") from None


def _matches(value, schema: dict, root: dict) -> bool:
    try:
        _match(value, schema, root, [])
    except _Mismatch:
        return False
    return True


def _same_json(a, b) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _match(value, schema: dict, root: dict, path: list) -> None:
    def fail(message):
        raise _Mismatch(path, message)

    if "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        _match(value, target, root, path)
    if "type" in schema:
        types = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
        if not any(_JSON_TYPES[t](value) for t in types):
            fail(f"{value!r} is not of type {', '.join(repr(t) for t in types)}")
    if "const" in schema and not _same_json(value, schema["const"]):
        fail(f"{schema['const']!r} was expected")
    if "enum" in schema and not any(_same_json(value, e) for e in schema["enum"]):
        fail(f"{value!r} is not one of {schema['enum']!r}")
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key not in value:
                fail(f"{key!r} is a required property")
        known = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in known:
                _match(item, known[key], root, [*path, key])
            elif extra is False:
                fail(f"Additional properties are not allowed ({key!r} was unexpected)")
            elif isinstance(extra, dict):
                _match(item, extra, root, [*path, key])
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            fail(f"{value!r} should have at least {schema['minItems']} item(s)")
        if "items" in schema:
            for i, item in enumerate(value):
                _match(item, schema["items"], root, [*path, i])
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            fail(f"{value!r} is shorter than {schema['minLength']} character(s)")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            fail(f"{value!r} does not match {schema['pattern']!r}")
    if _JSON_TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            fail(f"{value!r} is less than the minimum of {schema['minimum']!r}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            fail(f"{value!r} is less than or equal to {schema['exclusiveMinimum']!r}")
        if "maximum" in schema and value > schema["maximum"]:
            fail(f"{value!r} is greater than the maximum of {schema['maximum']!r}")
    for part in schema.get("allOf", ()):
        _match(value, part, root, path)
    if "if" in schema:
        branch = "then" if _matches(value, schema["if"], root) else "else"
        if branch in schema:
            _match(value, schema[branch], root, path)
    if "oneOf" in schema:
        if sum(_matches(value, part, root) for part in schema["oneOf"]) != 1:
            fail(f"{value!r} is not valid under exactly one of the given schemas")


def _check_consistency(config: ScoringConfig) -> None:
    if not config.criteria:
        raise ConfigError("a config needs at least one criterion")
    _check_bounds(config)
    mql = config.threshold.get("mql") if isinstance(config.threshold, dict) else None
    if not _is_integer(mql):
        raise ConfigError(f"threshold mql must be an integer, got {mql!r}")
    if not config.min_score <= mql <= config.max_score:
        raise ConfigError(
            f"threshold mql {mql} is outside the score scale {config.min_score}-{config.max_score}"
        )
    names = [c.name for c in config.criteria]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"criterion names must be unique; repeated: {dupes}")
    for criterion in config.criteria:
        if isinstance(criterion, PairCriterion):
            _check_pair(criterion)
        else:
            _check_criterion(criterion)
    if config.activities:
        _check_activities(config.activities)
    _check_levels(config)
    if config.reference:
        from .reference import check_reference

        check_reference(config)


def _is_integer(value, numpy: bool = False) -> bool:
    """A Python int (or, with ``numpy``, a NumPy integer), never a bool or a float."""
    return isinstance(value, int | np.integer if numpy else int) and not isinstance(value, bool)


def _check_bounds(config: ScoringConfig) -> None:
    """Refuse a score scale or points out of the sane range of a points sheet.

    The scale lies within -:data:`SCALE_LIMIT` to :data:`SCALE_LIMIT`; base and
    band points are integers within :data:`POINTS_WIDTHS` widths of the scale
    either way (and :data:`POINTS_LIMIT`), so that no sum of points can
    overflow a scorer's integers. A fitted sheet is far inside: the training
    leads between the 1% and 99% quantiles of the model's log-odds span the
    scale exactly, so a band worth ten widths of it would move a lead ten
    times across the whole scale on its own.

    The scorers call it too: scoring never starts on a config out of bounds.

    Raises
    ------
    ConfigError
        Naming the field and its value.
    """
    for name, value in (("score min", config.min_score), ("score max", config.max_score)):
        if not _is_integer(value, numpy=True):
            raise ConfigError(f"{name} must be an integer, got {value!r}")
        if not -SCALE_LIMIT <= value <= SCALE_LIMIT:
            raise ConfigError(
                f"{name} {value} is outside the supported scale -{SCALE_LIMIT} to {SCALE_LIMIT}"
            )
    if config.max_score <= config.min_score:
        raise ConfigError(f"score max {config.max_score} is not above min {config.min_score}")
    limit = min(POINTS_LIMIT, POINTS_WIDTHS * (config.max_score - config.min_score))
    why = (
        f"-{limit} to {limit}, {POINTS_WIDTHS} times the width of the score scale "
        f"{config.min_score}-{config.max_score}"
    )
    if not _is_integer(config.base_points, numpy=True):
        raise ConfigError(f"base points must be an integer, got {config.base_points!r}")
    if abs(config.base_points) > limit:
        raise ConfigError(f"base points {config.base_points} are outside {why}")
    for criterion in config.criteria:
        for band in criterion.bands:
            where = f"criterion {criterion.name!r}, band {band.label!r}"
            if not _is_integer(band.points):
                raise ConfigError(f"{where}: points must be an integer, got {band.points!r}")
            if abs(band.points) > limit:
                raise ConfigError(f"{where}: points {band.points} are outside {why}")


def _check_levels(config: ScoringConfig) -> None:
    levels = config.threshold.get("levels")
    if levels:
        starts = [level["min_score"] for level in levels]
        bad = [s for s in starts if not _is_integer(s)]
        if bad:
            raise ConfigError(f"levels must start at integer scores; got {bad[0]!r}")
        if starts[0] > config.max_score:
            raise ConfigError(
                f"level {levels[0]['name']!r} starts at {starts[0]}, above the scale's "
                f"maximum {config.max_score}: no score reaches it"
            )
        if starts != sorted(set(starts), reverse=True):
            raise ConfigError(f"levels must start at distinct, decreasing scores; got {starts}")
        if starts[-1] != config.min_score:
            raise ConfigError(
                f"the last level must start at the scale's minimum {config.min_score}, "
                f"not {starts[-1]}"
            )
    known = set(config.activities.get("known_types", ())) if config.activities else set()
    for rule in config.threshold.get("fast_track", []):
        if rule.get("kind") == "activity" and rule.get("activity_type") not in known:
            raise ConfigError(
                f"fast-track rule on activity type {rule.get('activity_type')!r}, which the "
                "config's activities do not know"
            )


def _check_activities(activities: dict) -> None:
    from ..sheet.activity import ActivitySpec
    from ..sheet.feature import exact_decay_is_safe

    try:
        spec = ActivitySpec.from_dict(activities)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"config activities are inconsistent: {exc}") from None
    names = [f.name for f in spec.features]
    if len(set(names)) != len(names):
        raise ConfigError(f"activity feature names must be unique: {names}")
    for feature in spec.features:
        unknown = [t for t in feature.types if t not in spec.known_types]
        if unknown:
            raise ConfigError(
                f"activity feature {feature.name!r} reads types never seen in training: {unknown}"
            )
        kernel = feature.kernel
        if kernel is not None and kernel.kind == "decay":
            if not exact_decay_is_safe(kernel.days, spec.lookback_days + 1):
                raise ConfigError(
                    f"activity feature {feature.name!r}: half-life {kernel.days} makes decayed "
                    "weights round differently between engines; use another half-life"
                )


def _check_pair(pair: PairCriterion) -> None:
    """A pair: two conditions on two well-formed criteria, a rule cell, then "otherwise"."""
    where = f"pair criterion {pair.name!r}"
    if [c.kind for c in pair.cells] != ["rule", "otherwise"]:
        raise ConfigError(f"{where} needs a rule cell, then an otherwise cell")
    names = [c.criterion.name for c in (pair.first, pair.second)]
    if names[0] == names[1]:
        raise ConfigError(f"{where}: both conditions are on {names[0]!r}")
    groups = {c.criterion.group for c in (pair.first, pair.second)}
    group = "explicit" if groups == {"explicit"} else "implicit"
    if pair.group != group:
        raise ConfigError(
            f"{where}: group {pair.group!r}, but its criteria make it {group!r} "
            "(explicit only when both criteria are)"
        )
    for condition in (pair.first, pair.second):
        _check_criterion(condition.criterion)


def _check_criterion(criterion: Criterion) -> None:
    where = f"criterion {criterion.name!r}"
    kinds = [b.kind for b in criterion.bands]
    for band in criterion.bands:
        if band.kind == "range" and not all(
            x is None or math.isfinite(x) for x in (band.lower, band.upper)
        ):
            raise ConfigError(f"{where}, band {band.label!r}: range bounds must be finite")
    if kinds.count("missing") != 1:
        raise ConfigError(f"{where} needs exactly one missing band, has {kinds.count('missing')}")
    if criterion.kind == "numeric":
        ranges = [b for b in criterion.bands if b.kind == "range"]
        if not ranges:
            raise ConfigError(f"{where} is numeric: it needs range bands")
        if len(ranges) + 1 != len(kinds):
            raise ConfigError(f"{where} is numeric: only range bands and one missing band")
        if ranges[0].lower is not None or ranges[-1].upper is not None:
            raise ConfigError(
                f"{where}: range bands must cover all numbers (first open below, last above)"
            )
        for left, right in zip(ranges[:-1], ranges[1:], strict=True):
            if left.upper is None or right.lower is None or left.upper != right.lower:
                raise ConfigError(
                    f"{where}: bands {left.label!r} and {right.label!r} leave a gap or overlap "
                    f"({left.upper} vs {right.lower})"
                )
        return
    if "range" in kinds:
        raise ConfigError(f"{where} is {criterion.kind}: range bands are for numeric criteria")
    if kinds.count("other") > 1:
        raise ConfigError(f"{where} has more than one 'other' band")
    seen: dict[str, str] = {}
    for band in criterion.bands:
        for value in band.values:
            if value in seen:
                raise ConfigError(
                    f"{where}: value {value!r} is in both band {seen[value]!r} and {band.label!r}"
                )
            seen[value] = band.label
