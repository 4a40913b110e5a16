"""Shared fixtures. Tests run against the database in DATABASE_URL: PostgreSQL in CI (.ci/run)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission, User
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Model
from django.test.utils import override_settings

from evidence.caching import touch
from evidence.importers.article import load
from evidence.models import Article, Claim
from evidence.services import article_import

# The role groups' permissions as the migrations leave them: 0003 made the roles, 0007 gave Editors the
# about page and reader reports (each migration's own list, so a flushed database gets them back exactly).
ROLES: dict[str, list[tuple[str, str]]] = {
    name: list(codenames) for name, codenames in importlib.import_module("reviews.migrations.0003_roles").ROLES.items()
}
ROLES["Editors"] += importlib.import_module("reviews.migrations.0007_reader_reports").EDITOR_PERMISSIONS
ROLES["Editors"] += importlib.import_module("reviews.migrations.0010_assignments_and_notifications").EDITOR_PERMISSIONS

ROOT = Path(__file__).resolve().parent.parent
SEED_DIR = ROOT / "fixtures" / "ketamine-mdma"
SEED_FILE = SEED_DIR / "article.json"
SAMPLES = Path(__file__).resolve().parent / "samples"
SEED_SLUG = "ketamine-vs-mdma-in-psychotherapy"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every transactional test restores what migrations created (content types, permissions, the role
    groups, the data version row) after the flush, whether it asks by marker, by fixture or through
    live_server. A flush without it runs post_migrate, which re-creates content types under new ids, and
    the next test that restores them collides: which test failed then depended on the order tests ran in."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker else {}
        transactional = kwargs.get("transaction") or {"live_server", "transactional_db"} & set(item.fixturenames)
        if transactional and not kwargs.get("serialized_rollback"):
            kwargs.update(transaction=True, serialized_rollback=True)
            item.add_marker(pytest.mark.django_db(**kwargs), append=False)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Production hashes passwords slowly on purpose; tests create hundreds of users."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True, scope="session")
def _static_files_without_manifest():
    """Production settings hash static files through a manifest that collectstatic writes; tests
    render templates without running collectstatic, so they use the plain storage."""
    with override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ):
        yield


@pytest.fixture(autouse=True, scope="session")
def _no_page_cache():
    """Whole pages are cached per data version, and the version only moves when a transaction commits,
    which tests wrapped in a transaction never do: a page fetched again after a change would come from
    the cache. tests/test_caching.py turns the page cache on where it commits its changes."""
    with override_settings(PAGE_CACHE=False):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Cached aggregates are keyed by the data version, which only moves when a transaction commits;
    tests wrapped in a transaction never commit, so each starts with an empty cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True, scope="session")
def _database_is_what_ci_asked_for(django_db_setup, django_db_blocker):
    """CI sets EVIDENCE_REQUIRE_POSTGRES=1: the suite must not fall back to SQLite silently."""
    if os.environ.get("EVIDENCE_REQUIRE_POSTGRES") == "1":
        with django_db_blocker.unblock():
            assert connection.vendor == "postgresql", f"CI must test on PostgreSQL, got {connection.vendor}"


@pytest.fixture
def transactional_db(django_db_serialized_rollback, transactional_db):
    """Every transactional test restores what migrations created (content types, permissions, the role
    groups, the data version row) after flushing. Without it, a flush re-creates content types and the
    next serialized restore collides with them."""
    return transactional_db


Rows = dict[type[Model], dict[object, dict[str, object]]]


def _all_rows() -> Rows:
    """Every row of every table a model of ours or of an installed app has (history and m2m tables too)."""
    return {
        model: {row[model._meta.pk.attname]: row for row in model._meta.base_manager.values()}
        for model in django_apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }


@pytest.fixture(scope="session")
def _seed_rows(django_db_setup, django_db_blocker) -> dict[type[Model], list[dict[str, object]]]:
    """What importing the seed writes, row for row, recorded once per test process (once per xdist worker):
    the import runs for real, as `make run` runs it, in a transaction that is then rolled back. About 2,000
    queries an import; seed and committed_seed below put the same rows back in a handful."""
    with django_db_blocker.unblock(), transaction.atomic():
        before = _all_rows()
        article_import(bundle=load(SEED_FILE))
        after = _all_rows()
        transaction.set_rollback(True)
    assert all(before[model].keys() <= after[model].keys() for model in before), "the seed import deletes nothing"
    # the import only adds rows: a row it changed would need an update, not an insert
    assert all(before[model][pk] == after[model][pk] for model in before for pk in before[model])
    written = {model: [row for pk, row in rows.items() if pk not in before[model]] for model, rows in after.items()}
    return {model: rows for model, rows in written.items() if rows}


def _put_the_seed_back(rows: dict[type[Model], list[dict[str, object]]]) -> Article:
    """The rows the seed import wrote (_seed_rows), inserted again with the same primary keys in one
    transaction, as the import writes them in one; foreign keys are checked at its end, so the tables' order
    does not matter. Like every write that bypasses model signals (evidence/caching.py), it calls touch():
    the versions move once when the transaction commits (committed_seed), never when a test's transaction
    rolls back (seed)."""
    with transaction.atomic():
        for model, model_rows in rows.items():
            model._meta.base_manager.bulk_create(model(**row) for row in model_rows)
        touch()
    return Article.objects.get(slug=SEED_SLUG)


@pytest.fixture
def seed(db, _seed_rows) -> Article:
    """The seed article with its 38 claims, 46 studies and 109 citations, as `make run` loads it: the rows
    of one real import (_seed_rows). tests/test_seed.py imports the file again over it and finds nothing to
    change; the import itself is tested there and in tests/test_import_article.py."""
    return _put_the_seed_back(_seed_rows)


@pytest.fixture
def committed_seed(transactional_db, _seed_rows) -> Article:
    """The seed article, committed: for what only happens after a commit (the data version moves, a live
    server's thread sees the rows). The test is transactional; serialized rollback (transactional_db
    above) puts back what migrations created after the tables are flushed."""
    return _put_the_seed_back(_seed_rows)


@pytest.fixture
def claim(request: pytest.FixtureRequest) -> Callable[[str], Claim]:
    """claim("K1") → the seed claim with that key. Uses committed_seed when the test has it (a transactional
    test), else seed; either is loaded once."""
    article = request.getfixturevalue("committed_seed" if "committed_seed" in request.fixturenames else "seed")

    def get(key: str) -> Claim:
        return article.claims.get(key=key)

    return get


def _recreate_roles() -> None:
    """What the role migrations (reviews 0003, 0007, 0010) do, for a database a transactional test flushed."""
    for app_label in ("evidence", "reviews"):
        create_permissions(django_apps.get_app_config(app_label), verbosity=0)
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in codenames:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    """make_user("Reviewers") → a staff user in that group; make_user() → a plain signed-up user."""
    counter = iter(range(1, 10_000))

    if Group.objects.count() < len(ROLES):
        # a transactional test earlier in the run flushed the tables the roles migration filled
        _recreate_roles()

    def make(*groups: str, username: str | None = None, superuser: bool = False) -> User:
        name = username or f"user{next(counter)}-{'-'.join(g.lower() for g in groups) or 'plain'}"
        if superuser:
            return User.objects.create_superuser(name, f"{name}@example.org", "a-long-test-password")
        user = User.objects.create_user(name, f"{name}@example.org", "a-long-test-password", is_staff=bool(groups))
        for group in groups:
            user.groups.add(Group.objects.get(name=group))
        return user

    return make
