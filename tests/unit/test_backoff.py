"""The CrashLoopBackOff schedule: 10 s, doubling, capped at 300 s, forgiven after 10 minutes."""

from __future__ import annotations

from pykubelet.lifecycle.backoff import Backoff, format_duration


def test_first_restart_is_immediate_then_doubles_to_the_cap() -> None:
    backoff = Backoff()
    t = 1000.0
    assert backoff.in_backoff_since("c", t, now=t) == 0  # never failed: go now
    delays = [backoff.next("c", now=t + i) for i in range(8)]
    assert delays == [10, 20, 40, 80, 160, 300, 300, 300]


def test_wait_is_measured_from_when_the_container_finished() -> None:
    backoff = Backoff()
    backoff.next("c", now=100.0)  # first restart at 100: the next one waits 10 s
    assert backoff.in_backoff_since("c", event_time=104.0, now=105.0) == 9.0
    assert backoff.in_backoff_since("c", event_time=104.0, now=114.0) == 0.0


def test_ten_minutes_without_trouble_resets_the_backoff() -> None:
    backoff = Backoff()
    for i in range(5):
        backoff.next("c", now=float(i))
    assert backoff.get("c") == 160
    assert backoff.next("c", now=4 + 601.0) == 10  # more than 2 x 300 s since the last restart
    assert backoff.in_backoff_since("c", event_time=0.0, now=2000.0) == 0


def test_remaining_counts_down_from_the_last_failure() -> None:
    backoff = Backoff()
    backoff.next("img", now=50.0)
    assert backoff.remaining("img", now=55.0) == 5.0
    assert backoff.remaining("img", now=61.0) == 0.0
    backoff.reset("img")
    assert backoff.remaining("img", now=50.0) == 0.0


def test_forget_prefix_drops_a_pods_entries_only() -> None:
    backoff = Backoff()
    backoff.next("web_default_uid1_nginx_abc", now=0)
    backoff.next("web_default_uid2_nginx_abc", now=0)
    backoff.forget_prefix("web_default_uid1_")
    assert backoff.get("web_default_uid1_nginx_abc") == 0
    assert backoff.get("web_default_uid2_nginx_abc") == 10


def test_durations_print_as_go_does() -> None:
    assert [format_duration(s) for s in (10, 40, 80, 160, 300)] == ["10s", "40s", "1m20s", "2m40s", "5m0s"]
