"""The committed openapi.yaml is exactly what `evolve openapi` generates from the app."""

from __future__ import annotations

from pathlib import Path

from api.app import contract

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.yaml"


def test_committed_openapi_yaml_is_up_to_date() -> None:
    assert COMMITTED.read_text() == contract(), (
        "openapi.yaml is out of date: regenerate it with `evolve openapi > openapi.yaml`"
    )


def test_generation_is_deterministic() -> None:
    assert contract() == contract()
