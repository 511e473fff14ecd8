"""docs/verify.md's Python runs as written against this site's answers, so it cannot rot."""

from __future__ import annotations

import io
import re
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from django.test import Client

from funds.publishing import publish_batch
from tests.factories import make_batch, make_program, make_village, person_name, unique_id_number

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "verify.md"
SITE_LINE, ROW_LINE = 'SITE = "https://sunlight.example.gov.cn"', "ROW = 123"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


@pytest.fixture
def site_urlopen(monkeypatch):
    """Answer the docs' urlopen with this site, through Django's test client."""
    client = Client()

    def urlopen(url: str):
        answer = client.get(url.removeprefix("https://sunlight.example.gov.cn"))
        assert answer.status_code == 200, (url, answer.content)
        return io.BytesIO(answer.content)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)


@pytest.fixture
def published():
    rows = [(person_name(n), unique_id_number(n), Decimal("10.00") + n) for n in range(5)]
    batch = make_batch(make_program(), make_village(), rows, status="draft")
    return publish_batch(batch=batch)


def run_docs(row_id: int) -> dict:
    checks, usage = blocks()
    assert SITE_LINE in usage and ROW_LINE in usage, "the docs' example changed: update this test"
    namespace: dict = {}
    exec(checks, namespace)  # noqa: S102 - our own documentation
    exec(usage.replace(ROW_LINE, f"ROW = {row_id}"), namespace)  # noqa: S102
    return namespace


def test_the_docs_code_uses_no_sunlight_module():
    code = "\n".join(blocks())
    imported = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", code, flags=re.M)
    assert imported and {name.split(".")[0] for name in imported} <= {
        "base64", "hashlib", "json", "cryptography", "urllib",
    }  # fmt: skip


def test_the_docs_check_a_published_row_and_the_checkpoint(published, site_urlopen, capsys):
    row = published.disbursements.order_by("id")[3]
    namespace = run_docs(row.pk)
    assert namespace["row"]["id"] == row.pk and namespace["row"]["amount"] == "13.00"
    assert namespace["size"] == 5
    assert f"row {row.pk}" in capsys.readouterr().out


def test_the_docs_checks_fail_on_a_forged_leaf_and_a_forged_note(published, site_urlopen):
    namespace = run_docs(published.disbursements.first().pk)
    answer, root = dict(namespace["answer"]), namespace["root"]
    answer["leaf"] = answer["leaf"].replace('"10.00"', '"99.00"')
    with pytest.raises(AssertionError):
        namespace["verify_row"](answer, root)
    forged = namespace["note"].replace("\n5\n", "\n6\n")
    with pytest.raises(InvalidSignature):
        namespace["verify_checkpoint"](forged, namespace["KEY"])
