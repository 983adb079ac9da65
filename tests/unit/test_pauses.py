"""Batches run with the cyclic collector off, and leave it as they found it (evolve/pauses.py)."""

from __future__ import annotations

import gc

import pytest

from evolve.pauses import without_collector_pauses


def test_the_collector_is_off_inside_and_on_again_after_even_on_an_error() -> None:
    assert gc.isenabled()
    with pytest.raises(ValueError), without_collector_pauses():
        assert not gc.isenabled()
        raise ValueError
    assert gc.isenabled()


def test_a_block_entered_with_the_collector_off_leaves_it_off() -> None:
    gc.disable()
    try:
        with without_collector_pauses():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_nested_blocks_turn_it_on_only_when_the_outer_one_ends() -> None:
    with without_collector_pauses():
        with without_collector_pauses():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
