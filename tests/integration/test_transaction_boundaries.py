"""The view does not depend on how entries are grouped into transactions.

An append's entries share one record time; a later entry of the batch often replaces a row an earlier
one made (a designation, then a leader the same day), so that row is made and unmade at one record
time and is never visible. A catch-up or a rebuild may cut its transactions anywhere, also inside such
a batch: the row is then already stored when it is unmade. It must go, as it does when the whole batch
is projected at once (a rebuild at 30k synthetic events failed on the unique key when it stayed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from evolve.bootstrap import Evolve
from tests.factories import event, footprint
from tests.reliability.support import projection_rows

D = dt.date.fromisoformat


def _log(system: Evolve) -> None:
    for n in range(4):
        org = f"org-{n}"
        system.store.append(
            [
                footprint(org),
                event("LeaderAppointed", "2016-03-15", organisation=org, leader=f"First {n}"),
                event("LeaderAppointed", "2016-03-15", organisation=org, leader=f"Second {n}"),
                event("AccountableCareSystemsDesignated", "2017-06-15", scope={"organisations": [org]}),
            ]
        )
    system.store.append([event("SystemsRenamed", "2018-02-02", from_stage="acs", to_stage="ics", term="ICS")])


@pytest.mark.parametrize("batch", [1, 2, 3, 5])
def test_a_rebuild_cut_inside_a_batch_gives_the_view_of_one_cut_at_its_end(
    make_system: Callable[..., Evolve], batch: int
) -> None:
    system = make_system(project_on_append=False)
    _log(system)
    assert system.catch_up(batch=1000) == 17  # every transaction ends where a batch does
    whole = projection_rows(system)
    assert system.rebuild(batch=batch) == 17  # transactions end inside batches
    assert projection_rows(system) == whole


def _ccg(org: str, effective: str) -> object:
    return event("OrganisationRegistered", effective, organisation=org, name=org.title(), kind="ccg")


def _dissolution() -> object:
    return event("OrganisationsDissolved", "2022-07-01", scope={"kind": "ccg"})


def _retraction(target: str) -> object:
    return event("EventCorrected", "2022-07-02", corrects=target, retract=True)


def test_a_correction_finds_the_endings_its_broadcast_made_in_the_same_transaction(
    make_system: Callable[..., Evolve],
) -> None:
    """Endings are sent at the transaction's end: until then the writer answers from what it holds.
    `late` is created on the dissolution's date, so only its ending says the broadcast met it."""
    system = make_system(project_on_append=False)
    system.store.append([_ccg("early", "2016-04-01"), _ccg("late", "2022-07-01")])
    [dissolved] = system.store.append([_dissolution()])
    system.store.append([_retraction(str(dissolved.id))])
    assert system.catch_up(batch=1000) == 4  # one transaction
    assert system.queries.state("late", D("2022-08-01")).kind is not None
    together = projection_rows(system)
    assert system.rebuild(batch=1) == 4
    assert projection_rows(system) == together


def test_an_earlier_read_of_endings_keeps_the_ones_this_transaction_changed(
    make_system: Callable[..., Evolve],
) -> None:
    """A retraction drops a stored ending (pending until the transaction ends); a back-dated leader
    then refolds the system from a day before it named the member, so the member's endings are read
    from that earlier day, where storage still holds the dropped one."""
    system = make_system(project_on_append=False)
    system.store.append([footprint("s"), _ccg("c", "2016-04-01")])
    system.store.append([event("MembersJoined", "2019-04-01", organisation="s", members=["c"])])
    [dissolved] = system.store.append([_dissolution()])
    assert system.catch_up(batch=1000) == 4
    system.store.append([_retraction(str(dissolved.id))])
    system.store.append([event("LeaderAppointed", "2018-01-01", organisation="s", leader="L")])
    assert system.catch_up(batch=1000) == 2  # one transaction
    [membership] = system.queries.memberships("c").items
    assert membership.valid_to is None
    together = projection_rows(system)
    assert system.rebuild(batch=1) == 6
    assert projection_rows(system) == together


def test_a_broadcast_meets_what_earlier_entries_of_its_append_made(make_system: Callable[..., Evolve]) -> None:
    """The entries of one append are indexed first and refolded together, so the broadcast's own
    search of the view does not see `s`, made by the entry before it; `s` is refolded anyway and
    meets it, as it does when every entry is projected on its own."""
    system = make_system(project_on_append=False)
    system.store.append([footprint("t")])
    system.store.append([footprint("s"), event("PartnershipsFormed", "2017-03-31", scope={"stage": "footprint"})])
    assert system.catch_up(batch=1000) == 3  # one transaction
    for org in ("s", "t"):
        assert system.queries.state(org, D("2017-04-01")).stage == "partnership"
    together = projection_rows(system)
    assert system.rebuild(batch=1) == 3  # one entry at a time
    assert projection_rows(system) == together
