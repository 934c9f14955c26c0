"""The downloader end to end: the real wubd binary archiving the real fake origin on
127.0.0.1, with faults injected, compared byte for byte with what the origin served."""
import glob
import json
import os
import re
import subprocess
import tempfile
import time

from fixtures import segment_hash
from harness import WUBD, Wubd, get, metric, run_tap, wait_for, wait_for_metric
from origin import FakeOrigin, archived, temp_files

# Fast timings so that the rules show within seconds; the origin runs at 4x.
FAST = ["--playlist-interval", "0.25", "--master-interval", "0.5", "--retry-delay", "0.3",
        "--playlist-timeouts", "1,5", "--segment-header-timeouts", "1,5", "--segment-total-timeouts", "1.5,10",
        "--offline-interval", "1"]


def downloader(origin, *extra, base_dir=None, stream="live"):
    base_dir = base_dir or tempfile.mkdtemp(prefix="wubd-dl-")
    fast = []
    for flag, value in zip(FAST[::2], FAST[1::2]):
        if flag not in extra:  # a flag given in `extra` replaces the fast default
            fast += [flag, value]
    return Wubd("--download", f"{stream}={origin.url}/master.m3u8", *fast, *extra, base_dir=base_dir)


def served_whole_are_archived(origin, base_dir, stream, before_t):
    """Whether every segment served whole before `before_t` has a full copy archived
    (the full check, with hashes, is assert_served_whole_archived)."""
    files = archived(base_dir, stream)
    return all(any(kind == "full" for kind, _ in files.get((s["variant"], s["start"]), []))
               for s in origin.served() if s["kind"] == "segment" and s["complete"] and s["t"] < before_t)


def assert_served_whole_archived(origin, base_dir, stream, before_t):
    """Every segment the origin served whole (before `before_t` seconds into its run)
    is archived `full`, byte-identical, with the right hash in its name."""
    files = archived(base_dir, stream)
    whole = {(s["variant"], s["start"], s["index"], s["sha256"]) for s in origin.served()
             if s["kind"] == "segment" and s["complete"] and s["t"] < before_t}
    assert whole, "the origin served no whole segment"
    for variant, start, index, served_hash in sorted(whole):
        fulls = [path for kind, path in files.get((variant, start), []) if kind == "full"]
        assert fulls, f"{variant} {start} (#{index}) was served whole but is not archived full: {files.get((variant, start))}"
        for path in fulls:
            with open(path, "rb") as f:
                data = f.read()
            # The origin logs the sha256 of every body it serves: the same bytes, or not.
            assert segment_hash(data) == served_hash, f"{path}: {len(data)} bytes differ from the origin's #{index}"
            assert path.endswith(f"-full-{served_hash}.ts"), f"hash in name is wrong: {path}"
    assert not temp_files(base_dir), temp_files(base_dir)
    return len(whole)


def test_clean_run_archives_every_segment_byte_identical():
    with FakeOrigin("--speed", "4") as origin:
        with downloader(origin) as wubd:
            wait_for_metric(wubd, "wubd_segments_downloaded_total", 26, 20, type="full")
            t_end = origin.served()[-1]["t"] - 0.5
            wait_for(lambda: served_whole_are_archived(origin, wubd.base_dir, "live", t_end), 10,
                     "every segment served whole to be archived")
            # Every segment went through the transfer engine, which lists them at /jobs.
            jobs = json.loads(get(wubd.url + "/jobs?state=Completed").text)
            assert len(jobs) >= 20 and all(j["source"] == origin.url and j["state"] == "Completed" for j in jobs), jobs
            assert jobs[0]["bytes"] > 0 and jobs[0]["target"].startswith("live/") and jobs[0]["finished_at"]
            assert json.loads(get(wubd.url + "/jobs?source=http://elsewhere").text) == []
            bad = get(wubd.url + "/jobs?state=Done")
            assert bad.status == 400 and "InProgress" in bad.text, bad
        count = assert_served_whole_archived(origin, wubd.base_dir, "live", t_end)
        assert count >= 20, count
        variants = {v for v, _ in archived(wubd.base_dir, "live")}
        assert variants == {"source", "160p"}, variants
        partial = [p for entries in archived(wubd.base_dir, "live").values() for k, p in entries if k != "full"]
        assert not partial, partial


def test_flaky_origin_still_archives_everything_served_whole():
    faults = ["segment:status:code=503:p=0.3", "segment:stall:seconds=4:p=0.1", "segment:reset:p=0.05",
              "media:garbage:p=0.1", "master:status:code=500:p=0.3"]
    with FakeOrigin("--speed", "4", "--seed", "7", *[a for f in faults for a in ("--fault", f)]) as origin:
        with downloader(origin) as wubd:
            wait_for_metric(wubd, "wubd_segments_downloaded_total", 40, 30, type="full")
            wait_for_metric(wubd, "wubd_playlist_fetch_errors_total", 1, 10, kind="media")  # the garbage
            wait_for_metric(wubd, "wubd_download_timeouts_total", 1, 10, kind="soft")  # the stalls
            t_end = origin.served()[-1]["t"] - 6  # the newest may still be retried
            wait_for(lambda: served_whole_are_archived(origin, wubd.base_dir, "live", t_end), 20,
                     "every segment served whole to be archived, retries included")
        served = origin.served()
        faulted = [s for s in served if s["kind"] == "segment" and s["fault"]]
        assert len(faulted) >= 5, f"too few faults fired: {len(faulted)}"
        assert_served_whole_archived(origin, wubd.base_dir, "live", t_end)


def test_stalled_segment_is_raced_and_the_first_attempt_cancelled():
    # The third segment request stalls for 20 s after half its body.
    with FakeOrigin("--speed", "4", "--fault", "segment:stall:seconds=20:n=1:after=1") as origin:
        with downloader(origin) as wubd:
            wait_for_metric(wubd, "wubd_segment_racing_attempts_total", 1, 10)
            stalled_path = re.search(r"racing another", wubd.log()) and \
                re.search(r"segment live/(\S+) (\S+) (\S+): attempt 1 passed the soft", wubd.log())
            assert stalled_path, wubd.log()
            variant, start, url = stalled_path.groups()
            index = int(url.rsplit("/", 1)[1][:-3])
            wait_for(lambda: any(k == "full" for k, _ in archived(wubd.base_dir, "live").get(
                (variant, start.replace("Z", "000Z")), [])), 5, "the racer's full segment")
            # The first attempt was cancelled: the origin saw its client go, long before 20 s.
            wait_for(lambda: any(s["fault"] == "stall" and not s["complete"] for s in origin.served()), 5,
                     "the stalled response to be abandoned")
            files = archived(wubd.base_dir, "live")[(variant, start.replace("Z", "000Z"))]
            assert [k for k, _ in files] == ["full"], files  # no partial from the loser
            served = {s["sha256"] for s in origin.served() if s["kind"] == "segment" and s["index"] == index}
            with open(files[0][1], "rb") as f:
                assert segment_hash(f.read()) in served


def test_a_failed_racer_beside_a_hung_attempt_gets_a_new_racer():
    """Attempt 1 of a segment hangs before its headers (30 s, far past the soft timeout),
    its racer gets a 503: a new racer follows after the retry delay, instead of the
    segment waiting on the hung connection until its 30 s hard timeout."""
    faults = ["segment:delay:seconds=30:n=1:after=1", "segment:status:code=503:n=1:repeat"]
    with FakeOrigin("--speed", "4", *[a for f in faults for a in ("--fault", f)]) as origin:
        with downloader(origin, "--segment-header-timeouts", "1,30") as wubd:
            wait_for(lambda: "racing another" in wubd.log(), 10, "a soft timeout")
            hung = re.search(r"segment live/(\S+) (\S+) (\S+): attempt 1 passed the soft segment_headers", wubd.log())
            assert hung, wubd.log()
            variant, start, _ = hung.groups()
            raced_at = time.monotonic()
            wait_for(lambda: "attempt 2 failed: HTTP 503" in wubd.log(), 5, "the racer's 503\n" + wubd.log()[-3000:])
            # Soft timeout passed at raced_at; retry delay 0.3 s; then one download.
            wait_for(lambda: any(k == "full" for k, _ in archived(wubd.base_dir, "live").get(
                (variant, start.replace("Z", "000Z")), [])), 4, "a full copy from a third attempt")
            assert time.monotonic() - raced_at < 4
            files = archived(wubd.base_dir, "live")[(variant, start.replace("Z", "000Z"))]
            assert [k for k, _ in files] == ["full"], files
            assert metric(wubd, "wubd_segment_racing_attempts_total") >= 2


def test_stale_temp_files_are_swept_while_running():
    """A crash-looping process leaves temp files younger than --temp-max-age at each
    start: they are swept while the node runs. A download of our own that stalls past
    the max age keeps its temp file and ends full on its first attempt."""
    with FakeOrigin("--speed", "4", "--fault", "segment:stall:seconds=3:n=1:after=1") as origin:
        with downloader(origin, "--temp-max-age", "1", "--segment-total-timeouts", "10,20") as wubd:
            hour_dir = wait_for(lambda: next(iter(sorted(glob.glob(os.path.join(wubd.base_dir, "live", "source", "*")))),
                                             None), 10, "an hour directory")
            planted = [os.path.join(hour_dir, "59:58.000000-2.0-temp-3f1c9a2e-0000-4000-8000-00000000dead.ts"),
                       os.path.join(hour_dir, "59:58.000000-2.0-full-x.ts.3f1c9a2e-0000-4000-8000-00000000beef.temp")]
            for path in planted:
                with open(path, "wb") as f:
                    f.write(b"left by a process that died")
                os.utime(path, (time.time() - 60, time.time() - 60))
            wait_for_metric(wubd, "wubd_temp_files_removed_total", 2, 5)
            assert not any(os.path.exists(p) for p in planted)
            stalled = wait_for(lambda: next((s for s in origin.served() if s["fault"] == "stall" and s["complete"]), None),
                               10, "the stalled segment to be served whole")
            name = f"{stalled['variant']}/{stalled['index']}.ts: full"
            wait_for(lambda: name in wubd.log(), 5, "its full copy")
            line = next(l for l in wubd.log().splitlines() if name in l)
            assert "attempt 1," in line, line
            assert "cannot rename" not in wubd.log() and metric(wubd, "wubd_temp_files_removed_total") == 2


def test_403_media_playlist_gets_a_new_worker_from_a_fresh_master():
    with FakeOrigin("--speed", "4", "--url-expiry", "3") as origin:
        with downloader(origin) as wubd:
            # Each variant's URL expires every 3 s: a 403, and a worker from a fresh master.
            wait_for_metric(wubd, "wubd_download_workers_started_total", 3, 20, variant="source")
            assert metric(wubd, "wubd_playlist_fetches_total", kind="master") >= 3
            t_end = origin.served()[-1]["t"] - 1
            wait_for(lambda: served_whole_are_archived(origin, wubd.base_dir, "live", t_end), 10,
                     "every segment served whole to be archived")
            log = wubd.log()
            assert "asking for a new worker: HTTP 403" in log, log
            assert re.search(r"live/source worker [3-9]\d* .*started", log), log
            assert "retired" in log or "stopped polling" in log
        assert_served_whole_archived(origin, wubd.base_dir, "live", t_end)


def test_endlist_stops_gracefully_and_resumes_when_the_stream_returns():
    with FakeOrigin("--speed", "4", "--end-after", "3", "--offline-for", "3") as origin:
        with downloader(origin) as wubd:
            wait_for_metric(wubd, "wubd_stream_went_live_total", 2, 20, stream="live")  # live, ended, back
            assert metric(wubd, "wubd_stream_live", stream="live") == 1
            # Segments from after the restart are archived too.
            wait_for(lambda: any(s["kind"] == "segment" and s["t"] > 6.5 and s["complete"] for s in origin.served()),
                     10, "a segment served after the restart")
            t_end = origin.served()[-1]["t"] - 1
            wait_for(lambda: served_whole_are_archived(origin, wubd.base_dir, "live", t_end), 10,
                     "every segment served whole to be archived")
            log = wubd.log()
            assert "stream ended (ENDLIST)" in log, log
            assert "not live" in log, log
        assert_served_whole_archived(origin, wubd.base_dir, "live", t_end)


def test_sigterm_mid_download_exits_cleanly_and_leaves_no_temp_files():
    base_dir = tempfile.mkdtemp(prefix="wubd-dl-")
    # Every segment stalls mid-body, so downloads are in flight when SIGTERM lands.
    with FakeOrigin("--speed", "4", "--fault", "segment:stall:seconds=30") as origin:
        wubd = downloader(origin, "--segment-total-timeouts", "20,60", base_dir=base_dir)
        wait_for(lambda: temp_files(base_dir), 10, "downloads in flight")
        started = time.monotonic()
        assert wubd.stop() == 0, wubd.log()
        assert time.monotonic() - started < 5
        assert not temp_files(base_dir), temp_files(base_dir)
        partials = [p for e in archived(base_dir, "live").values() for k, p in e if k == "partial"]
        assert partials, "bytes in flight should have been kept as partial"
    # A restart (the origin gone now, so nothing new is in flight) finds nothing of
    # ours to clean up; a temp file a killed process left 10 minutes ago is removed.
    hour_dir = os.path.dirname(partials[0])
    stale = os.path.join(hour_dir, "00:00.000000-2.0-temp-3f1c9a2e-0000-4000-8000-000000000000.ts")
    with open(stale, "wb") as f:
        f.write(b"half")
    os.utime(stale, (time.time() - 600, time.time() - 600))
    with downloader(origin, base_dir=base_dir) as again:
        wait_for_metric(again, "wubd_playlist_fetch_errors_total", 1, 10, kind="master")  # the origin is gone
        assert not temp_files(base_dir)
        assert again.log().count("removed stale temp file") == 1, again.log()
        assert "master playlist fetch failed" in again.log()


def test_twitch_provider_through_gql_and_usher():
    with FakeOrigin("--speed", "4", "--channel", "speedrun") as origin:
        base_dir = tempfile.mkdtemp(prefix="wubd-dl-")
        with Wubd("--twitch", "speedrun", "--twitch-gql-url", origin.url + "/gql",
                  "--twitch-usher-url", origin.url + "/api/channel/hls/{channel}.m3u8", *FAST,
                  base_dir=base_dir) as wubd:
            wait_for(lambda: {v for v, _ in archived(base_dir, "speedrun")} == {"source", "160p"}, 10,
                     "both Twitch variants")
            listing = json.loads(get(wubd.url + "/files/speedrun").text)
            assert sorted(listing) == ["160p", "source"], listing
        gql = [s for s in origin.served() if s["kind"].startswith("gql")]
        assert gql, "no GQL request reached the origin"


def test_only_chosen_variants_are_archived():
    with FakeOrigin("--speed", "4") as origin:
        with downloader(origin, "--variants", "160p,720p") as wubd:
            wait_for_metric(wubd, "wubd_segments_downloaded_total", 3, 10, type="full")
            assert "variant 720p is not in the master playlist" in wubd.log()
        assert {v for v, _ in archived(wubd.base_dir, "live")} == {"160p"}


def test_inspect_playlist_prints_what_the_parser_understood():
    with FakeOrigin("--speed", "4") as origin:
        master = json.loads(subprocess.run([WUBD, "inspect-playlist", origin.url + "/master.m3u8"],
                                           capture_output=True, text=True, check=True).stdout)
        assert master["kind"] == "master"
        # (each master hands out a new session's URLs, as Twitch's do)
        assert [(v["name"], v["uri"].split("?")[0]) for v in master["variants"]] == [
            ("source", origin.url + "/source/index.m3u8"), ("160p", origin.url + "/160p/index.m3u8")]
        assert master["variants"][0]["resolution"] == "320x240"
        media = json.loads(subprocess.run([WUBD, "inspect-playlist", origin.url + "/source/index.m3u8"],
                                          capture_output=True, text=True, check=True).stdout)
        assert media["kind"] == "media" and media["endlist"] is False
        assert len(media["segments"]) == 5
        first = media["segments"][0]
        assert first["uri"].startswith(origin.url + "/source/") and first["duration"] == 2.0
        assert first["program_date_time"].endswith("Z") and first["title"] == "live" and first["ad"] is False
    with tempfile.NamedTemporaryFile("w", suffix=".m3u8", delete=False) as f:
        f.write("#EXTM3U\n#EXTINF:2.0,\nseg.ts\n#EXTINF:2.0,\n")
    bad = subprocess.run([WUBD, "inspect-playlist", f.name], capture_output=True, text=True)
    assert bad.returncode == 1 and "truncated" in bad.stderr, bad.stderr
    relative = subprocess.run([WUBD, "inspect-playlist", f.name, "--base-uri", "http://x/"], capture_output=True,
                              text=True)
    assert relative.returncode == 1
    with open(f.name, "w") as g:
        g.write("#EXTM3U\n#EXT-X-PROGRAM-DATE-TIME:2026-11-21T04:00:00Z\n#EXTINF:2.0,\nseg.ts\n")
    ok = json.loads(subprocess.run([WUBD, "inspect-playlist", f.name, "--base-uri", "http://x/a/p.m3u8"],
                                   capture_output=True, text=True, check=True).stdout)
    assert ok["segments"][0]["uri"] == "http://x/a/seg.ts"
    assert ok["segments"][0]["start"] == "2026-11-21T04:00:00.000000Z"
    # What RFC 8216 allows and real players accept: a 64-bit media sequence, `.500`
    # durations; what the playlist leaves out is null, not 0; ads by their own dates.
    with open(f.name, "w") as g:
        g.write("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:18446744073709551615\n"
                "#EXT-X-DATERANGE:ID=\"stitched-ad-1\",START-DATE=\"2026-11-21T04:00:00.5Z\",DURATION=1.5\n"
                "#EXT-X-PROGRAM-DATE-TIME:2026-11-21T04:00:00Z\n"
                "#EXTINF:.500,\na.ts\n#EXTINF:1.5,\nb.ts\n#EXTINF:2.0,\nc.ts\n")
    out = subprocess.run([WUBD, "inspect-playlist", f.name], capture_output=True, text=True, check=True).stdout
    assert '"media_sequence":18446744073709551615' in out.replace(" ", "").replace("\t", ""), out
    edge = json.loads(out)
    assert edge["target_duration"] is None
    assert [s["duration"] for s in edge["segments"]] == [0.5, 1.5, 2.0]
    assert [s["ad"] for s in edge["segments"]] == [False, True, False]  # [0.5 s, 2.0 s) is the ad
    with open(f.name, "w") as g:
        g.write("#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=640x360\na.m3u8\n")
    no_bandwidth = json.loads(subprocess.run([WUBD, "inspect-playlist", f.name], capture_output=True, text=True,
                                             check=True).stdout)
    assert no_bandwidth["variants"][0]["bandwidth"] is None
    with open(f.name, "w") as g:
        g.write("#EXTM3U\n#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"a\",NAME=\"1080p60 (source)\"\n"
                "#EXT-X-STREAM-INF:BANDWIDTH=6000000,VIDEO=\"a\"\na.m3u8\n"
                "#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"b\",NAME=\"1440p60 (source)\"\n"
                "#EXT-X-STREAM-INF:BANDWIDTH=9000000,VIDEO=\"b\"\nb.m3u8\n")
    two_sources = json.loads(subprocess.run([WUBD, "inspect-playlist", f.name], capture_output=True, text=True,
                                            check=True).stdout)
    assert [v["name"] for v in two_sources["variants"]] == ["1080p60", "1440p60"], two_sources  # neither `source`


if __name__ == "__main__":
    run_tap([
        test_clean_run_archives_every_segment_byte_identical,
        test_flaky_origin_still_archives_everything_served_whole,
        test_stalled_segment_is_raced_and_the_first_attempt_cancelled,
        test_a_failed_racer_beside_a_hung_attempt_gets_a_new_racer,
        test_stale_temp_files_are_swept_while_running,
        test_403_media_playlist_gets_a_new_worker_from_a_fresh_master,
        test_endlist_stops_gracefully_and_resumes_when_the_stream_returns,
        test_sigterm_mid_download_exits_cleanly_and_leaves_no_temp_files,
        test_twitch_provider_through_gql_and_usher,
        test_only_chosen_variants_are_archived,
        test_inspect_playlist_prints_what_the_parser_understood,
    ])
