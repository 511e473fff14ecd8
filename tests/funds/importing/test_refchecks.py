"""The database refuses rows that point at nothing, though the checks run once per statement."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from funds.importing import refchecks
from funds.importing.loading import DISBURSEMENT_COLUMNS, _fill
from funds.models import Batch, Disbursement
from tests.factories import make_household, make_program, make_village, person_name
from tests.factories import unique_id_number as uid
from villages.models import Household, Village

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


@pytest.fixture
def paid():
    """One household, its head and one disbursement to them in a draft batch."""
    village = make_village()
    household = make_household(village, head_name=person_name(1), head_id=uid(1))
    program = make_program()
    batch = Batch.objects.create(
        program=program, period="2026-03", year=2026, township=village.township,
        source_name="a.xlsx", source_sha256="a" * 64,
    )  # fmt: skip
    row = Disbursement.objects.create(
        batch=batch, program=program, period="2026-03", village=village, household=household,
        person=household.head, amount=Decimal("10.00"),
    )  # fmt: skip
    return row


def _values(row: Disbursement, **changes) -> list:
    values = {
        "batch_id": row.batch_id, "program_id": row.program_id, "period": row.period,
        "village_id": row.village_id, "household_id": row.household_id,
        "person_id": row.person_id, "payee_id": None, "quantity": None, "rate": None,
        "amount": "5.00", "pay_date": None, "account_masked": "", "account_hash": "",
        "status": "paid", "is_reversal": False, "corrects_id": None, "note": "",
        "source_sheet": "", "source_row": None, "name_masked": row.name_masked,
        "name_hash": row.name_hash,
    }  # fmt: skip
    values.update(changes)
    return [values[c] for c in DISBURSEMENT_COLUMNS]


DISBURSEMENT_REFERENCES = [c for t, c, _p in refchecks.REFERENCES if t == "funds_disbursement"]


@pytest.mark.parametrize("column", DISBURSEMENT_REFERENCES)
def test_a_disbursement_pointing_at_nothing_is_refused(paid, column):
    """The bulk path (COPY on PostgreSQL) as well as the ORM."""
    fresh = _values(paid, person_id=make_household(
        paid.village, head_name=person_name(2), head_id=uid(2)).head_id)  # fmt: skip
    fresh[DISBURSEMENT_COLUMNS.index(column)] = MISSING
    columns = DISBURSEMENT_COLUMNS
    if column == "corrects_id":  # a correction row also names the row its chain began with
        columns, fresh = [*columns, "origin_row"], [*fresh, paid.pk]
    with (
        pytest.raises(IntegrityError, match=column),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        _fill(cursor, Disbursement._meta.db_table, columns, [fresh])
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.filter(pk=paid.pk).update(**{column: MISSING})
    assert Disbursement.objects.count() == 1


@pytest.mark.parametrize("field", ["village_id", "head_id"])
def test_a_household_pointing_at_nothing_is_refused(paid, field):
    with pytest.raises(IntegrityError, match=field), transaction.atomic():
        Household.objects.create(
            **{"village_id": paid.village_id, "group": "", "head_id": None, field: MISSING}
        )
    assert Household.objects.count() == 1


def test_rows_pointing_at_what_exists_pass_in_one_statement(paid):
    heads = [
        make_household(paid.village, head_name=person_name(n), head_id=uid(n)).head_id
        for n in range(2, 40)
    ]
    rows = [_values(paid, person_id=head) for head in heads]
    with connection.cursor() as cursor:
        _fill(cursor, Disbursement._meta.db_table, DISBURSEMENT_COLUMNS, rows)
    assert Disbursement.objects.count() == 39


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("table", "pick"),
    [
        ("villages_person", lambda row: row.person_id),
        ("villages_household", lambda row: row.household_id),
        ("funds_batch", lambda row: row.batch_id),
        ("villages_village", lambda row: row.village_id),
    ],
)
def test_deleting_a_row_still_referred_to_is_refused_on_postgresql(paid, table, pick):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite relies on the models' on_delete=PROTECT")
    with (
        pytest.raises(IntegrityError, match="does not exist"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pick(paid)])  # noqa: S608
    assert Disbursement.objects.filter(pk=paid.pk).exists()


def test_deleting_a_batch_with_its_rows_still_works(paid):
    """Django deletes the rows first (on_delete=CASCADE): nothing is left pointing."""
    paid.batch.delete()
    assert not Disbursement.objects.exists()


def test_every_reference_is_a_field_without_a_foreign_key_constraint():
    """REFERENCES and the models agree, so no column is checked twice or not at all."""
    from django.apps import apps

    from api.models import RedFlagReview
    from funds.models import AuditEntry

    # The audit record's references, and an auditor's review's, are unchecked by design: an
    # append-only entry outlives what it names.
    unconstrained = {
        (model._meta.db_table, field.column, field.related_model._meta.db_table)
        for model in apps.get_models()
        if model not in (AuditEntry, RedFlagReview)
        for field in model._meta.concrete_fields
        if field.is_relation and not field.db_constraint
    }
    assert unconstrained == set(refchecks.REFERENCES)


def test_a_person_pointing_at_no_household_is_refused_by_commit(paid):
    """Person.household waits for commit (households point back at their head)."""
    person = paid.person
    with pytest.raises(IntegrityError, match="household_id"), transaction.atomic():
        type(person).objects.filter(pk=person.pk).update(household_id=MISSING)
        with connection.cursor() as cursor:  # what commit does with deferred checks
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    person.refresh_from_db()
    assert person.household_id == paid.household_id


@pytest.mark.postgres_only
def test_a_household_and_its_head_may_be_written_in_either_order_before_commit(paid):
    """The deferred check only looks at commit: a person first, their household after."""
    from villages.models import Person

    if connection.vendor != "postgresql":
        pytest.skip("SQLite's row triggers check at once; its loader writes in that order")

    with transaction.atomic(), connection.cursor() as cursor:
        head = Person.objects.create(
            name_masked="李*", name_hash="n", id_hash="i-new", id_masked="x", household_id=None
        )
        cursor.execute("SELECT max(id) + 1 FROM villages_household")
        next_id = cursor.fetchone()[0]
        Person.objects.filter(pk=head.pk).update(household_id=next_id)
        Household.objects.create(id=next_id, village=paid.village, head=head)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert Person.objects.get(pk=head.pk).household.head_id == head.pk


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("way", ["prepared", "slow"])
def test_an_import_locks_the_villages_it_points_at_as_a_foreign_key_would(way):
    """Statement triggers take no locks, so the loader takes them: a DELETE must wait."""
    import psycopg

    from funds.importing.loading import Loader, Preformatter

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    village = make_village("老村", "城关镇")
    params = connection.get_connection_params()
    other = psycopg.connect(
        dbname=params["dbname"], host=params.get("host"), port=params.get("port"),
        user=params.get("user"), autocommit=True,
    )  # fmt: skip
    try:
        with transaction.atomic():
            loader = Loader(program=make_program(), period="2026-03")
            loader.start(township="城关镇", source_name="x.xlsx", sha256="b" * 64)
            if way == "prepared":
                Preformatter(loader, persons=1, households=1)
            else:
                with connection.cursor() as cursor:
                    loader._places(cursor, ["老村"])
            other.execute("SET lock_timeout = '200ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("DELETE FROM villages_village WHERE id = %s", [village.pk])
            transaction.set_rollback(True)
    finally:
        other.close()
    assert Village.objects.filter(pk=village.pk).exists()
