"""How far behind a live stream a reader that demultiplexes it itself is, and what it sheds: the
mailbox's rule (drop to the next keyframe past half a second behind) without a queue to look at."""

from __future__ import annotations

from camera_runtime_plugins.sources._live_edge import LiveEdge

FPS = 25
GOP = 50  # a keyframe every 2 s
PATIENCE = 0.5


def _packets(
    edge: LiveEdge, first: int, count: int, arrival: float, step: float
) -> tuple[list[int], float]:
    """Packets ``first``.. ``first + count`` (media time ``i / FPS``) taken ``step`` s apart
    from ``arrival`` on: the indices kept, and the arrival after the last."""
    kept = []
    for i in range(first, first + count):
        if edge.keep(arrival, i / FPS, i % GOP == 0):
            kept.append(i)
        arrival += step
    return kept, arrival


def test_a_reader_at_the_live_edge_keeps_everything_through_jitter() -> None:
    edge = LiveEdge(PATIENCE)
    arrival = 100.0
    for i in range(10 * FPS):
        jitter = 0.3 if i % 7 == 0 else 0.0  # a packet held up on the way, now and then
        assert edge.keep(arrival + i / FPS + jitter, i / FPS, i % GOP == 0)
    assert edge.shed == 0


def test_a_reader_that_fell_behind_sheds_up_to_the_keyframe_nearest_the_live_edge() -> None:
    edge = LiveEdge(PATIENCE)
    kept, arrival = _packets(edge, 0, 60, 100.0, 1 / FPS)  # live
    assert kept == list(range(60))
    # busy for 3 s: the next 75 packets wait in the socket, then come out at once
    arrival += 3.0
    kept, arrival = _packets(edge, 60, 75, arrival, 0.0005)
    assert kept == []  # all shed, the keyframe in it too: still 1.4 s behind there
    # caught up: the next keyframe comes live, and from there nothing more is shed
    kept, _ = _packets(edge, 135, 100, arrival, 1 / FPS)
    assert kept == list(range(150, 235))
    assert edge.shed == 150 - 60


def test_a_reader_short_of_cpu_sheds_a_gop_now_and_then_and_stays_near_the_live_edge() -> None:
    edge = LiveEdge(PATIENCE)
    arrival, media, behind = 100.0, 0, []
    for i in range(30 * FPS):  # each packet takes 10 % longer to handle than it lasts
        if edge.keep(arrival, i / FPS, i % GOP == 0):
            arrival = max(arrival + 1.1 / FPS, 100.0 + i / FPS)
            media = i
            behind.append(arrival - 100.0 - media / FPS)
        else:
            arrival = max(arrival + 0.0005, 100.0 + i / FPS)  # shedding costs next to nothing
    assert edge.shed > 0
    assert max(behind) < PATIENCE + 2 / FPS


def test_timestamps_that_jump_back_cost_one_gop_at_most_and_no_more() -> None:
    """A camera whose clock jumps back 2 s looks 2 s behind while it is at the live edge: the
    shed GOP, read at live pace, shows it, and the reference is taken again."""
    edge = LiveEdge(PATIENCE)
    kept, arrival = _packets(edge, 0, 100, 100.0, 1 / FPS)
    assert len(kept) == 100
    kept = []
    for i in range(100, 400):
        if edge.keep(arrival, (i - 50) / FPS, i % GOP == 0):  # media times 2 s back
            kept.append(i)
        arrival += 1 / FPS
    assert edge.shed == GOP  # one GOP: from the jump to the next keyframe
    assert kept == list(range(100 + edge.shed, 400))


def test_an_implausible_jump_and_a_slow_camera_clock_are_not_a_backlog() -> None:
    edge = LiveEdge(PATIENCE)
    arrival = 100.0
    for i in range(FPS):
        assert edge.keep(arrival + i / FPS, i / FPS, i % GOP == 0)
    # an MPEG-TS timestamp that wrapped: media time back by 26.5 hours
    assert edge.keep(arrival + 1.0, 1.0 - 95_443.7, False)
    # a camera clock 100 ppm slow, for two hours of packets: never 0.5 s "behind"
    edge = LiveEdge(PATIENCE)
    for i in range(2 * 3600 * FPS):
        media = i / FPS
        if not edge.keep(100.0 + media * 1.0001, media, i % GOP == 0):
            raise AssertionError(f"shed at {media:.0f} s")
