"""Every event type of the catalogue is complete: a fold rule (or the projection's own handling),
a sentence in the history doc, and an example in the OpenAPI contract."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evolve import fold
from evolve.catalogue import EVENT_TYPES, BaseEvent, EventCorrected, PolicyPublished
from evolve.history_doc import DESCRIBERS

CONTRACT = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
#: Types the projection handles itself, not `evolve.fold`: policies have their own view, and a
#: correction changes which version of another event the timelines fold.
PROJECTION_OWN = {PolicyPublished, EventCorrected}


@pytest.mark.parametrize("cls", EVENT_TYPES, ids=lambda c: c.__name__)
def test_every_event_type_is_complete(cls: type[BaseEvent]) -> None:
    assert fold.has_rule(cls) or cls in PROJECTION_OWN, f"{cls.__name__} has no fold rule"
    assert cls in DESCRIBERS, f"{cls.__name__} has no history-doc describer"
    schema = CONTRACT["components"]["schemas"][cls.__name__]
    assert schema.get("examples") == [cls.example], f"{cls.__name__} has no example in openapi.yaml"
