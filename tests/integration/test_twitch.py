#!/usr/bin/env python3
"""Twitch as it is in 2026, reproduced by the fake origin: the access token request of
Twitch's 2025-11-11 change and what GQL and usher answer when they refuse; stitched
ads never archived; PROGRAM-DATE-TIME jumps, slow and empty downloads stored as
`suspect`; fMP4 renditions stored as init + fragment."""
import datetime
import glob
import json
import os
import re
import subprocess
import tempfile

from fixtures import segment_hash
from harness import Wubd, get, metric, run_tap, wait_for, wait_for_metric
from origin import FakeOrigin, archived

FAST = ["--playlist-interval", "0.25", "--master-interval", "0.5", "--retry-delay", "0.3",
        "--playlist-timeouts", "1,5", "--segment-header-timeouts", "1,5", "--segment-total-timeouts", "1.5,10",
        "--offline-interval", "1"]


def twitch(origin, channel="speedrun", *extra, base_dir=None, v1=False):
    base_dir = base_dir or tempfile.mkdtemp(prefix="wubd-twitch-")
    usher = "/api/channel/hls/{channel}.m3u8" if v1 else "/api/v2/channel/hls/{channel}.m3u8"
    fast = []
    for flag, value in zip(FAST[::2], FAST[1::2]):
        if flag not in extra:  # a flag given in `extra` replaces the fast default
            fast += [flag, value]
    return Wubd("--twitch", channel, "--twitch-gql-url", origin.url + "/gql", "--twitch-usher-url", origin.url + usher,
                *(["--twitch-usher-version", "1"] if v1 else []), *fast, *extra, base_dir=base_dir)


def said(log, words):
    """The log lines above debug level that carry `words`."""
    return [line for line in log.splitlines() if words in line and " debug " not in line]


def files(base_dir, stream):
    return [p for paths in archived(base_dir, stream).values() for _, p in paths]


def content_missing(served, base_dir, before_t):
    """Starts of the content segments served whole before `before_t` whose bytes are
    not archived."""
    stored = set()
    for path in files(base_dir, "speedrun"):
        with open(path, "rb") as f:
            stored.add(segment_hash(f.read()))
    return [s["start"] for s in served
            if s["kind"] == "segment" and s["complete"] and s["t"] < before_t and s["sha256"] not in stored]


def test_todays_token_request_and_usher_v2_with_an_upper_case_channel():
    # The origin knows only today's persisted hash and requires `platform`.
    with FakeOrigin("--speed", "4", "--channel", "speedrun") as origin:
        with twitch(origin, "SpeedRun") as w:
            wait_for(lambda: {v for v, _ in archived(w.base_dir, "SpeedRun")} == {"source", "160p"}, 15,
                     "both variants, under the operator's spelling")
            log = w.log()
        kinds = [s["kind"] for s in origin.served() if s["kind"].startswith("gql")]
        assert kinds and all(k in ("gql-persisted", "gql-answer") for k in kinds), kinds
        assert "PersistedQueryNotFound" not in log
        assert re.search(r"access token limits this viewer: maximum_resolution FULL_HD", log), log
    with FakeOrigin("--speed", "4", "--channel", "speedrun") as origin:  # usher v1 still works
        with twitch(origin, "speedrun", v1=True) as w:
            wait_for(lambda: archived(w.base_dir, "speedrun"), 15, "segments through usher v1")


def test_a_rotted_hash_falls_back_to_the_query_text():
    with FakeOrigin("--speed", "4", "--channel", "speedrun", "--gql-hash", "a-newer-hash") as origin:
        with twitch(origin) as w:
            wait_for(lambda: archived(w.base_dir, "speedrun"), 15, "segments through the query text")
            log = w.log()
        assert 'GQL says "PersistedQueryNotFound"' in log, log
        assert len(said(log, "PersistedQueryNotFound")) == 1, "said once"
        assert any(s["kind"] == "gql-query-text" for s in origin.served())


def test_twitchs_refusals_are_logged_in_its_own_words_once():
    cases = [
        (["--gql-answer", "unauthorized"], 'The "Authorization" token is invalid.'),
        (["--gql-answer", "gql-error"], "service timeout"),
        (["--gql-answer", "null"], "no such channel (GQL returned no access token"),
        (["--usher-error", "geoblock"], "Content Restricted In Region"),
        (["--usher-error", "entitlement"], "restricted to subscribers"),
        (["--usher-error", "offline"], "transcode does not exist"),
    ]
    for args, words in cases:
        with FakeOrigin("--speed", "4", "--channel", "speedrun", *args) as origin:
            with twitch(origin) as w:
                # Several tries (one a second while refused): the words once still.
                wait_for_metric(w, "wubd_playlist_fetches_total", 4, 15, kind="master")
                lines = said(w.log(), words)
                assert len(lines) == 1, (args, lines)
                assert not archived(w.base_dir, "speedrun")


def test_ads_are_never_archived_and_a_hand_over_makes_no_hole():
    # Every new playlist URL opens with 6 s of ads at the stream's own times; a mid-roll
    # every 30 s; a stretch marked as an ad whose segments stay `live`. URLs expire
    # every 4 s, so workers hand over again and again, each new one opening with ads.
    with FakeOrigin("--speed", "4", "--channel", "speedrun", "--preroll", "6", "--midroll", "30",
                    "--midroll-length", "4", "--marked-live", "18", "--marked-live-length", "4",
                    "--url-expiry", "4") as origin:
        with twitch(origin, "speedrun", "--variants", "source") as w:
            # Hand-overs, a mid-roll (at 30 s of stream time: 7.5 s at 4x) and the marked stretch.
            wait_for_metric(w, "wubd_download_workers_started_total", 4, 30)
            wait_for_metric(w, "wubd_ad_segments_skipped_total", 10, 30)
            wait_for(lambda: max(s["index"] for s in origin.served() if s["kind"] == "segment") >= 20, 30,
                     "the stream past its first mid-roll")
            t_end = origin.served()[-1]["t"] - 2
            wait_for(lambda: not content_missing(origin.served(), w.base_dir, t_end), 15,
                     "every content segment served before the end to be archived")
            skipped = metric(w, "wubd_ad_segments_skipped_total")
            log = w.log()
        served = origin.served()
    # No ad was even fetched: its bytes cannot be on disk.
    assert not [s for s in served if s["kind"] == "ad"], "an ad segment was fetched"
    assert skipped >= 10, skipped
    # Every stream segment outside a mid-roll that the origin published while wubd ran
    # is archived whole: the pre-rolls of new URLs cost nothing.
    missing = content_missing(served, w.base_dir, t_end)
    assert not missing, f"{len(missing)} served segments not archived: {sorted(missing)[:5]}"
    marked = [s for s in served if s["kind"] == "segment" and (s["index"] * 2) % 18 < 4 and s["index"] >= 9]
    assert marked, "no marked-but-live segment was served"
    assert "asking for a new worker: HTTP 403" in log, "no hand-over happened"


def test_suspect_segments_as_wubloader_writes_them():
    # A PROGRAM-DATE-TIME jump of 400 ms in the session's playlist: later segments of
    # that worker are suspect, and a new worker (a new session, whose dates are right)
    # takes over with full ones.
    with FakeOrigin("--speed", "4", "--channel", "speedrun", "--pdt-skew-from", "8", "--pdt-skew-ms", "400") as origin:
        with twitch(origin, "speedrun", "--variants", "source") as w:
            wait_for(lambda: metric(w, "wubd_segment_date_skews_total") >= 1, 15, "the jump to be seen")
            wait_for(lambda: metric(w, "wubd_segments_downloaded_total", type="suspect") >= 1, 10, "a suspect")
            assert "PROGRAM-DATE-TIME jumped by 400 ms" in w.log(), w.log()
            wait_for(lambda: any("-full-" in p and p > max((q for q in files(w.base_dir, "speedrun") if "-suspect-" in q),
                                                           default="")
                                 for p in files(w.base_dir, "speedrun")), 10, "full segments after the hand-over")
    # A download slower than --segment-suspect-after, and an empty body, are suspect too.
    with FakeOrigin("--speed", "4", "--channel", "speedrun", "--fault", "segment:stall:seconds=2.5:n=1:after=3",
                    "--fault", "segment:empty:n=1:after=6") as origin:
        with twitch(origin, "speedrun", "--variants", "source", "--segment-suspect-after", "2",
                    "--segment-header-timeouts", "20,60", "--segment-total-timeouts", "20,60") as w:
            wait_for(lambda: metric(w, "wubd_segments_downloaded_total", type="suspect") >= 2, 15, "two suspects")
            suspects = [p for p in files(w.base_dir, "speedrun") if "-suspect-" in p]
            sizes = sorted(os.path.getsize(p) for p in suspects)
            assert sizes[0] == 0 and sizes[-1] > 1000, sizes
            assert "suspect (slow download)" in w.log() and "suspect (empty body)" in w.log(), w.log()


def test_fmp4_renditions_are_stored_as_init_and_fragment():
    with FakeOrigin("--speed", "4", "--variant", "f:320x240:300k:fmp4") as origin:
        base_dir = tempfile.mkdtemp(prefix="wubd-fmp4-")
        with Wubd("--download", f"live={origin.url}/master.m3u8", *FAST, base_dir=base_dir) as w:
            wait_for(lambda: len(files(base_dir, "live")) >= 14, 20, "segments across the init change")
        served = origin.served()
    inits = [s for s in served if s["kind"] == "init"]
    assert len({s["path"] for s in inits}) == 2, inits  # both halves' init sections, each fetched
    for path in files(base_dir, "live"):
        with open(path, "rb") as f:
            data = f.read()
        assert data[4:8] == b"ftyp", path  # the init section first
        assert path.endswith(f"-{segment_hash(data)}.ts"), path  # hashed as stored, as wubloader does
    one = sorted(files(base_dir, "live"))[-1]
    assert frames(one) == 60  # one stored file decodes on its own: 2 s at 30 fps
    # Cuts across the init section's change: rough is the files' bytes; fast and the
    # full cuts read each file remuxed to MPEG-TS, timestamps joined; smart says no.
    starts = sorted(archived(base_dir, "live"))
    first = datetime.datetime.fromisoformat(starts[2][1].replace("Z", "+00:00"))
    start, end = first + datetime.timedelta(seconds=0.5), first + datetime.timedelta(seconds=12.5)
    iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    with Wubd(base_dir=base_dir) as w:
        for kind, suffix in [("rough", ".ts"), ("fast", ".ts"), ("mp4", ".mp4"), ("mpegts", ".ts")]:
            r = get(f"{w.url}/cut/live/f.ts?start={iso(start)}&end={iso(end)}&type={kind}")
            assert r.status == 200, (kind, r)
            path = tempfile.mktemp(suffix=suffix)
            with open(path, "wb") as f:
                f.write(r.body)
            count = frames(path)
            if kind == "rough":
                assert count >= 12 * 30, (kind, count)  # whole segments: may overshoot
                continue
            assert abs(count - 12 * 30) <= 3, (kind, count)
            errors = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "null", "-"], capture_output=True,
                                    text=True).stderr
            assert not errors.strip(), (kind, errors)
        smart = get(f"{w.url}/cut/live/f.ts?start={iso(start)}&end={iso(end)}&type=smart")
        assert smart.status == 501 and "fragmented MP4" in smart.text, smart


def frames(path):
    probe = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                            "stream=nb_read_frames", "-of", "csv=p=0", path], capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    return int(probe.stdout.split()[0])


if __name__ == "__main__":
    run_tap([
        test_todays_token_request_and_usher_v2_with_an_upper_case_channel,
        test_a_rotted_hash_falls_back_to_the_query_text,
        test_twitchs_refusals_are_logged_in_its_own_words_once,
        test_ads_are_never_archived_and_a_hand_over_makes_no_hole,
        test_suspect_segments_as_wubloader_writes_them,
        test_fmp4_renditions_are_stored_as_init_and_fragment,
    ])
