"""The view does not depend on how entries are grouped into transactions.

An append's entries share one record time; a later entry of the batch often replaces a row an earlier
one made (a designation, then a leader the same day), so that row is made and unmade at one record
time and is never visible. A catch-up or a rebuild may cut its transactions anywhere, also inside such
a batch: the row is then already stored when it is unmade. It must go, as it does when the whole batch
is projected at once (a rebuild at 30k synthetic events failed on the unique key when it stayed).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from evolve.bootstrap import Evolve
from tests.factories import event, footprint
from tests.reliability.support import projection_rows


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
