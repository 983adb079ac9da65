"""The read side of the interval tables on SQL (CQRS): the queries' :class:`TimelineReader`."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any

import msgspec

from evolve.catalogue import PolicyPublished
from evolve.counts import Counts, Group
from evolve.records import EventRecord
from evolve.state import Status
from evolve.views.interface import Point, PolicyVersion, Relation, Span, TimelineReader
from evolve.views.sql import JOINED, Dialect, day_of, status_of, unpacked

_record = msgspec.json.Decoder(EventRecord).decode
_policy = msgspec.json.Decoder(PolicyPublished).decode


#: A row on a day, as known at a record time (bound: day, day, record time, record time).
_ON_DAY = "valid_from<=? AND valid_to>? AND recorded_from_us<=? AND recorded_to_us>?"

#: The relations between organisations (an interval row also names its codes and flags).
_BETWEEN_ORGANISATIONS = "('member', 'parent', 'region')"

#: The organisation holds the code (ONS or ODS, upper-cased) on the day, as known at the record
#: time (bound: code, then as :data:`_ON_DAY`).
_HOLDS_CODE = (
    "EXISTS (SELECT 1 FROM timeline_relations r WHERE r.org = timeline_intervals.org "
    "AND r.relation IN ('code', 'ods_code') AND r.related = ? AND r.valid_from<=? AND r.valid_to>? "
    "AND r.recorded_from_us<=? AND r.recorded_to_us>?)"
)


#: `org` on a day, as known at a record time (or the newest entry's), and the relations others hold
#: to it, in one statement: part 0 is the record time read at, part 1 the state, parts 2 the relations.
_POINT = (
    "WITH k AS (SELECT COALESCE(?, (SELECT recorded_us FROM timeline_entries ORDER BY position DESC LIMIT 1)) AS us) "  # noqa: S608 - constants; every value is a bound parameter
    "SELECT 0, k.us, NULL, NULL, NULL, NULL, NULL, NULL FROM k "
    f"UNION ALL SELECT 1, NULL, s.status, s.data, NULL, NULL, NULL, NULL FROM (SELECT status, data {JOINED} "
    "WHERE org=? AND valid_from<=? AND valid_to>? AND recorded_from_us<=(SELECT us FROM k) "
    "AND recorded_to_us>(SELECT us FROM k) ORDER BY valid_from DESC LIMIT 1) s "
    "UNION ALL SELECT 2, NULL, NULL, NULL, org, relation, valid_from, valid_to FROM timeline_relations "
    "WHERE related=? AND recorded_from_us<=(SELECT us FROM k) AND recorded_to_us>(SELECT us FROM k) "
    f"AND relation IN {_BETWEEN_ORGANISATIONS} AND valid_from<=? AND valid_to>?"
)


class SqlReader(TimelineReader):
    """Read-only queries over the interval tables (the read side of CQRS)."""

    def __init__(self, cursor: Any, dialect: Dialect) -> None:
        self.c = cursor
        self.sql = dialect

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        self.c.execute(self.sql(statement), params)
        return list(self.c.fetchall())

    def state(self, org: str, day: dt.date, recorded_us: int) -> Status | None:
        found = self.rows(
            f"SELECT status, data {JOINED} WHERE org=? AND valid_from<=? AND valid_to>? "
            "AND recorded_from_us<=? AND recorded_to_us>? ORDER BY valid_from DESC LIMIT 1",
            (org, day.isoformat(), day.isoformat(), recorded_us, recorded_us),
        )
        return status_of(*found[0]) if found else None

    def known_organisation(self, org: str) -> bool:
        return bool(self.rows("SELECT 1 FROM timeline_organisations WHERE org=?", (org,)))

    def point(self, org: str, day: dt.date, recorded_us: int | None) -> Point:
        iso = day.isoformat()
        at: int | None = None
        status: Status | None = None
        held: list[Relation] = []
        for part, us, scalar, lists, holder, relation, valid_from, valid_to in self.rows(
            _POINT, (recorded_us, org, iso, iso, org, iso, iso)
        ):
            if part == 0:
                at = int(us) if us is not None else None
            elif part == 1:
                status = status_of(scalar, lists)
            else:
                held.append(Relation(str(holder), org, str(relation), day_of(valid_from), day_of(valid_to)))
        return Point(at, status, held)

    def states(
        self,
        day: dt.date,
        recorded_us: int,
        *,
        kind: str | None = None,
        stage: str | None = None,
        text: str | None = None,
        code: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Status]:
        clauses = ["valid_from<=?", "valid_to>?", "recorded_from_us<=?", "recorded_to_us>?"]
        params: list[Any] = [day.isoformat(), day.isoformat(), recorded_us, recorded_us]
        if after is not None:
            clauses.append("org>?")
            params.append(after)
        if kind is not None:
            clauses.append("kind=?")
            params.append(kind)
        if stage is not None:
            clauses.append("stage=?")
            params.append(stage)
        if text:
            pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append("(LOWER(name) LIKE ? ESCAPE '\\' OR org LIKE ? ESCAPE '\\')")
            params += [pattern, pattern]
        if code:
            clauses.append(_HOLDS_CODE)
            params += [code.upper(), day.isoformat(), day.isoformat(), recorded_us, recorded_us]
        # Clauses are fixed text chosen above; every value is a bound parameter.
        statement = f"SELECT status, data {JOINED} WHERE " + " AND ".join(clauses) + " ORDER BY org"
        if limit is not None:
            statement += " LIMIT ?"
            params.append(limit)
        return [status_of(status, data) for status, data in self.rows(statement, params)]

    def history(self, org: str, recorded_us: int) -> list[Span]:
        found = self.rows(
            f"SELECT valid_from, valid_to, status, data {JOINED} WHERE org=? AND recorded_from_us<=? "
            "AND recorded_to_us>? ORDER BY valid_from",
            (org, recorded_us, recorded_us),
        )
        return [Span(day_of(a), day_of(b), status_of(s, d)) for a, b, s, d in found]

    def records(
        self,
        *,
        type_: str | None = None,
        subject: str | None = None,
        from_day: dt.date | None = None,
        to_day: dt.date | None = None,
        after: int = 0,
        limit: int = 50,
    ) -> list[EventRecord]:
        clauses = ["position>?"]
        params: list[Any] = [after]
        if type_ is not None:
            clauses.append("type=?")
            params.append(type_)
        if from_day is not None:
            clauses.append("effective>=?")
            params.append(from_day.isoformat())
        if to_day is not None:
            clauses.append("effective<=?")
            params.append(to_day.isoformat())
        if subject is not None:
            clauses.append("position IN (SELECT position FROM timeline_subjects WHERE subject=?)")
            params.append(subject)
        statement = "SELECT record FROM timeline_entries WHERE " + " AND ".join(clauses) + " ORDER BY position LIMIT ?"  # noqa: S608
        return [_record(unpacked(row[0])) for row in self.rows(statement, [*params, limit])]

    def record(self, event_id: str) -> EventRecord | None:
        found = self.rows("SELECT record FROM timeline_entries WHERE event_id=?", (event_id,))
        return _record(unpacked(found[0][0])) if found else None

    def relations(
        self, related: str, recorded_us: int, relation: str | None = None, day: dt.date | None = None
    ) -> list[Relation]:
        statement = (
            "SELECT org, related, relation, valid_from, valid_to FROM timeline_relations "
            "WHERE related=? AND recorded_from_us<=? AND recorded_to_us>?"
        )
        params: list[Any] = [related, recorded_us, recorded_us]
        if relation is not None:
            statement += " AND relation=?"
            params.append(relation)
        else:
            statement += f" AND relation IN {_BETWEEN_ORGANISATIONS}"
        if day is not None:
            statement += " AND valid_from<=? AND valid_to>?"
            params += [day.isoformat(), day.isoformat()]
        found = self.rows(statement + " ORDER BY org, valid_from", params)
        return [Relation(str(o), str(r), str(k), day_of(a), day_of(b)) for o, r, k, a, b in found]

    def relations_on(self, day: dt.date, recorded_us: int, related: Sequence[str] | None = None) -> list[Relation]:
        iso = day.isoformat()
        statement = (
            "SELECT org, related, relation, valid_from, valid_to FROM timeline_relations "  # noqa: S608 - constants
            f"WHERE {_ON_DAY} AND relation IN {_BETWEEN_ORGANISATIONS}"
        )
        params: list[Any] = [iso, iso, recorded_us, recorded_us]
        if related is not None:
            if not related:
                return []
            statement += f" AND related IN ({','.join('?' * len(related))})"
            params += related
        found = self.rows(statement, params)
        return [Relation(str(o), str(r), str(k), day_of(a), day_of(b)) for o, r, k, a, b in found]

    def counts(self, day: dt.date, recorded_us: int) -> Counts:
        iso = day.isoformat()
        params = (iso, iso, recorded_us, recorded_us)
        # Every organisation on the day by (kind, stage), from the day index alone (it covers these
        # columns). `kind || ''` keeps SQLite from reading the whole kind index for its order.
        every = self.rows(
            f"SELECT kind || '', stage, COUNT(*) FROM timeline_intervals WHERE {_ON_DAY} "  # noqa: S608
            "GROUP BY kind || '', stage",
            params,
        )
        # Those that name a parent: one relation row each.
        sub_areas = self.rows(
            "SELECT i.kind, i.stage, COUNT(*) FROM timeline_relations r JOIN timeline_intervals i "
            "ON i.org = r.org AND i.valid_from<=? AND i.valid_to>? AND i.recorded_from_us<=? AND i.recorded_to_us>? "
            "WHERE r.relation = 'parent' AND r.valid_from<=? AND r.valid_to>? AND r.recorded_from_us<=? "
            "AND r.recorded_to_us>? "
            "GROUP BY i.kind, i.stage",
            params + params,
        )
        flags = self.rows(
            f"SELECT related, COUNT(*) FROM timeline_relations WHERE relation = 'flag' AND {_ON_DAY} "  # noqa: S608
            "GROUP BY related",
            params,
        )
        groups: Counter[Group] = Counter()
        for kind, stage, n in every:
            groups[Group(str(kind), stage, False)] += int(n)
        for kind, stage, n in sub_areas:
            groups[Group(str(kind), stage, False)] -= int(n)
            groups[Group(str(kind), stage, True)] += int(n)
        return Counts(+groups, Counter({str(flag): int(n) for flag, n in flags}))

    #: Policy rows visible at a record time and published by a date: the newest per policy wins.
    _NEWEST_POLICY = (
        "SELECT p.event_id, p.event FROM timeline_policies p WHERE p.recorded_from_us<=? AND p.recorded_to_us>? "
        "AND p.effective<=? AND {where} AND NOT EXISTS (SELECT 1 FROM timeline_policies q "
        "WHERE q.policy_id = p.policy_id AND q.recorded_from_us<=? AND q.recorded_to_us>? AND q.effective<=? "
        "AND (q.effective > p.effective OR (q.effective = p.effective AND q.position > p.position)))"
    )

    def _policies(self, where: str, value: str, day: dt.date, recorded_us: int, tail: str, *extra: Any) -> list[Any]:
        iso = day.isoformat()
        statement = self._NEWEST_POLICY.format(where=where) + tail
        return self.rows(statement, (recorded_us, recorded_us, iso, value, recorded_us, recorded_us, iso, *extra))

    def policies(self, day: dt.date, recorded_us: int, after: str | None, limit: int) -> list[PolicyVersion]:
        found = self._policies("p.policy_id>?", after or "", day, recorded_us, " ORDER BY p.policy_id LIMIT ?", limit)
        return [PolicyVersion(str(event_id), _policy(unpacked(event))) for event_id, event in found]

    def policy(self, policy_id: str, day: dt.date, recorded_us: int) -> PolicyVersion | None:
        found = self._policies("p.policy_id=?", policy_id, day, recorded_us, "")
        return PolicyVersion(str(found[0][0]), _policy(unpacked(found[0][1]))) if found else None

    def timelines(self, recorded_us: int, start: dt.date, end: dt.date) -> dict[str, list[Span]]:
        found = self.rows(
            f"SELECT org, valid_from, valid_to, status, data {JOINED} WHERE recorded_from_us<=? AND recorded_to_us>? "
            "AND valid_from<=? AND valid_to>=? ORDER BY org, valid_from",
            (recorded_us, recorded_us, end.isoformat(), start.isoformat()),
        )
        out: dict[str, list[Span]] = {}
        for org, a, b, s, d in found:
            out.setdefault(org, []).append(Span(day_of(a), day_of(b), status_of(s, d)))
        return out

    def cause(self, org: str, day: dt.date, recorded_us: int) -> str | None:
        found = self.rows(
            "SELECT e.event_id FROM timeline_touches t JOIN timeline_entries e ON e.position = t.position "
            "WHERE t.org=? AND t.effective=? AND e.recorded_us<=? ORDER BY t.position DESC LIMIT 1",
            (org, day.isoformat(), recorded_us),
        )
        return str(found[0][0]) if found else None

    def entry_count(self) -> int:
        return int(self.rows("SELECT COUNT(*) FROM timeline_entries")[0][0])

    def latest_recorded_us(self) -> int | None:
        found = self.rows("SELECT recorded_us FROM timeline_entries ORDER BY position DESC LIMIT 1")
        return int(found[0][0]) if found else None
