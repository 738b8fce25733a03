"""Changing the keys: `assistant rotate-keys`, and the check that refuses to start without a key
the database still needs (docs/key-rotation.md is the operator's procedure).

:data:`KEY_BOUND_COLUMNS` is the one list of every column a key touches: values sealed under the
master key, keyed hashes that can be re-computed from their row, keyed hashes of something only a
client holds (they cannot be re-computed: they are dropped when the hash key changes), and the
columns that look like either but depend on neither key. A test fails when a model gains a
``*_sealed``, ``*_hash``, ``*_digest`` or ``*_key`` column, or any binary column, missing here.

The master key: a sealed value names its key version in its header (bytes 2:4), so the work left
is found from the values themselves. A batch re-seals rows not yet under the newest version and
commits; a re-run after a kill skips what is done, with no other state.

The hash key: a keyed hash does not say which key made it. One row of ``keyed_hash_state``
records the fingerprints of the hash keys stored hashes may have been made with (``in_use``: the
app adds its current key there when it starts), and how far the re-computation for a change has
come (``rehash_to``, ``rehashed_up_to``: the last primary key done, per table, committed with each
batch). While a change is under way, look-ups try the previous keys too
(:meth:`assistant.crypto.KeyedHasher.digests`), so a place reported before the change is still
recognised; when every row has been re-computed, ``in_use`` is the current key alone and the
previous keys can go.
"""

from __future__ import annotations

import logging
import struct
import time
from collections import Counter
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from enum import StrEnum
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Column
from sqlalchemy import ColumnElement
from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import LargeBinary
from sqlalchemy import RowMapping
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import delete
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import inspect
from sqlalchemy import literal_column
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from .config import ConfigError
from .crypto import DecryptionError
from .crypto import FieldCipher
from .crypto import KeyedHasher
from .crypto import sealed_version
from .models import Account
from .models import ApiKey
from .models import ApiRequest
from .models import Base
from .models import Case
from .models import FilingReplay
from .models import InternalNote
from .models import Invitation
from .models import Location
from .models import Message
from .models import Notice
from .models import NoticeLetter
from .models import OutboxItem
from .models import SessionRecord
from .routing import LocationRejected
from .routing import normalise_location
from .routing.engine import place_key

if TYPE_CHECKING:
    from .services import Services

log = logging.getLogger(__name__)

# A row's columns as a recompute function reads them: clear ones as stored, sealed ones opened.
Values = Mapping[str, Any]


@dataclass(frozen=True)
class Sealed:
    """A column sealed by :class:`assistant.crypto.FieldCipher` under the master key, with the
    context it was sealed for: re-sealed under the newest master key."""

    model: type[Base]
    column: str
    context: str


@dataclass(frozen=True)
class Recomputed:
    """A keyed hash made from its own row: re-computed with the current hash key when it changes.
    ``reads`` names the columns ``recompute`` needs (the sealed ones are handed over opened);
    ``recompute`` must give exactly what the code that wrote the row gave."""

    model: type[Base]
    column: str
    reads: tuple[str, ...]
    recompute: Callable[[Values, Services], str | None]


class Discard(StrEnum):
    CLEAR = "clear"  # set the column to NULL
    DELETE_ROW = "delete_row"


@dataclass(frozen=True)
class Discarded:
    """A keyed hash of something only a client holds: it cannot be re-computed, so a change of the
    hash key drops it (``action``), in the rows that were there when the pass began (the app,
    already on the new key, made the later ones)."""

    model: type[Base]
    column: str
    action: Discard
    why: str


@dataclass(frozen=True)
class Untouched:
    """Named like a sealed value or a hash, but neither key of ours is in it."""

    model: type[Base]
    column: str
    why: str


KeyBound = Sealed | Recomputed | Discarded | Untouched


def location_value_hash(values: Values, services: Services) -> str:
    """``locations.value_hash`` as intake makes it (assistant.cases.intake): of the place's key,
    from the value and platform as they were stored (already normalised)."""
    value = str(values["value_sealed"])
    place = normalise_location(
        str(values["kind"]),
        value,
        platform=values["platform_sealed"],
        max_value_length=max(services.settings.max_value_length, len(value)),
    )
    return services.keyed_hasher.digest(place_key(place, services.directory), "location")


_ARGON2 = "Argon2id of a secret a person holds: no key of ours"
_SHA256 = "SHA-256 of a random value: no key of ours"

# Every column a key touches, and every one named as if it did. New sealed or keyed-hash columns
# are added here, and nowhere else, for rotation and the start-up check to cover them.
KEY_BOUND_COLUMNS: tuple[KeyBound, ...] = (
    Sealed(Case, "consent_sealed", "case.consent"),
    Discarded(
        Case,
        "submission_key",
        Discard.CLEAR,
        "keyed hash of a web draft's or an Idempotency-Key's random key, which only the client "
        "held: a retry of a filing made before the change of the hash key is no longer known",
    ),
    Untouched(Case, "passphrase_hash", _ARGON2),
    Sealed(Location, "value_sealed", "location.value"),
    Sealed(Location, "note_sealed", "location.note"),
    Sealed(Location, "platform_sealed", "location.platform"),
    Sealed(Location, "host_sealed", "location.host"),
    Recomputed(
        Location,
        "value_hash",
        reads=("kind", "value_sealed", "platform_sealed"),
        recompute=location_value_hash,
    ),
    Sealed(Message, "body_sealed", "message.body"),
    Sealed(Notice, "provider_sealed", "notice.provider"),
    Sealed(Notice, "reference_sealed", "notice.reference"),
    Sealed(Notice, "response_note_sealed", "notice.response"),
    Sealed(NoticeLetter, "provider_sealed", "notice.provider"),
    Sealed(NoticeLetter, "recipient_sealed", "notice.recipient"),
    Sealed(InternalNote, "body_sealed", "note.body"),
    Sealed(Account, "profile_sealed", "account.profile"),
    Sealed(Account, "totp_secret_sealed", "account.totp"),
    Untouched(Account, "password_hash", _ARGON2),
    Untouched(Account, "enrolment_code_hash", _SHA256),
    Untouched(Invitation, "nonce_hash", _SHA256),
    Sealed(SessionRecord, "data_sealed", "session.data"),
    Untouched(SessionRecord, "id_hash", _SHA256),
    Untouched(OutboxItem, "idempotency_key", "made from the item's ids, not a hash"),
    Untouched(ApiKey, "key_hash", _SHA256),
    Untouched(ApiRequest, "idempotency_key", "the hotline system's own key, as it sent it"),
    Untouched(ApiRequest, "request_digest", "SHA-256 of the request, no key of ours"),
    Discarded(
        FilingReplay,
        "key_hash",
        Discard.DELETE_ROW,
        "keyed hash of a filing's Idempotency-Key, which only the client holds; the row lives "
        "ten minutes",
    ),
    Discarded(
        FilingReplay,
        "request_digest",
        Discard.DELETE_ROW,
        "keyed hash of what a filing sent, kept with its key_hash",
    ),
    Untouched(
        FilingReplay,
        "answer_sealed",
        "sealed with a key derived from the client's Idempotency-Key and the hash key, never a "
        "master key: a master key change leaves it as it is; a hash key change deletes its row",
    ),
)


class KeyedHashState(Base):
    """Which hash keys the stored keyed hashes may have been made with, and how far a change of
    the hash key has come. One row (id 1); fingerprints name keys without revealing them
    (:func:`assistant.crypto.key_fingerprint`)."""

    __tablename__ = "keyed_hash_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Space-separated fingerprints.
    in_use: Mapped[str] = mapped_column(String(200))
    # The key a `rotate-keys` pass is re-computing hashes with, and the last primary key it has
    # done in each table (committed with each batch, so that a re-run continues).
    rehash_to: Mapped[str | None] = mapped_column(String(16))
    rehashed_up_to: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class KeysStillNeeded(ConfigError):
    """Stored values need a key that is no longer configured: the app must not start."""


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


STATE = _table(KeyedHashState)
STATE_ID = 1


def label(entry: KeyBound) -> str:
    return f"{_table(entry.model).name}.{entry.column}"


def _primary_key(table: Table) -> Column[Any]:
    (key,) = table.primary_key.columns
    return key


def _version_bytes(column: Column[Any]) -> ColumnElement[bytes]:
    # Bytes 2:4 of the header; substr counts from 1, on bytes for BLOB and bytea alike.
    return func.substr(column, literal_column("3"), literal_column("2"), type_=LargeBinary)


@dataclass(frozen=True)
class _TableWork:
    table: Table
    sealed: tuple[Sealed, ...]
    recomputed: tuple[Recomputed, ...]


def _tables_to_visit() -> list[_TableWork]:
    """The tables with sealed or re-computable columns, in the registry's order."""
    found: dict[Table, tuple[list[Sealed], list[Recomputed]]] = {}
    for entry in KEY_BOUND_COLUMNS:
        if isinstance(entry, Sealed | Recomputed):
            sealed, recomputed = found.setdefault(_table(entry.model), ([], []))
            if isinstance(entry, Sealed):
                sealed.append(entry)
            else:
                recomputed.append(entry)
    return [_TableWork(table, tuple(s), tuple(r)) for table, (s, r) in found.items()]


# --- what the database needs ---


def sealed_versions(conn: Connection) -> dict[str, Counter[int]]:
    """How many values of each sealed column are under each master key version: one scan of each
    table, reading two bytes of each value."""
    found: dict[str, Counter[int]] = {}
    for work in _tables_to_visit():
        if not work.sealed:
            continue
        columns = [work.table.c[entry.column] for entry in work.sealed]
        versions = [_version_bytes(column) for column in columns]
        rows = conn.execute(select(*versions, func.count()).group_by(*versions))
        counts = {label(entry): Counter[int]() for entry in work.sealed}
        for row in rows:
            *heads, count = row
            for entry, head in zip(work.sealed, heads, strict=True):
                if head is not None:
                    counts[label(entry)][int.from_bytes(bytes(head), "big")] += int(count)
        found.update(counts)
    return found


@dataclass(frozen=True)
class HashState:
    in_use: tuple[str, ...]
    rehash_to: str | None
    rehashed_up_to: dict[str, Any]


def read_hash_state(conn: Connection) -> HashState | None:
    row = conn.execute(select(STATE).where(STATE.c.id == STATE_ID)).first()
    if row is None:
        return None
    return HashState(tuple(row.in_use.split()), row.rehash_to, dict(row.rehashed_up_to or {}))


def _configured(hasher: KeyedHasher) -> set[str]:
    return {hasher.fingerprint, *hasher.previous_fingerprints}


def _hashes_not_recomputed(conn: Connection, state: HashState, current: str) -> dict[str, int]:
    """Per re-computable hash column: how many stored hashes have not been re-computed with the
    current key yet."""
    left: dict[str, int] = {}
    for work in _tables_to_visit():
        key = _primary_key(work.table)
        after = state.rehashed_up_to.get(work.table.name) if state.rehash_to == current else None
        for entry in work.recomputed:
            column = work.table.c[entry.column]
            query = select(func.count()).select_from(work.table).where(column.is_not(None))
            if after is not None:
                query = query.where(key > after)
            left[label(entry)] = int(conn.execute(query).scalar_one())
    return left


def values_under_other_versions(conn: Connection, versions: frozenset[int]) -> dict[str, int]:
    """Per sealed column: how many values are under a master key version not in ``versions``.
    One scan of each table, reading two bytes of each value and counting, without grouping (a
    tenth of a second for 100,000 cases: see docs/key-rotation.md)."""
    heads = [struct.pack(">H", version) for version in sorted(versions)]
    found: dict[str, int] = {}
    for work in _tables_to_visit():
        if not work.sealed:
            continue
        counts = [
            func.sum(case((_version_bytes(work.table.c[e.column]).not_in(heads), 1), else_=0))
            for e in work.sealed
        ]
        row = conn.execute(select(*counts).select_from(work.table)).one()
        found.update({label(e): int(n or 0) for e, n in zip(work.sealed, row, strict=True)})
    return found


def master_key_problem(conn: Connection, cipher: FieldCipher) -> str | None:
    """Sealed values under a master key version no longer configured, counted per column."""
    lost = {c: n for c, n in values_under_other_versions(conn, cipher.versions).items() if n}
    if not lost:
        return None
    missing = {v for counts in sealed_versions(conn).values() for v in counts} - cipher.versions
    names = ", ".join(str(v) for v in sorted(missing))
    where = "; ".join(f"{column}: {n}" for column, n in lost.items())
    return (
        f"{sum(lost.values())} sealed values need master key version(s) {names}, which "
        f"ASSISTANT_MASTER_KEYS no longer holds ({where}). Put the key(s) back beside the new "
        "one and run `assistant rotate-keys` before removing them."
    )


def stale_hash_keys(conn: Connection, hasher: KeyedHasher) -> tuple[frozenset[str], dict[str, int]]:
    """The hash keys the record names that are no longer configured, and per re-computable column
    how many stored hashes may have been made with them (none: nothing is at risk)."""
    state = read_hash_state(conn)
    stale = frozenset(state.in_use) - _configured(hasher) if state is not None else frozenset()
    if state is None or not stale:
        return stale, {}
    return stale, _hashes_not_recomputed(conn, state, hasher.fingerprint)


def record_hash_key(
    conn: Connection, hasher: KeyedHasher, forget: frozenset[str] = frozenset()
) -> HashState:
    """Record that stored hashes may now be made with the configured key (the app is about to
    make them with it), and forget the keys in ``forget`` (no stored hash needs them). A first
    record also names the previous keys, if any are configured: what the stored hashes were made
    with is not known, so it is left for `rotate-keys` to settle."""
    for _attempt in range(5):
        state = read_hash_state(conn)
        if state is None:
            in_use = tuple(dict.fromkeys((hasher.fingerprint, *hasher.previous_fingerprints)))
            try:
                conn.execute(
                    insert(STATE).values(
                        id=STATE_ID, in_use=" ".join(in_use), rehash_to=None, rehashed_up_to={}
                    )
                )
                conn.commit()
            except IntegrityError:
                conn.rollback()  # another process recorded it first: read theirs
                continue
            return HashState(in_use, None, {})
        kept = tuple(fp for fp in state.in_use if fp not in forget)
        in_use = kept if hasher.fingerprint in kept else (*kept, hasher.fingerprint)
        if in_use == state.in_use:
            conn.commit()
            return state
        changed = conn.execute(
            update(STATE)
            .where(STATE.c.id == STATE_ID, STATE.c.in_use == " ".join(state.in_use))
            .values(in_use=" ".join(in_use))
        )
        conn.commit()
        if changed.rowcount == 1:
            return HashState(in_use, state.rehash_to, state.rehashed_up_to)
    raise RuntimeError("the hash key's record kept changing under us")


def check_keys_at_start(engine: Engine, services: Services) -> None:
    """Refuse to start (:class:`KeysStillNeeded`, saying how many values) when the database still
    needs a key the settings no longer hold; otherwise record the current hash key.

    Skipped, with a warning, when the database does not answer or its schema is older than this
    code (`assistant init-db` must still be able to run); a value under a missing key then fails
    to open where it is read, loudly, and the next start refuses.
    """
    hasher = services.keyed_hasher
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(KeyedHashState.__tablename__):
                return  # a database `assistant init-db` has not brought up to date yet
            problem = master_key_problem(conn, services.cipher)
            problems = [problem] if problem else []
            stale, left = stale_hash_keys(conn, hasher)
            if sum(left.values()):
                columns = "; ".join(f"{column}: {n}" for column, n in left.items())
                problems.append(
                    f"{sum(left.values())} keyed hashes may have been made with a hash key that "
                    f"is no longer configured ({columns}). Put it back in "
                    "ASSISTANT_PREVIOUS_HASH_KEYS and run `assistant rotate-keys` before "
                    "removing it."
                )
            conn.rollback()
            if problems:
                raise KeysStillNeeded(" ".join(problems))
            record_hash_key(conn, hasher, forget=stale)
    except DBAPIError as exc:
        log.warning(
            "Could not check which keys the database needs (%s); run `assistant init-db` if the "
            "schema is out of date.",
            type(exc.orig).__name__,
        )


# --- the rotation ---


@dataclass
class RotationReport:
    """What a pass did, per ``table.column``."""

    resealed: Counter[str] = field(default_factory=Counter)
    recomputed: Counter[str] = field(default_factory=Counter)
    discarded: Counter[str] = field(default_factory=Counter)
    # Problems: values that would not open, hashes that could not be re-computed.
    unreadable: Counter[str] = field(default_factory=Counter)
    not_recomputed: Counter[str] = field(default_factory=Counter)
    # Rows the app changed between our read and our write: its write is already under the
    # current keys, so they are left as they are.
    changed_meanwhile: int = 0
    hash_change: bool = False
    hash_settled: bool = False

    @property
    def problems(self) -> int:
        return self.unreadable.total() + self.not_recomputed.total()

    def lines(self) -> list[str]:
        """What was done, per column of the registry that had anything done."""
        lines, said = [], set()
        for entry in KEY_BOUND_COLUMNS:
            name = label(entry)
            counts = [
                (self.resealed[name], "re-sealed"),
                (self.recomputed[name], "re-computed"),
                (self.discarded[name], "cleared"),
                (self.unreadable[name], "could not be opened"),
                (self.not_recomputed[name], "could not be re-computed"),
            ]
            if isinstance(entry, Discarded) and entry.action == Discard.DELETE_ROW:
                name = _table(entry.model).name  # the rows go: said once for all their columns
                counts = [(0 if name in said else self.discarded[name], "rows deleted")]
                said.add(name)
            done = ", ".join(f"{count} {what}" for count, what in counts if count)
            if done:
                lines.append(f"{name}: {done}")
        if self.changed_meanwhile:
            lines.append(f"{self.changed_meanwhile} rows changed by the app meanwhile (kept)")
        return lines or ["nothing needed changing"]


@dataclass(frozen=True)
class RotationPlan:
    """What a pass has to visit, counted before it starts (for the progress bar)."""

    versions: dict[str, Counter[int]]
    hash_change: bool
    rows: int

    def describe(self, newest: int) -> str:
        older = sum(n for c in self.versions.values() for v, n in c.items() if v != newest)
        text = f"{older} sealed values are under an older master key than version {newest}."
        if self.hash_change:
            text += " The hash key has changed: the stored keyed hashes are re-computed too."
        return text


def _stale(work: _TableWork, version: int) -> ColumnElement[bool]:
    current = struct.pack(">H", version)
    stale = [
        and_(column.is_not(None), _version_bytes(column) != current)
        for column in (work.table.c[entry.column] for entry in work.sealed)
    ]
    return or_(*stale) if stale else false()


def _to_visit(work: _TableWork, version: int, rehash: bool, after: Any) -> ColumnElement[bool]:
    condition = _stale(work, version)
    if rehash and work.recomputed:
        key = _primary_key(work.table)
        condition = or_(condition, true() if after is None else key > after)
    return condition


def plan_rotation(engine: Engine, services: Services) -> RotationPlan:
    current = services.keyed_hasher.fingerprint
    with engine.connect() as conn:
        state = read_hash_state(conn) or HashState((current,), None, {})
        hash_change = set(state.in_use) != {current}
        rehash_after = state.rehashed_up_to if state.rehash_to == current else {}
        rows = 0
        for work in _tables_to_visit():
            condition = _to_visit(
                work,
                services.cipher.current_version,
                hash_change,
                rehash_after.get(work.table.name),
            )
            counted = select(func.count()).select_from(work.table).where(condition)
            rows += int(conn.execute(counted).scalar_one())
        if hash_change:
            bounds = _discard_bounds(conn)
            for entries in _discard_groups().values():
                table, _delete, condition = _discard_condition(entries, bounds)
                counted = select(func.count()).select_from(table).where(condition)
                rows += int(conn.execute(counted).scalar_one())
        return RotationPlan(sealed_versions(conn), hash_change, rows)


def _discard_groups() -> dict[str, list[Discarded]]:
    groups: dict[str, list[Discarded]] = {}
    for entry in KEY_BOUND_COLUMNS:
        if isinstance(entry, Discarded):
            groups.setdefault(_table(entry.model).name, []).append(entry)
    return groups


def _discard_bounds(conn: Connection) -> dict[str, Any]:
    """The last primary key of each table with discarded hashes: rows after it are made by the
    app with the new key and are kept."""
    bounds = {}
    for name, entries in _discard_groups().items():
        table = _table(entries[0].model)
        bounds[name] = conn.execute(select(func.max(_primary_key(table)))).scalar_one()
    return bounds


def _discard_condition(
    entries: list[Discarded], bounds: Mapping[str, Any]
) -> tuple[Table, bool, ColumnElement[bool]]:
    table = _table(entries[0].model)
    bound = bounds.get(table.name)
    if bound is None:
        return table, False, false()  # an empty table
    made_before = _primary_key(table) <= bound
    if any(e.action == Discard.DELETE_ROW for e in entries):
        return table, True, made_before
    return table, False, and_(made_before, or_(*(table.c[e.column].is_not(None) for e in entries)))


def _start_hash_change(engine: Engine, hasher: KeyedHasher) -> HashState:
    """The state for this pass, after recording the current key; a change towards another key
    than the one a killed pass was working on starts over."""
    with engine.connect() as conn:
        state = record_hash_key(conn, hasher)
        if set(state.in_use) != {hasher.fingerprint} and state.rehash_to != hasher.fingerprint:
            conn.execute(
                update(STATE)
                .where(STATE.c.id == STATE_ID)
                .values(rehash_to=hasher.fingerprint, rehashed_up_to={})
            )
            conn.commit()
            state = HashState(state.in_use, hasher.fingerprint, {})
        return state


def _next_batch(
    conn: Connection, work: _TableWork, condition: ColumnElement[bool], after: Any, size: int
) -> list[RowMapping]:
    """The next ``size`` rows to visit after primary key ``after``, with the columns the work
    needs."""
    key = _primary_key(work.table)
    names = [key.name] + [e.column for e in work.sealed]
    for entry in work.recomputed:
        names += [entry.column, *entry.reads]
    columns = [work.table.c[name] for name in dict.fromkeys(names)]
    query = select(*columns).where(condition).order_by(key).limit(size)
    if after is not None:
        query = query.where(key > after)
    return list(conn.execute(query).mappings())


def _row_change(
    work: _TableWork, row: RowMapping, services: Services, rehash: bool, report: RotationReport
) -> dict[str, Any]:
    """What to write to one row: its stale sealed values re-sealed and, with ``rehash``, its
    keyed hashes re-computed (by column name; empty: nothing to write)."""
    cipher = services.cipher
    values: dict[str, Any] = dict(row)
    changes: dict[str, Any] = {}
    read = {name for recomputed in work.recomputed for name in recomputed.reads} if rehash else ()
    readable = True
    for entry in work.sealed:
        old = row[entry.column]
        if old is None:
            continue
        stale = sealed_version(old) != cipher.current_version
        if not (stale or entry.column in read):
            continue
        try:
            values[entry.column] = plain = cipher.open(old, entry.context)
        except DecryptionError:
            report.unreadable[label(entry)] += 1
            readable = readable and entry.column not in read
            continue
        if stale:
            changes[entry.column] = cipher.seal(plain, entry.context)
    for recomputed in work.recomputed if rehash else ():
        try:
            if not readable:
                raise ValueError("a value it is made from would not open")
            fresh = recomputed.recompute(values, services)
        except (LocationRejected, ValueError, KeyError):
            report.not_recomputed[label(recomputed)] += 1
            continue
        if fresh != row[recomputed.column]:
            changes[recomputed.column] = fresh
    return changes


def _write(
    conn: Connection,
    work: _TableWork,
    changes: list[tuple[RowMapping, dict[str, Any]]],
    report: RotationReport,
) -> None:
    """Write a batch's changes, one statement for each set of columns changed (executed for
    all its rows at once). A row is written only if the columns changed still hold what was
    read: a value the app wrote meanwhile is already under the current keys and is kept."""
    key = _primary_key(work.table)
    shapes: dict[tuple[tuple[str, bool], ...], list[tuple[RowMapping, dict[str, Any]]]] = {}
    for row, new in changes:
        shape = tuple((name, row[name] is None) for name in sorted(new))
        shapes.setdefault(shape, []).append((row, new))
    sealed = {entry.column: entry for entry in work.sealed}
    for shape, rows in shapes.items():
        columns = [(work.table.c[name], was_null) for name, was_null in shape]
        statement = (
            update(work.table)
            .where(key == bindparam("row_key"))
            .where(
                *(
                    c.is_(None) if was_null else c == bindparam(f"old_{c.name}")
                    for c, was_null in columns
                )
            )
            .values({c.name: bindparam(f"new_{c.name}") for c, _was_null in columns})
        )
        params = [
            {
                "row_key": row[key.name],
                **{f"old_{name}": row[name] for name, was_null in shape if not was_null},
                **{f"new_{name}": new[name] for name, _was_null in shape},
            }
            for row, new in rows
        ]
        written = conn.execute(statement, params).rowcount
        report.changed_meanwhile += len(rows) - written
        for name, _was_null in shape if written else ():
            done = report.resealed if name in sealed else report.recomputed
            done[f"{work.table.name}.{name}"] += written


def rotate_keys(
    engine: Engine,
    services: Services,
    *,
    batch_size: int = 500,
    pause: float = 0.0,
    progress: Callable[[int], None] = lambda _rows: None,
) -> RotationReport:
    """Re-seal every value not under the newest master key and, after a change of the hash key,
    re-compute every keyed hash with the current key (and drop those that cannot be), in batches
    of ``batch_size`` rows, each one transaction. Stopped at any point, a re-run continues."""
    hasher = services.keyed_hasher
    state = _start_hash_change(engine, hasher)
    report = RotationReport(hash_change=set(state.in_use) != {hasher.fingerprint})
    with engine.connect() as conn:
        bounds = _discard_bounds(conn) if report.hash_change else {}
    up_to = dict(state.rehashed_up_to)
    for work in _tables_to_visit():
        rehash = report.hash_change and bool(work.recomputed)
        condition = _to_visit(
            work, services.cipher.current_version, rehash, up_to.get(work.table.name)
        )
        key = _primary_key(work.table).name
        # Rows up to here were re-computed by an earlier (killed) pass: only stale seals left.
        cursor = up_to.get(work.table.name)
        after = None
        while True:
            with engine.begin() as conn:  # one batch, one transaction
                rows = _next_batch(conn, work, condition, after, batch_size)
                if not rows:
                    break
                changes = []
                for row in rows:
                    visit = rehash and (cursor is None or row[key] > cursor)
                    new = _row_change(work, row, services, visit, report)
                    if new:
                        changes.append((row, new))
                _write(conn, work, changes, report)
                if rehash and (cursor is None or rows[-1][key] > cursor):
                    up_to[work.table.name] = rows[-1][key]
                    conn.execute(
                        update(STATE)
                        .where(STATE.c.id == STATE_ID, STATE.c.rehash_to == hasher.fingerprint)
                        .values(rehashed_up_to=dict(up_to))
                    )
            after = rows[-1][key]
            progress(len(rows))
            if pause:
                time.sleep(pause)
    if report.hash_change:
        _discard_all(engine, bounds, batch_size, report, progress)
        if not report.not_recomputed:
            report.hash_settled = _settle(engine, state, hasher)
    return report


def _discard_all(
    engine: Engine,
    bounds: Mapping[str, Any],
    size: int,
    report: RotationReport,
    progress: Callable[[int], None],
) -> None:
    for entries in _discard_groups().values():
        table, delete_rows, condition = _discard_condition(entries, bounds)
        key = _primary_key(table)
        chosen = select(key).where(condition).order_by(key).limit(size)
        change = (
            delete(table).where(key.in_(chosen))
            if delete_rows
            else update(table).where(key.in_(chosen)).values({e.column: None for e in entries})
        )
        while True:
            with engine.begin() as conn:
                done = conn.execute(change).rowcount
            if not done:
                break
            for name in {table.name} if delete_rows else map(label, entries):
                report.discarded[name] += done
            progress(done)


def after_rotation(engine: Engine, services: Services, report: RotationReport) -> list[str]:
    """What the operator can do next: which keys can go, or why not yet."""
    newest = services.cipher.current_version
    with engine.connect() as conn:
        left = sum(values_under_other_versions(conn, frozenset({newest})).values())
        state = read_hash_state(conn)
    if left:
        return [
            f"{left} values were sealed under an older master key meanwhile, by a process still "
            "running with the old settings: restart it with the new ones, then run this again."
        ]
    lines = [f"Every sealed value is under master key version {newest}."]
    if len(services.cipher.versions) > 1:
        lines.append("The older versions can now be removed from ASSISTANT_MASTER_KEYS.")
    if state is not None and set(state.in_use) == {services.keyed_hasher.fingerprint}:
        lines.append("Every keyed hash is made with the current hash key.")
        if services.keyed_hasher.previous_fingerprints:
            lines.append("ASSISTANT_PREVIOUS_HASH_KEYS can now be removed.")
    elif report.hash_change:
        lines.append(
            "The hash key changed again while this ran (a process with other settings started): "
            "run this again."
        )
    return lines


def _settle(engine: Engine, state: HashState, hasher: KeyedHasher) -> bool:
    """Every stored hash is now made with the current key: record it, unless another key was
    recorded meanwhile (an app started with other settings), in which case a re-run is needed."""
    with engine.begin() as conn:
        seen = read_hash_state(conn)
        if seen is None or seen.in_use != state.in_use or seen.rehash_to != hasher.fingerprint:
            return False
        conn.execute(
            update(STATE)
            .where(STATE.c.id == STATE_ID, STATE.c.in_use == " ".join(state.in_use))
            .values(in_use=hasher.fingerprint, rehash_to=None, rehashed_up_to={})
        )
    return True
