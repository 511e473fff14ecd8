"""Load a staged roster in one transaction, in set-based SQL: no query per row.

A person already known from another sheet, file or program is matched by the keyed hash of
the ID number, a household by its head's. On PostgreSQL known persons and households are
looked up through a temporary table, new ones get their keys from the tables' sequences,
and persons, households and disbursements are written with COPY (psycopg 3); on SQLite
through temporary tables and INSERT … SELECT … ON CONFLICT, with executemany, which is what
bulk_create does underneath, without building a model instance per row.

``Loader`` writes a roster in one go (``load_staged``, what confirm runs) or chunk by chunk
while the rest of the file is still being parsed (``funds.importing.jobs.import_roster``): a chunk
is a handful of queries, whatever its size.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    connection,
    connections,
    transaction,
)
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from funds.consistency import HouseholdVillageMismatch, household_village_errors
from funds.importing.staging import (
    PERSON_FIELDS,
    PERSON_FREE_TEXT,
    Staged,
    StagedChunk,
    StagedPerson,
    person_values,
)
from funds.models import Batch, Disbursement, Program
from villages.models import Household, Person, Township, Village

Progress = Callable[[int, int], None]
Counts = tuple[int, int, int, Decimal]  # rows, households, persons, total: ImportReport's
CHUNK = 20_000  # rows per executemany on SQLite
#: A staged roster is sent in chunks: a small first one starts the database early.
FIRST_CHUNK = 2_000
CHUNK_ROWS = 10_000
LOADER_SWITCH_INTERVAL_S = 0.0005


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _fill(cursor: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert ROWS into TABLE: COPY on PostgreSQL, executemany elsewhere."""
    if _is_postgres():
        with _copy(cursor, table, columns) as copy:
            for row in rows:
                copy.write_row(row)
        if table.startswith("sl_"):
            cursor.execute(f"ANALYZE {table}")  # temp tables have no statistics until analysed
        return
    cols, marks = ", ".join(_q(c) for c in columns), ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {_q(table)} ({cols}) VALUES ({marks})"  # noqa: S608 - names from _meta
    chunk: list[Sequence[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            cursor.executemany(sql, chunk)
            chunk = []
    if chunk:
        cursor.executemany(sql, chunk)


@contextmanager
def _copy(cursor: Any, table: str, columns: Sequence[str]) -> Iterator[Any]:
    """Open a COPY … FROM STDIN into TABLE (PostgreSQL) on the raw psycopg cursor.

    Django's error wrapper makes its errors Django's own (IntegrityError for a unique or
    reference violation), as for any other query.
    """
    cols = ", ".join(_q(c) for c in columns)
    with (
        cursor.db.wrap_database_errors,
        cursor.cursor.copy(f"COPY {_q(table)} ({cols}) FROM STDIN") as copy,
    ):
        yield copy


def _copy_text(cursor: Any, table: str, columns: Sequence[str], text: bytes) -> None:
    """COPY rows already written as PostgreSQL's text format into TABLE."""
    if text:
        with _copy(cursor, table, columns) as copy:
            copy.write(text)


def _temp_table(cursor: Any, name: str, columns: str) -> None:
    # Dropped explicitly too: an outer transaction (tests, the demo) may load several files.
    _drop_temp(cursor, name)
    on_commit = " ON COMMIT DROP" if _is_postgres() else ""
    cursor.execute(f"CREATE TEMP TABLE {name} ({columns}){on_commit}")


def _drop_temp(cursor: Any, *names: str) -> None:
    for name in names:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


def _upsert_persons_sqlite(cursor: Any, persons: Iterable[StagedPerson], now: Any) -> None:
    """Insert the persons not stored yet (matched by id_hash), without a household yet."""
    p = Person._meta.db_table
    types = ", ".join(
        f"{_q(name)} {Person._meta.get_field(name).db_type(connection)}" for name in PERSON_FIELDS
    )
    _temp_table(cursor, "sl_person_in", f"{types}, head_hash varchar(80)")
    _fill(cursor, "sl_person_in", [*PERSON_FIELDS, "head_hash"], (x.as_list() for x in persons))
    columns = ", ".join(_q(name) for name in PERSON_FIELDS)
    cursor.execute(
        f"INSERT INTO {_q(p)} ({columns}, created_at) SELECT {columns}, %s "  # noqa: S608
        "FROM sl_person_in WHERE true ON CONFLICT (id_hash) DO NOTHING",
        [now],
    )


def _upsert_households_sqlite(
    cursor: Any, households: Iterable[tuple[str, int, str]], now: Any
) -> None:
    """Insert households (head hash, village id, group) not stored yet; place new persons."""
    h, p = Household._meta.db_table, Person._meta.db_table
    _temp_table(
        cursor, "sl_household_in", "head_hash varchar(80), village_id bigint, grp varchar(50)"
    )
    _fill(cursor, "sl_household_in", ["head_hash", "village_id", "grp"], households)
    cursor.execute(
        f"INSERT INTO {_q(h)} (village_id, {_q('group')}, head_id, created_at) "  # noqa: S608
        f"SELECT t.village_id, t.grp, pp.id, %s FROM sl_household_in t "
        f"JOIN {_q(p)} pp ON pp.id_hash = t.head_hash "
        f"LEFT JOIN {_q(h)} other ON other.head_id = pp.id "
        "WHERE other.id IS NULL ON CONFLICT DO NOTHING",
        [now],
    )
    # Persons first seen now (or never placed) join the household of their row's head.
    cursor.execute(
        f"UPDATE {_q(p)} SET household_id = hh.id FROM sl_person_in t "  # noqa: S608
        f"JOIN {_q(p)} head ON head.id_hash = t.head_hash JOIN {_q(h)} hh ON hh.head_id = head.id "
        f"WHERE {_q(p)}.id_hash = t.id_hash AND {_q(p)}.household_id IS NULL"
    )
    _drop_temp(cursor, "sl_person_in", "sl_household_in")


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
    found = cursor.fetchall()
    _drop_temp(cursor, temp)
    return found


PERSON_COLUMNS = ["id", "household_id", *PERSON_FIELDS, "created_at"]
HOUSEHOLD_COLUMNS = ["id", "village_id", "group", "head_id", "created_at"]
DISBURSEMENT_COLUMNS = [
    "batch_id", "program_id", "period", "village_id", "household_id", "person_id", "payee_id",
    "quantity", "rate", "amount", "pay_date", "account_masked", "account_hash", "status",
    "is_reversal", "corrects_id", "note", "source_sheet", "source_row", "name_masked",
    "name_hash",
]  # fmt: skip


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


@dataclass(slots=True)
class Prepared:
    """A chunk as COPY text, made on the parsing thread, with the keys it was given."""

    person_ids: dict[str, int]  # id_hash → key, for the chunk's new persons
    household_ids: dict[str, int]  # head hash → key, for the chunk's new households
    villages: list[tuple[int, str]]  # (key, name) of villages first named in this chunk
    persons: bytes
    households: bytes
    rows: bytes


class Preformatter:
    """Turn staged chunks into COPY text on the parsing thread, ahead of the loader.

    Keys come from blocks reserved from the sequences before the loader thread starts, and
    every person first seen in a chunk is taken to be new. The loader (``Loader.write``)
    checks that: once one of them turns out to be stored already, that chunk and every later
    one are written from the staged rows with the stored keys. Writing the text here, where
    the parser has time to spare, lets the loader thread only send bytes and wait on
    PostgreSQL. Call it before the loader thread starts: it queries the database.
    """

    def __init__(self, loader: Loader, *, persons: int, households: int) -> None:
        assert loader.batch is not None and loader.township is not None, "start() first"
        self.loader = loader
        with loader.db.cursor() as cursor:
            self._person_keys = iter(_next_ids(cursor, Person, persons))
            self._household_keys = iter(_next_ids(cursor, Household, households))
            self._village_keys = iter(_next_ids(cursor, Village, 50))
            v = _q(Village._meta.db_table)
            # Locked as a foreign-key check would lock them: the statement triggers lock nothing.
            cursor.execute(
                f"SELECT name, id FROM {v} WHERE township_id = %s FOR KEY SHARE",  # noqa: S608
                [loader.township.pk],
            )
            self.village_ids: dict[str, int] = dict(cursor.fetchall())
        self.person_ids: dict[str, int] = {}
        self.household_ids: dict[str, int] = {}
        self.now = loader.now.isoformat()
        self._escaped: dict[str, str] = {}
        self._batch = f"{loader.batch.pk}\t{loader.program.pk}\t{loader.period}\t"
        self.exhausted = False

    def _esc(self, text: str) -> str:
        found = self._escaped.get(text)
        if found is None:
            found = self._escaped[text] = text.translate(_COPY_ESCAPES)
        return found

    def prepare(self, staged: Staged, chunk: StagedChunk) -> Prepared | None:
        """Return the chunk as COPY text, or None from the first time the keys run out."""
        if self.exhausted or self.loader.slow:
            return None
        person_ids, household_ids, village_ids = (
            self.person_ids, self.household_ids, self.village_ids
        )  # fmt: skip
        households = staged.households
        try:
            new_villages = [
                (village_ids.setdefault(name, next(self._village_keys)), name)
                for name in sorted({households[h][0] for h in chunk.households}
                                   | {r.village for r in chunk.rows})
                if name not in village_ids
            ]  # fmt: skip
            new_persons = {x.id_hash: next(self._person_keys) for x in chunk.persons}
            new_households = {key: next(self._household_keys) for key in chunk.households}
        except StopIteration:
            self.exhausted = True
            return None
        person_ids.update(new_persons)
        household_ids.update(new_households)
        esc, now = self._esc, self.now
        # PERSON_FIELDS in order, only free text escaped (every hash is new: escaping each
        # would fill the cache for nothing); inline rather than a call each: this runs per person.
        free = PERSON_FREE_TEXT
        persons = "".join(
            f"{new_persons[x.id_hash]}\t{household_ids[x.head_hash]}\t"
            + "\t".join(
                [
                    esc(v) if is_text else NULL if v is None else str(v)
                    for v, is_text in zip(person_values(x), free, strict=True)
                ]
            )
            + f"\t{now}\n"
            for x in chunk.persons
        )
        rows_of_households = "".join(
            f"{key}\t{village_ids[households[head][0]]}\t{esc(households[head][1][:50])}\t"
            f"{person_ids[head]}\t{now}\n"
            for head, key in new_households.items()
        )
        batch = self._batch
        rows = "".join(
            f"{batch}{village_ids[r.village]}\t{household_ids[r.head_hash]}\t"
            f"{person_ids[r.id_hash]}\t{person_ids[r.payee_hash] if r.payee_hash else NULL}\t"
            f"{NULL if r.quantity is None else r.quantity!s}\t"
            f"{NULL if r.rate is None else r.rate!s}\t{r.amount!s}\t{r.pay_date or NULL}\t"
            f"{r.account_masked}\t{r.account_hash}\t{r.status}\tf\t{NULL}\t{esc(r.note)}\t"
            f"{esc(r.sheet[:100])}\t{NULL if r.row is None else r.row}\t{esc(r.name_masked)}\t"
            f"{r.name_hash}\n"
            for r in chunk.rows
        )
        return Prepared(
            person_ids=new_persons,
            household_ids=new_households,
            villages=new_villages,
            persons=persons.encode(),
            households=rows_of_households.encode(),
            rows=rows.encode(),
        )


class Loader:
    """Write one roster as a new draft batch: its places, persons, households and rows.

    ``start`` uses the ORM and runs where the transaction was opened; ``write`` is raw SQL on
    ``db`` only, so that it can run on a loader thread sharing the connection
    (``funds.importing.jobs``). The caller holds the transaction.
    """

    def __init__(self, *, program: Program, period: str, db: BaseDatabaseWrapper | None = None):
        self.program = program
        self.period = period
        self.db = db or connections[DEFAULT_DB_ALIAS]
        self.now = timezone.now()
        self.batch: Batch | None = None
        self.township: Township | None = None
        self.village_ids: dict[str, int] = {}
        self.person_ids: dict[str, int] = {}  # id_hash → Person id, for everyone written so far
        self.household_ids: dict[str, int] = {}  # head hash → Household id
        self.new_township = False
        self.new_villages: list[str] = []
        self.slow = False  # True once a prepared chunk could not be used

    def start(self, *, township: str, source_name: str, sha256: str, user: Any = None) -> Batch:
        """Create the batch (totals come with ``finish``) and its township."""
        self.township, self.new_township = Township.objects.get_or_create(name=township)
        # The batch goes first: a racing import of the same file blocks on the unique hash here,
        # before any heavy work, and fails with IntegrityError when the first one commits.
        self.batch = Batch.objects.create(
            program=self.program,
            period=self.period,
            year=int(self.period[:4]),
            township=self.township,
            title=f"{self.program.name} {self.period} {self.township.name}"[:200],
            source_name=source_name[:255],
            source_sha256=sha256,
            uploaded_by=user if getattr(user, "pk", None) else None,
        )
        return self.batch

    def _places(self, cursor: Any, villages: Iterable[str]) -> None:
        """Make sure every village named exists, noting the ones created now.

        Raw SQL on ``db``: on the loader thread, the ORM would use another connection.
        """
        missing = sorted({name for name in villages if name not in self.village_ids})
        if not missing:
            return
        assert self.township is not None, "start() first"
        v = _q(Village._meta.db_table)
        marks = ", ".join(["%s"] * len(missing))
        lock = " FOR KEY SHARE" if self.db.vendor == "postgresql" else ""  # as a foreign key
        select = f"SELECT name, id FROM {v} WHERE township_id = %s AND name IN ({marks}){lock}"  # noqa: S608
        cursor.execute(select, [self.township.pk, *missing])
        found = dict(cursor.fetchall())
        new = [name for name in missing if name not in found]
        if new:
            cursor.executemany(
                f"INSERT INTO {v} (township_id, name, code, created_at) VALUES (%s, %s, '', %s)",  # noqa: S608
                [(self.township.pk, name, self.now) for name in new],
            )
            cursor.execute(select, [self.township.pk, *missing])
            found = dict(cursor.fetchall())
            self.new_villages += new
        self.village_ids.update(found)

    def write(self, staged: Staged, chunk: StagedChunk, prepared: Prepared | None = None) -> None:
        """Write a chunk: its new persons and households, then its disbursements.

        With PREPARED (``Preformatter``), the chunk's text is sent as it is, unless one of its
        persons is stored already: then this chunk and every later one take the slow way.
        """
        if prepared is not None and not self.slow and self._write_prepared(prepared):
            return
        self.slow = True  # the keys the Preformatter handed out no longer hold
        with self.db.cursor() as cursor:
            self._places(
                cursor,
                {r.village for r in chunk.rows}
                | {staged.households[head][0] for head in chunk.households},
            )
            if self.db.vendor == "postgresql":
                self._people_postgres(cursor, staged, chunk)
            else:
                self._people_sqlite(cursor, staged, chunk)
            self._rows(cursor, chunk)

    def _write_prepared(self, prepared: Prepared) -> bool:
        """Send a prepared chunk; return False, having written nothing, if a person is known.

        No lookup first: the persons' unique ID hash finds a stored person as the COPY runs,
        and a savepoint takes the chunk back. Raw SQL savepoints: Django's atomic() would
        use this thread's own connection, not the shared one.
        """
        with self.db.cursor() as cursor:
            cursor.execute("SAVEPOINT sl_prepared")
            try:
                _copy_text(cursor, Person._meta.db_table, PERSON_COLUMNS, prepared.persons)
                if prepared.villages:
                    assert self.township is not None, "start() first"
                    cursor.executemany(
                        f"INSERT INTO {_q(Village._meta.db_table)} (id, township_id, name, "  # noqa: S608
                        "code, created_at) VALUES (%s, %s, %s, '', %s)",
                        [(pk, self.township.pk, name, self.now) for pk, name in prepared.villages],
                    )
                _copy_text(cursor, Household._meta.db_table, HOUSEHOLD_COLUMNS, prepared.households)
                _copy_text(cursor, Disbursement._meta.db_table, DISBURSEMENT_COLUMNS, prepared.rows)
            except IntegrityError:
                # A stored person (or a village or person another import has just stored).
                cursor.execute("ROLLBACK TO SAVEPOINT sl_prepared")
                cursor.execute("RELEASE SAVEPOINT sl_prepared")
                return False
            cursor.execute("RELEASE SAVEPOINT sl_prepared")
        self.new_villages += [name for _pk, name in prepared.villages]
        self.village_ids.update((name, pk) for pk, name in prepared.villages)
        self.person_ids.update(prepared.person_ids)
        self.household_ids.update(prepared.household_ids)
        return True

    def finish(self, counts: Counts) -> Batch:
        """Record the batch's totals, COUNTS as the import report has them."""
        assert self.batch is not None, "start() first"
        values = dict(
            zip(
                ("row_count", "household_count", "person_count", "total_amount"),
                counts,
                strict=True,
            )
        )
        Batch.objects.filter(pk=self.batch.pk).update(**values)
        for name, value in values.items():
            setattr(self.batch, name, value)
        return self.batch

    def _people_sqlite(self, cursor: Any, staged: Staged, chunk: StagedChunk) -> None:
        _upsert_persons_sqlite(cursor, chunk.persons, self.now)
        households = staged.households
        _upsert_households_sqlite(
            cursor,
            (
                (head, self.village_ids[households[head][0]], households[head][1][:50])
                for head in chunk.households
            ),
            self.now,
        )
        p, h = _q(Person._meta.db_table), _q(Household._meta.db_table)
        hashes = [x.id_hash for x in chunk.persons]
        found = _known(
            cursor, "sl_hash_in",
            f"SELECT p.id_hash, p.id FROM {p} p JOIN sl_hash_in t ON t.hash = p.id_hash",  # noqa: S608
            hashes,
        )  # fmt: skip
        self.person_ids.update(found)
        self.household_ids.update(
            _known(
                cursor, "sl_hash_in",
                f"SELECT pp.id_hash, hh.id FROM {h} hh JOIN {p} pp ON pp.id = hh.head_id "  # noqa: S608
                "JOIN sl_hash_in t ON t.hash = pp.id_hash",
                chunk.households,
            )
        )  # fmt: skip

    def _people_postgres(self, cursor: Any, staged: Staged, chunk: StagedChunk) -> None:
        """Write new persons and households with COPY, each once, with all their links set.

        Primary keys come from the tables' sequences, so a person row is written with its
        household and a household with its head in one pass (``Person.household`` is checked
        at commit), instead of an INSERT and then an UPDATE of every row. Persons
        and households already stored are locked as a foreign-key check would lock them
        (``FOR KEY SHARE``): references are checked once per statement
        (``funds.importing.refchecks``), which takes no lock.
        """
        p, h = _q(Person._meta.db_table), _q(Household._meta.db_table)
        known_persons = {
            id_hash: (pk, household)
            for id_hash, pk, household in _known(
                cursor, "sl_hash_in",
                f"SELECT p.id_hash, p.id, p.household_id FROM {p} p JOIN sl_hash_in t "  # noqa: S608
                "ON t.hash = p.id_hash FOR KEY SHARE OF p",
                (x.id_hash for x in chunk.persons),
            )
        }  # fmt: skip
        # Only a person stored before can head a stored household: a new head means a new
        # household, with no query (every one, when a roster is imported for the first time).
        known_heads = [key for key in chunk.households if key in known_persons]
        known_households = dict(
            _known(
                cursor, "sl_hash_in",
                f"SELECT pp.id_hash, hh.id FROM {h} hh JOIN {p} pp ON pp.id = hh.head_id "  # noqa: S608
                "JOIN sl_hash_in t ON t.hash = pp.id_hash FOR KEY SHARE OF hh",
                known_heads,
            )
            if known_heads
            else ()
        )  # fmt: skip
        person_ids, household_ids = self.person_ids, self.household_ids
        new_persons = [x for x in chunk.persons if x.id_hash not in known_persons]
        new_households = [key for key in chunk.households if key not in known_households]
        person_ids.update((key, pk) for key, (pk, _household) in known_persons.items())
        household_ids.update(known_households)
        person_ids.update(
            zip(
                [x.id_hash for x in new_persons],
                _next_ids(cursor, Person, len(new_persons)),
                strict=True,
            )
        )
        household_ids.update(
            zip(new_households, _next_ids(cursor, Household, len(new_households)), strict=True)
        )
        # As text: psycopg formats a datetime for every row (~1 µs), a string costs nothing.
        now = self.now.isoformat()
        _fill(
            cursor,
            Person._meta.db_table,
            PERSON_COLUMNS,
            (
                (person_ids[x.id_hash], household_ids[x.head_hash], *person_values(x), now)
                for x in new_persons
            ),
        )  # fmt: skip
        households, village_ids = staged.households, self.village_ids
        _fill(
            cursor,
            Household._meta.db_table,
            HOUSEHOLD_COLUMNS,
            (
                (household_ids[key], village_ids[households[key][0]], households[key][1][:50],
                 person_ids[key], now)
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

    def _rows(self, cursor: Any, chunk: StagedChunk) -> None:
        assert self.batch is not None, "start() first"
        batch, program, period = self.batch.pk, self.program.pk, self.period
        village_ids, household_ids, person_ids = (
            self.village_ids,
            self.household_ids,
            self.person_ids,
        )
        rows = (
            (
                batch, program, period, village_ids[r.village], household_ids[r.head_hash],
                person_ids[r.id_hash], person_ids[r.payee_hash] if r.payee_hash else None,
                r.quantity, r.rate, r.amount, r.pay_date or None, r.account_masked,
                r.account_hash, r.status, False, None, r.note, r.sheet[:100], r.row,
                r.name_masked, r.name_hash,
            )
            for r in chunk.rows
        )  # fmt: skip
        _fill(cursor, Disbursement._meta.db_table, DISBURSEMENT_COLUMNS, rows)


class LoadFailed(Exception):
    """The load could not be completed; the transaction must be rolled back (see __cause__)."""


class ChunkedLoad:
    """Write a staged roster chunk by chunk on a loader thread: the one load path.

    The import command streams chunks here while the file is still being parsed
    (``funds.importing.jobs``); the staff confirm and a retry send a staged roster's chunks
    (``load_staged``). Either way each chunk is turned into COPY text on the calling thread
    (``Preformatter``, PostgreSQL) while the loader thread sends the one before through the
    same connection, in the caller's transaction, so PostgreSQL writes while Python prepares.

    One thread at a time uses the connection (SQLite allows nothing else): the caller's until
    the loader thread starts (``Loader.start``, ``Preformatter``), then the loader thread's
    until ``complete`` or ``close`` has waited for it. A failure is kept, not raised, so that a
    streaming caller can go on reading the file to report every error; ``complete`` raises it.
    """

    def __init__(
        self, *, program: Program, period: str, source_name: str, sha256: str, user: Any,
        progress: Progress | None = None, total_rows: int = 0,
    ) -> None:  # fmt: skip
        self.program, self.period, self.user = program, period, user
        self.source_name, self.sha256 = source_name, sha256
        self.progress, self.total_rows = progress, total_rows
        self.db = connections[DEFAULT_DB_ALIAS]  # this thread's: the loader thread shares it
        self.loader: Loader | None = None
        self.preformatter: Preformatter | None = None
        self.queue: queue.Queue[tuple[Staged, StagedChunk, Prepared | None] | None] = queue.Queue(
            maxsize=2
        )
        self.thread: threading.Thread | None = None
        self.switch_interval = sys.getswitchinterval()
        self.failure: BaseException | None = None
        self.rows_sent = 0

    def send(self, staged: Staged, chunk: StagedChunk, *, expected_rows: int) -> bool:
        """Queue CHUNK of STAGED for writing; return False once nothing more will be written.

        EXPECTED_ROWS, the rows this load will write in all, sizes the keys reserved for them.
        """
        if self.failure is not None:
            return False
        if self.loader is None and not self._start(staged, expected_rows):
            return False
        prepared = self.preformatter.prepare(staged, chunk) if self.preformatter else None
        self.queue.put((staged, chunk, prepared))
        self.rows_sent += len(chunk.rows)
        if self.progress is not None:
            self.progress(self.rows_sent, self.total_rows)
        return True

    def _start(self, staged: Staged, expected_rows: int) -> bool:
        loader = Loader(program=self.program, period=self.period, db=self.db)
        try:
            # A savepoint: the batch insert waits for, then fails on, a racing import of the
            # same file; the transaction must stay usable to say it is a duplicate.
            with transaction.atomic():
                loader.start(
                    township=staged.township, source_name=self.source_name,
                    sha256=self.sha256, user=self.user,
                )  # fmt: skip
                if self.db.vendor == "postgresql":  # COPY text, written on this thread
                    self.preformatter = Preformatter(
                        loader, persons=expected_rows, households=expected_rows
                    )
        except DatabaseError as error:
            self.failure = error
            return False
        self.loader = loader
        self.db.inc_thread_sharing()
        # The loader thread waits on PostgreSQL a few dozen times per chunk, and after each
        # wait on this thread's GIL slice: 5 ms by default, which would stall it for seconds
        # per file. A shorter slice costs this thread next to nothing.
        self.switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(LOADER_SWITCH_INTERVAL_S)
        self.thread = threading.Thread(target=self._run, name="sunlight-loader", daemon=True)
        self.thread.start()
        return True

    def complete(self, staged: Staged, counts: Counts) -> Batch:
        """Send what is not sent yet, wait for the loader and return the batch with COUNTS."""
        if self.loader is None and self.failure is None:  # nothing streamed: all of it now
            for chunk in staged.chunks(first=FIRST_CHUNK, size=CHUNK_ROWS):
                if not self.send(staged, chunk, expected_rows=len(staged.persons)):
                    break
        self.close()
        if self.failure is not None:
            raise LoadFailed from self.failure
        assert self.loader is not None
        town = self.loader.township
        if self.rows_sent != len(staged.rows) or town is None or town.name != staged.township:
            raise LoadFailed("the rows written are not the staged roster")
        batch = self.loader.batch
        assert batch is not None
        # One village per household, checked over the batch's rows in one query before
        # commit: a household already stored in another village is refused, with its rows.
        errors = household_village_errors(batch.pk)
        if errors:
            raise HouseholdVillageMismatch(errors)
        return self.loader.finish(counts)

    def close(self) -> None:
        """Stop the loader thread (it drains the queue) and wait for it."""
        if self.thread is None:
            return
        self.queue.put(None)
        self.thread.join()
        self.thread = None
        self.db.dec_thread_sharing()
        sys.setswitchinterval(self.switch_interval)

    def _run(self) -> None:
        assert self.loader is not None
        while (item := self.queue.get()) is not None:
            if self.failure is not None:
                continue  # keep draining so that the sending side never blocks
            staged, chunk, prepared = item
            try:
                self.loader.write(staged, chunk, prepared)
            except BaseException as error:  # handed to the sending side
                self.failure = error


def load_staged(
    *,
    staged: Staged,
    program: Program,
    period: str,
    source_name: str,
    sha256: str,
    counts: Counts,
    user: Any = None,
    progress: Progress | None = None,
) -> Batch:
    """Write a staged roster as a new draft batch with COUNTS as its totals, chunk by chunk.

    The caller holds the transaction; ``LoadFailed`` means it must be rolled back.
    """
    load = ChunkedLoad(
        program=program, period=period, source_name=source_name, sha256=sha256, user=user,
        progress=progress, total_rows=len(staged.rows),
    )  # fmt: skip
    try:
        return load.complete(staged, counts)
    finally:
        load.close()
