#!/usr/bin/env python3
"""Looking before cutting (README, "Coverage" and "Clips a browser can seek"): the
coverage JSON and map of fixture archives with known holes, partial and suspect
segments and duplicate copies; the per-hour gauges; MP4 clips made once into the cut
cache and served with byte ranges, the cache held under its bound, and a client that
leaves while its clip is made."""
import datetime
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

from fixtures import make_counter_segments, write_segment
from harness import Wubd, get, metric, run_tap, wait_for

T0 = datetime.datetime(2026, 11, 21, 4, 0, 0, tzinfo=datetime.timezone.utc)
S = datetime.timedelta(seconds=2)
HOLE = range(300, 450)       # segments 300..449 missing: 04:10:00 .. 04:15:00
PARTIAL = range(2000, 2050)  # 05:06:40 .. 05:08:20 only partial copies
SUSPECT = 3000               # 05:40:00 only a suspect copy


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)


def build_archive():
    """Three hours of 2 s segments (tiny files: coverage reads names, not bytes)."""
    base = tempfile.mkdtemp(prefix="wubd-coverage-")
    data = b"x" * 100
    for i in range(1800 * 3):
        start = T0 + i * S
        if i in HOLE:
            continue
        kind = "partial" if i in PARTIAL else "suspect" if i == SUSPECT else "full"
        write_segment(base, "db", "source", start, data, kind=kind)
        if i % 500 == 0 and kind == "full":
            write_segment(base, "db", "source", start, data + b"copy")  # a second full copy
    return base


BASE = build_archive()


def pixels(png):
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "json",
                                       "-"], input=png, capture_output=True, check=True).stdout)["streams"][0]
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", "-", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         input=png, capture_output=True, check=True).stdout
    return probe["width"], probe["height"], raw


def test_coverage_json_names_runs_holes_and_incomplete_stretches():
    with Wubd(base_dir=BASE) as w:
        r = get(f"{w.url}/coverage/db/source.json?start={iso(T0)}&end={iso(T0 + datetime.timedelta(hours=3))}")
        assert r.status == 200 and r.headers["content-type"] == "application/json", r
        c = json.loads(r.body)
        assert [(parse(h["start"]), parse(h["end"])) for h in c["holes"]] == \
            [(T0 + HOLE.start * S, T0 + HOLE.stop * S)], c["holes"]
        assert [(parse(x["start"]), parse(x["end"]), x["segments"]) for x in c["runs"]] == [
            (T0, T0 + HOLE.start * S, 300),
            (T0 + HOLE.stop * S, T0 + datetime.timedelta(hours=3), 1800 * 3 - 450)], c["runs"]
        assert [(parse(x["start"]), parse(x["end"]), x["type"]) for x in c["incomplete"]] == [
            (T0 + PARTIAL.start * S, T0 + PARTIAL.stop * S, "partial"),
            (T0 + SUSPECT * S, T0 + (SUSPECT + 1) * S, "suspect")], c["incomplete"]
        first, second = c["hours"][0], c["hours"][1]
        assert first["hour"] == "2026-11-21T04" and first["holes"] == 1 and first["hole_seconds"] == 300, first
        assert first["segments"]["full"]["count"] == 1800 - 150 + 4  # and 4 second copies
        assert first["overlaps"] == {"count": 4, "seconds": 8}, first
        assert first["covered_seconds"] == 3300, first
        assert second["segments"]["partial"] == {"count": 50, "seconds": 100}, second
        assert second["segments"]["suspect"] == {"count": 1, "seconds": 2}, second
        assert second["holes"] == 0 and second["covered_seconds"] == 3600, second
        # By default, the newest day: to the end of the newest hour.
        default = json.loads(get(f"{w.url}/coverage/db/source.json").body)
        assert parse(default["end"]) == T0 + datetime.timedelta(hours=3), default["end"]
        assert parse(default["start"]) == T0 + datetime.timedelta(hours=3) - datetime.timedelta(days=1)
        assert default["holes"][0]["start"] == default["start"]  # nothing before the archive began
        for query, words in (("start=yesterday", "bad start"),
                             (f"start={iso(T0)}&end={iso(T0 - S)}", "End must be after start"),
                             (f"start={iso(T0)}&end={iso(T0 + datetime.timedelta(days=32))}", "31 days")):
            r = get(f"{w.url}/coverage/db/source.json?{query}")
            assert r.status == 400 and words in r.text, (query, r)
        assert get(f"{w.url}/coverage/db/nope.json").status == 404
        assert get(f"{w.url}/coverage/db/source.gif").status == 404


def test_the_coverage_map_is_white_at_holes_and_orange_at_partials():
    with Wubd(base_dir=BASE) as w:
        query = f"start={iso(T0)}&end={iso(T0 + datetime.timedelta(hours=3))}"
        r = get(f"{w.url}/coverage/db/source.png?{query}")
        assert r.status == 200 and r.headers["content-type"] == "image/png", r
        width, height, rgb = pixels(r.body)
        # 18 columns of 10 minutes, 4 pixels wide, 300 rows of 2 s under a 12-row band.
        assert width >= 18 * 4 and height == 12 + 300 + 14, (width, height)

        def at(moment):
            index = int((moment - T0).total_seconds() // 2)
            x, y = (index // 300) * 4 + 1, 12 + index % 300
            return tuple(rgb[(y * width + x) * 3:(y * width + x) * 3 + 3])

        blue, orange, white = (0x1f, 0x77, 0xb4), (0xff, 0x7f, 0x0e), (255, 255, 255)
        assert at(T0 + 10 * S) == blue
        assert at(T0 + (HOLE.start + 10) * S) == white  # in the hole
        assert at(T0 + (PARTIAL.start + 10) * S) == orange
        assert at(T0 + SUSPECT * S) == orange
        assert at(T0 + (SUSPECT + 1) * S) == blue
        svg = get(f"{w.url}/coverage/db/source.svg?{query}")
        assert svg.status == 200 and svg.headers["content-type"] == "image/svg+xml", svg
        assert svg.text.startswith("<svg ") and 'fill="#ff7f0e"' in svg.text and ">05</text>" in svg.text, svg.text[:300]
        assert "PARTIAL OR SUSPECT" in svg.text


def test_the_current_and_previous_hour_are_gauges():
    base = tempfile.mkdtemp(prefix="wubd-coverage-now-")
    hour = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
    previous = hour - datetime.timedelta(hours=1)
    for i in range(100):
        if 40 <= i < 50:
            continue
        write_segment(base, "db", "source", previous + i * S, b"x" * 100, kind="partial" if i == 60 else "full")
    with Wubd(base_dir=base) as w:
        labels = {"stream": "db", "variant": "source", "window": "previous_hour"}
        assert metric(w, "wubd_coverage_segments", type="full", **labels) == 89
        assert metric(w, "wubd_coverage_segments", type="partial", **labels) == 1
        assert metric(w, "wubd_coverage_covered_seconds", **labels) == 180
        # The hole of 20 s, and the rest of the hour after the last segment.
        assert metric(w, "wubd_coverage_holes", **labels) == 2
        assert metric(w, "wubd_coverage_hole_seconds", **labels) == 3600 - 180
        now = {"stream": "db", "variant": "source", "window": "current_hour"}
        assert metric(w, "wubd_coverage_covered_seconds", **now) == 0
    shutil.rmtree(base)


def test_mp4_clips_are_made_once_and_served_with_ranges():
    base = tempfile.mkdtemp(prefix="wubd-clips-")
    for i, data in enumerate(make_counter_segments(20)):
        write_segment(base, "db", "source", T0 + i * S, data)

    def span(a, b):
        return (f"start={(T0 + datetime.timedelta(seconds=a)).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}"
                f"&end={(T0 + datetime.timedelta(seconds=b)).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}")

    cache = os.path.join(base, ".wubd-cut-cache")
    os.makedirs(cache)
    with open(os.path.join(cache, "left-by-a-crash.mp4"), "wb") as f:
        f.write(b"old")
    with Wubd("--cut-cache-bytes", "1M", base_dir=base) as w:
        assert os.listdir(cache) == [], "emptied at start"
        url = f"{w.url}/cut/db/source.mp4?{span(1.5, 9.5)}"
        whole = get(url)
        assert whole.status == 200 and whole.headers["accept-ranges"] == "bytes", whole
        assert int(whole.headers["content-length"]) == len(whole.body)
        assert whole.headers["content-type"] == "video/mp4"
        assert whole.body[4:8] == b"ftyp" and b"moov" in whole.body[:200], "the index first (faststart)"
        clip = os.path.join(base, "clip.mp4")
        with open(clip, "wb") as f:
            f.write(whole.body)
        duration = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                                         "csv=p=0", clip], capture_output=True, text=True, check=True).stdout)
        assert abs(duration - 8.0) <= 1 / 30 + 1e-6, duration
        # Byte ranges of the same clip, made once.
        part = get(url, {"Range": "bytes=1000-1999"})
        assert part.status == 206 and part.body == whole.body[1000:2000], part
        assert part.headers["content-range"] == f"bytes 1000-1999/{len(whole.body)}"
        tail = get(url, {"Range": "bytes=-500"})
        assert tail.status == 206 and tail.body == whole.body[-500:]
        past = get(url, {"Range": f"bytes={len(whole.body)}-"})
        assert past.status == 416 and past.headers["content-range"] == f"bytes */{len(whole.body)}", past
        assert len(os.listdir(cache)) == 1
        assert w.log().count("cut: made clip-") == 1, "made once"
        attachment = get(url + "&download=true")
        assert attachment.headers["content-disposition"] == 'attachment; filename="db-source.mp4"'
        assert get(url + "&type=smart").status == 400
        assert get(url + "&download=maybe").status == 400
        # The ts route still streams fragmented MP4 (type=mp4), unsized.
        streamed = get(f"{w.url}/cut/db/source.ts?type=mp4&{span(1.5, 9.5)}")
        assert streamed.status == 200 and "content-length" not in streamed.headers, streamed.headers
        # More clips than 1 MiB holds: the oldest go, the cache stays under its bound.
        for n in range(6):
            assert get(f"{w.url}/cut/db/source.mp4?{span(n * 5, n * 5 + 8)}").status == 200
            held = sum(os.path.getsize(os.path.join(cache, f)) for f in os.listdir(cache))
            assert held <= 1 << 20, held
        # A client that leaves while its clip is made: ffmpeg stopped, nothing left.
        before = set(os.listdir(cache))
        client = socket.create_connection(("127.0.0.1", w.port))
        client.sendall(f"GET /cut/db/source.mp4?{span(2, 38)} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        wait_for(lambda: len(set(os.listdir(cache)) - before) == 1, 10, "the clip being made")
        client.close()
        wait_for(lambda: set(os.listdir(cache)) == before, 10, "the abandoned clip removed")
        assert "nobody waits for clip-" in w.log()
        # Still whole for the next one who asks.
        again = get(f"{w.url}/cut/db/source.mp4?{span(2, 38)}")
        assert again.status == 200 and int(again.headers["content-length"]) == len(again.body)
    assert not os.path.exists(cache) or os.listdir(cache) == [], "emptied at exit"
    shutil.rmtree(base)


if __name__ == "__main__":
    run_tap([
        test_coverage_json_names_runs_holes_and_incomplete_stretches,
        test_the_coverage_map_is_white_at_holes_and_orange_at_partials,
        test_the_current_and_previous_hour_are_gauges,
        test_mp4_clips_are_made_once_and_served_with_ranges,
    ])
