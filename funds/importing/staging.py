"""Turn a parsed roster into staged rows: masked values and keyed hashes only.

Pure Python (settings for the key, no ORM): the staged rows are what confirm loads, so that
confirm never parses or validates the file again, and nothing raw ever reaches disk.
"""

from __future__ import annotations

import gzip
import json
import operator
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from funds.importing.gcpause import gc_paused
from privacy import idnumbers, personal

#: 2: rows carry their own masked name and name hash (a format-1 file takes its persons').
STAGED_FORMAT = 2


@dataclass(slots=True)
class StagedPerson:
    """One person as stored: masks, hashes and what the ID tells.

    Every field but the last is a column of ``villages.Person`` under the same name, in the
    order the loader writes them (``PERSON_FIELDS``): the one definition of that column list.
    """

    id_hash: str
    name_masked: str
    name_hash: str
    id_masked: str
    key_version: int
    birth_year: int | None
    sex: str
    relation_to_head: str
    head_hash: str  # not stored as such: the household this person belongs to

    def as_list(self) -> list[Any]:
        return [*person_values(self), self.head_hash]


#: The Person columns staging fills, in order (the loader adds id, household and created_at).
PERSON_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(StagedPerson))[:-1]
#: A StagedPerson's values for PERSON_FIELDS, in order.
person_values = operator.attrgetter(*PERSON_FIELDS)
#: Which of PERSON_FIELDS hold free text (the rest are hashes, masks, numbers and codes, which
#: never need escaping in COPY's text format).
PERSON_FREE_TEXT: tuple[bool, ...] = tuple(
    name in ("name_masked", "relation_to_head") for name in PERSON_FIELDS
)


@dataclass(slots=True)
class StagedRow:
    """One disbursement as stored, pointing at persons and households by hash."""

    sheet: str
    row: int | None
    village: str
    id_hash: str
    head_hash: str
    payee_hash: str  # '' when the beneficiary is paid, or the payee is not a known person
    quantity: Decimal | None
    rate: Decimal | None
    amount: Decimal
    pay_date: str  # ISO date or ''
    account_masked: str
    account_hash: str
    status: str
    note: str
    name_masked: str  # the beneficiary's name as this row writes it, masked
    name_hash: str  # and its keyed hash ('' for a blank name)

    def as_list(self) -> list[Any]:
        return [
            self.sheet, self.row, self.village, self.id_hash, self.head_hash, self.payee_hash,
            _dec(self.quantity), _dec(self.rate), str(self.amount), self.pay_date,
            self.account_masked, self.account_hash, self.status, self.note, self.name_masked,
            self.name_hash,
        ]  # fmt: skip


@dataclass
class Staged:
    """Everything confirm needs to load a roster, with nothing raw in it."""

    township: str
    kind: str
    persons: dict[str, StagedPerson] = field(default_factory=dict)
    households: dict[str, tuple[str, str]] = field(default_factory=dict)  # head → (village, group)
    rows: list[StagedRow] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((r.amount for r in self.rows), Decimal("0.00"))

    @property
    def villages(self) -> list[str]:
        return sorted({village for village, _group in self.households.values()})

    def chunks(self, *, first: int, size: int) -> Iterator[StagedChunk]:
        """Split the roster in row order as ``Stager.feed`` would have: FIRST rows, then SIZE.

        Each chunk carries the persons and households first seen in its rows, heads first.
        """
        persons, seen_persons, seen_households = self.persons, set(), set()
        start, step = 0, first
        while start < len(self.rows):
            rows = self.rows[start : start + step]
            new_persons: list[StagedPerson] = []
            new_households: list[str] = []
            for r in rows:
                for key in (r.head_hash, r.id_hash):
                    if key not in seen_persons:
                        seen_persons.add(key)
                        new_persons.append(persons[key])
                if r.head_hash not in seen_households:
                    seen_households.add(r.head_hash)
                    new_households.append(r.head_hash)
            yield StagedChunk(new_persons, new_households, rows, [])
            start, step = start + step, size

    def dump(self) -> bytes:
        """Return the staged roster as gzip-compressed JSON lines."""
        lines = [
            json.dumps({"format": STAGED_FORMAT, "township": self.township, "kind": self.kind})
        ]
        lines += [
            json.dumps(["P", *p.as_list()], ensure_ascii=False) for p in self.persons.values()
        ]
        lines += [
            json.dumps(["H", head, village, group], ensure_ascii=False)
            for head, (village, group) in self.households.items()
        ]
        lines += [json.dumps(["R", *r.as_list()], ensure_ascii=False) for r in self.rows]
        return gzip.compress("\n".join(lines).encode(), compresslevel=3)

    @classmethod
    def load(cls, data: bytes) -> Staged:
        """Read a staged roster written by ``dump``."""
        lines = gzip.decompress(data).decode().split("\n")
        meta = json.loads(lines[0])
        version = meta.get("format")
        if version not in (1, STAGED_FORMAT):
            raise ValueError("unknown staged format")
        staged = cls(township=meta["township"], kind=meta["kind"])
        for line in lines[1:]:
            item = json.loads(line)
            tag, values = item[0], item[1:]
            if tag == "P":
                staged.persons[values[0]] = StagedPerson(*values)
            elif tag == "H":
                staged.households[values[0]] = (values[1], values[2])
            else:
                values[6], values[7] = _undec(values[6]), _undec(values[7])
                values[8] = Decimal(values[8])
                if version == 1:  # staged before rows had names: the person's, as loaded then
                    person = staged.persons[values[3]]
                    values += [person.name_masked, person.name_hash]
                staged.rows.append(StagedRow(*values))
        return staged


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _undec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


_ID18 = re.compile(r"[1-9][0-9]{16}[0-9X]")


class _PersonCache:
    """Mask and hash each distinct (ID, name) once: heads repeat on every member's row."""

    def __init__(self) -> None:
        self.fast = personal.Shortcuts()
        self.key_version = personal.key_version()
        self._by_id: dict[str, tuple[str, int | None, str, str]] = {}
        self._names: dict[str, tuple[str, str]] = {}

    def id_values(self, number: str) -> tuple[str, int | None, str, str]:
        """Return (id_hash, birth_year, sex, id_masked) of a validated 18-digit number."""
        found = self._by_id.get(number)
        if found is None:
            fast = self.fast
            if _ID18.fullmatch(number):  # the parser's numbers: checked once, not three times
                sex = "M" if int(number[16]) % 2 else "F"
                found = (fast.keyed_id(number), int(number[6:10]), sex, fast.keep_id(number))
            else:
                birth_year, sex = idnumbers.birth_year_and_sex(number)
                found = (fast.hash_id(number), birth_year, sex, fast.mask_id(number))
            self._by_id[number] = found
        return found

    def name_values(self, name: str) -> tuple[str, str]:
        """Return (name_masked, name_hash)."""
        found = self._names.get(name)
        if found is None:
            found = (self.fast.mask_name(name), self.fast.hash_name(name) if name.strip() else "")
            self._names[name] = found
        return found

    def person(self, *, number: str, name: str, relation: str, head_hash: str) -> StagedPerson:
        id_hash, birth_year, sex, id_masked = self.id_values(number)
        name_masked, name_hash = self.name_values(name)
        return StagedPerson(
            id_hash, name_masked, name_hash, id_masked, self.key_version, birth_year, sex,
            relation, head_hash,
        )  # fmt: skip


HEAD_RELATION = "户主"


def stage_rows(rows: Iterable[Any], *, township: str, kind: str) -> tuple[Staged, list[dict]]:
    """Mask and hash parsed rows; return the staged roster and any duplicate-person errors."""
    stager = Stager(township=township, kind=kind)
    errors = stager.feed(rows).errors
    return stager.staged, errors


@dataclass(slots=True)
class StagedChunk:
    """What one ``Stager.feed`` added: persons and households first seen, and rows."""

    persons: list[StagedPerson]
    households: list[str]  # head hashes; their (village, group) is in Staged.households
    rows: list[StagedRow]
    errors: list[dict]


class Stager:
    """Stage parsed rows in order, as they come: the whole roster at once or in chunks.

    Each ``feed`` returns what it added, so that a loader can write a chunk while the next
    one is being parsed; ``staged`` holds everything fed so far.
    """

    def __init__(self, *, township: str, kind: str) -> None:
        self.staged = Staged(township=township, kind=kind)
        self._cache = _PersonCache()
        self._seen_rows: dict[str, Any] = {}  # id_hash → the row that first paid them
        self._accounts: dict[str, tuple[str, str]] = {}
        # The same few notes ("已核实", "代领") and pay dates repeat on many rows.
        self._notes: dict[str, str] = {}
        #: Full names of the roster's persons (and payees) seen so far: masked in notes.
        self._names: set[str] = set()
        self._dates: dict[Any, str] = {}

    @gc_paused
    def feed(self, rows: Iterable[Any]) -> StagedChunk:
        """Mask and hash ROWS; return the new persons, households and rows, and duplicates."""
        chunk = StagedChunk([], [], [], [])
        people, row_of = self._people, self._row
        append = chunk.rows.append
        for r in rows:
            head_hash, id_hash = people(r, chunk)
            append(row_of(r, head_hash, id_hash))
        self.staged.rows += chunk.rows
        return chunk

    def _people(self, r: Any, chunk: StagedChunk) -> tuple[str, str]:
        """Stage the row's head, household and beneficiary once each; return their hashes."""
        persons, households = self.staged.persons, self.staged.households
        cache = self._cache
        self._names.add(r.name)
        if r.head_name:
            self._names.add(r.head_name)
        number = r.id_number
        head_number = r.head_id or number
        head_hash = cache.id_values(head_number)[0]
        if head_hash not in persons:
            persons[head_hash] = person = cache.person(
                number=head_number, name=r.head_name or r.name, relation=HEAD_RELATION,
                head_hash=head_hash,
            )  # fmt: skip
            chunk.persons.append(person)
        home = households.get(head_hash)
        if home is None:
            households[head_hash] = (r.village, r.group or "")
            chunk.households.append(head_hash)
        elif home[0] != r.village:  # one household, one village (funds.consistency)
            chunk.errors.append(
                {
                    "sheet": r.sheet,
                    "row": r.row,
                    "column": _("村"),
                    "message": _("同一户（同一户主）在本花名册中写在两个村；一户只属于一个村"),
                    "code": "household_village",
                }
            )
        id_hash = head_hash if head_number == number else cache.id_values(number)[0]
        if id_hash not in persons:
            relation = r.relation or ("" if r.head_id else HEAD_RELATION)
            if id_hash == head_hash:
                relation = HEAD_RELATION
            persons[id_hash] = person = cache.person(
                number=number, name=r.name, relation=relation, head_hash=head_hash
            )
            chunk.persons.append(person)
        first = self._seen_rows.setdefault(id_hash, r)
        if first is not r:
            chunk.errors.append(
                {
                    "sheet": r.sheet,
                    "row": r.row,
                    "column": "",
                    "message": _("同一人在本项目本期重复出现（首次出现在“%(sheet)s”第%(row)s行）")
                    % {"sheet": first.sheet, "row": first.row},
                    "code": "duplicate_person",
                }
            )
        return head_hash, id_hash

    def _mask_names(self, note: str, names: tuple[str, ...]) -> str:
        """Mask in NOTE every full name of the roster's persons seen so far (and of this row).

        A note is written by the office and names people ("代领人张三"): the names are known
        at import time, so they never reach the database. Names of persons only further down
        the file are not known yet when a streamed chunk is staged.
        """
        known = self._names
        known.update(n for n in names if len(n) >= 2)
        return personal.mask_known_names(note, known)

    def _row(self, r: Any, head_hash: str, id_hash: str) -> StagedRow:
        """Return the row as stored: the payee, account and note masked, the date as text."""
        cache = self._cache
        note = r.note or ""
        payee = (r.payee_name or "").strip()
        if note:
            # The parser scrubs notes already; scrubbing again costs little and guards the rule.
            scrubbed = self._notes.get(note)
            if scrubbed is None:
                scrubbed = self._notes[note] = personal.scrub_text(note)
            note = self._mask_names(scrubbed, (r.name, r.head_name, payee))
        payee_hash = ""
        normalize_name = cache.fast.normalize_name
        if payee and normalize_name(payee) != normalize_name(r.name):
            payee_masked, payee_name_hash = cache.name_values(payee)
            if payee_name_hash and payee_name_hash == self.staged.persons[head_hash].name_hash:
                payee_hash = head_hash
            else:
                # The payee has no ID in the roster, so they cannot be a Person: keep the mask.
                note = f"收款人：{payee_masked}" + (f"；{note}" if note else "")
        account_masked = account_hash = ""
        if r.account:
            found = self._accounts.get(r.account)
            if found is None:
                fast = cache.fast
                found = (fast.mask_account(r.account), fast.hash_account(r.account))
                self._accounts[r.account] = found
            account_masked, account_hash = found
        iso = ""
        if r.pay_date:
            iso = self._dates.get(r.pay_date)
            if iso is None:
                iso = self._dates[r.pay_date] = r.pay_date.isoformat()
        # Positional, in StagedRow's field order: this runs once per row.
        return StagedRow(
            r.sheet, r.row, r.village, id_hash, head_hash, payee_hash, r.quantity, r.rate,
            r.amount, iso, account_masked, account_hash, r.status or "paid", note[:500],
            *cache.name_values(r.name),
        )  # fmt: skip
