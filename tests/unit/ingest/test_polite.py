"""Per-host gate and robots.txt rules, with a fake clock (the loopback tests assert the same on a server)."""

from __future__ import annotations

import threading

from pipeline.ingest.polite import HostGate, host_of


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_host_of_keeps_scheme_host_and_port() -> None:
    assert host_of("HTTPS://News.Example:8443/a?b") == "https://news.example:8443"
    assert host_of("http://news.example/a") != host_of("https://news.example/a")


def test_starts_to_one_host_are_spaced_and_other_hosts_do_not_wait() -> None:
    clock = FakeClock()
    gate = HostGate(2, 1.5, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        with gate.slot("https://a.example/x"):
            pass
    with gate.slot("https://b.example/x"):
        pass
    assert clock.slept == [1.5, 1.5]  # the second and third request to a; b starts at once


def test_a_longer_delay_for_one_host_and_a_per_call_override() -> None:
    clock = FakeClock()
    gate = HostGate(1, 1.0, clock=clock, sleep=clock.sleep)
    gate.set_delay("https://slow.example", 600)  # capped
    for _ in range(2):
        with gate.slot("https://slow.example/p"):
            pass
    with gate.slot("https://api.example/q", delay=5.0), gate.slot("https://fast.example/q"):
        pass
    assert clock.slept == [30.0]


def test_no_more_than_the_limit_in_flight_per_host() -> None:
    gate = HostGate(2, 0.0)
    in_flight, peak, lock = 0, 0, threading.Lock()
    release = threading.Event()

    def request() -> None:
        nonlocal in_flight, peak
        with gate.slot("https://a.example/p"):
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            release.wait(0.2)
            with lock:
                in_flight -= 1

    threads = [threading.Thread(target=request) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 2
