"""The OpenAPI contract: schemathesis finds no server error and no schema violation."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection

from config.wsgi import application

pytestmark = pytest.mark.django_db(transaction=False)

# The API reads filters the way HTML forms do: an empty value means "no filter", an
# oversized page_size is capped. That leniency is deliberate, so the check that expects
# every out-of-schema request to be refused is left out; every other check runs.
LENIENT = [negative_data_rejection]
RATES = {"anon": "100000/minute", "user": "100000/minute", "auditor": "100000/minute"}


# Parameters whose valid values depend on the data, which no schema can say: a tree size is
# valid only up to the transparency log's size and never beside as_of (a 400 by design beyond
# it: tests/api/test_as_of_tree_size.py), and the seeded rows have no log. Left out of the
# schema the tests walk (every phase: the coverage phase runs no hooks).
STATEFUL = {"as_of_tree_size"}


def load_schema(*, coverage: bool):
    """Load the schema through WSGI (generating it reads no data, so collection may do it)."""
    loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    for item in loaded.raw_schema["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                kept = [p for p in operation["parameters"] if p.get("name") not in STATEFUL]
                operation["parameters"] = kept
    loaded.config.phases.coverage.enabled = coverage
    # Read-only API: probing write methods on every path only adds time.
    loaded.config.phases.coverage.unexpected_methods = set()

    @loaded.hook
    def map_query(context, query):
        # A cursor is valid only as the server signed it in a next or previous link; a
        # made-up one is refused with a 400 by design (tests/api/test_cursors.py).
        if query:
            query.pop("cursor", None)
        return query

    return loaded


# Random examples for every operation, as auditors and as anonymous callers.
schema = load_schema(coverage=False)
# The coverage phase (boundary and invalid values of every parameter) takes ~15 s per
# operation, so it runs on the disbursement list, whose filters summary, exports and red
# flags share.
coverage_schema = load_schema(coverage=True).include(path="/api/v1/disbursements/")


@pytest.fixture
def seeded(world, settings):
    """Published and draft rows to query, and rate limits out of the way."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": RATES}
    # Requests go through the bare WSGI handler, whose end-of-request signal would close
    # the connection holding the test's transaction; Django's test client does the same.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield world
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema_for_auditors(case, seeded, auditor_key):
    """Every operation answers auditors within its documented contract."""
    case.call_and_validate(
        headers={"Authorization": f"Token {auditor_key}"}, excluded_checks=LENIENT
    )


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema_for_anonymous_callers(case, seeded):
    """Every operation answers anonymous callers within its documented contract."""
    case.call_and_validate(excluded_checks=LENIENT)


@coverage_schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_disbursement_filters_hold_at_their_boundaries(case, seeded, auditor_key):
    """Boundary and invalid values of every disbursement filter give no error and no violation."""
    case.call_and_validate(
        headers={"Authorization": f"Token {auditor_key}"}, excluded_checks=LENIENT
    )


def test_schema_describes_every_operation_and_parameter(client):
    """Each operation has a summary or description; each parameter and field a description."""
    spec = client.get("/api/schema/?format=json").json()
    missing = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not (operation.get("description") or operation.get("summary")):
                missing.append(f"{method} {path}")
            for parameter in operation.get("parameters", []):
                if not parameter.get("description"):
                    missing.append(f"{method} {path} ?{parameter['name']}")
    for name, component in spec["components"]["schemas"].items():
        for field, definition in component.get("properties", {}).items():
            if not (definition.get("description") or "$ref" in definition):
                missing.append(f"{name}.{field}")
    assert missing == []
    assert set(spec["paths"]) >= {
        "/api/v1/programs/",
        "/api/v1/townships/",
        "/api/v1/villages/",
        "/api/v1/households/",
        "/api/v1/persons/",
        "/api/v1/batches/",
        "/api/v1/disbursements/",
        "/api/v1/summary/",
        "/api/v1/disbursements/export.csv",
        "/api/v1/disbursements/export.xlsx",
        "/api/v1/redflags/",
        "/api/v1/redflags/{kind}/",
        "/api/v1/log/checkpoint",
        "/api/v1/log/key",
        "/api/v1/log/consistency",
        "/api/v1/disbursements/{id}/proof/",
    }


def test_interactive_docs_are_served_without_a_cdn(client):
    """Swagger UI and Redoc load their assets from this site, not from a CDN."""
    for url in ("/api/docs/", "/api/redoc/"):
        page = client.get(url).content.decode()
        assert "/static/drf_spectacular_sidecar/" in page
        assert "cdn.jsdelivr" not in page and "unpkg.com" not in page
