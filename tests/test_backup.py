"""A backup restores whole: pg_dump of a database in use, pg_restore into an empty database, and every
row of every table, history included, is there (docs/operations.md describes the procedure)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.apps import apps
from django.db import connection

from evidence.models import Study
from evidence.services import article_revise, study_set_retraction
from reviews.models import Flag
from reviews.services import claim_adjudicate, flag_close, flag_raise, review_submit
from tests.builders import graded

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pg_dump", "pg_restore")),
    reason="pg_dump and pg_restore (package postgresql-client) are needed",
)


def pg_env() -> dict[str, str]:
    settings = connection.settings_dict
    return {
        **os.environ,
        "PGHOST": settings["HOST"] or "127.0.0.1",
        "PGPORT": str(settings["PORT"] or 5432),
        "PGUSER": settings["USER"],
        "PGPASSWORD": settings["PASSWORD"],
    }


def run(*command: str) -> None:
    result = subprocess.run(command, env=pg_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(command)}: {result.stderr}"


def connect(name: str):
    settings = connection.settings_dict
    return psycopg2.connect(
        dbname=name,
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
    )


def snapshot(name: str, tables: list[str]) -> dict[str, tuple[int, str | None]]:
    """Each table's row count and a digest of all its rows (in a fixed order)."""
    conn = connect(name)
    try:
        with conn.cursor() as cursor:
            result = {}
            for table in tables:
                cursor.execute(f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"{table}\" t")
                result[table] = cursor.fetchone()
            return result
    finally:
        conn.close()


def model_tables() -> list[str]:
    """Every table Django manages: the models, their history tables and many-to-many tables."""
    tables = set()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            tables.add(model._meta.db_table)
    return sorted(tables)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_dump_restores_into_an_empty_database_with_every_row_and_every_history_entry(seed, make_user, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("backups are PostgreSQL dumps; CI runs on PostgreSQL")
    # changes that leave history: reviews, an adjudication, flags raised and closed, a retraction, a revision
    claim = seed.claims.order_by("start").first()
    rita, sam, edna = make_user("Reviewers"), make_user("Reviewers"), make_user("Editors")
    review_submit(
        claim=claim, reviewer=rita, certainty="high", verdict="supported", rationale="Two trials.", **graded("high")
    )
    review_submit(
        claim=claim, reviewer=sam, certainty="low", verdict="unsupported", rationale="Small samples.", **graded("low")
    )
    review_submit(
        claim=claim,
        reviewer=sam,
        certainty="moderate",
        verdict="partly_supported",
        rationale="Revised.",
        **graded("moderate"),
    )
    claim_adjudicate(
        claim=claim, certainty="moderate", verdict="partly_supported", rationale="Split.", adjudicated_by=edna
    )
    flag = flag_raise(claim=claim, reason=Flag.Reason.OVERSTATED, note="Too strong.", raised_by=edna)
    flag_close(flag=flag, status=Flag.Status.RESOLVED, closed_by=edna, note="Reworded.")
    study_set_retraction(study=claim.citations.first().study, status="retracted", note="Fabricated data.")
    article_revise(article=seed, text=seed.text + "\nA closing line.\n", headings=seed.headings, note="typo")

    name = connection.settings_dict["NAME"]
    tables = model_tables()
    history_tables = [t for t in tables if "historical" in t]
    assert len(history_tables) >= 6  # articles' revisions aside: claims, studies, citations, reviews, ...
    before = snapshot(name, tables)
    assert all(before[t][0] > 0 for t in ("evidence_historicalclaim", "evidence_historicalstudy"))
    assert before["reviews_historicalreview"][0] == 3 and before["reviews_historicalflag"][0] >= 2
    assert before[Study._meta.db_table][0] == 46

    dump = tmp_path / "evidence.dump"
    restored = f"{name}_restore_{uuid.uuid4().hex[:8]}"
    run("pg_dump", "--format=custom", "--no-owner", "--file", str(dump), name)
    assert Path(dump).stat().st_size > 0
    run("createdb", restored)
    try:
        run("pg_restore", "--no-owner", "--exit-on-error", "--dbname", restored, str(dump))
        after = snapshot(restored, tables)
    finally:
        run("dropdb", "--if-exists", restored)
    differing = {t: (before[t], after[t]) for t in tables if before[t] != after[t]}
    assert differing == {}
