"""Load a staged roster in one transaction, in set-based SQL: no query per row.

Persons and households go through a temporary table and one INSERT … SELECT … ON CONFLICT,
so a person already known from another sheet, file or program is matched by the keyed hash
of the ID number. On PostgreSQL the temporary tables and the disbursements are filled with
COPY (psycopg 3); on SQLite with executemany, which is what bulk_create does underneath,
without building a model instance per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection
from django.utils import timezone

from funds.models import Batch, Disbursement, Program
from funds.staging import Staged
from villages.models import Household, Person, Township, Village

Progress = Callable[[int, int], None]
CHUNK = 20_000


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _fill(cursor: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert ROWS into TABLE: COPY on PostgreSQL, executemany elsewhere."""
    cols = ", ".join(_q(c) for c in columns)
    if _is_postgres():
        with cursor.cursor.copy(f"COPY {_q(table)} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if table.startswith("sl_"):
            cursor.execute(f"ANALYZE {table}")  # temp tables have no statistics until analysed
        return
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {_q(table)} ({cols}) VALUES ({marks})"  # noqa: S608 - names from _meta
    chunk: list[Sequence[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            cursor.executemany(sql, chunk)
            chunk = []
    if chunk:
        cursor.executemany(sql, chunk)


def _temp_table(cursor: Any, name: str, columns: str) -> None:
    # Dropped explicitly too: an outer transaction (tests, the demo) may load several files.
    _drop_temp(cursor, name)
    on_commit = " ON COMMIT DROP" if _is_postgres() else ""
    cursor.execute(f"CREATE TEMP TABLE {name} ({columns}){on_commit}")


def _drop_temp(cursor: Any, *names: str) -> None:
    for name in names:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


def upsert_places(*, township: str, villages: Iterable[str]) -> tuple[Township, dict[str, int]]:
    """Return the township and a map village name → id, creating those not yet known."""
    town, _created = Township.objects.get_or_create(name=township)
    names = set(villages)
    Village.objects.bulk_create(
        [Village(township=town, name=name) for name in sorted(names)], ignore_conflicts=True
    )
    ids = dict(Village.objects.filter(township=town, name__in=names).values_list("name", "id"))
    return town, ids


def _upsert_persons(cursor: Any, staged: Staged, now: Any) -> dict[str, int]:
    """Insert unknown persons and return a map id_hash → Person id for every staged person."""
    p = Person._meta.db_table
    _temp_table(
        cursor,
        "sl_person_in",
        "id_hash varchar(80), name_masked varchar(50), name_hash varchar(80), "
        "id_masked varchar(20), key_version smallint, birth_year smallint, sex varchar(1), "
        "relation varchar(20), head_hash varchar(80)",
    )
    _fill(
        cursor,
        "sl_person_in",
        [
            "id_hash",
            "name_masked",
            "name_hash",
            "id_masked",
            "key_version",
            "birth_year",
            "sex",
            "relation",
            "head_hash",
        ],
        (person.as_list() for person in staged.persons.values()),
    )
    cursor.execute(
        f"INSERT INTO {_q(p)} (name_masked, name_hash, id_hash, id_masked, key_version, "  # noqa: S608
        "birth_year, sex, relation_to_head, created_at) "
        "SELECT name_masked, name_hash, id_hash, id_masked, key_version, birth_year, sex, "
        "relation, %s FROM sl_person_in WHERE true ON CONFLICT (id_hash) DO NOTHING",
        [now],
    )
    cursor.execute(
        f"SELECT p.id_hash, p.id FROM {_q(p)} p JOIN sl_person_in t ON t.id_hash = p.id_hash"  # noqa: S608
    )
    return dict(cursor.fetchall())


def _upsert_households(
    cursor: Any, staged: Staged, village_ids: dict[str, int], person_ids: dict[str, int], now: Any
) -> dict[str, int]:
    """Insert unknown households (by head hash); return head_hash → Household id."""
    h, p = Household._meta.db_table, Person._meta.db_table
    _temp_table(
        cursor, "sl_household_in", "head_hash varchar(80), village_id bigint, grp varchar(50)"
    )
    _fill(
        cursor,
        "sl_household_in",
        ["head_hash", "village_id", "grp"],
        (
            (head, village_ids[village], group[:50])
            for head, (village, group) in staged.households.items()
        ),
    )
    cursor.execute(
        f"INSERT INTO {_q(h)} (village_id, {_q('group')}, head_id, head_id_hash, created_at) "  # noqa: S608
        f"SELECT t.village_id, t.grp, pp.id, t.head_hash, %s FROM sl_household_in t "
        f"JOIN {_q(p)} pp ON pp.id_hash = t.head_hash "
        f"LEFT JOIN {_q(h)} other ON other.head_id = pp.id "
        "WHERE other.id IS NULL ON CONFLICT DO NOTHING",
        [now],
    )
    cursor.execute(
        f"SELECT hh.head_id_hash, hh.id FROM {_q(h)} hh "  # noqa: S608
        "JOIN sl_household_in t ON t.head_hash = hh.head_id_hash"
    )
    ids = dict(cursor.fetchall())
    # Persons first seen now (or never placed) join the household of their row's head.
    cursor.execute(
        f"UPDATE {_q(p)} SET household_id = hh.id FROM sl_person_in t "  # noqa: S608
        f"JOIN {_q(h)} hh ON hh.head_id_hash = t.head_hash "
        f"WHERE {_q(p)}.id_hash = t.id_hash AND {_q(p)}.household_id IS NULL"
    )
    del person_ids  # kept in the signature so callers load persons first
    return ids


def _next_ids(cursor: Any, model: Any, count: int) -> list[int]:
    """Reserve COUNT primary keys of MODEL's table from its sequence in one query."""
    if not count:
        return []
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [model._meta.db_table])
    sequence = cursor.fetchone()[0]
    # The sequence is named once, not looked up per key (that was ~10x slower), and the keys
    # come back as one array rather than one row each.
    cursor.execute(
        "SELECT array_agg(nextval(%s::regclass)) FROM generate_series(1, %s)", [sequence, count]
    )
    return cursor.fetchone()[0]


def _known(cursor: Any, temp: str, sql: str, hashes: Iterable[str]) -> list[tuple]:
    """Run SQL joining a temporary table of HASHES; return its rows.

    No primary key on the temporary table: the join is a hash join on analysed statistics,
    and a 100,000-key B-tree would cost more than it saves (faster than ``= ANY(array)``).
    """
    _temp_table(cursor, temp, "hash varchar(80)")
    _fill(cursor, temp, ["hash"], ((h,) for h in hashes))
    cursor.execute(sql)
    return cursor.fetchall()


def _upsert_people_postgres(
    cursor: Any, staged: Staged, village_ids: dict[str, int], now: Any
) -> tuple[dict[str, int], dict[str, int]]:
    """Write new persons and households with COPY, each once, with all their links set.

    Primary keys come from the tables' sequences, so a person row is written with its
    household and a household with its head in one pass (Django's foreign keys on PostgreSQL
    are DEFERRABLE INITIALLY DEFERRED), instead of an INSERT and then an UPDATE of every row.
    """
    p, h = _q(Person._meta.db_table), _q(Household._meta.db_table)
    known_persons = {
        id_hash: (pk, household)
        for id_hash, pk, household in _known(
            cursor, "sl_person_in",
            f"SELECT p.id_hash, p.id, p.household_id FROM {p} p JOIN sl_person_in t "  # noqa: S608
            "ON t.hash = p.id_hash",
            staged.persons,
        )
    }  # fmt: skip
    household_ids = dict(
        _known(
            cursor, "sl_household_in",
            f"SELECT hh.head_id_hash, hh.id FROM {h} hh JOIN sl_household_in t "  # noqa: S608
            "ON t.hash = hh.head_id_hash",
            staged.households,
        )
    )  # fmt: skip
    new_persons = [person for key, person in staged.persons.items() if key not in known_persons]
    new_households = [key for key in staged.households if key not in household_ids]
    person_ids = {key: pk for key, (pk, _household) in known_persons.items()}
    new_person_ids = _next_ids(cursor, Person, len(new_persons))
    person_ids.update(zip([x.id_hash for x in new_persons], new_person_ids, strict=True))
    new_household_ids = _next_ids(cursor, Household, len(new_households))
    household_ids.update(zip(new_households, new_household_ids, strict=True))
    _fill(
        cursor,
        Person._meta.db_table,
        ["id", "household_id", "name_masked", "name_hash", "id_hash", "id_masked", "key_version",
         "birth_year", "sex", "relation_to_head", "created_at"],
        (
            (person_ids[x.id_hash], household_ids[x.head_hash], x.name_masked, x.name_hash,
             x.id_hash, x.id_masked, x.key_version, x.birth_year, x.sex, x.relation, now)
            for x in new_persons
        ),
    )  # fmt: skip
    _fill(
        cursor,
        Household._meta.db_table,
        ["id", "village_id", "group", "head_id", "head_id_hash", "created_at"],
        (
            (household_ids[key], village_ids[staged.households[key][0]],
             staged.households[key][1][:50], person_ids[key], key, now)
            for key in new_households
        ),
    )  # fmt: skip
    # Known persons never placed in a household join the one their row names.
    unplaced = [
        (pk, household_ids[staged.persons[key].head_hash])
        for key, (pk, household) in known_persons.items()
        if household is None
    ]
    if unplaced:
        cursor.execute(
            f"UPDATE {p} SET household_id = v.household FROM unnest(%s::bigint[], "  # noqa: S608
            f"%s::bigint[]) AS v(id, household) WHERE {p}.id = v.id",
            [[u[0] for u in unplaced], [u[1] for u in unplaced]],
        )
    return person_ids, household_ids


DISBURSEMENT_COLUMNS = [
    "batch_id", "program_id", "period", "village_id", "household_id", "person_id", "payee_id",
    "quantity", "rate", "amount", "pay_date", "account_masked", "account_hash", "status",
    "is_reversal", "corrects_id", "note", "source_sheet", "source_row",
]  # fmt: skip


def load_staged(
    *,
    staged: Staged,
    program: Program,
    period: str,
    source_name: str,
    sha256: str,
    user: Any = None,
    progress: Progress | None = None,
) -> Batch:
    """Write a staged roster as a new draft batch; the caller holds the transaction."""
    now = timezone.now()
    total_rows = len(staged.rows)
    report = progress or (lambda done, total: None)
    town, village_ids = upsert_places(township=staged.township, villages=staged.villages)
    # The batch goes first: a racing import of the same file blocks on the unique hash here,
    # before any heavy work, and fails with IntegrityError when the first one commits.
    batch = Batch.objects.create(
        program=program,
        period=period,
        year=int(period[:4]),
        township=town,
        title=f"{program.name} {period} {town.name}"[:200],
        source_name=source_name[:255],
        source_sha256=sha256,
        uploaded_by=user if getattr(user, "pk", None) else None,
        row_count=total_rows,
        household_count=len({r.head_hash for r in staged.rows}),
        person_count=len({r.id_hash for r in staged.rows}),
        total_amount=staged.total,
    )
    report(0, total_rows)
    with connection.cursor() as cursor:
        if _is_postgres():
            person_ids, household_ids = _upsert_people_postgres(cursor, staged, village_ids, now)
        else:
            person_ids = _upsert_persons(cursor, staged, now)
            household_ids = _upsert_households(cursor, staged, village_ids, person_ids, now)
        report(total_rows // 5, total_rows)
        rows = (
            (
                batch.pk,
                program.pk,
                period,
                village_ids[r.village],
                household_ids[r.head_hash],
                person_ids[r.id_hash],
                person_ids[r.payee_hash] if r.payee_hash else None,
                r.quantity,
                r.rate,
                r.amount,
                r.pay_date or None,
                r.account_masked,
                r.account_hash,
                r.status,
                False,
                None,
                r.note,
                r.sheet[:100],
                r.row,
            )
            for r in staged.rows
        )
        _fill(cursor, Disbursement._meta.db_table, DISBURSEMENT_COLUMNS, rows)
        _drop_temp(cursor, "sl_person_in", "sl_household_in")
    report(total_rows, total_rows)
    return batch
