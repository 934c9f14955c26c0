#!/usr/bin/env python3
"""A real browser follows a live window as it moves (README, "Live playlists"): hls.js
(pinned in tools/browser) in Debian's chromium, driven by playwright-core, plays the
open-ended playlist through the master playlist while segments arrive in real time
and the window's head moves on, across an hour boundary. No stall, no error event,
currentTime advances past the moves, and the quality menu names the variant.

Needs node, chromium and `npm ci` in tools/browser (tools/install-deps does all
three); outside CI a missing one skips with the reason, under CI=true it fails."""
import datetime
import json
import os
import shutil
import subprocess
import tempfile
import threading

from fixtures import SEGMENT_SECONDS, segment_name
from harness import Skip, Wubd, get, run_tap

S = datetime.timedelta(seconds=SEGMENT_SECONDS)
BROWSER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "browser")


def require_browser():
    missing = []
    if not shutil.which("node"):
        missing.append("node")
    if not os.path.exists(os.environ.get("CHROMIUM", "/usr/bin/chromium")):
        missing.append("chromium")
    for package in ("hls.js", "playwright-core"):
        if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", package)):
            missing.append(f"{package} (npm ci in tools/browser)")
    if missing:
        why = "needs " + ", ".join(missing) + ": run tools/install-deps"
        if os.environ.get("CI") == "true":
            raise AssertionError(why)
        raise Skip(why)


def browser_segments(count):
    """`count` contiguous 2 s segments a browser plays: H.264 (yuv420p), AAC."""
    out = tempfile.mkdtemp(prefix="wubd-media-")
    seconds = count * SEGMENT_SECONDS
    subprocess.run([
        "ffmpeg", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=duration={seconds}:size=320x180:rate=30",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "60", "-keyint_min", "60",
        "-sc_threshold", "0", "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})",
        "-c:a", "aac", "-b:a", "64k",
        "-f", "segment", "-segment_time", str(SEGMENT_SECONDS), "-segment_format", "mpegts",
        os.path.join(out, "seg%04d.ts")], check=True)
    segments = [open(os.path.join(out, f"seg{i:04d}.ts"), "rb").read() for i in range(count)]
    shutil.rmtree(out)
    return segments


def publish(base, start, data):
    hour, name = segment_name(start, data=data)
    directory = os.path.join(base, "live", "source", hour)
    os.makedirs(directory, exist_ok=True)
    temp = os.path.join(directory, "." + name + ".part")
    with open(temp, "wb") as f:
        f.write(data)
    os.rename(temp, os.path.join(directory, name))


def test_hls_js_in_chromium_follows_a_moving_live_window():
    require_browser()
    base = tempfile.mkdtemp(prefix="wubd-browser-")
    media = browser_segments(30)
    # Fixture times 20 s before an hour boundary an hour ago: the window crosses it
    # while the browser plays, at any minute of the hour.
    hour = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
    start = hour - datetime.timedelta(hours=1, seconds=20)
    for i in range(9):
        publish(base, start + i * S, media[i])
    screenshot = os.path.join(base, "playing.png")
    stop = threading.Event()
    # A window of 18 s (9 segments): each segment that arrives moves its head by one.
    with Wubd("--max-playlist-hours", "0.005", base_dir=base) as w:
        first = get(w.url + "/playlist/live/source.m3u8").text

        def arrive():
            for i in range(9, 30):
                if stop.wait(SEGMENT_SECONDS):
                    return
                publish(base, start + i * S, media[i])

        feeder = threading.Thread(target=arrive)
        feeder.start()
        try:
            played = subprocess.run(
                ["node", os.path.join(BROWSER_DIR, "play_hls.mjs"), w.url + "/", w.url + "/playlist/live.m3u8", "24",
                 screenshot], capture_output=True, text=True, timeout=120)
        finally:
            stop.set()
            feeder.join()
        last = get(w.url + "/playlist/live/source.m3u8").text
    assert played.returncode == 0, played.stderr[-2000:]
    report = json.loads(played.stdout)
    print(f"# hls.js: {json.dumps({k: v for k, v in report.items() if k != 'samples'})}", flush=True)
    assert report["levels"] == ["source"], report["levels"]  # NAME: the quality menu's word
    assert report["playing"] and report["errors"] == [], report["errors"]
    # Before the first frame, hls.js may jump the fixture's start gap (video begins a
    # B-frame's delay, 23 to 67 ms, after audio in each segment): at most once, no
    # further than that gap. A hole in what wubd serves would be wider, or come later.
    assert len(report["startGapSkips"]) <= 1, report["startGapSkips"]
    for skip in report["startGapSkips"]:
        assert 0 <= skip["to"] - skip["padding"] - skip["from"] < 0.1, skip
    assert report["stalls"] == 0, report
    assert (report["width"], report["height"]) == (320, 180), report
    times = [s["currentTime"] for s in report["samples"]]
    assert times == sorted(times) and not any(s["paused"] for s in report["samples"]), report["samples"]
    assert times[-1] - times[0] >= 24 - 4, times  # it played on, in real time
    # The window moved under it: MEDIA-SEQUENCE rose as hls.js reloaded, and what it
    # first saw has left the window.
    sequences = report["mediaSequences"]
    assert sequences == sorted(sequences) and sequences[-1] - sequences[0] >= 8, sequences
    first_uri = [line for line in first.splitlines() if line.startswith("/segments/")][0]
    assert first_uri not in last, last
    assert (hour - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H") in last, last  # crossed the hour
    if os.environ.get("WUBD_KEEP_SCREENSHOT"):
        shutil.copy(screenshot, os.environ["WUBD_KEEP_SCREENSHOT"])
    shutil.rmtree(base)


if __name__ == "__main__":
    run_tap([test_hls_js_in_chromium_follows_a_moving_live_window])
