"""The database going away: the branded page (or JSON on the API) with 503 and Retry-After.

Real failures, not mocks: on PostgreSQL the request's own database session is terminated
(pg_terminate_backend, from another connection) as the request starts; on either database a
separate process serves requests with its database pointed where no database can be reached
(a closed port, or an SQLite file in a folder that does not exist).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.signals import request_started
from django.db import close_old_connections, connection

ROOT = Path(__file__).resolve().parents[2]

#: Run in a separate process: production settings, the database unreachable, three requests.
SERVE_WITHOUT_DATABASE = """
import json, django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False, HTTP_HOST="127.0.0.1")
out = {}
for name, path, lang in [("page", "/villages/1/", "zh-hans"), ("page_en", "/villages/1/", "en"),
                         ("api", "/api/v1/disbursements/", "zh-hans"),
                         ("api_en", "/api/v1/summary/?by=program", "en")]:
    r = client.get(path, HTTP_ACCEPT_LANGUAGE=lang)
    out[name] = {"status": r.status_code, "retry": r.get("Retry-After"),
                 "type": r.get("Content-Type"), "body": r.content.decode()}
print(json.dumps(out))
"""


def _served_without_database(tmp_path: Path) -> dict:
    unreachable = (
        "postgres://postgres@127.0.0.1:9/sunlight_nowhere"  # port 9 (discard): nothing listens
        if connection.vendor == "postgresql"
        else f"sqlite:///{tmp_path}/no-such-folder/sunlight.sqlite3"
    )
    from publicity.translog import Signer

    env = {
        **os.environ,
        # Throwaway keys of production strength: production settings refuse test keys.
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "SUNLIGHT_HASH_KEY": secrets.token_hex(32),
        "SUNLIGHT_LOG_SIGNING_KEY": Signer.generate("faults.sunlight.invalid").key(),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": unreachable,
        "DATABASE_CONN_MAX_AGE": "0",
        "SUNLIGHT_VAR_DIR": str(tmp_path),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SSL_REDIRECT": "0",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "SUNLIGHT_LOG_LEVEL": "CRITICAL",
        "PYTHONWARNINGS": "ignore",
    }
    done = subprocess.run(
        [sys.executable, "-c", SERVE_WITHOUT_DATABASE],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_page_without_its_database_is_the_branded_503_page_in_the_callers_language(tmp_path):
    served = _served_without_database(tmp_path)
    page, english = served["page"], served["page_en"]
    assert page["status"] == 503 and page["retry"] == "30"
    assert page["type"].startswith("text/html")
    assert "阳光公示" in page["body"] and "暂时无法访问数据" in page["body"]
    assert "Traceback" not in page["body"] and "OperationalError" not in page["body"]
    assert "site.css" in page["body"], "branded: the site's own stylesheet"
    assert "<script" not in page["body"] and "style=" not in page["body"]
    assert english["status"] == 503 and "temporarily" in english["body"].lower()
    assert "暂时无法访问数据" not in english["body"]


def test_the_api_without_its_database_answers_json_503(tmp_path):
    served = _served_without_database(tmp_path)
    api, english = served["api"], served["api_en"]
    assert api["status"] == 503 and api["retry"] == "30"
    assert api["type"].startswith("application/json")
    assert json.loads(api["body"])["detail"] == "数据库暂时无法访问，请稍后再试。"
    assert english["status"] == 503
    assert "temporarily" in json.loads(english["body"])["detail"]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_database_session_terminated_as_a_request_starts_gives_503_not_500(client):
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    import psycopg

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    db = connection.settings_dict

    def terminate(**kwargs):
        with psycopg.connect(
            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
            password=db["PASSWORD"] or None, dbname=db["NAME"], autocommit=True,
        ) as other:  # fmt: skip
            other.execute("SELECT pg_terminate_backend(%s)", [pid])

    request_started.connect(terminate)
    try:
        page = client.get("/villages/1/")
    finally:
        request_started.disconnect(terminate)
    assert page.status_code == 503 and page["Retry-After"] == "30"
    assert "暂时无法访问数据" in page.content.decode()
    # The server closes a broken connection when a request ends (the test client does not);
    # the next request connects again and has its database.
    close_old_connections()
    assert client.get("/villages/999999/").status_code == 404
