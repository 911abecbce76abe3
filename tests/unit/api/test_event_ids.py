"""Live-event ids: the per-partition positions survive the round trip; anything else is refused."""

import pytest

from api.events import decode_id, encode_id


def test_an_event_id_carries_every_position_back():
    positions = {"alert": {0: 5, 11: 123456789}, "aqi": {3: 0}, "aggregate": {}}
    assert decode_id(encode_id(positions)) == positions


@pytest.mark.parametrize("text", ["", "nonsense", "v1.", "v1.!!!", "v1.bm90IGpzb24", "v2." + encode_id({})[3:],
                                  "v1.W10"])  # "[]": JSON, but not positions
def test_other_ids_are_refused(text):
    with pytest.raises(ValueError):
        decode_id(text)
