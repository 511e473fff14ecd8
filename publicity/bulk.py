"""Bulk downloads: everything public, per year and per township, as CSV and Parquet.

What the files hold is what the public site and the anonymous API show: rows of published
batches (in publicity or final), masked values only, each row with its current payment state
and the published correction that corrected it, if one did. A withdrawn batch's rows are gone
from the next build; drafts never appear.

A build writes every file into a new generation folder under ``<SUNLIGHT_VAR_DIR>/bulk/``
(each file to a temporary name, then renamed), then replaces ``manifest.json`` (file names,
scopes, formats, row counts, sizes, SHA-256, the publication state reflected, the data
dictionary) in one rename, then deletes older generations: a reader sees either the old set
or the new one, and a manifest always matches the files it names. Rows are read chunk by
chunk and written as they come (Parquet: one row group per chunk), never a whole table in
memory. Builds run one at a time (a lock file); ``rebuild_bulk_downloads`` is the background
task that the publication receivers queue (publicity.receivers), ``manage.py
build_bulk_downloads`` the command.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from funds.models import Batch, Disbursement, PaymentResult
from publicity.exports import csv_cell
from publicity.models import LogHead

MANIFEST = "manifest.json"
CHUNK = 5000  # rows read per query, and one Parquet row group
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}
# A file name the builder writes; anything else asked for is not looked up at all.
FILE_NAME = re.compile(r"^sunlight-(year|township)-[0-9]{1,10}\.(csv|parquet)$")

MASKED = _("已脱敏：只留姓氏与末字（复姓留两字）。")
MASKED_ID = _("已脱敏：只留前 3 位与后 4 位。")
MASKED_ACCOUNT = _("已脱敏：只留前 4 位与后 4 位。")


@dataclass(frozen=True)
class Column:
    """One column of the bulk files: its name, Arrow type (as pyarrow spells it: see arrow_type),
    source and meaning."""

    name: str
    type: str
    source: str  # a values() lookup on Disbursement, or "" for a value computed per row
    meaning: Promise
    masking: Promise | None = None


MONEY = "decimal128(14, 2)"
MEASURE = "decimal128(14, 4)"

COLUMNS: list[Column] = [
    Column("record_id", "int64", "id", _("发放记录 id，与接口 /api/v1/disbursements/ 相同。")),
    Column("batch_id", "int64", "batch_id", _("发放批次 id（公示页 /batches/<id>/）。")),
    Column(
        "batch_status",
        "string",
        "batch__status",
        _("批次状态：publicity 公示中，final 已定稿。"),
    ),
    Column("year", "int32", "batch__year", _("年度（发放期间所在年份）。")),
    Column("period", "string", "period", _("发放期间，YYYY-MM。")),
    Column("program_id", "int64", "program_id", _("补贴项目 id。")),
    Column("program", "string", "program__name", _("补贴项目名称。")),
    Column("township_id", "int64", "batch__township_id", _("发放批次所属乡镇 id。")),
    Column("township", "string", "batch__township__name", _("乡镇名称。")),
    Column("village_id", "int64", "village_id", _("村（社区）id。")),
    Column("village", "string", "village__name", _("村（社区）名称。")),
    Column("village_group", "string", "household__group", _("村民小组（组），可能为空。")),
    Column("household_id", "int64", "household_id", _("农户 id（公示页 /households/<id>/）。")),
    Column("person_id", "int64", "person_id", _("享受人 id（系统内编号，不是身份证号）。")),
    Column(
        "person_name_masked",
        "string",
        "name_masked",
        _("享受人姓名，按本行所在花名册所写。"),
        MASKED,
    ),
    Column(
        "person_id_number_masked",
        "string",
        "person__id_masked",
        _("享受人身份证号。"),
        MASKED_ID,
    ),
    Column("quantity", MEASURE, "quantity", _("数量（如面积，亩），可能为空。")),
    Column("rate", MEASURE, "rate", _("花名册所列标准（元/单位），可能为空。")),
    Column("amount", MONEY, "amount", _("金额（元，精确到分）；冲销行为负数。")),
    Column("pay_date", "date32[day]", "pay_date", _("发放日期，可能为空。")),
    Column("account_masked", "string", "account_masked", _("收款账号。"), MASKED_ACCOUNT),
    Column(
        "status",
        "string",
        "status",
        _("花名册所列发放状态：paid 已发放，failed 发放失败，stopped 停发。"),
    ),
    Column("is_reversal", "bool", "is_reversal", _("是否为更正中的冲销行。")),
    Column("corrects_id", "int64", "corrects_id", _("更正行所更正的发放记录 id。")),
    Column(
        "corrected_by_batch",
        "int64",
        "",
        _("若本行已被公开的更正批次更正，该更正批次的 id；否则为空。"),
    ),
    Column(
        "payment_state",
        "string",
        "",
        _("当前发放状态（按最新的银行回盘结果）：paid、failed、resent 已重发、stopped。"),
    ),
]
SOURCES = [column.source for column in COLUMNS if column.source]


def arrow_type(name: str):
    """Return the Arrow type NAME spells. pyarrow is imported here, when a build writes Parquet,
    not with this module: the web and import processes load it at start-up (receivers) and
    pyarrow costs them some 50 MB each."""
    import pyarrow as pa

    decimal = re.fullmatch(r"decimal128\((\d+), (\d+)\)", name)
    if decimal:
        return pa.decimal128(int(decimal[1]), int(decimal[2]))
    return {"date32[day]": pa.date32(), "bool": pa.bool_()}.get(name) or pa.type_for_alias(name)


def arrow_schema():
    """Return the Parquet files' Arrow schema."""
    import pyarrow as pa

    return pa.schema([pa.field(column.name, arrow_type(column.type)) for column in COLUMNS])


_ID = SOURCES.index("id")
_STATUS = SOURCES.index("status")

ARROW_TYPE_NAMES = {"decimal128(14, 2)": "decimal(14,2)", "decimal128(14, 4)": "decimal(14,4)"}


def dictionary() -> list[dict[str, str]]:
    """Return the data dictionary: each column's name, type and meaning in Chinese and English,
    and how it is masked."""

    def both(text: Promise | None) -> tuple[str, str]:
        if text is None:
            return "", ""
        with translation.override("zh-hans"):
            zh = str(text)
        with translation.override("en"):
            return zh, str(text)

    columns = []
    for column in COLUMNS:
        meaning, masking = both(column.meaning), both(column.masking)
        columns.append(
            {
                "name": column.name,
                "type": ARROW_TYPE_NAMES.get(str(column.type), str(column.type)),
                "meaning_zh": meaning[0],
                "meaning_en": meaning[1],
                "masking_zh": masking[0],
                "masking_en": masking[1],
            }
        )
    return columns


# Where the files live


def bulk_dir() -> Path:
    return Path(settings.VAR_DIR) / "bulk"


def read_manifest() -> dict[str, Any] | None:
    """Return the current manifest, or None before the first build."""
    try:
        return json.loads((bulk_dir() / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def file_entry(manifest: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    """Return the manifest's entry for the file NAME, or None if it names no such file."""
    if manifest is None or not FILE_NAME.match(name):
        return None
    return next((entry for entry in manifest["files"] if entry["name"] == name), None)


def file_path(manifest: dict[str, Any], name: str) -> Path:
    """Return where the file NAME of MANIFEST is on disk (NAME must be one of its files)."""
    root = bulk_dir().resolve()
    path = (root / manifest["generation"] / name).resolve()
    if root not in path.parents or file_entry(manifest, name) is None:
        raise FileNotFoundError(name)
    return path


# What is public


def public_rows(cutoff: datetime) -> QuerySet[Disbursement]:
    """Rows of batches public now and published by CUTOFF (the moment a build reflects)."""
    return Disbursement.objects.filter(_public_batch(cutoff, prefix="batch__"))


def _public_batch(cutoff: datetime, *, prefix: str = "") -> Q:
    published = Q(**{f"{prefix}published_at__lte": cutoff}) | Q(
        **{f"{prefix}published_at__isnull": True}
    )
    return Q(**{f"{prefix}status__in": Batch.PUBLIC_STATUSES}) & published


def scopes(cutoff: datetime) -> list[dict[str, Any]]:
    """Return the scopes with public rows: each year, then each township, in two queries."""
    batches = Batch.objects.filter(
        _public_batch(cutoff), Exists(Disbursement.objects.filter(batch=OuterRef("pk")))
    ).order_by()
    years = sorted(set(batches.values_list("year", flat=True)))
    towns = dict(
        batches.values_list("township_id", "township__name").distinct().order_by("township_id")
    )
    return [
        *({"kind": "year", "value": year, "label": str(year)} for year in years),
        *({"kind": "township", "value": pk, "label": name} for pk, name in towns.items()),
    ]


def _scope_rows(scope: dict[str, Any], cutoff: datetime) -> QuerySet[Disbursement]:
    rows = public_rows(cutoff)
    if scope["kind"] == "year":
        return rows.filter(batch__year=scope["value"])
    return rows.filter(batch__township_id=scope["value"])


def records(rows: QuerySet[Disbursement], cutoff: datetime) -> Iterator[list[list[Any]]]:
    """Yield ROWS a chunk at a time, each row a list of the columns' values; two queries per
    chunk add the correction that corrected each row and its current payment state."""
    chunk: list[list[Any]] = []
    for values in rows.order_by("id").values_list(*SOURCES).iterator(chunk_size=CHUNK):
        chunk.append(list(values))
        if len(chunk) == CHUNK:
            yield _completed(chunk, cutoff)
            chunk = []
    if chunk:
        yield _completed(chunk, cutoff)


def _completed(chunk: list[list[Any]], cutoff: datetime) -> list[list[Any]]:
    ids = [row[_ID] for row in chunk]
    corrected = dict(
        public_rows(cutoff)
        .filter(is_reversal=True, corrects_id__in=ids)
        .values_list("corrects_id", "batch_id")
    )
    latest = dict(
        PaymentResult.objects.filter(disbursement_id__in=ids)
        .in_order()
        .values_list("disbursement_id", "kind")
    )
    for row in chunk:
        pk = row[_ID]
        row.append(corrected.get(pk))
        row.append(latest.get(pk, row[_STATUS]))
    return chunk


def publication_state(cutoff: datetime) -> dict[str, Any]:
    """Return what a build reflects: the moment, the transparency log's size, the latest
    publication and the number of public batches."""
    public = Batch.objects.filter(_public_batch(cutoff))
    latest = public.aggregate(latest=Max("published_at"))["latest"]
    return {
        "as_of": cutoff.isoformat(),
        "tree_size": LogHead.objects.filter(pk=1).values_list("size", flat=True).first() or 0,
        "latest_publication": latest.isoformat() if latest else None,
        "public_batches": public.count(),
    }


# Writing


class _Sha256Writer:
    """A binary file that hashes and counts what is written to it."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("wb")
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.sha256.update(data)
        self.size += len(data)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _write_scope(folder: Path, scope: dict[str, Any], cutoff: datetime) -> list[dict[str, Any]]:
    """Write the CSV and Parquet files of SCOPE into FOLDER in one pass over its rows."""
    stem = f"sunlight-{scope['kind']}-{scope['value']}"
    csv_tmp, parquet_tmp = folder / f"{stem}.csv.tmp", folder / f"{stem}.parquet.tmp"
    out = _Sha256Writer(csv_tmp)
    line = csv.writer(_Echo())
    out.write(("\ufeff" + line.writerow([column.name for column in COLUMNS])).encode())
    count = 0
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema()
    types = [arrow_type(column.type) for column in COLUMNS]
    with pq.ParquetWriter(parquet_tmp, schema, compression="zstd") as parquet, out.file:
        for chunk in records(_scope_rows(scope, cutoff), cutoff):
            text = "".join(line.writerow([csv_cell(value) for value in row]) for row in chunk)
            out.write(text.encode())
            arrays = [
                pa.array([row[i] for row in chunk], type=types[i]) for i in range(len(COLUMNS))
            ]
            parquet.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
            count += len(chunk)
        out.file.flush()
        os.fsync(out.file.fileno())
    entries = []
    for tmp, fmt, digest, size in (
        (csv_tmp, "csv", out.sha256.hexdigest(), out.size),
        (parquet_tmp, "parquet", *_digest(parquet_tmp)),
    ):
        final = tmp.with_suffix("")  # drops .tmp
        tmp.replace(final)
        entries.append(
            {"name": final.name, "scope": scope, "format": fmt, "rows": count, "bytes": size,
             "sha256": digest, "content_type": CONTENT_TYPES[fmt]}
        )  # fmt: skip
    return entries


def _digest(path: Path) -> tuple[str, int]:
    sha256, size = hashlib.sha256(), 0
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            sha256.update(block)
            size += len(block)
        os.fsync(file.fileno())  # on disk before it is renamed into place
    return sha256.hexdigest(), size


def _write_json(path: Path, data: Any) -> None:
    """Write DATA as JSON to PATH atomically: a temporary file, synced, then renamed."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as file:
        json.dump(data, file, ensure_ascii=False, indent=1)
        file.flush()
        os.fsync(file.fileno())
    tmp.replace(path)


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    root = bulk_dir()
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time; the next waits
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def build() -> dict[str, Any]:
    """Write every public scope's files as a new generation and switch the manifest to it."""
    with _build_lock():
        cutoff = timezone.now()
        root = bulk_dir()
        generation = f"g-{cutoff:%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}"
        folder = root / generation
        folder.mkdir()
        try:
            files = [
                entry for scope in scopes(cutoff) for entry in _write_scope(folder, scope, cutoff)
            ]
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        generated_at = timezone.now().isoformat()
        manifest = {
            "generation": generation,
            "generated_at": generated_at,
            "state": publication_state(cutoff),
            "files": [{**entry, "generated_at": generated_at} for entry in files],
            "dictionary": dictionary(),
        }
        _write_json(root / MANIFEST, manifest)
        for old in root.iterdir():
            if old.is_dir() and old.name != generation:
                shutil.rmtree(old, ignore_errors=True)
        return manifest


# Regeneration in the background


@task()
def rebuild_bulk_downloads() -> dict[str, int]:
    """Rebuild the bulk downloads (queued after each publication, withdrawal, finalisation)."""
    manifest = build()
    return {"files": len(manifest["files"]), "tree_size": manifest["state"]["tree_size"]}


def rebuild_pending() -> bool:
    """Whether a rebuild already waits in the database queue (a running one does not count:
    it may have read the rows before the change that asks for another)."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(rebuild_bulk_downloads.get_backend(), DatabaseBackend):
        return False
    return DBTaskResult.objects.filter(
        task_path=rebuild_bulk_downloads.module_path, status="READY"
    ).exists()


def request_rebuild() -> bool:
    """Queue a rebuild unless one is already waiting; say whether this call queued one."""
    if rebuild_pending():
        return False
    rebuild_bulk_downloads.enqueue()
    return True
