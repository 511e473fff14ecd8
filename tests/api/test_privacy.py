"""No API response carries raw personal data or keyed hashes (canary check)."""

import unicodedata

import pytest

from api.redflags import RED_FLAGS
from funds.models import Disbursement
from tests.api.conftest import CANARY_ACCOUNTS, CANARY_NAMES
from villages.models import Household, Person

pytestmark = pytest.mark.django_db


def fold(text: str) -> str:
    """Fold full-width forms and drop every kind of space, as a reader's eye would."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def body(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    if raw.startswith(b"PK"):  # XLSX: read the cells
        import io

        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(raw), read_only=True)
        return "\n".join(str(v) for row in book.active.values for v in row if v is not None)
    return raw.decode("utf-8")


def urls(world) -> list[str]:
    pages = [
        "programs/",
        "townships/",
        "villages/",
        "households/",
        "persons/",
        "batches/",
        "disbursements/?page_size=500",
        "disbursements/export.csv",
        "disbursements/export.xlsx",
        "redflags/",
        *[f"redflags/{kind}/" for kind in RED_FLAGS],
        *[f"summary/?by={by}" for by in ("village", "township", "program", "period", "household")],
    ]
    details = [f"persons/{p.pk}/" for p in Person.objects.all()]
    details += [f"households/{h.pk}/" for h in Household.objects.all()]
    details += [f"disbursements/{d.pk}/" for d in Disbursement.objects.all()]
    return [f"/api/v1/{page}" for page in pages + details]


def secrets(world) -> list[str]:
    hashes = [h for p in Person.objects.all() for h in (p.id_hash, p.name_hash)]
    hashes += [h for h in Disbursement.objects.values_list("account_hash", flat=True) if h]
    return [*CANARY_NAMES, *CANARY_ACCOUNTS, *world.raw_ids, *hashes]


@pytest.mark.parametrize("who", ["anonymous", "auditor"])
def test_no_response_carries_raw_personal_data(api, auditor_api, world, who):
    """Names, ID numbers, accounts and their hashes appear in no page, export or red flag."""
    client = api if who == "anonymous" else auditor_api
    planted = [fold(s) for s in secrets(world)]
    checked = 0
    for url in urls(world):
        response = client.get(url)
        if response.status_code != 200:
            assert response.status_code in (401, 404), url
            continue
        text = fold(body(response))
        leaked = [s for s in planted if s in text]
        assert leaked == [], f"{url} leaks {leaked}"
        checked += 1
    assert checked > 20


def test_schema_and_docs_carry_no_personal_data(client, world):
    """The schema and the docs pages hold no planted value either."""
    planted = [fold(s) for s in secrets(world)]
    for url in ("/api/schema/", "/api/docs/", "/api/redoc/"):
        text = fold(client.get(url).content.decode())
        assert not [s for s in planted if s in text]


def test_canary_values_are_really_in_the_seed(world):
    """The canary would sing: the planted raw values did go through the import functions."""
    assert Person.objects.filter(name_masked="欧阳*娜").exists()
    assert Disbursement.objects.exclude(account_hash="").count() >= 4
