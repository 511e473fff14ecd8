"""Bulk downloads: everything public per year and per township, CSV and Parquet, with a manifest."""

import csv
import hashlib
import io
import json
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from django.urls import reverse

from funds.models import Batch, Disbursement
from funds.publishing import withdraw_batch
from publicity import bulk
from publicity.exports import csv_cell
from tests.api import conftest as seeded
from tests.api.conftest import CANARY_ACCOUNTS, CANARY_NAMES

world = seeded.world  # the API tests' seeded rosters: published, draft, corrected, planted names

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _bulk_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


def _csv(path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def _files(manifest, fmt):
    return {f["name"]: f for f in manifest["files"] if f["format"] == fmt}


def test_each_year_and_township_holds_exactly_the_public_rows(world):
    manifest = bulk.build()
    public = Disbursement.objects.published()
    by_year = {f["scope"]["value"]: f for f in _files(manifest, "csv").values()
               if f["scope"]["kind"] == "year"}  # fmt: skip
    assert set(by_year) == {2026}
    rows = _csv(bulk.file_path(manifest, by_year[2026]["name"]))
    assert sorted(int(r["record_id"]) for r in rows) == sorted(public.values_list("id", flat=True))
    assert by_year[2026]["rows"] == public.count()
    towns = {f["scope"]["value"]: f for f in _files(manifest, "parquet").values()
             if f["scope"]["kind"] == "township"}  # fmt: skip
    for town_id, entry in towns.items():
        want = public.filter(batch__township_id=town_id)
        table = pq.read_table(bulk.file_path(manifest, entry["name"]))
        assert sorted(table.column("record_id").to_pylist()) == sorted(
            want.values_list("id", flat=True)
        )
        assert entry["rows"] == table.num_rows == want.count()
    assert set(towns) == set(Batch.objects.published().values_list("township_id", flat=True))


def test_a_draft_never_appears(world):
    manifest = bulk.build()
    assert manifest["files"], "the build wrote files"
    for entry in manifest["files"]:
        path = bulk.file_path(manifest, entry["name"])
        if entry["format"] == "csv":
            ids = {int(r["record_id"]) for r in _csv(path)}
        else:
            ids = set(pq.read_table(path).column("record_id").to_pylist())
        assert world.draft_row.pk not in ids
        assert not ids & set(world.draft.disbursements.values_list("id", flat=True))


def test_parquet_reads_back_as_the_csv_with_exact_decimals(world):
    manifest = bulk.build()
    csvs = _files(manifest, "csv")
    for name, entry in _files(manifest, "parquet").items():
        table = pq.read_table(bulk.file_path(manifest, name))
        assert str(table.schema.field("amount").type) == "decimal128(14, 2)"
        assert str(table.schema.field("pay_date").type) == "date32[day]"
        assert str(table.schema.field("record_id").type) == "int64"
        rows = _csv(bulk.file_path(manifest, name.replace(".parquet", ".csv")))
        assert csvs[name.replace(".parquet", ".csv")]["rows"] == entry["rows"] == len(rows)
        for record, row in zip(table.to_pylist(), rows, strict=True):
            assert list(record) == list(row)
            for column, value in record.items():
                assert csv_cell(value) == row[column], column
            assert isinstance(record["amount"], Decimal)
            assert record["amount"] == Decimal(row["amount"])
    amounts = pq.read_table(bulk.file_path(manifest, "sunlight-year-2026.parquet"))
    assert sum(amounts.column("amount").to_pylist()) == sum(
        Disbursement.objects.published().values_list("amount", flat=True)
    )


def test_the_manifest_checksums_sizes_and_state_match_the_files(world):
    manifest = bulk.build()
    assert manifest == bulk.read_manifest()
    assert manifest["files"]
    assert manifest["files"], "the build wrote files"
    for entry in manifest["files"]:
        data = bulk.file_path(manifest, entry["name"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)
        assert entry["generated_at"] == manifest["generated_at"]
    assert manifest["state"]["tree_size"] == 0
    assert {c["name"] for c in manifest["dictionary"]} >= {"amount", "person_name_masked"}
    for column in manifest["dictionary"]:
        assert column["meaning_zh"] and column["meaning_en"] and column["type"]
        assert column["meaning_zh"] != column["meaning_en"]


def test_a_withdrawn_batch_disappears_after_the_rebuild(world):
    bulk.build()
    gone = world.published[1]  # in publicity: may be withdrawn
    gone_ids = set(gone.disbursements.values_list("id", flat=True))
    withdraw_batch(batch=gone, reason="重复")
    bulk.rebuild_bulk_downloads.enqueue()  # the test settings run tasks at once
    manifest = bulk.read_manifest()
    rows = _csv(bulk.file_path(manifest, "sunlight-year-2026.csv"))
    assert gone_ids and not gone_ids & {int(r["record_id"]) for r in rows}
    assert len(rows) == Disbursement.objects.published().count()


def test_no_personal_data_in_any_file(world):
    manifest = bulk.build()
    planted = [*CANARY_NAMES, *CANARY_ACCOUNTS, *world.raw_ids, "张三丰", "李四光", "王五常"]
    assert manifest["files"], "the build wrote files"
    for entry in manifest["files"]:
        data = bulk.file_path(manifest, entry["name"]).read_bytes()
        if entry["format"] == "parquet":
            data = json.dumps(pq.read_table(io.BytesIO(data)).to_pylist(), default=str,
                              ensure_ascii=False).encode()  # fmt: skip
        text = data.decode("utf-8-sig")
        for value in planted:
            assert value not in text
        assert "欧阳*娜" in text  # masked names are there


def test_csv_follows_the_public_downloads_conventions(world):
    manifest = bulk.build()
    raw = bulk.file_path(manifest, "sunlight-year-2026.csv").read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = _csv(bulk.file_path(manifest, "sunlight-year-2026.csv"))
    west = world.villages["west"]
    assert any(r["village"] == "'" + west.name for r in rows)  # formula-safe
    fixed = [r for r in rows if r["corrected_by_batch"]]
    assert fixed and all(r["corrected_by_batch"] == str(world.published[4].pk) for r in fixed)


def test_files_are_replaced_atomically_and_old_generations_go(world, settings):
    first = bulk.build()
    second = bulk.build()
    assert first["generation"] != second["generation"]
    root = bulk.bulk_dir()
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == [second["generation"]]
    assert not list(root.rglob("*.tmp"))


def test_the_command_builds(world, capsys):
    from django.core.management import call_command

    call_command("build_bulk_downloads")
    assert bulk.read_manifest()["files"]
    assert "sunlight-year-2026.csv" in capsys.readouterr().out


# Serving


def test_the_page_lists_files_and_the_dictionary(client, world):
    bulk.build()
    response = client.get(reverse("publicity:bulk"))
    assert response.status_code == 200
    text = response.content.decode()
    manifest = bulk.read_manifest()
    assert manifest["files"], "the build wrote files"
    for entry in manifest["files"]:
        assert entry["sha256"] in text and entry["name"] in text
    assert "person_name_masked" in text
    assert "<script" not in text.split("<main", 1)[1] and "style=" not in text


def test_the_page_before_any_build_says_so(client, db):
    response = client.get(reverse("publicity:bulk"))
    assert response.status_code == 200


def test_a_file_downloads_with_its_content_type(client, world):
    manifest = bulk.build()
    for fmt, kind in (("csv", "text/csv"), ("parquet", "application/vnd.apache.parquet")):
        name = next(iter(_files(manifest, fmt)))
        response = client.get(reverse("publicity:bulk_file", args=[name]))
        assert response.status_code == 200
        assert response["Content-Type"].startswith(kind)
        body = b"".join(response.streaming_content)
        assert hashlib.sha256(body).hexdigest() == _files(manifest, fmt)[name]["sha256"]


@pytest.mark.parametrize(
    "name",
    ["../manifest.json", "..%2Fmanifest.json", "manifest.json", "%2e%2e%2fsecret",
     "sunlight-year-1999.csv", ".lock", "x.parquet"],
)  # fmt: skip
def test_path_traversal_and_unknown_files_are_404(client, world, name):
    bulk.build()
    response = client.get("/downloads/bulk/" + name)
    assert response.status_code == 404


def test_the_dictionary_json_is_served(client, world):
    bulk.build()
    response = client.get(reverse("publicity:bulk_dictionary"))
    assert response.status_code == 200
    assert {c["name"] for c in response.json()["columns"]} >= {"amount", "pay_date"}


# Regeneration


class _Recorder:
    """Stands for the rebuild task: records each enqueue."""

    def __init__(self, queued: list) -> None:
        self.queued = queued

    def enqueue(self) -> None:
        self.queued.append(1)

    def get_backend(self):
        from django_tasks import task_backends

        return task_backends["default"]


@pytest.mark.parametrize("act", ["publish", "finalize", "withdraw"])
def test_each_public_act_queues_a_rebuild_after_commit(
    act, world, monkeypatch, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from funds import publishing

    queued = []
    monkeypatch.setattr(bulk, "rebuild_bulk_downloads", _Recorder(queued))
    batch = {"publish": world.draft, "finalize": world.published[1], "withdraw": world.published[1]}
    target = batch[act]
    if act == "finalize":
        Batch.objects.filter(pk=target.pk).update(publicity_end=timezone.localdate() - timedelta(1))
        target.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        {
            "publish": lambda: publishing.publish_batch(batch=target, override_reason="测试"),
            "finalize": lambda: publishing.finalize_batch(batch=target),
            "withdraw": lambda: publishing.withdraw_batch(batch=target, reason="测试"),
        }[act]()
    assert not queued, "nothing is queued before the act commits"
    for callback in callbacks:
        callback()
    assert queued == [1]


def test_withdrawing_a_draft_queues_nothing(world, monkeypatch, django_capture_on_commit_callbacks):
    from funds import publishing

    queued = []
    monkeypatch.setattr(bulk, "rebuild_bulk_downloads", _Recorder(queued))
    with django_capture_on_commit_callbacks(execute=True):
        publishing.withdraw_batch(batch=world.draft, reason="测试")
    assert not queued


def test_the_publication_runs_the_rebuild_with_the_test_backend(
    world, django_capture_on_commit_callbacks
):
    """With the test settings' ImmediateBackend the queued rebuild runs at once."""
    from funds import publishing

    bulk.build()
    with django_capture_on_commit_callbacks(execute=True):
        publishing.publish_batch(batch=world.draft, override_reason="测试")
    rows = _csv(bulk.file_path(bulk.read_manifest(), "sunlight-year-2026.csv"))
    assert world.draft_row.pk in {int(r["record_id"]) for r in rows}
    assert bulk.read_manifest()["state"]["tree_size"] > 0  # the publication was logged


@pytest.mark.django_db(transaction=True)
def test_one_waiting_rebuild_is_enough(settings, tmp_path):
    from io import StringIO

    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    assert bulk.request_rebuild()
    assert not bulk.request_rebuild(), "a second request while one waits queues nothing"
    assert (
        DBTaskResult.objects.filter(task_path=bulk.rebuild_bulk_downloads.module_path).count() == 1
    )
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO())
    assert bulk.read_manifest() is not None
    assert bulk.request_rebuild(), "once it ran, the next change queues another"


def test_the_api_lists_the_manifest_with_download_urls(client, world):
    empty = client.get("/api/v1/bulk/")
    assert empty.status_code == 200 and empty.json()["files"] == []
    manifest = bulk.build()
    response = client.get("/api/v1/bulk/")
    assert response.status_code == 200
    data = response.json()
    assert data["generation"] == manifest["generation"]
    assert [f["sha256"] for f in data["files"]] == [f["sha256"] for f in manifest["files"]]
    assert data["files"][0]["url"].endswith("/downloads/bulk/" + data["files"][0]["name"])
    assert data["state"]["tree_size"] == 0 and data["dictionary"]
    again = client.get("/api/v1/bulk/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    bulk.build()
    assert client.get("/api/v1/bulk/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 200


def test_a_failed_build_leaves_the_last_good_files(world, monkeypatch):
    good = bulk.build()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(bulk, "_write_scope", broken)
    with pytest.raises(OSError):
        bulk.build()
    assert bulk.read_manifest() == good
    assert [p.name for p in bulk.bulk_dir().iterdir() if p.is_dir()] == [good["generation"]]
    for entry in good["files"]:
        assert bulk.file_path(good, entry["name"]).is_file()


def test_each_row_carries_the_name_its_own_roster_wrote(world):
    """Issue #14.3: a person renamed on a later roster is published under each roster's name."""
    row = Disbursement.objects.published().first()
    Disbursement.objects.filter(pk=row.pk).update(name_masked="闫*超")
    assert row.person.name_masked != "闫*超"
    manifest = bulk.build()
    names = [
        line["person_name_masked"]
        for name in _files(manifest, "csv")
        for line in _csv(bulk.file_path(manifest, name))
        if int(line["record_id"]) == row.pk
    ]
    assert names == ["闫*超", "闫*超"]  # its year's file and its township's


def test_the_web_process_does_not_load_pyarrow_until_a_build():
    """pyarrow costs each process that imports it some 50 MB: only a build loads it."""
    import subprocess
    import sys

    probe = (
        "import django, sys; django.setup(); import publicity.bulk, publicity.receivers, "
        "api.views; print('pyarrow' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize(("act", "queues"), [("payment_results", True), ("correct", False)])
def test_payment_results_queue_a_rebuild_and_a_draft_correction_does_not(
    act, queues, world, monkeypatch, django_capture_on_commit_callbacks
):
    """The files carry each row's payment state, so bank results renew them; a correction
    changes them only once it is published (which queues its own rebuild)."""
    from funds.signals import publication_changed

    queued = []
    monkeypatch.setattr(bulk, "rebuild_bulk_downloads", _Recorder(queued))
    with django_capture_on_commit_callbacks(execute=True):
        publication_changed.send(sender=Batch, batch=world.published[1], act=act)
    assert queued == ([1] if queues else [])
