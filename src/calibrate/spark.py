"""Scoring in Spark: a config's points for a Spark DataFrame, as a Spark DataFrame.

:func:`score` runs the config's Spark SQL (:func:`calibrate.scoring_sql` in
the ``spark`` dialect, exact against the Python scorer) on the session of
the leads given. Nothing is collected: the result is a lazy DataFrame, to
write to a table or join to others, on as many leads as the cluster holds.

Fitting in Spark is :func:`calibrate.fit` given Spark DataFrames (or
``spark:`` tables): the activity log's work then runs in Spark, and only
per-lead features come back (see :mod:`calibrate.io.engines`).
"""

from __future__ import annotations

import uuid

from .errors import ParameterError
from .io.engines import is_spark_frame

__all__ = ["score"]


def score(leads, config, *, activities=None, as_of=None, reasons: int = 0, id_column=None):
    """Score every lead of a Spark DataFrame with a config, in Spark.

    Parameters
    ----------
    leads : pyspark.sql.DataFrame
        The leads: the config's id column and every column its criteria read
        (and its decision-time column when it scores behaviour without
        ``as_of``).
    config : ScoringConfig, str or os.PathLike
        The scoring config, or the path of its JSON file.
    activities : pyspark.sql.DataFrame, optional
        The activity log, with the columns the config names; needed when the
        config scores behaviour.
    as_of : str or datetime, optional
        Score behaviour as of this moment (``"now"`` for the time the query
        runs); by default each lead's decision time.
    reasons : int, default=0
        Also return ``reason_1`` .. ``reason_<reasons>``, each lead's largest
        contributions in words.
    id_column : str, optional
        The lead id column, for a config that names none.

    Returns
    -------
    pyspark.sql.DataFrame
        One row per lead: the id, the points of every criterion, the score,
        the level and whether the lead passes the threshold or is fast-tracked
        (the columns of :func:`calibrate.scoring_sql`). Lazy: nothing runs
        until it is written or collected.

    Raises
    ------
    ParameterError
        When ``leads`` (or ``activities``) is not a Spark DataFrame, or a
        behaviour config comes without its activity log.

    Examples
    --------
    In a Spark session ``spark`` (not run here: it needs one):

    >>> import calibrate.spark  # doctest: +SKIP
    >>> leads = spark.table("crm.leads")  # doctest: +SKIP
    >>> scored = calibrate.spark.score(leads, "fit/scoring_config.json")  # doctest: +SKIP
    >>> scored.write.mode("overwrite").saveAsTable("crm.lead_scores")  # doctest: +SKIP
    """
    from .production.config import ScoringConfig
    from .production.sql_export import scoring_sql

    if not is_spark_frame(leads):
        raise ParameterError(
            f"calibrate.spark.score takes a Spark DataFrame of leads, not {type(leads).__name__}"
        )
    if activities is not None and not is_spark_frame(activities):
        raise ParameterError(
            "calibrate.spark.score takes the activity log as a Spark DataFrame, not "
            f"{type(activities).__name__}"
        )
    if not isinstance(config, ScoringConfig):
        config = ScoringConfig.load(config)
    session = leads.sparkSession
    tag = uuid.uuid4().hex[:12]
    names = {"leads": f"calibrate_score_leads_{tag}"}
    leads.createOrReplaceTempView(names["leads"])
    if activities is not None:
        names["activities"] = f"calibrate_score_activities_{tag}"
        activities.createOrReplaceTempView(names["activities"])
    try:
        query = scoring_sql(
            config,
            dialect="spark",
            leads_table=names["leads"],
            activities_table=names.get("activities"),
            as_of=as_of,
            id_column=id_column,
            pretty=False,
            reasons=reasons,
        )
        # The query's time arithmetic is in UTC, as the Python scorer's; the
        # plan is analysed here, so the session's zone is restored at once.
        zone = session.conf.get("spark.sql.session.timeZone", None)
        session.conf.set("spark.sql.session.timeZone", "UTC")
        try:
            return session.sql(query)
        finally:
            if zone is not None:
                session.conf.set("spark.sql.session.timeZone", zone)
    finally:
        # The DataFrame keeps its analysed plan; the names are not needed any more.
        for name in names.values():
            session.catalog.dropTempView(name)
