"""No change is ever missed by a pull, whatever the interleaving of writers and readers (docs/sync.md "The clock")."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from sync.db import begin_snapshot
from sync.protocol.pull import pull
from sync.protocol.push import push
from tests.factories import changes, principal_of, visit


def pull_once(engine, principal, pii, last_pulled_at):
    with Session(engine) as session:
        begin_snapshot(session)
        result = pull(session, principal=principal, last_pulled_at=last_pulled_at, pii=pii)
        session.rollback()
    return result


def seen_ids(result, table="visits"):
    return {r["id"] for kind in ("created", "updated") for r in result["changes"][table][kind]}


def test_late_commit_is_not_missed(engine, world, pii):
    """T1 takes its stamp, a pull runs before T1 commits, and the next pull still returns T1's rows."""
    agent = principal_of(world.agent_a)
    late = visit()
    with Session(engine) as t1:
        push(t1, principal=agent, changes=changes(visits={"created": [late]}), last_pulled_at=0, pii=pii)
        early = pull_once(engine, agent, pii, 0)  # T1 has not committed yet
        assert late["id"] not in seen_ids(early)
        t1.commit()
    later = pull_once(engine, agent, pii, early["timestamp"])
    assert late["id"] in seen_ids(later)
    assert later["timestamp"] > early["timestamp"]


def test_concurrent_pushes_while_pulling_lose_nothing(engine, world, pii):
    """Three pushing threads and a polling puller: the puller's chain of pulls sees every record."""
    agent = principal_of(world.agent_a)
    pushed: set[str] = set()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def pusher(batches: int):
        try:
            for _ in range(batches):
                records = [visit() for _ in range(5)]
                with Session(engine) as session:
                    push(
                        session,
                        principal=agent,
                        changes=changes(visits={"created": records}),
                        last_pulled_at=0,
                        pii=pii,
                    )
                    session.commit()
                with lock:
                    pushed.update(r["id"] for r in records)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=pusher, args=(12,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    seen: set[str] = set()
    last = 0
    while any(t.is_alive() for t in threads):
        result = pull_once(engine, agent, pii, last)
        assert result["timestamp"] >= last
        seen |= seen_ids(result)
        last = result["timestamp"]
    for thread in threads:
        thread.join()
    assert not errors, errors
    seen |= seen_ids(pull_once(engine, agent, pii, last))
    assert len(pushed) == 3 * 12 * 5
    assert seen == pushed


def test_stamps_are_unique_and_increasing(engine, world, pii):
    """Every push gets a stamp above all earlier ones, even within the same millisecond."""
    agent = principal_of(world.agent_a)
    stamps = []
    for _ in range(20):
        with Session(engine) as session:
            outcome = push(
                session, principal=agent, changes=changes(visits={"created": [visit()]}), last_pulled_at=0, pii=pii
            )
            session.commit()
        stamps.append(outcome.timestamp)
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
