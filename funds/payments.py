"""Record what banks say of a published batch's payments: failures and re-sends.

A bank return file is read (``funds.importing.returns``), each line matched to one row of the
batch by the keyed hash of its ID number or account, and its amount checked against the row's;
``check_return`` says what importing it would add, ``record_payment_results`` adds it. Results
are entries (``PaymentResult``): a disbursement row is never edited.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from funds import access, audit, signals
from funds.importing.parsed import Issue
from funds.importing.returns import FAILED, ParsedReturn, ReturnLine, read_return
from funds.models import Batch, Disbursement, PaymentResult, PaymentReturn
from privacy import personal

#: Lines looked up per query.
CHUNK = 1000
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class MatchedLine:
    """A return file line matched to its row: no ID number or account left in it."""

    disbursement: int
    outcome: str  # returns.FAILED | returns.SUCCEEDED
    amount: Decimal
    result_date: date | None
    reason: str
    note: str
    sheet: str
    row: int

    def as_list(self) -> list[Any]:
        values = asdict(self)
        values["amount"] = str(self.amount)
        values["result_date"] = self.result_date.isoformat() if self.result_date else None
        return list(values.values())

    @classmethod
    def from_list(cls, values: Sequence[Any]) -> MatchedLine:
        pk, outcome, amount, day, reason, note, sheet, row = values
        return cls(
            int(pk), outcome, Decimal(amount), date.fromisoformat(day) if day else None,
            reason, note, sheet, int(row),
        )  # fmt: skip


@dataclass
class ReturnCheck:
    """What a return file would add to a batch, or every reason it cannot."""

    original_name: str
    sha256: str
    lines: list[MatchedLine] = field(default_factory=list)
    planned: list[PaymentResult] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    unchanged: int = 0  # successes of payments that had not failed: nothing to add
    duplicate: bool = False

    def ok(self) -> bool:
        return not self.errors and not self.duplicate and bool(self.lines)

    def _of(self, kind: str) -> list[PaymentResult]:
        return [r for r in self.planned if r.kind == kind]

    @property
    def failed_count(self) -> int:
        return len(self._of(PaymentResult.Kind.FAILED))

    @property
    def failed_amount(self) -> Decimal:
        return sum((r.amount for r in self._of(PaymentResult.Kind.FAILED)), ZERO)

    @property
    def resent_count(self) -> int:
        return len(self._of(PaymentResult.Kind.RESENT))

    @property
    def resent_amount(self) -> Decimal:
        return sum((r.amount for r in self._of(PaymentResult.Kind.RESENT)), ZERO)


def _require_public(batch: Batch) -> None:
    if not batch.is_public:
        raise ValidationError(
            _("只能为公示中或已定稿的批次导入银行回盘文件；本批次状态为“%(status)s”")
            % {"status": batch.get_status_display()},
            code="bad_status",
        )


def check_return(
    *, batch: Batch, data: bytes, filename: str, today: date | None = None
) -> ReturnCheck:
    """Read a return file against BATCH and say what importing it would add; write nothing."""
    _require_public(batch)
    today = today or timezone.localdate()
    check = ReturnCheck(original_name=filename[:255], sha256=hashlib.sha256(data).hexdigest())
    check.duplicate = PaymentReturn.objects.filter(batch=batch, sha256=check.sha256).exists()
    # Every error at once: the lines that were read are matched even when others were bad.
    parsed = read_return(data, filename=filename, today=today)
    check.lines = match_lines(batch=batch, parsed=parsed)
    if parsed.errors:
        check.errors += sorted(parsed.errors, key=lambda issue: (issue.sheet, issue.row or 0))
        check.lines = []
        return check
    check.planned, problems, check.unchanged = plan_results(
        batch=batch, lines=check.lines, today=today
    )
    check.errors += [
        Issue(line.sheet, line.row, parsed.labels[line.sheet]["pay_date"], message, code)
        for line, message, code in problems
    ]
    return check


# --- Matching lines to rows ------------------------------------------------------------------


def match_lines(*, batch: Batch, parsed: ParsedReturn) -> list[MatchedLine]:
    """Match each line to one row of BATCH, one query per chunk; a line that fails gets errors.

    Errors go on ``parsed.errors`` at the line's sheet, row and column.
    """
    fast = personal.Shortcuts()
    matched: list[MatchedLine] = []
    for start in range(0, len(parsed.lines), CHUNK):
        chunk = parsed.lines[start : start + CHUNK]
        ids = {line.id_number: fast.hash_id(line.id_number) for line in chunk if line.id_number}
        accounts = {line.account: fast.hash_account(line.account) for line in chunk if line.account}
        rows = (
            batch.disbursements.filter(is_reversal=False)
            .filter(
                Q(person__id_hash__in=ids.values())
                | Q(payee__id_hash__in=ids.values())
                | Q(account_hash__in=accounts.values())
            )
            .values("id", "amount", "account_hash", "person__id_hash", "payee__id_hash")
        )
        by_id: dict[str, set[int]] = defaultdict(set)
        by_account: dict[str, set[int]] = defaultdict(set)
        amounts: dict[int, Decimal] = {}
        for row in rows:
            amounts[row["id"]] = row["amount"]
            for key in ("person__id_hash", "payee__id_hash"):
                if row[key]:
                    by_id[row[key]].add(row["id"])
            if row["account_hash"]:
                by_account[row["account_hash"]].add(row["id"])
        for line in chunk:
            found = _match(line, parsed, ids, accounts, by_id, by_account, amounts)
            if found is not None:
                matched.append(found)
    return matched


def _match(
    line: ReturnLine, parsed: ParsedReturn, ids: dict[str, str], accounts: dict[str, str],
    by_id: dict[str, set[int]], by_account: dict[str, set[int]], amounts: dict[int, Decimal],
) -> MatchedLine | None:  # fmt: skip
    """Return LINE matched to its row, or None with an error naming its place."""
    labels = parsed.labels[line.sheet]
    key_label = labels["id_number"] if line.id_number else labels["account"]

    def fail(label: str, message: str, code: str) -> None:
        parsed.errors.append(Issue(line.sheet, line.row, label, message, code))

    by_person = by_id.get(ids[line.id_number], set()) if line.id_number else None
    by_acct = by_account.get(accounts[line.account], set()) if line.account else None
    if by_person is not None and by_acct is not None and by_person and by_acct:
        candidates = by_person & by_acct
        if not candidates:
            fail(labels["account"], _("账号与身份证号码不是本批次中同一笔发放"), "key_conflict")
            return None
    else:
        candidates = by_person if by_person else (by_acct or set())
    if not candidates:
        fail(key_label, _("本批次中没有这笔发放：身份证号码或账号对不上"), "not_in_batch")
        return None
    if len(candidates) > 1:
        candidates = {pk for pk in candidates if amounts[pk] == line.amount} or candidates
        if len(candidates) > 1:
            fail(key_label, _("本批次中有多笔发放对得上这一行，请在文件中写明账号"), "ambiguous")
            return None
    (pk,) = candidates
    if amounts[pk] != line.amount:
        fail(labels["amount"], _("金额与本批次中这笔发放的金额不一致"), "amount_differs")
        return None
    return MatchedLine(
        pk, line.outcome, line.amount, line.result_date, line.reason, line.note, line.sheet,
        line.row,
    )  # fmt: skip


# --- From lines to entries -------------------------------------------------------------------


def plan_results(
    *, batch: Batch, lines: Iterable[MatchedLine], today: date
) -> tuple[list[PaymentResult], list[tuple[MatchedLine, str, str]], int]:
    """Turn matched lines into the entries to add, from each row's current state.

    A failure is always an entry; a success is a re-send when the payment stands failed, and
    adds nothing when it stands paid. Lines are taken in date order (undated ones on TODAY), so
    a failure and its re-send may come in one file. Return (entries, problems, unchanged).
    """
    lines = sorted(lines, key=lambda line: line.result_date or today)
    pks = {line.disbursement for line in lines}
    statuses = dict(
        Disbursement.objects.filter(pk__in=pks, batch=batch).values_list("id", "status")
    )
    histories = PaymentResult.objects.histories(pks)
    state = {pk: (h[-1].kind, h[-1].result_date) for pk, h in histories.items()}
    planned: list[PaymentResult] = []
    problems: list[tuple[MatchedLine, str, str]] = []
    unchanged = 0
    for line in lines:
        day = line.result_date or today
        kind, last = state.get(line.disbursement, (statuses[line.disbursement], None))
        if last is not None and day < last:
            problems.append((line, _("日期早于这笔发放已记录的结果日期"), "date_before_last"))
            continue
        if line.outcome == FAILED:
            new_kind = PaymentResult.Kind.FAILED
        elif kind == PaymentResult.Kind.FAILED:
            new_kind = PaymentResult.Kind.RESENT
        else:
            unchanged += 1
            continue
        planned.append(
            PaymentResult(
                disbursement_id=line.disbursement, batch=batch, kind=new_kind,
                amount=line.amount, result_date=day,
                reason=line.reason if new_kind == PaymentResult.Kind.FAILED else "",
                note=line.note if new_kind == PaymentResult.Kind.FAILED else "",
                source_sheet=line.sheet[:100], source_row=line.row,
            )
        )  # fmt: skip
        state[line.disbursement] = (new_kind, day)
    return planned, problems, unchanged


@transaction.atomic
def record_payment_results(
    *,
    batch: Batch,
    lines: Sequence[MatchedLine],
    original_name: str,
    sha256: str,
    user: Any = None,
    today: date | None = None,
) -> PaymentReturn:
    """Add the failures and re-sends of a checked return file to BATCH, all or nothing.

    Raise ValidationError when the batch is not published, the file was imported already, or
    the rows' results changed since the check so that a line no longer fits.
    """
    locked = Batch.objects.select_for_update().get(pk=batch.pk)
    if user is not None:
        access.require(user, "funds.record_payment_results", locked.township_id)
    _require_public(locked)
    if PaymentReturn.objects.filter(batch=locked, sha256=sha256).exists():
        raise ValidationError(_("这份回盘文件已经导入过"), code="duplicate")
    planned, problems, _unchanged = plan_results(
        batch=locked, lines=lines, today=today or timezone.localdate()
    )
    if problems:
        raise ValidationError(
            [
                _("工作表“%(sheet)s”第 %(row)d 行：%(problem)s")
                % {"sheet": line.sheet, "row": line.row, "problem": message}
                for line, message, _code in problems
            ],
            code="stale",
        )
    try:
        with transaction.atomic():
            upload = PaymentReturn.objects.create(
                batch=locked, original_name=original_name[:255], sha256=sha256,
                line_count=len(lines), created_by=user if getattr(user, "pk", None) else None,
                failed_count=sum(r.kind == PaymentResult.Kind.FAILED for r in planned),
                resent_count=sum(r.kind == PaymentResult.Kind.RESENT for r in planned),
            )  # fmt: skip
    except IntegrityError:
        raise ValidationError(_("这份回盘文件已经导入过"), code="duplicate") from None
    for result in planned:
        result.payment_return = upload
    PaymentResult.objects.bulk_create(planned, batch_size=2000)
    audit.record(
        audit.Kind.PAYMENT_RESULTS, user=user, batch=locked, obj=upload,
        lines=len(lines), failed=upload.failed_count, resent=upload.resent_count,
    )  # fmt: skip
    signals.publication_changed.send(sender=Batch, batch=locked, act="payment_results")
    return upload
