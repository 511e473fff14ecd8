"""The OpenAPI contract: schemathesis, with every check and negative data, finds no server error,
no schema violation, no valid request refused and no invalid one served."""

import django_filters
import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.urls import resolve
from hypothesis import HealthCheck, settings
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from api import parameters
from config.wsgi import application

pytestmark = pytest.mark.django_db(transaction=False)

# Every check runs, negative_data_rejection included: what the schema excludes is a 400
# (api.parameters), what it admits is served.
RATES = {"anon": "100000/minute", "user": "100000/minute", "auditor": "100000/minute"}


def load_schema(*, coverage: bool):
    """Load the schema through WSGI (generating it reads no data, so collection may do it)."""
    loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    loaded.config.phases.coverage.enabled = coverage
    # Read-only API: probing write methods on every path only adds time.
    loaded.config.phases.coverage.unexpected_methods = set()

    return loaded


def issued_cursor(path: str, query: dict) -> str | None:
    """A cursor as the server signs it in a next link, for the ordering QUERY asks (None when
    that ordering is itself refused, or the path has no cursor pages)."""
    view = _view_of(path)
    paginator = view.pagination_class()
    if not hasattr(paginator, "_cursor"):
        return None
    try:
        request = Request(APIRequestFactory().get(path, query))
        paginator.ordering = paginator._ordering(request, None, view)
    except (ValidationError, TypeError, ValueError):
        return None
    row = {paginator._primary().field: None} | {"id": 1}  # just after row 1, no value
    return paginator._cursor(row, backwards=False)


@schemathesis.hook("before_call")
def sign_the_cursor(context, case, kwargs):
    """A cursor is valid only as the server signed it in a next or previous link; a made-up one
    is refused with a 400 by design (tests/api/test_cursors.py). So a cursor the schema admits
    (a non-empty string) is replaced by one the server issued: served, as the schema promises.
    Anything else (an empty or non-string cursor) goes as generated and must be refused."""
    cursor = (case.query or {}).get("cursor")
    if isinstance(cursor, str) and cursor:
        issued = issued_cursor(case.formatted_path, case.query)
        if issued is not None:
            case.query["cursor"] = issued


# Random examples for every operation, as auditors and as anonymous callers.
schema = load_schema(coverage=False)
# The coverage phase (boundary and invalid values of every parameter) takes ~15 s for an
# operation with the disbursement filters, so it runs on the disbursement list and leaves out
# the operations that share those filters (summary, exports, red flags); every other operation
# (reference lists, single records, the audit record, the log) is cheap and runs it too.
coverage_schema = load_schema(coverage=True).exclude(
    path_regex=r"^/api/v1/(summary/|disbursements/export\.(csv|xlsx)|redflags/)"
)


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
    case.call_and_validate(headers={"Authorization": f"Token {auditor_key}"})


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema_for_anonymous_callers(case, seeded):
    """Every operation answers anonymous callers within its documented contract."""
    case.call_and_validate()


@coverage_schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_parameters_hold_at_their_boundaries(case, seeded, auditor_key):
    """Boundary and invalid values of every parameter give no error and no violation."""
    case.call_and_validate(headers={"Authorization": f"Token {auditor_key}"})


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


def _view_of(path: str):
    """The view instance serving PATH of the schema, as the router builds it per request."""
    concrete = path.replace("{id}", "1").replace("{kind}", "paid_twice")
    func = resolve(concrete).func
    return func.cls(**getattr(func, "initkwargs", {}))


def test_each_operation_documents_exactly_the_query_parameters_it_takes(client):
    """The schema and api.parameters.allowed agree for every operation, so a parameter the
    server reads is documented (and tried by schemathesis) and one it refuses is not offered.
    A new endpoint on the same machinery is held to this without being named here."""
    spec = client.get("/api/schema/?format=json").json()
    disagreements = {}
    for path, item in spec["paths"].items():
        declared = {p["name"] for p in item["get"].get("parameters", []) if p["in"] == "query"}
        taken = parameters.allowed(_view_of(path)) - parameters.COMMON
        if declared != taken:
            disagreements[path] = {"undocumented": taken - declared, "refused": declared - taken}
    assert disagreements == {}


def test_every_filter_reads_its_value_as_its_schema_declares(client):
    """Each filter of every operation is one of api.filters' strict kinds, whose schema and
    validation come from one definition. A plain django-filter (NumberFilter takes "1e3",
    BooleanFilter reads "yes" as no filter) would disagree with its schema."""
    from api import filters

    strict = (
        filters.IdFilter,
        filters.AmountFilter,
        filters.PeriodFilter,
        filters.DateFilter,
        filters.TimeFilter,
        filters.TextFilter,
        filters.FlagFilter,
        django_filters.ChoiceFilter,
        django_filters.MultipleChoiceFilter,
    )
    spec = client.get("/api/schema/?format=json").json()
    loose = {
        f"{path} ?{name}: {type(found).__name__}"
        for path in spec["paths"]
        for name, found in getattr(
            getattr(_view_of(path), "filterset_class", None), "base_filters", {}
        ).items()
        if not isinstance(found, strict)
    }
    assert loose == set()


def test_every_query_string_value_is_declared_non_empty(client):
    """An empty value is refused (api.parameters.check), so no schema admits one."""
    spec = client.get("/api/schema/?format=json").json()
    admits_empty = [
        f"{path} ?{p['name']}"
        for path, item in spec["paths"].items()
        for p in item["get"].get("parameters", [])
        if p["in"] == "query"
        and (p["schema"].get("items") or p["schema"]).get("type") == "string"
        and not (p["schema"].get("items") or p["schema"]).get("minLength")
    ]
    assert admits_empty == []


def test_interactive_docs_are_served_without_a_cdn(client):
    """Swagger UI and Redoc load their assets from this site, not from a CDN."""
    for url in ("/api/docs/", "/api/redoc/"):
        page = client.get(url).content.decode()
        assert "/static/drf_spectacular_sidecar/" in page
        assert "cdn.jsdelivr" not in page and "unpkg.com" not in page
