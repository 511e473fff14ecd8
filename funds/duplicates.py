"""Double payments: a roster that repeats what a live batch already pays, found by content.

Comparing file bytes finds the same file only: a roster saved again, or corrected and saved,
has other bytes and the same payments. So before a roster is confirmed, and again before a
batch is published, Sunlight compares what they pay:

- a live batch of the same program, period and township (a second roster of the same
  payments), for a program paying each person once a period, and
- persons the program already pays in that period in a live batch anywhere, beyond the number
  of rows per person and period the program allows (``Program.rows_per_person``: one by
  default; a machinery subsidy may allow one per machine; blank for no limit). A correction's
  reversal cancels the row it reverses, so a corrected payment counts once.

"Live" is every status but withdrawn when confirming (two drafts of one roster are already a
mistake) and the public statuses when publishing (what would reach the public twice).
Corrections are not compared: they point at the batch they correct by design. What is found
blocks the act unless staff state a reason, which the audit record keeps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils.translation import gettext as _

from funds.models import Batch, Disbursement, Program

#: Statuses a batch is compared with before it is confirmed, and before it is published.
LIVE = (Batch.Status.DRAFT, *Batch.PUBLIC_STATUSES)
PUBLIC = Batch.PUBLIC_STATUSES
EXAMPLES = 5
HASH_CHUNK = 5_000


@dataclass
class Found:
    """What a roster repeats: live batches of its program, period and township; persons."""

    batches: list[dict[str, Any]] = field(default_factory=list)  # id, status, title
    persons: int = 0  # persons already paid as often as the program allows
    examples: list[dict[str, Any]] = field(default_factory=list)  # masked name, sheet, row

    def __bool__(self) -> bool:
        return bool(self.batches or self.persons)

    def as_json(self) -> dict[str, Any]:
        return {"batches": self.batches, "persons": self.persons, "examples": self.examples}

    def message(self) -> str:
        """Say what was found, naming the batches and counting the persons (masked only)."""
        parts = []
        if self.batches:
            named = "、".join(
                _("#%(id)s（%(status)s）") % {"id": b["id"], "status": b["status_display"]}
                for b in self.batches
            )
            parts.append(_("同一项目、期间和乡镇已有批次 %(batches)s") % {"batches": named})
        if self.persons:
            parts.append(_("%(count)s 人在本期已由该项目发放") % {"count": self.persons})
        return _("可能重复发放：%(what)s。请先撤回重复的批次，或填写理由后继续。") % {
            "what": "；".join(parts)
        }


def _batches(
    *, program: Program, period: str, township: Q, statuses: Sequence[str], exclude: int | None
) -> list[dict[str, Any]]:
    """Return the live batches of PROGRAM, PERIOD and TOWNSHIP, for a once-a-period program."""
    if program.rows_per_person != 1:
        return []
    found = Batch.objects.filter(
        township, program=program, period=period, corrects__isnull=True,
        status__in=statuses,
    ).exclude(pk=exclude).order_by("id")  # fmt: skip
    return [
        {"id": b.pk, "status": b.status, "status_display": str(b.get_status_display()),
         "title": b.title}
        for b in found.only("pk", "status", "title")[:20]
    ]  # fmt: skip


def _paid(
    program: Program, period: str, statuses: Sequence[str], *, rows: QuerySet | None = None
) -> QuerySet:
    """Count per person the ROWS of PROGRAM in PERIOD in batches of STATUSES, net (a reversal
    counts -1)."""
    rows = Disbursement.objects.all() if rows is None else rows
    return (
        rows.filter(program=program, period=period, batch__status__in=statuses)
        .values("person")
        .annotate(
            net=Sum(
                Case(
                    When(is_reversal=True, then=Value(-1)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
        )
    )


def for_batch(batch: Batch, *, statuses: Sequence[str] = PUBLIC) -> Found:
    """Return what BATCH repeats of the batches in STATUSES (publishing compares with PUBLIC)."""
    if batch.corrects_id is not None:
        return Found()
    program = Program.objects.get(pk=batch.program_id)
    found = Found(
        batches=_batches(
            program=program,
            period=batch.period,
            township=Q(township_id=batch.township_id),
            statuses=statuses,
            exclude=batch.pk,
        )
    )
    limit = program.rows_per_person
    if limit is None:
        return found
    mine = Disbursement.objects.filter(batch=batch, is_reversal=False).values("person")
    others = Disbursement.objects.exclude(batch=batch).filter(person__in=mine)
    already = (
        _paid(program, batch.period, statuses, rows=others).filter(net__gte=limit).values("person")
    )
    found.persons = already.count()
    if found.persons:
        rows = (
            Disbursement.objects.filter(batch=batch, is_reversal=False, person__in=already)
            .order_by("id")
            .values("name_masked", "source_sheet", "source_row")[:EXAMPLES]
        )
        found.examples = [
            {"name": r["name_masked"], "sheet": r["source_sheet"], "row": r["source_row"]}
            for r in rows
        ]
    return found


def for_staged(
    staged: Any, *, program: Program, period: str, township: str,
    statuses: Sequence[str] = LIVE,
) -> Found:  # fmt: skip
    """Return what a staged roster (not written yet) repeats of the batches in STATUSES."""
    found = Found(
        batches=_batches(
            program=program,
            period=period,
            township=Q(township__name=township),
            statuses=statuses,
            exclude=None,
        )
    )
    limit = program.rows_per_person
    if limit is None:
        return found
    hashes = sorted({row.id_hash for row in staged.rows})
    repeated: set[str] = set()
    for chunk in _chunks(hashes, HASH_CHUNK):
        rows = Disbursement.objects.filter(person__id_hash__in=chunk)
        paid = _paid(program, period, statuses, rows=rows).filter(net__gte=limit)
        repeated.update(paid.values_list("person__id_hash", flat=True))
    found.persons = len(repeated)
    for row in staged.rows:
        if len(found.examples) == EXAMPLES:
            break
        if row.id_hash in repeated:
            found.examples.append({"name": row.name_masked, "sheet": row.sheet, "row": row.row})
    return found


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
