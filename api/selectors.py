"""Read what the API serves: visible rows, summaries, exports and red-flag scopes."""

# Selectors take plain values, not requests (``auditor``: whether the caller may see
# unpublished data), so they can be called and tested without HTTP; the views parse the
# request and shape the response.

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextChoices,
    Value,
    When,
)
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES

from api.models import RedFlagReview
from api.redflags import RED_FLAGS, with_cases
from funds import audit
from funds.access import COUNTY_STAFF_GROUP, TOWNSHIP_STAFF_GROUP
from funds.models import (
    AuditEntry,
    Batch,
    BatchQuerySet,
    Disbursement,
    DisbursementQuerySet,
    ImportJob,
    PaymentResult,
    PaymentState,
    Program,
    current_state,
)
from publicity.exports import Cell
from publicity.models import Checkpoint
from villages.models import Household, Person, Township, Village

GroupId = int | str
Names = Callable[[list[GroupId]], dict[GroupId, Any]]


class SummaryRow(TypedDict):
    id: GroupId
    name: str | None
    total: Decimal
    count: int
    paid_amount: Decimal
    failed_amount: Decimal
    resent_amount: Decimal


class RedFlagCount(TypedDict):
    kind: str
    title: str
    rows: int


# Who sees what


def counted_statuses(*, auditor: bool, asked: Sequence[str] = ()) -> list[str]:
    """Return the batch statuses an answer counts: those ASKED for, else the published ones.

    Auditors may ask for drafts and withdrawn batches; everyone else only ever sees published
    rows, so what they ask beyond those matches nothing.
    """
    statuses = sorted(set(asked)) if asked else sorted(Batch.PUBLIC_STATUSES, reverse=True)
    return statuses if auditor else [s for s in statuses if s in Batch.PUBLIC_STATUSES]


def public_at(as_of: datetime, *, batch: str = "pk") -> Q:
    """Batches public at AS_OF: published by then and not withdrawn by then (the withdrawal's
    time is in the append-only audit record). BATCH names the batch's id from where the Q is
    used ("pk" on batches, "batch_id" on rows); rows never change, so their batches decide."""
    prefix = "" if batch == "pk" else "batch__"
    withdrawn = AuditEntry.objects.filter(
        batch_id=OuterRef(batch), kind=AuditEntry.Kind.WITHDRAW, at__lte=as_of
    )
    return Q(
        **{
            f"{prefix}published_at__lte": as_of,
            f"{prefix}status__in": [*Batch.PUBLIC_STATUSES, Batch.Status.WITHDRAWN],
        }
    ) & ~Exists(withdrawn)


def tree_size_moment(size: int) -> datetime | None:
    """Return the moment the transparency log reached SIZE leaves: when the checkpoint of the
    publication that appended leaf SIZE - 1 was signed (a size inside one publication is that
    publication); None when the log has fewer leaves. One query, on the checkpoints' index."""
    return (
        Checkpoint.objects.filter(tree_size__gte=size)
        .order_by("tree_size", "id")
        .values_list("created_at", flat=True)
        .first()
    )


def visible_disbursements(
    *, auditor: bool, asked: Sequence[str] = (), as_of: datetime | None = None
) -> DisbursementQuerySet:
    """Return the rows an answer counts: published ones, unless an auditor ASKED for others;
    with AS_OF, those public at that moment."""
    if as_of is not None:  # batch_status, if any, then narrows by status now (the filterset)
        return Disbursement.objects.filter(public_at(as_of, batch="batch_id")).order_by("id")
    statuses = counted_statuses(auditor=auditor, asked=asked)
    return Disbursement.objects.filter(batch__status__in=statuses).order_by("id")


def frozen_disbursements(
    *, auditor: bool, asked: Sequence[str] = (), as_of: datetime | None, frozen_at: datetime
) -> DisbursementQuerySet:
    """Return the rows ``visible_disbursements`` counted at FROZEN_AT (an export job's request),
    whenever this runs: what was public then — published by then, not withdrawn by then (a
    batch published before the log of publication times counts as ever published). With
    AS_OF, that moment already fixes them. Statuses an auditor ASKED for are those of batches
    imported by FROZEN_AT, in their status now."""
    if as_of is not None:
        return visible_disbursements(auditor=auditor, asked=asked, as_of=as_of)
    if asked:
        rows = visible_disbursements(auditor=auditor, asked=asked)
        return rows.filter(batch__created_at__lte=frozen_at)
    ever_public = Q(batch__published_at__isnull=True, batch__status__in=Batch.PUBLIC_STATUSES)
    return Disbursement.objects.filter(
        public_at(frozen_at, batch="batch_id") | ever_public
    ).order_by("id")


def disbursement_values(
    *,
    auditor: bool,
    fields: Sequence[str],
    asked: Sequence[str] = (),
    as_of: datetime | None = None,
) -> QuerySet[Disbursement, dict[str, Any]]:
    """Return the counted rows as dicts of FIELDS, without building a model per row."""
    return visible_disbursements(auditor=auditor, asked=asked, as_of=as_of).values(*fields)


def with_persons(*, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add each row's person's masked ID number, in one query for the page.

    The name is the row's own (``name_masked``, as its roster wrote it), not the person's.
    """
    # Joining persons in the page query would look up every row matching the filters
    # before the sort and limit; looking up only the page's persons is one small query.
    ids = {row["person_id"] for row in rows}
    masks = dict(Person.objects.filter(pk__in=ids).values_list("pk", "id_masked"))
    for row in rows:
        row["person_name_masked"] = row["name_masked"]
        row["person_id_masked"] = masks[row["person_id"]]
    return rows


def with_payment_results(*, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add each row's current payment state and history, in one query for the page."""
    histories = PaymentResult.objects.public_histories(row["id"] for row in rows)
    for row in rows:
        history = histories.get(row["id"], [])
        row["payment_state"] = current_state(row["status"], history)
        row["payment_history"] = history
    return rows


def with_payment_amounts(*, batches: Sequence[Batch]) -> Sequence[Batch]:
    """Give each batch its paid, failed and re-sent amounts, in two queries for the page."""
    totals = {batch.pk: batch.total_amount for batch in batches}
    rows = Disbursement.objects.filter(batch_id__in=list(totals))
    amounts = PaymentResult.objects.amounts_by(rows, key="batch_id", totals=totals)
    for batch in batches:
        batch.payment_amounts = amounts[batch.pk]
    return batches


def visible_batches(*, auditor: bool) -> BatchQuerySet:
    """Return the batches the caller may see, newest period first."""
    batches = Batch.objects.all() if auditor else Batch.objects.published()
    return batches.order_by("-period", "-id")


def visible_households(*, auditor: bool) -> QuerySet[Household]:
    """Return the households the caller may see: for others, those with a published row."""
    households = Household.objects.select_related("head").only(
        "id", "village_id", "group", "head_id", "head__name_masked"
    )
    if not auditor:
        paid = Disbursement.objects.published().filter(household=OuterRef("pk"))
        households = households.filter(Exists(paid))
    return households.order_by("id")


def visible_persons(*, auditor: bool) -> QuerySet[Person]:
    """Return the persons the caller may see: for others, those a published roster names."""
    persons = Person.objects.all() if auditor else Disbursement.objects.published().named_persons()
    return persons.only(
        "id", "name_masked", "id_masked", "relation_to_head", "household_id"
    ).order_by("id")


# Summaries


def _names(model: type[Model], field: str = "name") -> Names:
    def lookup(ids: list[GroupId]) -> dict[GroupId, Any]:
        return dict(model.objects.filter(pk__in=ids).values_list("pk", field))

    return lookup


# by → (the column rows are grouped on, how a page of group ids gets its names).
# Grouping on the bare column and naming the page afterwards keeps the aggregate on the
# disbursement table alone, where an index-only scan can serve it.
SUMMARY_GROUPS: dict[str, tuple[str, Names]] = {
    "village": ("village_id", _names(Village)),
    "township": ("batch__township_id", _names(Township)),
    "program": ("program_id", _names(Program)),
    "period": ("period", lambda ids: {i: i for i in ids}),
    "household": ("household_id", _names(Household, "head__name_masked")),
}
# Groupings that are properties of a batch, by the batch column that holds them.
BATCH_GROUPS: dict[str, str] = {
    "program": "program_id",
    "township": "township_id",
    "period": "period",
}
# Filters that are properties of a batch, by the batch lookup that applies them.
BATCH_FILTERS: dict[str, str] = {
    "program": "program_id",
    "township": "township_id",
    "batch": "id",
    "period_after": "period__gte",
    "period_before": "period__lte",
    "batch_status": "status__in",  # the statuses counted: see counted_statuses
}


def batch_summary(
    *, by: str, filters: Mapping[str, Any], auditor: bool
) -> QuerySet[Batch, dict[str, Any]] | None:
    """Group batch totals under the cleaned FILTERS, or return None if they need the rows."""
    # Every batch carries the exact total and row count of its rows (the importer and the
    # corrections job write them with the rows, which are never edited after), so a
    # question about whole batches is answered from a few hundred batch rows, not a million.
    if by not in BATCH_GROUPS:
        return None
    used = {name: value for name, value in filters.items() if value not in EMPTY_VALUES}
    as_of = used.pop("as_of", None)
    if not used.keys() <= BATCH_FILTERS.keys():
        return None
    asked = used.pop("batch_status", ())
    lookups = {BATCH_FILTERS[name]: value for name, value in used.items()}
    if as_of is not None:  # public then; batch_status narrows by status now, as on the rows
        counted = public_at(as_of) & (Q(status__in=asked) if asked else Q())
    else:
        counted = Q(status__in=counted_statuses(auditor=auditor, asked=asked))
    return (
        Batch.objects.filter(counted, row_count__gt=0, **lookups)
        .order_by()
        .values(group_id=F(BATCH_GROUPS[by]))
        .annotate(total=Sum("total_amount"), count=Sum("row_count"))
        .order_by("group_id")
    )


def row_summary(*, rows: DisbursementQuerySet, by: str) -> QuerySet[Disbursement, dict[str, Any]]:
    """Group ROWS by BY, with each group's total amount and row count."""
    return (
        rows.order_by()
        .values(group_id=F(SUMMARY_GROUPS[by][0]))
        .annotate(total=Sum("amount"), count=Count("*"))
        .order_by("group_id")
    )


def summary_groups(
    *, rows: DisbursementQuerySet, by: str, filters: Mapping[str, Any], auditor: bool
) -> QuerySet[Any, dict[str, Any]]:
    """Group ROWS (the visible rows narrowed by FILTERS), from batch totals when they suffice."""
    groups = batch_summary(by=by, filters=filters, auditor=auditor)
    return row_summary(rows=rows, by=by) if groups is None else groups


def named_groups(
    *, by: str, groups: Sequence[Mapping[str, Any]], rows: DisbursementQuerySet
) -> list[SummaryRow]:
    """Name a page of groups and give their paid, failed, re-sent and reversed amounts (ROWS:
    the rows grouped), in four queries for the page."""
    names = SUMMARY_GROUPS[by][1]([g["group_id"] for g in groups]) if groups else {}
    column = SUMMARY_GROUPS[by][0]
    totals = {g["group_id"]: g["total"] for g in groups}
    amounts = (
        PaymentResult.objects.amounts_by(
            rows.filter(**{f"{column}__in": list(totals)}), key=column, totals=totals
        )
        if groups
        else {}
    )
    reversed_amounts = (
        dict(
            rows.filter(is_reversal=True, **{f"{column}__in": list(totals)})
            .order_by()
            .values_list(column)
            .annotate(sum=Sum("amount"))
        )
        if groups
        else {}
    )
    zero = Decimal("0.00")
    return [
        {
            "id": g["group_id"],
            "name": names.get(g["group_id"]),
            "total": g["total"],
            "count": g["count"],
            **amounts[g["group_id"]],
            "reversed_amount": reversed_amounts.get(g["group_id"], zero),
        }
        for g in groups
    ]


# Exports

# (column, header) of each exported cell, in order. The batch's status, the person, payee
# and corrected row let an auditor tell drafts, withdrawn rows and corrections apart.
EXPORT_FIELDS: list[tuple[str, Promise]] = [
    ("id", _("记录id")),
    ("program__name", _("项目")),
    ("period", _("期间")),
    ("village__township__name", _("乡镇")),
    ("village__name", _("村")),
    ("household_id", _("农户id")),
    ("person_id", _("享受人id")),
    ("name_masked", _("享受人（脱敏）")),
    ("person__id_masked", _("身份证号（脱敏）")),
    ("payee_id", _("收款人id")),
    ("quantity", _("数量")),
    ("rate", _("标准")),
    ("amount", _("金额")),
    ("pay_date", _("发放日期")),
    ("account_masked", _("账号（脱敏）")),
    ("status", _("发放状态")),
    ("is_reversal", _("冲销行")),
    ("corrects_id", _("更正的记录id")),
    ("batch_id", _("批次id")),
    ("batch__status", _("批次状态")),
]
EXPORT_COLUMNS: list[str] = [column for column, _header in EXPORT_FIELDS]
EXPORT_HEADER: list[Promise] = [header for _column, header in EXPORT_FIELDS]
EXPORT_CHUNK = 2000
# Spreadsheet number formats by column: money to the cent with thousands separators;
# quantities and rates keep up to their four places. All stay Decimal, never float.
EXPORT_NUMBER_FORMATS: dict[int, str] = {
    EXPORT_COLUMNS.index("quantity"): "#,##0.00##",
    EXPORT_COLUMNS.index("rate"): "#,##0.00##",
    EXPORT_COLUMNS.index("amount"): "#,##0.00",
}
_STATUS = EXPORT_COLUMNS.index("status")
_REVERSAL = EXPORT_COLUMNS.index("is_reversal")
_BATCH_STATUS = EXPORT_COLUMNS.index("batch__status")


#: The last column: each row's current payment state (its latest bank result, else status).
STATE_HEADER = _("当前状态")
#: The notes' label for the moment an export reflects.
AS_OF_LABEL = _("导出时间")


def export_header() -> list[str]:
    """Return the export's column titles in the active language."""
    return [*(str(header) for header in EXPORT_HEADER), str(STATE_HEADER)]


def export_rows(*, rows: DisbursementQuerySet, limit: int | None = None) -> Iterator[list[Cell]]:
    """Return an iterator over the export cells of ROWS (at most LIMIT), read chunk by chunk."""
    values = rows.values_list(*EXPORT_COLUMNS)
    if limit is not None:
        values = values[:limit]
    return _export_cells(values, latest=PaymentResult.objects.latest_kinds(rows))


def _export_cells(
    values: QuerySet[Disbursement, tuple[Any, ...]], *, latest: Mapping[int, str]
) -> Iterator[list[Cell]]:
    """Yield each row's cells, chunk by chunk, with choices and flags as words."""
    labels = dict(Disbursement.Status.choices)
    batch_labels = dict(Batch.Status.choices)
    states = dict(PaymentState.choices)
    yes, no = gettext("是"), gettext("否")
    for values_row in values.iterator(chunk_size=EXPORT_CHUNK):
        row = list(values_row)
        state = latest.get(row[0], row[_STATUS])
        row[_STATUS] = str(labels.get(row[_STATUS], row[_STATUS]))
        row[_REVERSAL] = yes if row[_REVERSAL] else no
        row[_BATCH_STATUS] = str(batch_labels.get(row[_BATCH_STATUS], row[_BATCH_STATUS]))
        row.append(str(states.get(state, state)))
        yield row


def export_query(params: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    """Return the query PARAMS (name → values) as sorted (name, value) pairs, for the record."""
    return [(name, value) for name in sorted(params) for value in params[name]]


def export_notes(*, as_of: datetime, query: Sequence[tuple[str, str]]) -> list[list[Cell]]:
    """Return the rows of an export's notes: the moment it reflects, then each parameter."""
    return [[str(AS_OF_LABEL), as_of.isoformat()], *([name, value] for name, value in query)]


# Red flags


def red_flag_scope(*, auditor: bool) -> DisbursementQuerySet:
    """Return the rows red flags look at: visible rows outside withdrawn batches."""
    # Red flags look at drafts too (a flag is worth most before publication), never at
    # withdrawn batches; only auditors and staff see them.
    rows = Disbursement.objects.all() if auditor else Disbursement.objects.published()
    return rows.exclude(batch__status=Batch.Status.WITHDRAWN).order_by("id")


def red_flag_counts(*, rows: DisbursementQuerySet) -> list[RedFlagCount]:
    """Count, for every red flag, the rows of ROWS it raises."""
    return [
        {"kind": flag.kind, "title": str(flag.title), "rows": flag.find(rows).count()}
        for flag in RED_FLAGS.values()
    ]


def red_flag_rows(
    *, kind: str, rows: DisbursementQuerySet, reviewed: bool | None = None
) -> DisbursementQuerySet:
    """Return the rows of ROWS that raise the red flag KIND, with their person and village, their
    case id and its latest review (``last_review_at``, ``last_review_by``); only the cases
    REVIEWED or not when asked. Still one query: the reviews are correlated subqueries."""
    latest = case_reviews(kind=kind, case=OuterRef("case"))
    found = (
        with_cases(kind, RED_FLAGS[kind].find(rows))
        .annotate(
            last_review_at=Subquery(latest.values("at")[:1]),
            last_review_by=Subquery(latest.values("username")[:1]),
        )
        .select_related("person", "village")
        .defer("person__birth_year", "person__sex")
    )
    if reviewed is not None:
        found = found.filter(last_review_at__isnull=not reviewed)
    return found


def red_flag_case_stands(*, kind: str, case: str) -> bool:
    """Say whether KIND's CASE is raised now by any row red flags look at."""
    scope = red_flag_scope(auditor=True)
    return with_cases(kind, RED_FLAGS[kind].find(scope)).filter(case=case).exists()


def case_reviews(*, kind: str, case: str) -> QuerySet[RedFlagReview]:
    """Return the reviews of KIND's CASE, newest first."""
    return RedFlagReview.objects.filter(kind=kind, case=case).order_by("-at", "-id")


# The change feed


class Change(TextChoices):
    """What changed in what is public, as the change feed names it."""

    PUBLICATION = "publication", _("发布")
    CORRECTION = "correction", _("发布更正")
    WITHDRAWAL = "withdrawal", _("撤回")
    FINALISATION = "finalisation", _("定稿")


class Role(TextChoices):
    """Who acted, as anyone may know it: the office, never the account."""

    TOWNSHIP_STAFF = "township_staff", _("乡镇工作人员")
    COUNTY_STAFF = "county_staff", _("县级工作人员")
    STAFF = "staff", _("其他工作人员（如管理员）")
    SYSTEM = "system", _("系统（维护命令）")


#: A batch as the change feed shows it, and the columns a page of the feed reads.
CHANGE_BATCH_FIELDS = ("id", "title", "program_id", "period", "township_id", "status", "reason")
CHANGE_COLUMNS = (
    *("id", "at", "kind", "username", "reason", "user_id", "batch_id"),
    *(f"batch__{name}" for name in (*CHANGE_BATCH_FIELDS, "corrects_id")),
    *(f"batch__corrects__{name}" for name in CHANGE_BATCH_FIELDS),
    *("batch__township__name", "batch__township__county"),
)


def change_feed() -> QuerySet[AuditEntry]:
    """Return the acts that changed what is public, from the audit record: publications (of a
    correction: ``correction``), withdrawals and finalisations of batches that were published.

    Each entry carries ``change`` and the acting account's ``role`` (its office group now) and
    joins its batch, the batch it corrects and its township: a page is one query.
    """
    kinds = AuditEntry.Kind
    publish, withdraw, finalise = kinds.PUBLISH, kinds.WITHDRAW, kinds.FINALISE
    member = get_user_model().groups.through.objects.filter(user_id=OuterRef("user_id"))
    return (
        AuditEntry.objects.filter(
            kind__in=[publish, withdraw, finalise], batch__published_at__isnull=False
        )
        .select_related("batch", "batch__corrects", "batch__township")
        .only(*CHANGE_COLUMNS)
        .annotate(
            change=Case(
                When(kind=publish, batch__corrects__isnull=False, then=Value(Change.CORRECTION)),
                When(kind=publish, then=Value(Change.PUBLICATION)),
                When(kind=withdraw, then=Value(Change.WITHDRAWAL)),
                default=Value(Change.FINALISATION),
                output_field=CharField(),
            ),
            role=Case(
                When(user_id__isnull=True, then=Value(Role.SYSTEM)),
                When(
                    Exists(member.filter(group__name=COUNTY_STAFF_GROUP)),
                    then=Value(Role.COUNTY_STAFF),
                ),
                When(
                    Exists(member.filter(group__name=TOWNSHIP_STAFF_GROUP)),
                    then=Value(Role.TOWNSHIP_STAFF),
                ),
                default=Value(Role.STAFF),
                output_field=CharField(),
            ),
        )
    )


def audit_entries() -> QuerySet[AuditEntry]:
    """Return the audit record, for the auditors' list (filtered and paged by the view)."""
    return AuditEntry.objects.all()


# Provenance


def batch_provenance(batch: Batch) -> dict[str, Any]:
    """Return where BATCH comes from: every recorded act on it (who, when, why), its import's
    warnings by kind and the rows acknowledged, its objections by status, and the correction
    chain both ways. Ids, counts, usernames and scrubbed reasons only; five queries."""
    from publicity.models import Objection

    acts = [
        {"at": e.at, "kind": e.kind, "username": e.username, "reason": e.reason}
        # Acts on the batch, and the act that made it (a correction is recorded on the batch
        # it corrects, naming the new batch as its object).
        for e in AuditEntry.objects.filter(
            Q(batch_id=batch.pk) | Q(object_type="funds.Batch", object_id=str(batch.pk))
        ).order_by("at", "id")
    ]
    job = ImportJob.objects.filter(batch=batch).order_by("-created_at").first()
    report = (job.report or {}) if job else {}
    warnings: dict[str, int] = {}
    for warning in report.get("warnings", []):
        code = warning.get("code") or "other"
        warnings[code] = warnings.get(code, 0) + 1
    objections = dict.fromkeys(Objection.Status.values, 0)
    for status, count in (
        Objection.objects.filter(batch=batch).values_list("status").annotate(n=Count("id"))
    ):
        objections[status] = count
    return {
        "batch": batch.pk,
        "status": batch.status,
        "acts": acts,
        "imported": {
            # A file name is staff's free text ("张三户补贴.xlsx"): numbers scrubbed, known names
            # masked, as reasons are.
            "file": audit.scrub(job.original_name) if job else "",
            "uploaded_at": job.created_at if job else None,
            "warnings": warnings,
            "acknowledged": list(report.get("acknowledged", [])),
        },
        "objections": objections,
        "corrects": batch.corrects_id,
        "corrected_by": list(batch.corrections.order_by("id").values_list("id", flat=True)),
    }
