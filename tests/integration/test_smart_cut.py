"""/cut type=smart (and several ranges for every type) on segments whose frames show
their own number, served by the real wubd: the frames that come out are read back."""
import datetime
import json
import math
import os
import subprocess
import tempfile

from fixtures import frame_numbers, make_counter_segments, parse_time, write_segment
from harness import Wubd, get, run_tap

T0 = parse_time("2026-11-21T04:00:00.000000")
SEGMENTS = 10
HOLE = 8  # 04:00:16 to 04:00:18 is missing
FPS = 30
SECOND = datetime.timedelta(seconds=1)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def at(seconds):
    return iso(T0 + seconds * SECOND)


def build_archive():
    base = tempfile.mkdtemp(prefix="wubd-smart-")
    media = make_counter_segments(SEGMENTS)
    for i in range(SEGMENTS):
        if i != HOLE:
            write_segment(base, "db", "source", T0 + 2 * i * SECOND, media[i])
    return base, media


BASE, MEDIA = build_archive()


def cut(wubd, ranges, kind="smart", **params):
    query = "&".join(f"range={at(a)},{at(b)}" for a, b in ranges)
    extra = "".join(f"&{k}={v}" for k, v in params.items())
    return get(f"{wubd.url}/cut/db/source.ts?{query}&type={kind}{extra}")


def saved(data, suffix=".ts"):
    f = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
    f.write(data)
    f.close()
    return f.name


def wanted_frames(start, end):
    """The frames shown in [start, end): their numbers."""
    return list(range(math.ceil(start * FPS - 1e-6), math.ceil(end * FPS - 1e-6)))


def assert_plays_cleanly(path):
    result = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "null", "-"], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def packets(path, extra=()):
    """ffprobe's packets of `path`, as dicts (stream_index, codec_type, pts, dts, …)."""
    out = subprocess.run(["ffprobe", "-v", "error", *extra, "-show_entries",
                          "packet=stream_index,codec_type,pts,dts,data_hash", "-of", "json", path],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["packets"]


def assert_timestamps_clean(path, first_pts_at_most=1):
    """Per stream: dts strictly increasing, never before pts; the first dts is 0, and
    the first pts at most 1 tick (or `first_pts_at_most`: a clip starting on a copied
    keyframe keeps the source's reorder delay, as dts cannot go below 0)."""
    by_stream = {}
    for packet in packets(path):
        # MPEG-TS leaves a dts equal to the pts out; ffprobe then shows none.
        by_stream.setdefault(packet["stream_index"], []).append((packet["pts"], packet.get("dts", packet["pts"])))
    assert by_stream, "no packets"
    first_dts = min(stamps[0][1] for stamps in by_stream.values())
    assert first_dts == 0, f"first dts {first_dts}, not 0"
    first_pts = min(min(pts for pts, _ in stamps) for stamps in by_stream.values())
    assert 0 <= first_pts <= first_pts_at_most, f"first pts {first_pts}"
    for stream, stamps in by_stream.items():
        for (_, before), (pts, dts) in zip(stamps, stamps[1:]):
            assert dts > before, f"stream {stream}: dts {dts} after {before}"
            assert dts <= pts, f"stream {stream}: dts {dts} after pts {pts}"


def audio_seconds(path):
    """How much audio decodes from `path` (AAC: 1024 samples a frame)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-count_frames", "-show_entries",
                          "stream=nb_read_frames,sample_rate", "-of", "json", path],
                         capture_output=True, text=True, check=True).stdout
    stream = json.loads(out)["streams"][0]
    return int(stream["nb_read_frames"]) * 1024 / int(stream["sample_rate"])


def duration(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
                         capture_output=True, text=True, check=True).stdout
    return float(out)


def transport_errors(data):
    """MPEG-TS checks a decoder's demuxer makes: sync bytes, each PID's continuity
    counter +1 (mod 16) per packet with payload, PCR increasing, no discontinuity flag."""
    errors = []
    counters = {}
    last_pcr = None
    assert len(data) % 188 == 0, f"{len(data)} bytes is not whole 188-byte packets"
    for offset in range(0, len(data), 188):
        p = data[offset:offset + 188]
        if p[0] != 0x47:
            errors.append(f"no sync byte at {offset}")
            continue
        pid = ((p[1] & 0x1F) << 8) | p[2]
        control = (p[3] >> 4) & 3
        counter = p[3] & 0x0F
        if control & 2 and p[4] > 0:
            flags = p[5]
            if flags & 0x80:
                errors.append(f"discontinuity flag on pid {pid} at {offset}")
            if flags & 0x10:
                pcr = (p[6] << 25) | (p[7] << 17) | (p[8] << 9) | (p[9] << 1) | (p[10] >> 7)
                if last_pcr is not None and pcr <= last_pcr:
                    errors.append(f"PCR {pcr} after {last_pcr} at {offset}")
                last_pcr = pcr
        if control & 1 and pid != 0x1FFF:
            if pid in counters and counter != (counters[pid] + 1) % 16:
                errors.append(f"pid {pid}: counter {counter} after {counters[pid]} at {offset}")
            counters[pid] = counter
    assert last_pcr is not None, "no PCR at all"
    return errors


def test_smart_cuts_start_and_end_on_the_requested_frames():
    with Wubd(base_dir=BASE) as wubd:
        cases = [
            (2.5, 6.5),    # both ends inside a group of pictures
            (1.0, 9.0),    # groups re-encoded at both ends, three segments copied
            (2.0, 6.0),    # on keyframes: nothing re-encoded
            (0.5, 1.5),    # inside one segment, no keyframe in it
            (1.01, 3.99),  # ends between frames: the next frame starts it, the last before the end ends it
            (0.7, 15.3),   # long: most of it copied
        ]
        for start, end in cases:
            r = cut(wubd, [(start, end)])
            assert r.status == 200 and r.headers["content-type"] == "video/mp2t", (start, end, r)
            path = saved(r.body)
            try:
                frames = frame_numbers(path)
                want = wanted_frames(start, end)
                assert frames == want, (start, end, frames[:3], frames[-3:], len(frames), len(want))
                assert abs(duration(path) - len(want) / FPS) <= 1 / FPS + 1e-3, (start, end, duration(path))
                # All the audio too: MPEG-TS stamps only the first of the frames packed together.
                assert abs(audio_seconds(path) - len(want) / FPS) <= 0.05, (start, end, audio_seconds(path))
                on_keyframe = start * FPS % 60 == 0
                assert_timestamps_clean(path, 2 * 3000 if on_keyframe else 1)  # the fixture's B-frames: 2
                assert_plays_cleanly(path)
            finally:
                os.unlink(path)


def test_a_smart_cut_is_one_clean_stream_with_the_middle_copied():
    with Wubd(base_dir=BASE) as wubd:
        r = cut(wubd, [(1.5, 8.5)])
        assert r.status == 200, r
        assert transport_errors(r.body) == []
        # Segments 1..3 are wholly inside: their video packets are copied untouched.
        out = saved(r.body)
        source = saved(b"".join(MEDIA[1:4]))
        try:
            hashes = lambda path: [p["data_hash"] for p in packets(path, ("-show_data_hash", "sha256"))
                                   if p["codec_type"] == "video"]
            copied = set(hashes(out))
            middle = hashes(source)
            assert len(middle) == 3 * 2 * FPS
            missing = [h for h in middle if h not in copied]
            assert not missing, f"{len(missing)} of {len(middle)} middle video packets changed"
        finally:
            os.unlink(out)
            os.unlink(source)


def test_ranges_are_cut_back_to_back_for_every_type():
    ranges = [(7.5, 9.0), (1.0, 2.5)]  # the later one first: order is the caller's
    want = wanted_frames(*ranges[0]) + wanted_frames(*ranges[1])
    with Wubd(base_dir=BASE) as wubd:
        smart = cut(wubd, ranges)
        assert smart.status == 200, smart
        path = saved(smart.body)
        try:
            assert frame_numbers(path) == want
            assert_timestamps_clean(path)
            assert_plays_cleanly(path)
            assert transport_errors(smart.body) == []
        finally:
            os.unlink(path)
        for kind, suffix in (("mpegts", ".ts"), ("mp4", ".mp4")):
            r = cut(wubd, ranges, kind)
            assert r.status == 200, (kind, r)
            path = saved(r.body, suffix)
            try:
                frames = frame_numbers(path)
                assert abs(len(frames) - len(want)) <= 2, (kind, len(frames))  # a frame per range
                first_range = [n for n in frames if n >= 200]
                second_range = [n for n in frames if n < 100]
                assert frames == first_range + second_range, (kind, frames)  # in the order asked
                assert abs(len(first_range) - 45) <= 1 and abs(len(second_range) - 45) <= 1, kind
                assert_plays_cleanly(path)
            finally:
                os.unlink(path)


def assert_dts_increasing(path):
    by_stream = {}
    for packet in packets(path):
        by_stream.setdefault(packet["stream_index"], []).append(packet.get("dts", packet["pts"]))
    for stream, stamps in by_stream.items():
        backwards = [(a, b) for a, b in zip(stamps, stamps[1:]) if b <= a]
        assert not backwards, f"stream {stream}: dts goes back {backwards[:3]}"


def test_fast_cuts_join_their_trimmed_ends_without_timestamps_going_back():
    # Both ends mid-segment, on a source with B-frames: the re-encoded ends keep the
    # source's timestamps, so every stream's dts rises through both joins.
    with Wubd(base_dir=BASE) as wubd:
        for start, end in [(2.5, 6.5), (1.3, 9.7), (0.5, 1.5), (2.0, 7.1)]:
            r = cut(wubd, [(start, end)], "fast")
            assert r.status == 200, (start, end, r)
            path = saved(r.body)
            try:
                assert_plays_cleanly(path)
                assert_dts_increasing(path)
                frames = frame_numbers(path)
                want = wanted_frames(start, end)
                assert frames == list(range(frames[0], frames[0] + len(frames))), (start, end, frames)
                # -ss counts from the file's first timestamp (its audio leads the video a little)
                assert abs(frames[0] - want[0]) <= 2 and abs(frames[-1] - want[-1]) <= 2, (start, end, frames[0],
                                                                                         frames[-1], want[0], want[-1])
                assert abs(audio_seconds(path) - len(want) / FPS) <= 0.1, (start, end, audio_seconds(path))
            finally:
                os.unlink(path)
        # Where the source's timestamps jump (a range earlier in time, a hole), the clip's
        # keep rising without a gap.
        for ranges, params in [([(7.5, 9.0), (1.0, 2.5)], {}), ([(14.5, 19.5)], {"allow_holes": "true"})]:
            r = cut(wubd, ranges, "fast", **params)
            assert r.status == 200, (ranges, r)
            path = saved(r.body)
            try:
                assert_plays_cleanly(path)
                assert_dts_increasing(path)
                frames = frame_numbers(path)
                want = [n for a, b in ranges for n in wanted_frames(a, b) if not 16 * FPS <= n < 18 * FPS]
                assert abs(len(frames) - len(want)) <= 3, (ranges, len(frames), len(want))
                assert abs(duration(path) - len(want) / FPS) <= 0.15, (ranges, duration(path))
            finally:
                os.unlink(path)


def test_full_cuts_keep_every_frame_after_a_hole():
    # 04:00:16 to 04:00:18 is missing: a clip across it holds everything on both sides.
    with Wubd(base_dir=BASE) as wubd:
        for kind, suffix in (("mpegts", ".ts"), ("mp4", ".mp4")):
            r = cut(wubd, [(14.5, 19.5)], kind, allow_holes="true")
            assert r.status == 200, (kind, r)
            path = saved(r.body, suffix)
            try:
                frames = frame_numbers(path)
                before = [n for n in frames if n < 16 * FPS]
                after = [n for n in frames if n >= 18 * FPS]
                assert frames == before + after, (kind, frames)
                want_before, want_after = wanted_frames(14.5, 16.0), wanted_frames(18.0, 19.5)
                assert abs(len(before) - len(want_before)) <= 2 and abs(len(after) - len(want_after)) <= 2, \
                    (kind, len(before), len(after))
                assert after and after == list(range(after[0], after[0] + len(after))), (kind, after)
                assert_plays_cleanly(path)
                assert abs(duration(path) - 3.0) <= 0.2, (kind, duration(path))  # no 2 s gap in the timestamps
            finally:
                os.unlink(path)


def test_holes_are_refused_unless_allowed_then_skipped():
    with Wubd(base_dir=BASE) as wubd:
        refused = cut(wubd, [(15.0, 19.0)])
        assert refused.status == 406 and "holes" in refused.text, refused
        r = cut(wubd, [(15.0, 19.0)], allow_holes="true")
        assert r.status == 200, r
        path = saved(r.body)
        try:
            # The frames around the hole, and none of it; the clip runs on without a gap.
            assert frame_numbers(path) == wanted_frames(15.0, 16.0) + wanted_frames(18.0, 19.0)
            assert_timestamps_clean(path)
            assert_plays_cleanly(path)
            assert abs(duration(path) - 2.0) <= 1 / FPS + 1e-3, duration(path)
        finally:
            os.unlink(path)


def test_a_smart_cut_of_broken_segments_is_a_500_with_the_reason():
    base = tempfile.mkdtemp(prefix="wubd-smart-bad-")
    for i in range(3):
        write_segment(base, "db", "junk", T0 + 2 * i * SECOND, b"this is not video at all" * 100)
    with Wubd(base_dir=base) as wubd:
        r = get(f"{wubd.url}/cut/db/junk.ts?start={at(1)}&end={at(5)}&type=smart")
        assert r.status == 500 and "smart cut: cannot" in r.text, r


def test_a_client_leaving_a_smart_cut_stops_it():
    import socket
    import time
    with Wubd(base_dir=BASE) as wubd:
        path = f"/cut/db/source.ts?start={at(0.5)}&end={at(15.5)}&type=smart"
        # The client leaves as soon as its request is sent: the cut has begun (it is
        # dispatched when the request's bytes are read) and cannot have ended, since its
        # work finishes on later loop turns. Leaving after the first bytes instead raced
        # the cut's own end: a 15 s cut of small media fits in the socket buffers.
        with socket.create_connection(("127.0.0.1", wubd.port)) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        deadline = time.monotonic() + 1
        while time.monotonic() < deadline and "wubd_cuts_active 0" not in get(wubd.url + "/metrics").text:
            time.sleep(0.02)
        assert "wubd_cuts_active 0" in get(wubd.url + "/metrics").text, "the cut outlived its client by 1 s"
        assert "client gone; stopping the smart cut" in wubd.log()
        again = cut(wubd, [(2.5, 4.5)])
        assert again.status == 200 and len(again.body) > 0


if __name__ == "__main__":
    run_tap([
        test_smart_cuts_start_and_end_on_the_requested_frames,
        test_a_smart_cut_is_one_clean_stream_with_the_middle_copied,
        test_ranges_are_cut_back_to_back_for_every_type,
        test_holes_are_refused_unless_allowed_then_skipped,
        test_fast_cuts_join_their_trimmed_ends_without_timestamps_going_back,
        test_full_cuts_keep_every_frame_after_a_hole,
        test_a_smart_cut_of_broken_segments_is_a_500_with_the_reason,
        test_a_client_leaving_a_smart_cut_stops_it,
    ])
