"""Where a partition resumes after a takeover: its applied mark, else its districts' offsets."""

from streams.state_loader import applied_key, split_applied


def test_the_applied_mark_wins_over_the_districts_offsets():
    # A worker died between two districts' states: 288's landed (offset 157), 290's did not (149);
    # the mark of the batch before (149) is the partition's truth; 288 skips its replays itself.
    latest = {b"288": {"last_offset": 157}, b"290": {"last_offset": 149}, applied_key(3): 149}
    states, mark = split_applied(latest, 3)
    assert mark == 149 and set(states) == {b"288", b"290"}


def test_without_a_mark_the_districts_offsets_or_nothing():
    assert split_applied({b"288": {"last_offset": 157}, b"290": {"last_offset": 149}}, 3)[1] == 157
    assert split_applied({b"288": None}, 3) == ({b"288": None}, None)
