"""SQL and the store operations for PostgreSQL, written once for the sync and async stores.

Like :mod:`sessionward.flows`, each operation is a generator: it yields
:class:`~sessionward.calls.StoreCall` values (:func:`.pg_runner.query`) and receives each
result (rows, or a row count); the executors in :mod:`sessionward.stores.pg_runner` run them on
a pooled connection. An operation of more than one statement runs in one transaction; a single
statement runs in autocommit (one round trip for ``get`` and ``update``).

``update`` is one statement (``data - deleted || set``) on the row as stored *now*, under the
row lock PostgreSQL takes for an ``UPDATE``: concurrent per-key deltas all survive and a deleted
row is not recreated. ``create`` with a limit first takes a transaction-scoped advisory lock on
the user, so parallel logins of one user, from any number of app processes, count and evict one
after another.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any, TypeVar

from psycopg import sql

from ..calls import StoreCall
from ..core import json_text
from ..core.records import SessionRecord, encode_data
from .base import (
    RECORD_COLUMNS,
    RecordUpdate,
    SessionLimit,
    record_row,
    row_record,
    select_evictions,
)
from .pg_runner import Plan, query, transaction_of

T = TypeVar("T")
SCHEMA_VERSION = 1
_COLUMNS = RECORD_COLUMNS


def _record(row: Sequence[Any]) -> SessionRecord:
    return row_record(row, _decode_data, dict)


record_of = _record


def _decode_data(column: Mapping[str, str]) -> dict[str, Any]:
    # Each value is the JSON text _json_value wrote: join them into one object and parse once
    # (one JSON parse per record instead of one per key).
    if not column:
        return {}
    pairs = [encode_basestring(name) + ":" + text for name, text in column.items()]
    return json_text.loads("{" + ",".join(pairs) + "}")  # type: ignore[no-any-return]


def _json(value: Any) -> str:
    return encode_data(value, max_bytes=1 << 30)


def _data_json(data: Mapping[str, Any]) -> str:
    """Session data for the ``data`` column: each value kept as its own JSON text.

    jsonb cannot hold the NUL character, which a JSON string may contain (``\\u0000``). Inside
    the text of a JSON value that escape is six ordinary characters, so every value an app can
    store round-trips, while the column stays a jsonb object that ``data - deleted || set``
    merges per key.
    """
    return _json({name: _json_value(value) for name, value in data.items()})


def _json_value(value: Any) -> str:
    return _json([value])[1:-1]


def sweep_batch(delete: StoreCall, lock_name: str, *more: StoreCall) -> Plan[int | None]:
    """Run ``delete`` (and ``more``) only if this transaction gets the sweep's advisory lock.

    The lock is transaction-scoped and tried, never waited for: while one instance deletes a
    batch the others skip their round (the automatic purge, :mod:`.sweeper`).
    """
    rows = yield query(
        sql.SQL("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))"), (lock_name,)
    )
    if not rows[0][0]:
        return None
    count: int = yield delete
    for step in more:  # noqa: UP028 (the driver sends results: a plain iterator cannot take them)
        yield step
    return count


_UPDATE = (
    "UPDATE {table} SET data = (data - %s::text[]) || %s::jsonb, "
    "meta = meta || %s::jsonb, "
    "last_seen_at = GREATEST(last_seen_at, COALESCE(%s::float8, last_seen_at)), "
    "expires_at = GREATEST(expires_at, COALESCE(%s::float8, expires_at)) "
    "WHERE key = %s RETURNING "
)
_UPDATE_WHOLE = _UPDATE + "{cols}"
_UPDATE_REPLY = _UPDATE + "{reply_cols}"  # no data back: the end-of-request save


class Plans:
    """The store's operations over one schema."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.table = sql.Identifier(schema, "sessions")
        self.cols = sql.SQL(", ").join(map(sql.Identifier, _COLUMNS))
        # The same with no data, for a save's reply (``RecordUpdate.reply_data`` false).
        self.reply_cols = sql.SQL(", ").join(
            sql.SQL("'{}'::jsonb") if c == "data" else sql.Identifier(c) for c in _COLUMNS
        )
        self._texts: dict[str, bytes] = {}

    def _q(self, template: str, *params: Any) -> StoreCall:
        # Composed once per template: a request's statements cost no formatting.
        text = self._texts.get(template)
        if text is None:
            composed = sql.SQL(template).format(
                table=self.table, cols=self.cols, reply_cols=self.reply_cols
            )
            text = composed.as_bytes(None)
            self._texts[template] = text
        return query(text, params)

    def migrate(self) -> Plan[None]:
        schema = sql.Identifier(self.schema)
        # Two processes starting at once must not race on CREATE ... IF NOT EXISTS.
        yield query(
            sql.SQL("SELECT pg_advisory_xact_lock(hashtextextended({}, 0))").format(
                sql.Literal("sessionward-migrate:" + self.schema)
            )
        )
        yield query(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
        version = sql.Identifier(self.schema, "schema_version")
        yield query(
            sql.SQL("CREATE TABLE IF NOT EXISTS {} (version integer NOT NULL)").format(version)
        )
        rows = yield query(sql.SQL("SELECT max(version) FROM {}").format(version))
        found = rows[0][0]
        if found is not None and found > SCHEMA_VERSION:
            from ..errors import ConfigurationError

            raise ConfigurationError(
                f"schema {self.schema!r} has version {found}, newer than this sessionward "
                f"({SCHEMA_VERSION}); upgrade sessionward"
            )
        if found == SCHEMA_VERSION:
            return
        yield self._q(
            """CREATE TABLE IF NOT EXISTS {table} (
                key text PRIMARY KEY,
                handle text NOT NULL UNIQUE,
                user_id text,
                created_at double precision NOT NULL,
                last_seen_at double precision NOT NULL,
                expires_at double precision NOT NULL,
                authenticated_at double precision,
                origin text NOT NULL,
                ip text,
                user_agent text,
                data jsonb NOT NULL,
                meta jsonb NOT NULL
            )"""
        )
        yield query(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS sessions_by_user ON {} (user_id, last_seen_at) "
                "WHERE user_id IS NOT NULL"
            ).format(self.table)
        )
        yield query(
            sql.SQL("CREATE INDEX IF NOT EXISTS sessions_by_expiry ON {} (expires_at)").format(
                self.table
            )
        )
        yield query(sql.SQL("DELETE FROM {}").format(version))
        yield query(
            sql.SQL("INSERT INTO {} (version) VALUES (%s)").format(version), (SCHEMA_VERSION,)
        )

    def create(
        self,
        record: SessionRecord,
        now: float,
        replaces: str | None,
        limit: SessionLimit | None,
    ) -> Plan[list[SessionRecord]]:
        evicted: list[SessionRecord] = []
        if limit is not None and record.user_id is not None:
            yield query(
                sql.SQL("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"),
                (f"sessionward-user:{self.schema}:{record.user_id}",),
            )
            rows = yield self._q(
                "SELECT {cols} FROM {table} WHERE user_id = %s AND expires_at > %s",
                record.user_id,
                now,
            )
            live = [r for r in map(_record, rows) if r.key != replaces]
            evicted = select_evictions(live, limit, record.user_id)
        doomed = [r.key for r in evicted] + ([replaces] if replaces else [])
        if doomed:
            yield self._q("DELETE FROM {table} WHERE key = ANY(%s)", doomed)
        yield self._insert(record)
        return evicted

    def _insert(self, record: SessionRecord) -> StoreCall:
        return self._q(
            "INSERT INTO {table} ({cols}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb)",
            *record_row(record, _data_json, _json),
        )

    def get(self, column: str, value: str) -> Plan[SessionRecord | None]:
        if column == "key":
            rows = yield self._q("SELECT {cols} FROM {table} WHERE key = %s", value)
        else:
            rows = yield self._q("SELECT {cols} FROM {table} WHERE handle = %s", value)
        return _record(rows[0]) if rows else None

    def get_many(self, keys: Sequence[str]) -> Plan[dict[str, Sequence[Any]]]:
        """The rows of those ``keys`` that exist, by key (:func:`record_of` decodes one): one
        statement for many lookups."""
        rows = yield self._q("SELECT {cols} FROM {table} WHERE key = ANY(%s)", list(set(keys)))
        return {row[0]: row for row in rows}

    def update(self, key: str, change: RecordUpdate) -> Plan[SessionRecord | None]:
        return self.update_one(self.update_call(key, change))

    def update_one(self, call: StoreCall) -> Plan[SessionRecord | None]:
        """Run one :meth:`update_call` on its own (autocommit: one round trip)."""
        rows = yield call
        return _record(rows[0]) if rows else None

    def update_many(
        self, calls: Sequence[tuple[str, StoreCall]]
    ) -> Plan[list[SessionRecord | None]]:
        """Several ``(key, update_call(key, ...))`` in one transaction and one round trip (the
        group commit of :mod:`.pg_batch`); the record after each, in the given order.

        They run in order of key (in the given order among calls on one key), so that two
        batches from different processes lock their rows in the same order: no deadlock.
        """
        order = sorted(range(len(calls)), key=lambda i: calls[i][0])
        results = yield transaction_of([calls[i][1] for i in order])
        out: list[SessionRecord | None] = [None] * len(calls)
        for i, rows in zip(order, results, strict=True):
            out[i] = _record(rows[0]) if rows else None
        return out

    def update_call(self, key: str, change: RecordUpdate) -> StoreCall:
        """The one statement of :meth:`update` (its values encoded now)."""
        return self._q(
            _UPDATE_WHOLE if change.reply_data else _UPDATE_REPLY,
            sorted(change.delete_data),
            _data_json(change.set_data),
            json.dumps(dict(change.set_meta), separators=(",", ":")),
            change.last_seen_at,
            change.expires_at,
            key,
        )

    def delete(self, key: str) -> Plan[SessionRecord | None]:
        rows = yield self._q("DELETE FROM {table} WHERE key = %s RETURNING {cols}", key)
        return _record(rows[0]) if rows else None

    def list_by_user(self, user_id: str) -> Plan[list[SessionRecord]]:
        rows = yield self._q(
            "SELECT {cols} FROM {table} WHERE user_id = %s ORDER BY last_seen_at DESC", user_id
        )
        return [_record(r) for r in rows]

    def list_all(self, limit: int) -> Plan[list[SessionRecord]]:
        rows = yield self._q(
            "SELECT {cols} FROM {table} ORDER BY last_seen_at DESC LIMIT %s", int(limit)
        )
        return [_record(r) for r in rows]

    def delete_by_user(self, user_id: str, keep: str | None) -> Plan[list[SessionRecord]]:
        rows = yield self._q(
            "DELETE FROM {table} WHERE user_id = %s AND key <> %s RETURNING {cols}",
            user_id,
            keep or "",
        )
        return [_record(r) for r in rows]

    def delete_all(self) -> Plan[int]:
        count: int = yield self._q("DELETE FROM {table}")
        return count

    def purge_expired(self, now: float) -> Plan[int]:
        count: int = yield self._q("DELETE FROM {table} WHERE expires_at <= %s", now)
        return count

    def sweep(self, cutoff: float, batch: int) -> Plan[int | None]:
        """One batch of the automatic purge, or None while another instance is sweeping."""
        return sweep_batch(
            self._q(
                "DELETE FROM {table} WHERE key IN (SELECT key FROM {table} "
                "WHERE expires_at <= %s ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED)",
                cutoff,
                batch,
            ),
            f"sessionward-sweep:{self.schema}",
        )

    def renew(
        self, key: str, new_key: str, stub: SessionRecord, handle: str
    ) -> Plan[SessionRecord | None]:
        rows = yield self._q(
            "UPDATE {table} SET key = %s WHERE key = %s AND handle = %s RETURNING {cols}",
            new_key,
            key,
            handle,
        )
        if not rows:
            return None
        yield self._insert(stub)
        return _record(rows[0])

    def drop_schema(self) -> Plan[None]:
        """Remove the whole schema (tests and uninstalls)."""
        yield query(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema)))
