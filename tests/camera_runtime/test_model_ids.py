"""Event and capture ids sort in the order they were made, even within one millisecond."""

from __future__ import annotations

import threading

from camera_runtime.model import new_event_id


def test_ids_made_in_a_burst_sort_in_the_order_they_were_made() -> None:
    made = [new_event_id() for _ in range(2000)]  # far more than one a millisecond
    assert made == sorted(made) and len(set(made)) == len(made)


def test_ids_from_several_threads_are_unique_and_each_thread_in_order() -> None:
    per_thread: list[list[str]] = [[] for _ in range(4)]

    def make(out: list[str]) -> None:
        out.extend(new_event_id() for _ in range(500))

    threads = [threading.Thread(target=make, args=(out,)) for out in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [i for out in per_thread for i in out]
    assert len(set(everything)) == len(everything)
    assert all(out == sorted(out) for out in per_thread)
