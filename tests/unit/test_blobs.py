"""The view's packed blobs (evolve/views/blobs.py): lossless, small, and tied to the layout."""

from __future__ import annotations

from pathlib import Path

from evolve.views import blobs
from evolve.views.sql import LAYOUT_VERSION

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_a_blob_unpacks_to_what_was_packed() -> None:
    for data in (b"", b"{}", b'{"id":"x","name":"\xc3\xa9"}', bytes(range(256)) * 40):
        assert blobs.unpack(blobs.pack(data)) == data


def test_the_curated_history_packs_to_under_a_third_of_its_json() -> None:
    # A dictionary that did not fit the view's blobs (an empty one, or one trained on other
    # data) leaves them at roughly what zstd does alone: about 60 % of the JSON.
    samples = blobs.curated_samples(EVENTS)
    packed = sum(len(blobs.pack(s)) for s in samples)
    assert packed < sum(map(len, samples)) / 3


def test_the_dictionary_belongs_to_the_layout() -> None:
    # Rows packed with one dictionary cannot be unpacked with another: a new dictionary
    # (python -m evolve.views.blobs events) needs a new LAYOUT_VERSION, so that views
    # packed with the old one are projected again. Then update both numbers here.
    assert (LAYOUT_VERSION, blobs.digest()) == (12, "9aad0a617c828211")
