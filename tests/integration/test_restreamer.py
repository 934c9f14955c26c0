#!/usr/bin/env python3
"""The restreamer API (README.md, "HTTP API") against a real archive, served by the real wubd."""
import datetime
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse

from fixtures import make_segments, parse_time, segment_name, write_segment
from harness import Wubd, assert_cors, get, http, run_tap, wait_for

T0 = parse_time("2026-11-21T03:59:40.000000")  # 20 contiguous segments from here
S = datetime.timedelta(seconds=2)


def build_archive():
    """Lays out stream `db`; returns (base_dir, facts about what was written)."""
    base = tempfile.mkdtemp(prefix="wubd-archive-")
    media = make_segments(20)
    facts = {"contiguous": []}
    for i in range(20):  # 03:59:40 .. 04:00:20, across the hour boundary
        facts["contiguous"].append(write_segment(base, "db", "source", T0 + i * S, media[i]))
    # hole from 04:00:20 to 04:00:24
    facts["after_hole"] = [write_segment(base, "db", "source", T0 + 22 * S, media[12]),
                           write_segment(base, "db", "source", T0 + 23 * S, media[13])]
    # two partial copies at 04:00:28: the larger one wins, and a hole follows it
    facts["partial"] = write_segment(base, "db", "source", T0 + 24 * S, media[14][:len(media[14]) // 2],
                                     kind="partial")
    write_segment(base, "db", "source", T0 + 24 * S, media[14][:len(media[14]) // 4], kind="partial")
    # two full copies at 04:00:30: the longer one wins
    facts["longer"] = write_segment(base, "db", "source", T0 + 25 * S, media[15], duration="2.0")
    write_segment(base, "db", "source", T0 + 25 * S, media[16], duration="1.99")
    facts["last"] = write_segment(base, "db", "source", T0 + 26 * S, media[17])
    # junk in the hour directory: a temp file, a hidden file, a name that does not parse
    hour_dir = os.path.join(base, "db", "source", "2026-11-21T04")
    write_segment(base, "db", "source", T0 + 27 * S, media[18], kind="temp")
    for junk in (".hidden.ts", "notes.txt"):
        with open(os.path.join(hour_dir, junk), "w") as f:
            f.write("junk")
    # a later hour for both variants; 480p has nothing else
    h6 = parse_time("2026-11-21T06:00:00.000000")
    for i in range(3):
        write_segment(base, "db", "source", h6 + i * S, media[i])
        write_segment(base, "db", "480p", h6 + i * S, media[i])
    facts["media"] = media
    return base, facts


BASE, FACTS = build_archive()


def playlist_segments(text):
    """The segment URL lines of a media playlist."""
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def url_of(relative_path):
    stream, variant, hour, name = relative_path.split("/")
    return f"/segments/{stream}/{variant}/{hour}/{urllib.parse.quote(name, safe='')}"


def test_files_listings():
    with Wubd(base_dir=BASE) as w:
        r = get(w.url + "/files")
        assert r.status == 200 and r.headers["content-type"] == "application/json", r
        assert json.loads(r.body) == ["db"]
        assert json.loads(get(w.url + "/files/db").body) == ["480p", "source"]
        assert json.loads(get(w.url + "/files/db/source").body) == ["2026-11-21T03", "2026-11-21T04",
                                                                      "2026-11-21T06"]
        names = json.loads(get(w.url + "/files/db/source/2026-11-21T04").body)
        assert all(re.match(r"^\d\d:\d\d\.\d{6}-[\d.]+-(full|partial|suspect)-[\w-]+\.ts$", n) for n in names), names
        assert not any("temp" in n or n.startswith(".") or n == "notes.txt" for n in names), names
        expected = sorted(p.split("/")[-1] for p in FACTS["contiguous"][10:] + FACTS["after_hole"]
                          + [FACTS["partial"], FACTS["longer"], FACTS["last"]])
        assert set(expected) <= set(names), (expected, names)
        assert len(names) == len(expected) + 2  # plus the smaller partial and the shorter full
        assert "bad segment name" in w.log() and "notes.txt" in w.log()


def test_missing_directories_list_as_empty():
    with Wubd(base_dir=BASE) as w:
        for path in ("/files/nope", "/files/db/nope", "/files/db/source/2026-01-01T00",
                     "/files/db/source/not-an-hour"):
            r = get(w.url + path)
            assert r.status == 200 and json.loads(r.body) == [], (path, r)


def test_cors_headers_on_every_response():
    with Wubd(base_dir=BASE) as w:
        for method, path, status in [("GET", "/files", 200), ("GET", "/nope", 404),
                                     ("GET", "/files/..", 403), ("DELETE", "/files", 405),
                                     ("GET", "/playlist/db/source.m3u8?start=bad", 400),
                                     ("HEAD", url_of(FACTS["last"]), 200), ("OPTIONS", "/files", 204),
                                     ("GET", "/metrics", 200)]:
            r = http(method, w.url + path)
            assert r.status == status, (method, path, r)
            assert_cors(r.headers)


def test_path_traversal_refused_in_every_position():
    bad_parts = ["..", "%2e%2e", ".hidden", "a%2Fb", "..%2F..%2Fetc", "a%00b"]
    templates = {
        "stream": ["/files/{}", "/files/{}/source", "/playlist/{}.m3u8", "/playlist/{}/source.m3u8",
                   "/segments/{}/source/2026-11-21T04/x.ts", "/cut/{}/source.ts"],
        "variant": ["/files/db/{}", "/files/db/{}/2026-11-21T04", "/playlist/db/{}.m3u8",
                    "/segments/db/{}/2026-11-21T04/x.ts", "/cut/db/{}.ts"],
        "hour": ["/files/db/source/{}", "/segments/db/source/{}/x.ts"],
        "file": ["/segments/db/source/2026-11-21T04/{}"],
    }
    with Wubd(base_dir=BASE) as w:
        for part, paths in templates.items():
            for template in paths:
                for bad in bad_parts:
                    r = get(w.url + template.format(bad))
                    assert r.status == 403, (template, bad, r)
                    assert r.text.startswith(f"Bad {part}:"), (template, bad, r.text)
        # an empty part is refused too
        r = get(w.url + "/files//source")
        assert r.status == 403 and r.text.startswith("Bad stream:"), r


def test_segment_bytes_head_and_caching_headers():
    media = FACTS["media"]
    with Wubd(base_dir=BASE) as w:
        r = get(w.url + url_of(FACTS["contiguous"][3]))
        assert r.status == 200 and r.body == media[3], r.status
        assert r.headers["content-type"] == "video/MP2T"
        assert r.headers["content-length"] == str(len(media[3]))
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert r.headers["accept-ranges"] == "bytes"
        mtime = os.stat(os.path.join(BASE, FACTS["contiguous"][3])).st_mtime
        expected = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(mtime))
        assert r.headers["last-modified"] == expected, (r.headers["last-modified"], expected)
        head = http("HEAD", w.url + url_of(FACTS["contiguous"][3]))
        assert head.status == 200 and head.body == b"" and head.headers["content-length"] == str(len(media[3]))
        # the unescaped form of the name works too
        stream, variant, hour, name = FACTS["contiguous"][3].split("/")
        assert get(f"{w.url}/segments/{stream}/{variant}/{hour}/{name}").body == media[3]
        missing = get(w.url + "/segments/db/source/2026-11-21T04/00:00.000000-2.0-full-AAAA.ts")
        assert missing.status == 404 and "no such segment" in missing.text, missing
        temp_name = segment_name(T0 + 27 * S, kind="temp")[1]
        temp = get(w.url + "/segments/db/source/2026-11-21T04/" + urllib.parse.quote(temp_name))
        assert temp.status == 404 and "still being written" in temp.text, temp


def test_segment_ranges_are_byte_exact():
    data = FACTS["media"][5]
    size = len(data)
    url_path = url_of(FACTS["contiguous"][5])
    with Wubd(base_dir=BASE) as w:
        for header, first, last in [("bytes=0-0", 0, 0), ("bytes=100-1099", 100, 1099),
                                    ("bytes=1000-", 1000, size - 1), ("bytes=-500", size - 500, size - 1),
                                    (f"bytes=10-{size * 2}", 10, size - 1)]:
            r = get(w.url + url_path, {"Range": header})
            assert r.status == 206, (header, r.status)
            assert r.body == data[first:last + 1], header
            assert r.headers["content-range"] == f"bytes {first}-{last}/{size}", r.headers
            assert r.headers["content-length"] == str(last - first + 1)
        r = get(w.url + url_path, {"Range": f"bytes={size}-"})
        assert r.status == 416 and r.headers["content-range"] == f"bytes */{size}", r
        r = get(w.url + url_path, {"Range": "bytes=0-1,5-6"})  # multipart is not offered: whole file
        assert r.status == 200 and r.body == data
        # If-Range: the range holds only while the validator is this file's Last-Modified.
        last_modified = get(w.url + url_path).headers["last-modified"]
        r = get(w.url + url_path, {"Range": "bytes=0-9", "If-Range": last_modified})
        assert r.status == 206 and r.body == data[:10], r
        for validator in ("Wed, 21 Oct 2015 07:28:00 GMT", '"some-etag"', 'W/"weak"'):
            r = get(w.url + url_path, {"Range": "bytes=0-9", "If-Range": validator})
            assert r.status == 200 and r.body == data and "content-range" not in r.headers, (validator, r)


def test_media_playlist_segments_holes_and_endlist():
    with Wubd(base_dir=BASE) as w:
        r = get(w.url + "/playlist/db/source.m3u8?start=2026-11-21T03:59:40Z&end=2026-11-21T04:00:34Z")
        assert r.status == 200 and r.headers["content-type"] == "application/vnd.apple.mpegurl", r
        lines = r.text.splitlines()
        assert lines[0] == "#EXTM3U" and "#EXT-X-TARGETDURATION:2" in lines, lines[:5]
        expected = [url_of(p) for p in FACTS["contiguous"] + FACTS["after_hole"]
                    + [FACTS["partial"], FACTS["longer"], FACTS["last"]]]
        assert playlist_segments(r.text) == expected, playlist_segments(r.text)
        # holes: after 04:00:20 (a gap) and after the partial at 04:00:28
        discontinuities = [i for i, line in enumerate(lines) if line == "#EXT-X-DISCONTINUITY"]
        assert len(discontinuities) == 2, r.text
        assert lines[discontinuities[0] + 1] == "#EXT-X-PROGRAM-DATE-TIME:2026-11-21T04:00:24.000Z"
        assert lines[discontinuities[1] + 1] == "#EXT-X-PROGRAM-DATE-TIME:2026-11-21T04:00:30.000Z"
        assert lines[-1] == "#EXT-X-ENDLIST", lines[-3:]
        assert lines.count("#EXTINF:2.000,") == len(expected)
        assert lines[3:6] == ["#EXT-X-PROGRAM-DATE-TIME:2026-11-21T03:59:40.000Z", "#EXTINF:2.000,",
                              url_of(FACTS["contiguous"][0])], lines[:6]


def test_media_playlist_of_an_incomplete_range_has_no_endlist():
    with Wubd(base_dir=BASE) as w:
        # ends after the data: a player should keep polling
        r = get(w.url + "/playlist/db/source.m3u8?start=2026-11-21T06:00:00Z&end=2026-11-21T06:10:00Z")
        assert len(playlist_segments(r.text)) == 3 and "#EXT-X-ENDLIST" not in r.text, r.text
        # starts in a hole: the leading hole writes nothing
        r = get(w.url + "/playlist/db/source.m3u8?start=2026-11-21T05:59:00Z&end=2026-11-21T06:00:03Z")
        assert len(playlist_segments(r.text)) == 2 and "DISCONTINUITY" not in r.text, r.text
        assert "#EXT-X-ENDLIST" in r.text
        # start after end: empty, not an error
        r = get(w.url + "/playlist/db/source.m3u8?start=2026-11-21T07:00:00Z&end=2026-11-21T06:00:00Z")
        assert r.status == 200 and playlist_segments(r.text) == [] and "ENDLIST" not in r.text, r


def test_media_playlist_defaults_to_first_to_last_hour():
    with Wubd(base_dir=BASE) as w:
        r = get(w.url + "/playlist/db/source.m3u8")
        segments = playlist_segments(r.text)
        assert segments[0] == url_of(FACTS["contiguous"][0]), segments[:2]
        assert segments[-1].startswith("/segments/db/source/2026-11-21T06/00%3A04.000000-"), segments[-1]
        assert "#EXT-X-ENDLIST" not in r.text  # the last hour is not over
        only_start = get(w.url + "/playlist/db/source.m3u8?start=2026-11-21T06:00:01Z")
        assert len(playlist_segments(only_start.text)) == 3, only_start.text


def test_bad_times_are_400_naming_the_parameter():
    with Wubd(base_dir=BASE) as w:
        for path, name in [("/playlist/db/source.m3u8?start=yesterday", "start"),
                           ("/playlist/db/source.m3u8?start=2026-11-21T04:00:00&end=2026-13-01", "end"),
                           ("/playlist/db.m3u8?end=2026-11-21T25:00:00", "end")]:
            r = get(w.url + path)
            assert r.status == 400, (path, r)
            assert r.text.startswith(f"bad {name}: invalid time"), r.text
        ok = get(w.url + "/playlist/db/source.m3u8?start=2026-11-21T05:00:00%2B01:00&end=2026-11-21T04:00:04.5Z")
        assert ok.status == 200 and len(playlist_segments(ok.text)) == 3, ok.text  # 04:00:00 .. 04:00:06
        plus = get(w.url + "/playlist/db/source.m3u8?start=2026-11-21T05:00:00+01:00&end=2026-11-21T04:00:02")
        assert plus.status == 200 and len(playlist_segments(plus.text)) == 1, plus.text


def test_missing_stream_or_variant_is_404():
    with Wubd(base_dir=BASE) as w:
        for path in ("/playlist/nope.m3u8", "/playlist/db/nope.m3u8", "/playlist/nope/source.m3u8"):
            r = get(w.url + path)
            assert r.status == 404 and "nope" in r.text, (path, r)


def test_master_playlist_filters_variants_and_passes_the_range_on():
    with Wubd(base_dir=BASE) as w:
        everything = get(w.url + "/playlist/db.m3u8")
        assert everything.status == 200, everything
        uris = [line for line in everything.text.splitlines() if line and not line.startswith("#")]
        assert uris == ["/playlist/db/480p.m3u8", "/playlist/db/source.m3u8"], everything.text
        # What players need to pick and name a level (hls.js names it by NAME; without
        # it a quality menu reads "undefined"), as ffprobe sees the variant's segments.
        info = re.search(r'#EXT-X-STREAM-INF:BANDWIDTH=\d{5,},RESOLUTION=(\d+)x(\d+),CODECS="avc1\.([0-9A-F]{2})'
                         r'([0-9A-F]{2})([0-9A-F]{2}),mp4a\.40\.2",FRAME-RATE=([0-9.]+),VIDEO="source",NAME="source"\n',
                         everything.text)
        assert info, everything.text
        probe = json.loads(subprocess.run(
            ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
             "stream=width,height,level,avg_frame_rate", "-of", "json",
             os.path.join(BASE, FACTS["last"])],
            check=True, capture_output=True, text=True).stdout)["streams"][0]
        assert (int(info[1]), int(info[2])) == (probe["width"], probe["height"]), (info[0], probe)
        assert int(info[5], 16) == probe["level"], (info[0], probe)
        num, den = map(int, probe["avg_frame_rate"].split("/"))
        assert abs(float(info[6]) - num / den) < 0.001, (info[0], probe)
        query = "start=2026-11-21T04:00:00Z&end=2026-11-21T04:30:00Z"
        in_hour_4 = get(w.url + "/playlist/db.m3u8?" + query)
        uris = [line for line in in_hour_4.text.splitlines() if line and not line.startswith("#")]
        assert uris == ["/playlist/db/source.m3u8?start=2026-11-21T04%3A00%3A00Z&end=2026-11-21T04%3A30%3A00Z"], \
            in_hour_4.text
        # the URI it hands out works
        media = get(w.url + uris[0])
        assert media.status == 200 and len(playlist_segments(media.text)) == 10 + 2 + 3, media.text


def test_ffmpeg_reads_the_playlist_end_to_end():
    out = tempfile.mktemp(suffix=".ts")
    with Wubd(base_dir=BASE) as w:
        url = w.url + "/playlist/db/source.m3u8?start=2026-11-21T03:59:41Z&end=2026-11-21T04:00:15Z"
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", url, "-c", "copy",
                        "-f", "mpegts", out], check=True, timeout=60)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                            "default=nw=1:nk=1", out], check=True, capture_output=True, text=True)
    duration = float(probe.stdout.strip())
    os.unlink(out)
    # segments 03:59:40 .. 04:00:16: 18 segments of 2 s
    assert abs(duration - 36) <= 2, duration
    print(f"# ffmpeg read {duration:.3f} s through the playlist", flush=True)


def test_new_segments_appear_without_a_restart():
    base = tempfile.mkdtemp(prefix="wubd-live-")
    media = make_segments(20)
    start = parse_time("2026-11-21T10:00:00.000000")
    with Wubd(base_dir=base) as w:
        url = w.url + "/playlist/db/source.m3u8?start=2026-11-21T10:00:00Z&end=2026-11-21T10:01:00Z"
        assert get(url).status == 404  # no such variant yet
        for i in range(5):
            write_segment(base, "db", "source", start + i * S, media[i])
            text = get(url).text
            assert len(playlist_segments(text)) == i + 1, (i, text)  # seen at once, every time
            listing = json.loads(get(w.url + "/files/db/source/2026-11-21T10").body)
            assert len(listing) == i + 1
    shutil.rmtree(base)


def test_a_live_playlist_never_changes_its_past():
    """A player polling a live playlist (README, "Live playlists") only ever sees lines
    appended: a segment late by less than --live-settle is waited for, and one that
    fills a hole the player has already seen stays out of the live view."""
    base = tempfile.mkdtemp(prefix="wubd-settle-")
    media = FACTS["media"]
    # Recorded now, so the variant is still arriving; whole seconds, so names read plainly.
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start = now - datetime.timedelta(seconds=8)

    def add(i):
        write_segment(base, "db", "source", start + i * S, media[i % len(media)])

    seen = []

    def poll(url):
        text = get(url).text
        segments = playlist_segments(text)
        assert segments[:len(seen)] == seen, f"the live playlist changed its past:\n{text}"
        assert "#EXT-X-ENDLIST" not in text, text
        seen[:] = segments
        return text

    with Wubd(base_dir=base) as w:
        url = w.url + "/playlist/db/source.m3u8"
        for i in (0, 1, 3):  # 2 is late, as a racer's download is
            add(i)
        text = poll(url)
        assert len(seen) == 2 and "DISCONTINUITY" not in text, text
        add(2)
        text = poll(url)
        assert len(seen) == 4 and "DISCONTINUITY" not in text, text
        for i in range(4, 15):
            if i != 6:  # 6 is missing for longer than the settle window
                add(i)
        text = poll(url)
        assert len(seen) == 14 and text.count("#EXT-X-DISCONTINUITY") == 1, text
        add(6)  # a peer's copy arrives after the player saw the hole
        add(15)
        text = poll(url)
        assert len(seen) == 15 and text.count("#EXT-X-DISCONTINUITY") == 1, text
        late = (start + 6 * S).strftime("%M%%3A%S.%f-")
        assert not any(late in s for s in seen), text
        # A closed range has every segment, the late one included.
        span = f"?start={start.strftime('%Y-%m-%dT%H:%M:%SZ')}&end={(start + 15 * S).strftime('%Y-%m-%dT%H:%M:%SZ')}"
        closed = get(url + span).text
        assert len(playlist_segments(closed)) == 15 and "DISCONTINUITY" not in closed, closed
        assert "#EXT-X-ENDLIST" in closed
    with Wubd("--live-settle", "0", base_dir=base) as w:
        # A new process has seen no hole, and without a settle window shows one at once.
        add(17)
        text = get(w.url + "/playlist/db/source.m3u8").text
        assert len(playlist_segments(text)) == 17 and text.count("#EXT-X-DISCONTINUITY") == 1, text
    shutil.rmtree(base)


def test_a_live_playlist_cut_short_by_the_settle_window_is_not_served_stale():
    """A hole at the edge of a stream that then stops: once the settle window has passed
    the playlist shows the hole and what follows it, though nothing changed on disk."""
    base = tempfile.mkdtemp(prefix="wubd-settle-stale-")
    media = FACTS["media"]
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start = now - datetime.timedelta(seconds=9)
    for i in (0, 1, 3):  # 3 ended a second ago; 2 never comes
        write_segment(base, "db", "source", start + i * S, media[i])
    with Wubd("--live-settle", "3", base_dir=base) as w:
        url = w.url + "/playlist/db/source.m3u8"
        text = get(url).text
        assert len(playlist_segments(text)) == 2, text
        # Until 3 s after segment 3's end the variant counts as arriving: the hole and
        # segment 3 show once that has passed, not before.
        def with_the_hole():
            text = get(url).text
            return text if len(playlist_segments(text)) == 3 else None

        text = wait_for(with_the_hole, 15, "the playlist to show the hole once the settle window passed")
        assert datetime.datetime.now(datetime.timezone.utc) >= start + 4 * S + datetime.timedelta(seconds=3), text
        assert "#EXT-X-DISCONTINUITY" in text, text
    shutil.rmtree(base)


def test_metrics_count_requests_and_log_messages():
    with Wubd(base_dir=BASE) as w:
        get(w.url + "/files")
        get(w.url + "/files/db")
        get(w.url + "/nope")
        get(w.url + "/files/db/source/2026-11-21T04")  # logs warnings for the junk names
        r = get(w.url + "/metrics")
        assert r.status == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4"), r
        text = r.text
        assert 'wubd_http_requests_total{endpoint="files",method="GET",status="200"} 3' in text, text
        assert 'wubd_http_requests_total{endpoint="other",method="GET",status="404"} 1' in text, text
        assert 'wubd_http_request_duration_seconds_count{endpoint="files"} 3' in text, text
        assert re.search(r'wubd_http_request_duration_seconds_bucket\{endpoint="files",le="\+Inf"\} 3', text)
        assert re.search(r'wubd_log_messages_total\{level="warning",logger="store"\} [1-9]', text), text
        assert re.search(r"^wubd_http_connections 1$", text, re.M), text


def test_unknown_routes_and_methods():
    with Wubd(base_dir=BASE) as w:
        r = get(w.url + "/nope/nothing")
        assert r.status == 404 and "no such endpoint" in r.text, r
        r = http("POST", w.url + "/files")
        assert r.status == 405 and r.headers["allow"] == "GET, HEAD, OPTIONS", r
        r = http("PUT", w.url + "/segments/db/source/2026-11-21T04/x.ts")
        assert r.status == 405, r


if __name__ == "__main__":
    run_tap([
        test_files_listings,
        test_missing_directories_list_as_empty,
        test_cors_headers_on_every_response,
        test_path_traversal_refused_in_every_position,
        test_segment_bytes_head_and_caching_headers,
        test_segment_ranges_are_byte_exact,
        test_media_playlist_segments_holes_and_endlist,
        test_media_playlist_of_an_incomplete_range_has_no_endlist,
        test_media_playlist_defaults_to_first_to_last_hour,
        test_bad_times_are_400_naming_the_parameter,
        test_missing_stream_or_variant_is_404,
        test_master_playlist_filters_variants_and_passes_the_range_on,
        test_ffmpeg_reads_the_playlist_end_to_end,
        test_new_segments_appear_without_a_restart,
        test_a_live_playlist_never_changes_its_past,
        test_a_live_playlist_cut_short_by_the_settle_window_is_not_served_stale,
        test_metrics_count_requests_and_log_messages,
        test_unknown_routes_and_methods,
    ])
