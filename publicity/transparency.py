"""The transparency log: published rows appended as leaves, signed checkpoints, proofs, checks.

Every row of a batch becomes a leaf when the batch is published (``funds.signals.
batch_published``, sent inside ``publish_batch``'s transaction), so a publication and its leaves
commit or roll back together. The leaf is the row's public, masked values as canonical JSON
(docs/verify.md describes it for auditors); the tree and the signed notes are
``publicity.translog``'s.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from funds.models import Batch, Disbursement
from publicity import translog
from publicity.models import Checkpoint, LogHead, LogLeaf

#: Leaf key → the row's value it holds. The one definition of a leaf: append, verify_log and
#: docs/verify.md follow it. Masked values only; never a keyed hash (a keyed hash is not public).
LEAF_FIELDS = {
    "id": "id",
    "batch": "batch_id",
    "program": "program_id",
    "period": "period",
    "village": "village_id",
    "household": "household_id",
    "name_masked": "name_masked",  # the row's own (funds 0015 gave older rows their person's)
    "id_masked": "person__id_masked",
    "quantity": "quantity",
    "rate": "rate",
    "amount": "amount",
    "pay_date": "pay_date",
    "status": "status",
    "is_reversal": "is_reversal",
    "corrects": "corrects_id",
    "account_masked": "account_masked",
    "note": "note",
}
LEAF_VERSION = 1
CHUNK = 5000
LEAF_COLUMNS = ("index", "batch_id", "disbursement_id", "leaf", "leaf_hash", "created_at")


class LogError(ValueError):
    """A proof that cannot be asked for (sizes out of order, a row newer than the tree), or a
    head that does not add up. What does not exist (a row not in the log, a size never signed)
    raises LookupError instead."""


# --- The signing key --------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _signer(key: str) -> translog.Signer:
    return translog.Signer.from_key(key)


def log_signer() -> translog.Signer:
    """Return the checkpoint signer from settings, or refuse: nothing is published unsigned."""
    key = settings.SUNLIGHT_LOG_SIGNING_KEY
    if not key:
        raise ValidationError(
            _("未配置透明日志签名密钥（SUNLIGHT_LOG_SIGNING_KEY），不能发布；见 docs/verify.md"),
            code="log_key_missing",
        )
    try:
        return _signer(key)
    except translog.NoteError as error:
        raise ValidationError(
            _("透明日志签名密钥（SUNLIGHT_LOG_SIGNING_KEY）格式无效，不能发布"),
            code="log_key_invalid",
        ) from error


def log_verifier() -> translog.Verifier | None:
    """Return the public key that checks the checkpoints, or None when no key is configured."""
    try:
        return log_signer().verifier()
    except ValidationError:
        return None


def log_origin() -> str:
    """Return the log's origin line: the setting, else the key's name."""
    return settings.SUNLIGHT_LOG_ORIGIN or log_signer().name


# --- Leaves -----------------------------------------------------------------------------------


def _text(value: Any, places: int) -> str | None:
    return None if value is None else f"{value:.{places}f}"


def leaf_text(row: Mapping[str, Any]) -> str:
    """Return the leaf of a row given as {leaf key: value}: canonical JSON, UTF-8 when hashed."""
    values = {
        **row,
        "v": LEAF_VERSION,
        "quantity": _text(row["quantity"], 4),
        "rate": _text(row["rate"], 4),
        "amount": _text(row["amount"], 2),
        "pay_date": row["pay_date"].isoformat() if row["pay_date"] else None,
    }
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def leaf_texts(rows: Iterable[Disbursement] | Any) -> Iterator[tuple[int, int, str]]:
    """Yield (row id, batch id, leaf) for ROWS (a queryset) in id order, in one streamed query."""
    keys = list(LEAF_FIELDS)
    values = rows.order_by("id").values_list(*LEAF_FIELDS.values())
    for found in values.iterator(chunk_size=CHUNK):
        row = dict(zip(keys, found, strict=True))
        yield row["id"], row["batch"], leaf_text(row)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _insert_leaves(leaves: list[tuple]) -> None:
    """Insert leaf tuples (LEAF_COLUMNS): COPY on PostgreSQL, executemany elsewhere."""
    q = connection.ops.quote_name
    table, cols = q(LogLeaf._meta.db_table), ", ".join(q(c) for c in LEAF_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with (
                cursor.db.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy,
            ):
                for leaf in leaves:
                    copy.write_row(leaf)
            return
        marks = ", ".join(["%s"] * len(LEAF_COLUMNS))
        cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", leaves)  # noqa: S608


def _frontier(head: LogHead) -> list[bytes]:
    data = bytes(head.frontier)
    hashes = [data[i : i + translog.HASH_SIZE] for i in range(0, len(data), translog.HASH_SIZE)]
    if len(hashes) != head.size.bit_count():
        raise LogError(_("日志头已损坏：右边界与叶子数不符"))
    return hashes


@transaction.atomic
def append_batch(*, batch: Batch) -> Checkpoint:
    """Append every row of BATCH to the log and sign a checkpoint of the new tree."""
    signer = log_signer()
    # The head row is made on first use (a flush or a fresh database has none); the lock on it
    # makes concurrent publications append one after the other, never at the same index.
    LogHead.objects.bulk_create([LogHead(pk=1)], ignore_conflicts=True)
    head = LogHead.objects.select_for_update().get(pk=1)
    frontier, size, now = _frontier(head), head.size, timezone.now()
    if connection.vendor == "sqlite":
        now = now.replace(tzinfo=None)  # raw SQL below: SQLite stores naive UTC text
    rows = Disbursement.objects.filter(batch_id=batch.pk)
    for chunk in _chunks(leaf_texts(rows), CHUNK):
        hashes = [translog.leaf_hash(text.encode()) for _, _, text in chunk]
        leaves = [
            (size + n, batch_id, row_id, text, digest, now)
            for n, ((row_id, batch_id, text), digest) in enumerate(zip(chunk, hashes, strict=True))
        ]
        _insert_leaves(leaves)
        frontier = translog.extend_frontier(frontier, size, hashes)
        size += len(chunk)
    root = translog.frontier_root(frontier)
    head.size, head.frontier = size, b"".join(frontier)
    head.save(update_fields=["size", "frontier"])
    note = translog.sign(translog.checkpoint_text(log_origin(), size, root), [signer])
    return Checkpoint.objects.create(tree_size=size, root_hash=root, note=note, batch_id=batch.pk)


# --- Reading the log --------------------------------------------------------------------------


def latest_checkpoint() -> Checkpoint | None:
    """Return the newest signed checkpoint, or None while the log is empty."""
    return Checkpoint.objects.order_by("-tree_size", "-id").first()


def batch_checkpoint(batch: Batch) -> tuple[Checkpoint | None, bool]:
    """Return the checkpoint signed when BATCH was published, else the latest; and which."""
    own = Checkpoint.objects.filter(batch_id=batch.pk).order_by("-tree_size", "-id").first()
    return (own, True) if own is not None else (latest_checkpoint(), False)


def _b64(digest: bytes) -> str:
    return base64.b64encode(bytes(digest)).decode()


def _signed(size: int) -> Checkpoint:
    found = Checkpoint.objects.filter(tree_size=size).order_by("-id").first()
    if found is None:
        raise LookupError(_("没有这个树大小的已签名检查点"))
    return found


def _leaf_hashes(size: int) -> list[bytes]:
    """Return the hashes of the first SIZE leaves, in index order (hashes only, no rows)."""
    found = LogLeaf.objects.filter(index__lt=size).order_by("index")
    return [bytes(digest) for digest in found.values_list("leaf_hash", flat=True)]


def inclusion(*, row_id: int, tree_size: int | None = None) -> dict[str, Any]:
    """Return the proof that published row ROW_ID is in the signed tree of TREE_SIZE (latest)."""
    published = Disbursement.objects.published().filter(pk=row_id)
    leaf = (
        LogLeaf.objects.filter(disbursement_id=row_id)
        .filter(Exists(published))
        .order_by("index")
        .values("index", "leaf", "leaf_hash")
        .first()
    )
    if leaf is None:
        raise LookupError(_("这条记录不在透明日志中"))
    checkpoint = latest_checkpoint() if tree_size is None else _signed(tree_size)
    if checkpoint is None:
        raise LookupError(_("这条记录不在透明日志中"))
    if leaf["index"] >= checkpoint.tree_size:
        raise LogError(_("这条记录在此检查点之后才加入日志"))
    hashes = _leaf_hashes(checkpoint.tree_size)
    return {
        "leaf": leaf["leaf"],
        "leaf_index": leaf["index"],
        "tree_size": checkpoint.tree_size,
        "leaf_hash": _b64(leaf["leaf_hash"]),
        "root": _b64(checkpoint.root_hash),
        "proof": [_b64(h) for h in translog.inclusion_proof(leaf["index"], hashes)],
    }


def consistency(*, first: int, second: int) -> dict[str, Any]:
    """Return the proof that the signed tree of FIRST leaves is a prefix of that of SECOND."""
    old, new = _signed(first), _signed(second)
    if first > second:
        raise LogError(_("first 不能大于 second"))
    proof = translog.consistency_proof(first, _leaf_hashes(second)) if first < second else []
    return {
        "first": first,
        "second": second,
        "first_root": _b64(old.root_hash),
        "second_root": _b64(new.root_hash),
        "proof": [_b64(h) for h in proof],
    }


# --- Checking the log against the rows ----------------------------------------------------------


@dataclass
class LogReport:
    """What verify_log found: the size it checked, its root, and every problem, in words."""

    leaves: int = 0
    root: bytes = translog.EMPTY_ROOT
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)


def _row_values(ids: list[int]) -> dict[int, tuple[dict[str, Any], bool]]:
    """Return each row's leaf values and whether its batch was ever published, by row id."""
    keys = list(LEAF_FIELDS)
    found = Disbursement.objects.filter(pk__in=ids).values_list(
        *LEAF_FIELDS.values(), "batch__published_at"
    )
    return {
        values[0]: (dict(zip(keys, values[:-1], strict=True)), values[-1] is not None)
        for values in found
    }


def _changed_fields(stored: str, current: str) -> list[str]:
    try:
        old = json.loads(stored)
    except ValueError:
        return ["*"]
    new = json.loads(current)
    return sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))


def _check_leaf(leaf: dict[str, Any], rows: dict[int, tuple], report: LogReport) -> bytes:
    """Check one leaf against its hash and its row; return the leaf hash of its text."""
    index, text = leaf["index"], leaf["leaf"]
    digest = translog.leaf_hash(text.encode())
    if bytes(leaf["leaf_hash"]) != digest:
        report.problems.append(_("叶子 #%(index)s：保存的哈希与叶子内容不符") % {"index": index})
    row, published = rows.get(leaf["disbursement_id"], (None, False))
    place = {"index": index, "row": leaf["disbursement_id"], "batch": leaf["batch_id"]}
    if row is None:
        report.problems.append(
            _("叶子 #%(index)s：发放记录 #%(row)s（批次 #%(batch)s）已不存在") % place
        )
    elif not published:
        report.problems.append(
            _("叶子 #%(index)s：发放记录 #%(row)s（批次 #%(batch)s）从未公开") % place
        )
    if row is not None and (current := leaf_text(row)) != text:
        report.problems.append(
            _("发放记录 #%(row)s（批次 #%(batch)s）与叶子 #%(index)s 不符，改动的字段：%(fields)s")
            % {
                "row": row["id"],
                "batch": row["batch"],
                "index": index,
                "fields": ", ".join(_changed_fields(text, current)),
            }
        )
    return digest


def _check_checkpoints(report: LogReport) -> dict[int, list[Checkpoint]]:
    """Check every checkpoint's signature and body; return them by tree size."""
    verifier, by_size = log_verifier(), {}
    for checkpoint in Checkpoint.objects.order_by("tree_size", "id"):
        by_size.setdefault(checkpoint.tree_size, []).append(checkpoint)
        report.checkpoints += 1
        try:
            if verifier is None:
                raise translog.NoteError("no key")
            body = translog.open_note(checkpoint.note, [verifier])
            signed = translog.parse_checkpoint(body)
        except translog.NoteError:
            report.problems.append(
                _("检查点 #%(id)s（树大小 %(size)s）：签名无法用本站公钥验证")
                % {"id": checkpoint.pk, "size": checkpoint.tree_size}
            )
            continue
        if signed[1:] != (checkpoint.tree_size, bytes(checkpoint.root_hash)):
            report.problems.append(
                _("检查点 #%(id)s：保存的树大小或根与签名内容不符") % {"id": checkpoint.pk}
            )
    return by_size


def _leaf_chunks() -> Iterator[list[dict[str, Any]]]:
    """Yield the leaves in index order, CHUNK at a time (keyset: no OFFSET, no whole table)."""
    after = -1
    columns = ("index", "batch_id", "disbursement_id", "leaf", "leaf_hash")
    while chunk := list(
        LogLeaf.objects.filter(index__gt=after).order_by("index").values(*columns)[:CHUNK]
    ):
        yield chunk
        after = chunk[-1]["index"]


def verify_log() -> LogReport:
    """Recompute every leaf from its row and the tree from the leaves; report every mismatch."""
    report = LogReport()
    by_size = _check_checkpoints(report)
    frontier: list[bytes] = []
    for chunk in _leaf_chunks():
        rows = _row_values([leaf["disbursement_id"] for leaf in chunk])
        for leaf in chunk:
            if leaf["index"] != report.leaves:
                report.problems.append(
                    _("叶子序号不连续：应为 #%(want)s，实为 #%(got)s")
                    % {"want": report.leaves, "got": leaf["index"]}
                )
            digest = _check_leaf(leaf, rows, report)
            frontier = translog.extend_frontier(frontier, report.leaves, [digest])
            report.leaves += 1
            _check_roots(by_size.pop(report.leaves, []), frontier, report)
    report.root = translog.frontier_root(frontier)
    _check_extent(by_size, report)
    _check_published_rows(report)
    return report


def _check_roots(checkpoints: list[Checkpoint], frontier: list[bytes], report: LogReport) -> None:
    root = translog.frontier_root(frontier)
    for checkpoint in checkpoints:
        if bytes(checkpoint.root_hash) != root:
            report.problems.append(
                _("检查点 #%(id)s（树大小 %(size)s）的根与日志中的叶子算出的根不符")
                % {"id": checkpoint.pk, "size": checkpoint.tree_size}
            )


def _check_extent(beyond: dict[int, list[Checkpoint]], report: LogReport) -> None:
    """Compare the leaves counted with the head and the latest checkpoint."""
    for size in sorted(beyond):
        report.problems.append(
            _("检查点的树大小 %(size)s 超过日志中的叶子数 %(leaves)s")
            % {"size": size, "leaves": report.leaves}
        )
    head = LogHead.objects.filter(pk=1).first()
    head_size = head.size if head else 0
    latest = latest_checkpoint()
    signed = latest.tree_size if latest else 0
    if report.leaves != head_size or report.leaves != signed:
        report.problems.append(
            _(
                "日志中有 %(leaves)s 个叶子，日志头记录 %(head)s 个，最新签名检查点 %(signed)s 个："
                "序号 %(signed)s 起的叶子未经签名"
            )
            % {"leaves": report.leaves, "head": head_size, "signed": signed}
        )


def _check_published_rows(report: LogReport) -> None:
    """Name every published row that has no leaf."""
    in_log = LogLeaf.objects.filter(disbursement_id=OuterRef("pk"))
    missing = (
        Disbursement.objects.published()
        .filter(~Exists(in_log))
        .order_by("id")
        .values_list("id", "batch_id")
    )
    for row_id, batch_id in missing.iterator(chunk_size=CHUNK):
        report.problems.append(
            _("已公开的发放记录 #%(row)s（批次 #%(batch)s）不在透明日志中")
            % {"row": row_id, "batch": batch_id}
        )
