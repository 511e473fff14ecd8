"""Open-data downloads per batch and per village: masked, BOM, formula-safe, numeric amounts."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from funds.models import Batch
from tests.factories import id_number, make_batch, make_program, make_village, person_name

pytestmark = pytest.mark.django_db

EVIL = '=cmd|" /C calc"!A0'


@pytest.fixture
def evil_batch():
    program = make_program(EVIL, slug="evil")
    village = make_village("+SUM(A1)村", "@镇")
    rows = [(person_name(i), id_number(i), Decimal("1200.50")) for i in range(3)]
    batch = make_batch(program, village, rows)
    make_batch(
        program,
        village,
        [(person_name(9), id_number(9), Decimal("9.99"))],
        period="2026-04",
        status=Batch.Status.DRAFT,
    )
    return batch, village, rows


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _csv(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    return _body(response).decode("utf-8")


def _urls(batch, village, fmt):
    return [
        reverse("publicity:batch_download", args=[batch.pk, fmt]),
        reverse("publicity:village_download", args=[village.pk, fmt]),
    ]


def test_csv_has_a_bom_masked_people_and_neutralised_names(client, evil_batch):
    batch, village, rows = evil_batch
    for url in _urls(batch, village, "csv"):
        text = _csv(client, url)
        assert text.startswith("\ufeff")
        assert "'" + EVIL.replace('"', '""') in text
        assert "'+SUM(A1)村" in text and "'@镇" in text
        assert "\n=" not in text and ",=" not in text and ",+" not in text and ",@" not in text
        for _name, number, _amount in rows:
            assert number not in text
            assert number[:3] + "*" * 14 + number[-1] in text
        assert "1200.50" in text
        assert "9.99" not in text  # the draft stays out


def test_xlsx_keeps_amounts_numeric_and_text_neutralised(client, evil_batch):
    batch, village, _rows = evil_batch
    for url in _urls(batch, village, "xlsx"):
        response = client.get(url)
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(_body(response))).active
        values = list(sheet.iter_rows(values_only=True))
        header, *data = values
        assert header[7] == "金额（元）"
        assert len(data) == 3
        for row in data:
            assert isinstance(row[7], int | float) and row[7] == pytest.approx(1200.50)
            assert row[5] == "'" + EVIL
            assert row[1] == "'+SUM(A1)村"
            assert "*" in row[4]
            assert not any(
                isinstance(cell, str) and cell.startswith(("=", "+", "@")) for cell in row
            )


def test_the_filename_is_chinese_and_carries_no_path(client, evil_batch):
    _batch, village, _rows = evil_batch
    response = client.get(reverse("publicity:village_download", args=[village.pk, "csv"]))
    disposition = response["Content-Disposition"]
    assert "filename*=utf-8''" in disposition.lower() or "村" in disposition
    assert "/" not in disposition.split("filename", 1)[1].replace("%2F", "")


def test_unknown_format_is_not_found(client, evil_batch):
    batch, village, _rows = evil_batch
    assert client.get(f"/batches/{batch.pk}/download.exe").status_code == 404
    assert client.get(f"/villages/{village.pk}/download.pdf").status_code == 404


def test_a_village_download_has_only_published_rows_of_that_village(client, evil_batch):
    _batch, village, _rows = evil_batch
    other = make_village("别村", "@镇")
    make_batch(make_program("别的补贴"), other, [(person_name(50), id_number(50), Decimal("3.21"))])
    text = _csv(client, reverse("publicity:village_download", args=[village.pk, "csv"]))
    assert "3.21" not in text
    assert text.count("\r\n") == 4  # header + three rows
