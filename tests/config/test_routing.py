"""The read-replica routing (config/routing.py), on a mirror of the test database: which
requests read where, one transaction per replica-served request, writes on the primary."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from api.models import AuditorToken
from config import routing
from config.env import replica_databases
from funds.access import AUDITORS_GROUP
from funds.models import Batch, Disbursement
from tests.factories import make_batch, make_program, make_village, unique_id_number

ROUTED = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def published(replicas):
    village = make_village()
    batch = make_batch(make_program(), village, [("张三", unique_id_number(1), Decimal("120.50"))])
    return batch, village


def queries_on(alias):
    return CaptureQueriesContext(connections[alias])


def sql_of(captured) -> str:
    return "\n".join(q["sql"] for q in captured.captured_queries)


def served(client_call, replica: str):
    """Run CLIENT_CALL; return (response, queries on default, queries on the replica)."""
    with queries_on("default") as primary, queries_on(replica) as copy:
        response = client_call()
        if response.streaming:
            b"".join(response.streaming_content)
            response.close()
    return response, primary, copy


# The router's rules, without a request


def test_router_reads_primary_outside_a_replica_request():
    router = routing.ReplicaRouter()
    assert routing.read_alias() is None
    assert router.db_for_read(Disbursement) == "default"
    assert router.db_for_write(Disbursement) == "default"


def test_router_inside_a_replica_request_reads_the_replica_but_writes_the_primary():
    router = routing.ReplicaRouter()
    token = routing._read_alias.set("replica1")
    try:
        assert router.db_for_read(Disbursement) == "replica1"
        assert router.db_for_read(Batch) == "replica1"
        # Authentication and sessions are read fresh: a revoked token is refused at once.
        for model in (get_user_model(), Group, Session, AuditorToken):
            assert router.db_for_read(model) == "default", model
        assert router.db_for_write(Batch) == "default"
    finally:
        routing._read_alias.reset(token)
    assert router.db_for_read(Batch) == "default"


def test_migrations_only_on_default_and_relations_across_aliases():
    router = routing.ReplicaRouter()
    assert router.allow_migrate("default", "funds")
    assert not router.allow_migrate("replica1", "funds")
    assert router.allow_relation(object(), object())


def test_replica_urls_become_mirrored_postgresql_aliases():
    databases = replica_databases(
        ["postgres://reader@10.0.0.2:5433/sunlight", "postgres://reader@10.0.0.3/sunlight"],
        conn_max_age=60,
    )
    assert list(databases) == ["replica1", "replica2"]
    assert databases["replica1"]["PORT"] == 5433
    assert databases["replica2"]["HOST"] == "10.0.0.3"
    assert databases["replica1"]["TEST"] == {"MIRROR": "default"}
    assert replica_databases([], conn_max_age=60) == {}


def test_a_replica_url_that_is_not_postgresql_is_refused():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_REPLICA_URLS"):
        replica_databases(["sqlite:///tmp/replica.sqlite3"], conn_max_age=0)


# Requests


@ROUTED
def test_without_replicas_everything_reads_the_primary(client, settings, replica_alias):
    settings.SUNLIGHT_DB_REPLICAS = []
    village = make_village()
    response, primary, copy = served(
        lambda: client.get(reverse("publicity:village", args=[village.pk])), replica_alias
    )
    assert response.status_code == 200
    assert primary.captured_queries and not copy.captured_queries


@ROUTED
@pytest.mark.parametrize(
    "name", ["publicity:home", "publicity:village", "publicity:batch", "api:disbursement-list"]
)
def test_anonymous_public_and_api_reads_go_to_the_replica(client, published, name):
    batch, village = published
    args = {"publicity:village": [village.pk], "publicity:batch": [batch.pk]}.get(name, [])
    response, primary, copy = served(lambda: client.get(reverse(name, args=args)), "replica")
    assert response.status_code == 200
    assert copy.captured_queries
    assert not primary.captured_queries, sql_of(primary)
    assert routing.read_alias() is None
    assert not connections["replica"].in_atomic_block


@ROUTED
def test_a_replica_request_reads_in_one_read_only_repeatable_read_transaction(client, published):
    if connections["default"].vendor != "postgresql":
        pytest.skip("isolation levels are PostgreSQL's")
    response, _primary, copy = served(lambda: client.get("/api/v1/summary/"), "replica")
    assert response.status_code == 200
    statements = [q["sql"] for q in copy.captured_queries]
    assert statements[:2] == ["BEGIN", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"]
    assert statements[-1] == "COMMIT"
    # The API's ETag aggregate (raw SQL) is read there too, not on the primary.
    assert "SUM" in sql_of(copy) and len(copy.captured_queries) > 2


@ROUTED
def test_an_auditor_reads_rows_from_the_replica_and_the_token_from_the_primary(published):
    from rest_framework.test import APIClient

    user = get_user_model().objects.create_user(username="auditor", password="x-pass-1234567")
    user.groups.add(Group.objects.get_or_create(name=AUDITORS_GROUP)[0])
    key = AuditorToken.objects.issue(user=user, days=30)[1]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response, primary, copy = served(lambda: api.get("/api/v1/disbursements/"), "replica")
    assert response.status_code == 200 and response.json()["results"]
    assert "funds_disbursement" in sql_of(copy)
    primary_sql = sql_of(primary)
    assert "api_auditortoken" in primary_sql  # read, and its last use written, on the primary
    assert "funds_disbursement" not in primary_sql


@ROUTED
def test_staff_logged_in_read_their_own_writes_from_the_primary(client, published, staff_user):
    _batch, village = published
    client.force_login(staff_user)
    for url in (
        reverse("publicity:village", args=[village.pk]),
        "/api/v1/disbursements/",
        reverse("funds:job_list"),
        "/admin/",
    ):
        response, primary, copy = served(lambda url=url: client.get(url), "replica")
        assert response.status_code == 200, url
        assert primary.captured_queries and not copy.captured_queries, url


@ROUTED
def test_posts_write_and_read_on_the_primary(client, published):
    batch, village = published
    lookup = {"name": "张三", "id_number": unique_id_number(1), "year": ""}
    response, primary, copy = served(
        lambda: client.post(reverse("publicity:lookup"), lookup), "replica"
    )
    assert response.status_code == 200
    assert primary.captured_queries and not copy.captured_queries
    objection = {"village": village.pk, "text": "金额不对", "contact": ""}
    response, primary, copy = served(
        lambda: client.post(reverse("publicity:objection", args=[batch.pk]), objection),
        "replica",
    )
    assert response.status_code == 302
    assert "INSERT" in sql_of(primary) and not copy.captured_queries


@ROUTED
def test_a_streamed_export_reads_its_rows_in_the_snapshot_and_closes_it(client, published):
    response, primary, copy = served(
        lambda: client.get("/api/v1/disbursements/export.csv"), "replica"
    )
    assert response.status_code == 200
    assert "funds_disbursement" in sql_of(copy)
    assert "funds_disbursement" not in sql_of(primary)
    assert not connections["replica"].in_atomic_block
    assert routing.read_alias() is None


@ROUTED
def test_an_export_closed_before_its_first_chunk_still_ends_its_transaction(client, published):
    response = client.get("/api/v1/disbursements/export.csv")
    assert response.streaming
    assert connections["replica"].in_atomic_block  # held open for the stream
    assert routing.read_alias() is None  # but nothing else is routed there meanwhile
    response.close()
    assert not connections["replica"].in_atomic_block


@ROUTED
def test_a_path_that_names_no_page_is_served_from_the_primary(client, published):
    response, _primary, copy = served(lambda: client.get("/no-such-page/"), "replica")
    assert response.status_code == 404
    assert not copy.captured_queries
