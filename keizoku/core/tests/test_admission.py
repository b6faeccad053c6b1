"""The admission gate on its own, with real threads: who waits, who is turned away, and when."""

import threading
import time

from keizoku.core.admission import Gate


def enter_in_thread(gate: Gate) -> tuple[threading.Thread, list]:
    result: list = []
    thread = threading.Thread(target=lambda: result.append(gate.enter()))
    thread.start()
    return thread, result


def test_a_request_waits_for_a_free_slot_within_its_budget():
    gate = Gate(slots=1, max_wait=3.0, overload_wait=3.0)
    assert gate.enter().admitted
    thread, result = enter_in_thread(gate)
    time.sleep(0.2)
    assert gate.state() == {"running": 1, "waiting": 1, "slots": 1}
    gate.leave(0.2)
    thread.join(2)
    assert result[0].admitted and result[0].waited >= 0.15
    assert gate.state() == {"running": 1, "waiting": 0, "slots": 1}


def test_a_request_that_would_wait_too_long_is_turned_away_at_once():
    gate = Gate(slots=2, max_wait=0.5, overload_wait=0.5)
    for _ in range(30):  # requests have been taking about two seconds each
        assert gate.enter().admitted
        gate.leave(2.0)
    assert gate.enter().admitted and gate.enter().admitted  # both slots busy
    started = time.monotonic()
    decision = gate.enter()  # ~1 s expected before a slot frees: over the 0.5 s budget
    assert not decision.admitted and decision.reason == "queue"
    assert time.monotonic() - started < 0.05


def test_a_request_that_waits_out_its_budget_is_turned_away_then():
    gate = Gate(slots=1, max_wait=0.2, overload_wait=0.2)
    assert gate.enter().admitted
    decision = gate.enter()
    assert not decision.admitted and decision.reason == "timeout"
    assert 0.18 <= decision.waited < 1.0
    gate.leave(0.01)
    assert gate.enter().admitted  # the slot is free again, the queue empty


def test_requests_are_admitted_in_arrival_order():
    gate = Gate(slots=1, max_wait=5.0, overload_wait=5.0)
    assert gate.enter().admitted
    order: list[int] = []
    threads = []
    for number in range(4):

        def run(number=number):
            if gate.enter().admitted:
                order.append(number)
                gate.leave(0.01)

        thread = threading.Thread(target=run)
        thread.start()
        threads.append(thread)
        time.sleep(0.05)
    gate.leave(0.01)
    for thread in threads:
        thread.join(5)
    assert order == [0, 1, 2, 3]


def test_a_queue_that_does_not_empty_for_a_second_shortens_the_budget():
    gate = Gate(slots=1, max_wait=5.0, overload_wait=0.1)
    assert gate.enter().admitted
    first, first_result = enter_in_thread(gate)  # a burst: may wait its 5 seconds
    time.sleep(1.1)
    decision = gate.enter()  # the queue has been non-empty for over a second: 0.1 s
    assert not decision.admitted and decision.waited < 0.5
    gate.leave(0.01)
    first.join(2)
    assert first_result[0].admitted


def test_time_queued_before_the_process_counts_against_the_budget():
    gate = Gate(slots=1, max_wait=1.0, overload_wait=1.0)
    assert gate.enter().admitted
    decision = gate.enter(waited=0.99)  # 0.99 s spent in the accept queue already
    assert not decision.admitted and decision.reason == "queue"


def test_the_proxys_request_start_is_read_only_behind_a_trusted_proxy(rf, settings):
    from keizoku.core.admission import queued_before

    stamp = time.time() - 2
    request = rf.get("/", headers={"X-Request-Start": f"t={stamp * 1e6:.0f}"})
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    assert queued_before(request) == 0.0  # anybody could send it
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    assert 1.9 < queued_before(request) < 3
    for value in (f"t={stamp:.3f}", f"t={stamp * 1e3:.0f}"):  # seconds, milliseconds
        assert 1.9 < queued_before(rf.get("/", headers={"X-Request-Start": value})) < 3
    for value in ("t=abc", f"t={time.time() + 30:.3f}", "t=1000"):  # nonsense, future, 1970
        assert queued_before(rf.get("/", headers={"X-Request-Start": value})) == 0.0
