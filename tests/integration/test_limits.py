#!/usr/bin/env python3
"""What one client can cost the daemon: ranges of any length cost only what is on disk
and are capped by flags; years no name can hold are refused; other clients keep being
answered meanwhile."""
import concurrent.futures
import datetime
import statistics
import tempfile
import time

from fixtures import make_segments, parse_time, write_segment
from harness import Wubd, get, rss_mib, run_tap

S = datetime.timedelta(seconds=2)
H = datetime.timedelta(hours=1)
FIRST = parse_time("2026-11-01T00:00:00.000000")
HOURS = 100  # one segment at the top of each hour, for 100 hours: a long, sparse archive


def build_archive():
    base = tempfile.mkdtemp(prefix="wubd-limits-")
    media = make_segments(3)
    for h in range(HOURS):
        write_segment(base, "db", "source", FIRST + h * H, media[h % 3])
    return base


BASE = build_archive()
LAST_HOUR_END = FIRST + HOURS * H

HUGE_REQUESTS = [
    "/cut/db/source.ts?start=0001-01-01T00:00:00&end=9999-12-31T00:00:00&allow_holes=true",
    "/cut/db/source.ts?start=1970-01-01T00:00:00&end=9999-12-31T23:59:59&allow_holes=true&type=fast",
    "/cut/db/source.ts?range=1970-01-01T00:00:00,9999-12-31T00:00:00&allow_holes=true&type=smart",
    "/cut/db/source.ts?allow_holes=true&type=rough",  # the whole archive by default
    "/playlist/db/source.m3u8?start=0001-01-01T00:00:00",
    "/playlist/db/source.m3u8?start=0001-01-01T00:00:00&end=9999-12-31T23:00:00",
    "/playlist/db.m3u8?start=0001-01-01T00:00:00&end=9999-12-31T23:00:00",
]


def segment_count(playlist):
    return sum(1 for line in playlist.splitlines() if line.startswith("/segments/"))


def test_a_range_of_millennia_costs_only_what_is_on_disk():
    # Caps raised out of the way: the cost itself must be bounded by the 100 hour
    # directories, not by the ~88 million hours the ranges span.
    with Wubd("--max-playlist-hours", "1e9", "--max-cut-hours", "1e9", base_dir=BASE) as w:
        def ask(path):
            started = time.monotonic()
            r = get(w.url + path)
            assert time.monotonic() - started < 3, (path, time.monotonic() - started)
            assert r.status == 200 and len(r.body) > 0, (path, r)
            if "/playlist/db/source" in path:
                assert segment_count(r.text) == HOURS, (path, r.text[:300])
        # What copies bytes (playlists, rough cuts) first, with memory measured: these
        # hung at full CPU while RSS grew by hundreds of MiB.
        rss_before = rss_mib(w.proc.pid)
        for path in HUGE_REQUESTS:
            if "type=fast" not in path and "type=smart" not in path:
                ask(path)
        assert rss_mib(w.proc.pid) - rss_before < 40, (rss_before, rss_mib(w.proc.pid))
        # Cuts that encode: answered as soon (their memory is the encoders', and a
        # sanitizer build's allocator keeps freed memory a while).
        for path in HUGE_REQUESTS:
            if "type=fast" in path or "type=smart" in path:
                ask(path)


def test_ranges_over_the_caps_are_400_naming_the_flag():
    with Wubd(base_dir=BASE) as w:
        for path in HUGE_REQUESTS:
            started = time.monotonic()
            r = get(w.url + path)
            assert time.monotonic() - started < 1, path
            flag = "--max-cut-hours" if path.startswith("/cut") else "--max-playlist-hours"
            assert r.status == 400 and flag in r.text, (path, r)
        # without a start, the newest day before the end (nothing here), not millennia
        r = get(w.url + "/playlist/db/source.m3u8?end=9999-12-31T23:00:00")
        assert r.status == 200 and segment_count(r.text) == 0, r
        # a day of playlist and a few hours of cut are fine
        day = get(w.url + "/playlist/db/source.m3u8?start=2026-11-02T00:00:00Z&end=2026-11-03T00:00:00Z")
        assert day.status == 200 and segment_count(day.text) >= 24, day
        six = get(w.url + "/cut/db/source.ts?start=2026-11-02T00:00:00Z&end=2026-11-02T06:00:00Z&allow_holes=true")
        assert six.status == 200 and len(six.body) > 0, six
        seven = get(w.url + "/cut/db/source.ts?start=2026-11-02T00:00:00Z&end=2026-11-02T07:00:00Z&allow_holes=true")
        assert seven.status == 400 and "longer than the 6.0 hours --max-cut-hours allows" in seven.text, seven


def test_an_open_ended_playlist_over_a_long_archive_shows_the_newest_part():
    with Wubd("--max-playlist-hours", "10", base_dir=BASE) as w:
        r = get(w.url + "/playlist/db/source.m3u8")
        assert r.status == 200, r
        lines = r.text.splitlines()
        dates = [line.split(":", 1)[1] for line in lines if line.startswith("#EXT-X-PROGRAM-DATE-TIME:")]
        assert len(dates) == 10, r.text
        assert dates[0] == (LAST_HOUR_END - 10 * H).strftime("%Y-%m-%dT%H:%M:%S.000Z"), dates
        # a start far back without an end would be the whole archive: refused
        r = get(w.url + "/playlist/db/source.m3u8?start=2026-11-01T00:00:00Z")
        assert r.status == 400 and "--max-playlist-hours" in r.text, r
        r = get(w.url + "/playlist/db/source.m3u8?start=" + (LAST_HOUR_END - 5 * H).strftime("%Y-%m-%dT%H:%M:%SZ"))
        assert r.status == 200 and segment_count(r.text) == 5, r


def test_years_no_hour_name_can_hold_are_400():
    with Wubd(base_dir=BASE) as w:
        for path in ["/playlist/db/source.m3u8?start=0000-01-01T00:00:00&end=2026-11-02T00:00:00",
                     "/cut/db/source.ts?start=0000-01-01T00:00:00&end=0000-01-01T00:00:10",
                     "/playlist/db.m3u8?end=9999-12-31T23:00:00-05:00",
                     "/cut/db/source.ts?range=9999-12-31T23:00:00-02:00,9999-12-31T23:30:00-02:00"]:
            r = get(w.url + path)
            assert r.status == 400 and "year out of range" in r.text, (path, r)


def test_other_clients_are_answered_while_huge_ranges_are_refused():
    playlist = "/playlist/db/source.m3u8?start=2026-11-03T00:00:00Z&end=2026-11-04T00:00:00Z"
    with Wubd(base_dir=BASE) as w:
        get(w.url + playlist)  # warm
        stop = time.monotonic() + 3
        def flood():
            refused = 0
            while time.monotonic() < stop:
                for path in HUGE_REQUESTS:
                    refused += get(w.url + path).status == 400
            return refused
        latencies = []
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            floods = [pool.submit(flood) for _ in range(3)]
            while time.monotonic() < stop:
                started = time.monotonic()
                assert get(w.url + playlist).status == 200
                latencies.append(time.monotonic() - started)
                time.sleep(0.02)
            refused = sum(f.result() for f in floods)
        latencies.sort()
        p50 = statistics.median(latencies)
        print(f"# {refused} huge requests refused; playlist p50 {p50 * 1e3:.1f} ms, max {latencies[-1] * 1e3:.1f} ms",
              flush=True)
        assert refused > 100, refused
        assert p50 < 0.1 and latencies[-1] < 1.0, latencies


if __name__ == "__main__":
    run_tap([
        test_a_range_of_millennia_costs_only_what_is_on_disk,
        test_ranges_over_the_caps_are_400_naming_the_flag,
        test_an_open_ended_playlist_over_a_long_archive_shows_the_newest_part,
        test_years_no_hour_name_can_hold_are_400,
        test_other_clients_are_answered_while_huge_ranges_are_refused,
    ])
