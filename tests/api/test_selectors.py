"""Selectors: who sees which rows, summary totals, export cells and red-flag scopes."""

from decimal import Decimal

import pytest

from api import selectors
from funds.models import Batch, Disbursement
from tests.api.conftest import CANARY_ACCOUNTS, CANARY_NAMES, new_batch, pay
from villages.models import Person

pytestmark = pytest.mark.django_db

NO_FILTERS: dict = {}
ROW_FILTER = {"amount_min": Decimal("-999999999999.99")}  # keeps every row, needs the rows


def totals(groups) -> tuple[Decimal, int]:
    groups = list(groups)
    assert groups, "a summary of the seeded rows has groups"
    return sum(g["total"] for g in groups), sum(g["count"] for g in groups)


@pytest.mark.parametrize("auditor", [False, True])
@pytest.mark.parametrize("filters", [NO_FILTERS, ROW_FILTER], ids=["batch totals", "rows"])
@pytest.mark.parametrize("by", ["village", "program", "period"])
def test_summary_totals_equal_the_sum_of_visible_rows(world, by, filters, auditor):
    """Groups add up to the counted rows, to the cent and count, on either path; drafts count
    only when an auditor asks for them."""
    asked = ["draft", "publicity", "final"]
    rows = selectors.visible_disbursements(auditor=auditor, asked=asked)
    filters = {**filters, "batch_status": asked}
    groups = selectors.summary_groups(rows=rows, by=by, filters=filters, auditor=auditor)
    visible = list(rows)
    assert totals(groups) == (sum(d.amount for d in visible), len(visible))
    assert (world.draft_row in visible) == auditor
    assert world.draft_row not in selectors.visible_disbursements(auditor=auditor)


def test_batch_summary_declines_what_batches_cannot_answer(world):
    """A row-level grouping or filter sends the summary to the rows."""
    program = {"program": world.programs["farm"].pk}
    assert selectors.batch_summary(by="program", filters=program, auditor=False) is not None
    assert selectors.batch_summary(by="village", filters=program, auditor=False) is None
    village = {"village": world.villages["east"].pk}
    assert selectors.batch_summary(by="program", filters=village, auditor=False) is None


def test_named_groups_name_a_page(world):
    """Each group of a page gets its name; an empty page needs no lookup."""
    rows = selectors.visible_disbursements(auditor=False)
    groups = list(selectors.row_summary(rows=rows, by="village"))
    named = selectors.named_groups(by="village", groups=groups, rows=rows)
    by_id = {v.pk: v.name for v in world.villages.values()}
    assert named and all(row["name"] == by_id[row["id"]] for row in named)
    assert all(row["paid_amount"] + row["failed_amount"] == row["total"] for row in named)
    assert selectors.named_groups(by="village", groups=[], rows=rows) == []


def test_visible_households_hide_draft_only_households(world):
    """A household paid only in a draft is seen by auditors alone."""
    hidden = world.households[-1]
    assert hidden not in selectors.visible_households(auditor=False)
    assert hidden in selectors.visible_households(auditor=True)


def test_red_flag_scope_leaves_out_withdrawn_and_for_the_public_drafts(world):
    """Red flags look at visible rows, never at a withdrawn batch's."""
    farm, east = world.programs["farm"], world.villages["east"]
    withdrawn = new_batch(farm, east.township, period="2026-02", status=Batch.Status.WITHDRAWN, n=9)
    household = world.households[0]
    gone = pay(withdrawn, household.head, household, "1250.00")
    public = selectors.red_flag_scope(auditor=False)
    audited = selectors.red_flag_scope(auditor=True)
    assert gone not in public and gone not in audited
    assert world.draft_row not in public and world.draft_row in audited
    assert public.count() == Disbursement.objects.published().count()


def test_red_flags_judge_only_the_rows_they_are_given(world):
    """A case whose rows are filtered apart is no longer a case."""
    scope = selectors.red_flag_scope(auditor=True)
    counts = {c["kind"]: c["rows"] for c in selectors.red_flag_counts(rows=scope)}
    assert counts == {kind: len(ids) for kind, ids in world.flagged.items()}
    rows = selectors.red_flag_rows(kind="shared_account", rows=scope)
    assert {r.pk for r in rows} == world.flagged["shared_account"]
    one_household = scope.filter(household=world.households[0])
    assert not selectors.red_flag_rows(kind="shared_account", rows=one_household).exists()


def test_export_rows_are_masked(world):
    """Export cells hold masked names, ID numbers and accounts, never raw ones or hashes."""
    rows = selectors.visible_disbursements(auditor=True)
    cells = list(selectors.export_rows(rows=rows))
    assert len(cells) == rows.count()
    text = "\n".join(str(cell) for row in cells for cell in row)
    hashes = [
        *Person.objects.values_list("name_hash", flat=True),
        *Person.objects.values_list("id_hash", flat=True),
        *rows.exclude(account_hash="").values_list("account_hash", flat=True),
    ]
    assert hashes
    for secret in [*CANARY_NAMES, *CANARY_ACCOUNTS, *world.raw_ids, *hashes]:
        assert secret not in text
    name = selectors.EXPORT_COLUMNS.index("name_masked")
    assert all("*" in row[name] for row in cells)


def test_export_rows_keep_quantities_and_stop_at_the_limit(world):
    """Quantities stay Decimal, statuses read as words, LIMIT caps the rows."""
    rows = selectors.visible_disbursements(auditor=False).filter(quantity__isnull=False)
    cells = list(selectors.export_rows(rows=rows, limit=2))
    quantity = selectors.EXPORT_COLUMNS.index("quantity")
    status = selectors.EXPORT_COLUMNS.index("status")
    assert len(cells) == 2 and rows.count() > 2
    assert {row[quantity] for row in cells} == {Decimal("12.5")}
    assert all(isinstance(row[quantity], Decimal) for row in cells)
    assert {row[status] for row in cells} == {str(Disbursement.Status.PAID.label)}
    assert len(selectors.export_header()) == len(cells[0])
