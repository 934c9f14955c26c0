#!/usr/bin/env python3
"""The editor page (/ui/, README "The editor page") in a real browser: Debian's
chromium driven by playwright-core (tools/browser/ui_check.mjs). It loads without
console errors, its timeline shows the archive's known hole and partial stretch, the
player plays, a range set with the keyboard and cut downloads a clip of that length,
an MP4 clip seeks, and on a live stream the timeline grows. Screenshots go to
$WUBD_TEST_ARTIFACTS (build/test-artifacts under meson). Needs what test_browser
needs; skips without it outside CI, fails under CI=true."""
import datetime
import json
import os
import subprocess
import tempfile
import threading
import urllib.parse

from fixtures import segment_name, write_segment
from harness import Wubd, run_tap
from test_browser import BROWSER_DIR, browser_segments, publish, require_browser

S = datetime.timedelta(seconds=2)
T0 = datetime.datetime(2026, 11, 21, 4, 0, 0, tzinfo=datetime.timezone.utc)
HOLE = (10, 13)     # segments 10..12 missing: 04:00:20 .. 04:00:26
PARTIAL = 20        # 04:00:40 .. 04:00:42 only a partial copy
ARTIFACTS = os.environ.get("WUBD_TEST_ARTIFACTS") or tempfile.mkdtemp(prefix="wubd-ui-artifacts-")


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def check(*args, timeout=180):
    out = subprocess.run(["node", os.path.join(BROWSER_DIR, "ui_check.mjs"), *args], capture_output=True, text=True,
                         timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout)
    print("# ui: " + json.dumps({k: v for k, v in report.items() if k not in ("coveredTo",)})[:1500], flush=True)
    assert "error" not in report, report["error"]
    return report


def duration_of(path):
    return float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                                 path], capture_output=True, text=True, check=True).stdout)


def test_an_editor_finds_plays_and_cuts_a_moment():
    require_browser()
    os.makedirs(ARTIFACTS, exist_ok=True)
    base = tempfile.mkdtemp(prefix="wubd-ui-")
    media = browser_segments(30)
    for i, data in enumerate(media):
        if HOLE[0] <= i < HOLE[1]:
            continue
        write_segment(base, "db", "source", T0 + i * S, data, kind="partial" if i == PARTIAL else "full")
    start, end = T0, T0 + 30 * S
    with Wubd(base_dir=base) as w:
        report = check("edit", w.url, "db", "source", iso(start), iso(end), ARTIFACTS)
    assert report["consoleErrors"] == [] and report["pageErrors"] == [], report
    # (The media element's first request for the MP4 is aborted by the browser once it
    # has read the index and turns to byte ranges: failedRequests lists it, not an error.)
    # The timeline shows the hole and the partial stretch where they are.
    assert [iso(T0 + HOLE[0] * S), iso(T0 + HOLE[1] * S)] in report["holes"], report["holes"]
    assert [iso(T0 + PARTIAL * S), iso(T0 + (PARTIAL + 1) * S)] in report["partials"], report["partials"]
    assert report["advanced"] > 0.5, report  # playing, and on
    assert report["clock"].startswith("2026-11-21 04:00:"), report["clock"]  # wall-clock time, from PDT
    assert report["filmstrip"] == [320] * 8, report["filmstrip"]  # every frame where video is
    assert report["waveformWidth"] >= 200, report
    # The range set with the keyboard: from a tenth of the view (6 s in), 10 s on.
    query = urllib.parse.parse_qs(urllib.parse.urlparse(report["cutUrl"]).query)
    (range_text,) = query["range"]
    cut_in, cut_out = (datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ") for t in range_text.split(","))
    seconds = (cut_out - cut_in).total_seconds()
    assert abs(seconds - 10) < 0.5, range_text
    assert query["type"] == ["smart"], query
    # The download is that clip, to a frame.
    assert abs(duration_of(report["download"]) - seconds) <= 1 / 30 + 0.01, (duration_of(report["download"]), seconds)
    # An MP4 clip seeks.
    seek = report["seek"]
    assert abs(seek["duration"] - seconds) < 0.2 and abs(seek["currentTime"] - seek["duration"] / 2) < 0.2, seek
    assert os.path.getsize(os.path.join(ARTIFACTS, "ui-editor.png")) > 10_000


def test_on_a_live_stream_the_timeline_grows():
    require_browser()
    base = tempfile.mkdtemp(prefix="wubd-ui-live-")
    media = browser_segments(30)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start = now - 10 * S
    for i in range(10):
        publish(base, start + i * S, media[i])
    stop = threading.Event()

    def arrive():
        for i in range(10, 30):
            if stop.wait(1.0):
                return
            publish(base, start + i * S, media[i])

    with Wubd(base_dir=base) as w:
        feeder = threading.Thread(target=arrive)
        feeder.start()
        try:
            report = check("live", w.url, "live", "source", "14", ARTIFACTS)
        finally:
            stop.set()
            feeder.join()
    assert report["consoleErrors"] == [] and report["pageErrors"] == [], report
    ends = [e for e in report["coveredTo"] if e]
    assert ends and ends[-1] > ends[0], ends  # it grew while the page was open
    assert report["playing"], report


if __name__ == "__main__":
    run_tap([test_an_editor_finds_plays_and_cuts_a_moment, test_on_a_live_stream_the_timeline_grows])
