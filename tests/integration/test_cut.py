"""/cut against a real archive of ffmpeg-made segments, served by the real wubd."""
import datetime
import os
import socket
import subprocess
import tempfile
import threading

from fixtures import make_segments, parse_time, write_segment
from harness import Wubd, get, http, metric, run_tap, wait_for

T0 = parse_time("2026-11-21T04:00:00.000000")
S = datetime.timedelta(seconds=2)
HOLE = 6  # segment 6 (04:00:12 to 04:00:14) is missing


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def build_archive():
    base = tempfile.mkdtemp(prefix="wubd-cut-")
    media = make_segments(10)
    for i in range(10):
        if i != HOLE:
            write_segment(base, "db", "source", T0 + i * S, media[i])
    return base, media


BASE, MEDIA = build_archive()


def cut_url(wubd, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{wubd.url}/cut/db/source.ts?{query}"


def assert_playable(data):
    with tempfile.NamedTemporaryFile(suffix=".ts", delete=False) as f:
        f.write(data)
    result = subprocess.run(["ffmpeg", "-v", "error", "-i", f.name, "-f", "null", "-"], capture_output=True, text=True)
    os.unlink(f.name)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_rough_cut_is_the_covering_segments_bytes():
    with Wubd(base_dir=BASE) as wubd:
        r = get(cut_url(wubd, start=iso(T0 + S / 4 * 3), end=iso(T0 + 3 * S + S / 2)))
        assert r.status == 200, r
        assert r.headers["content-type"] == "video/mp2t"
        expected = b"".join(MEDIA[0:4])  # 0:01.5 .. 0:07 is covered by segments 0..3
        assert r.body == expected, (len(r.body), len(expected))
        assert int(r.headers["content-length"]) == len(expected)
        assert_playable(r.body)
        head = http("HEAD", cut_url(wubd, start=iso(T0), end=iso(T0 + S)))
        assert head.status == 200 and head.body == b"" and int(head.headers["content-length"]) == len(MEDIA[0])


def test_parameters_errors_and_holes():
    with Wubd(base_dir=BASE) as wubd:
        cases = [
            ("/cut/db/nope.ts?start=2026-11-21T04:00:00Z&end=2026-11-21T04:00:02Z", 404, "no such stream"),
            ("/cut/db/source.ts?start=2026-11-21T04:00:04Z&end=2026-11-21T04:00:02Z", 400, "End must be after start"),
            ("/cut/db/source.ts?start=2026-11-21T04:00:04Z&end=soon", 400, "Bad end"),
            ("/cut/db/source.ts?start=2026-11-21T04:00:00Z&end=2026-11-21T04:00:04Z&allow_holes=maybe", 400,
             "allow_holes must be one of"),
            ("/cut/db/source.ts?start=2026-11-21T04:00:00Z&end=2026-11-21T04:00:04Z&type=slow", 400, "rough, fast"),
            ("/cut/db/source.ts?start=2026-11-21T04:00:10Z&end=2026-11-21T04:00:16Z", 406, "holes"),
            ("/cut/db/source.ts", 406, "holes"),  # defaults to the whole (holey) range
            ("/cut/db/source.ts?start=2026-11-21T05:00:00Z&end=2026-11-21T05:00:10Z&allow_holes=true", 406,
             "no content"),
            ("/cut/db/..%2Fx.ts?start=2026-11-21T04:00:00Z&end=2026-11-21T04:00:02Z", 403, "Bad variant"),
        ]
        for path, status, message in cases:
            r = get(wubd.url + path)
            assert r.status == status and message in r.text, (path, r)
        holey = get(cut_url(wubd, start=iso(T0 + 5 * S), end=iso(T0 + 8 * S), allow_holes="true"))
        assert holey.status == 200 and holey.body == MEDIA[5] + MEDIA[7], holey


def test_ranges_are_cut_back_to_back_in_order():
    with Wubd(base_dir=BASE) as wubd:
        r = get(f"{wubd.url}/cut/db/source.ts?range={iso(T0 + 8 * S)},{iso(T0 + 9 * S)}"
                f"&range={iso(T0 + S)},{iso(T0 + 2 * S)}")
        assert r.status == 200 and r.body == MEDIA[8] + MEDIA[1], r


def test_twenty_parallel_rough_cuts_while_serving_playlists():
    with Wubd(base_dir=BASE) as wubd:
        results, errors = [], []
        url = cut_url(wubd, start=iso(T0), end=iso(T0 + 6 * S))
        expected = b"".join(MEDIA[0:6])

        def one():
            try:
                results.append(get(url).body == expected)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=one) for _ in range(20)]
        for t in threads:
            t.start()
        playlists = [get(f"{wubd.url}/playlist/db/source.m3u8").status for _ in range(20)]
        for t in threads:
            t.join(30)
        assert not errors, errors
        assert results == [True] * 20, results
        assert playlists == [200] * 20


def test_a_client_that_leaves_mid_cut_costs_nothing():
    with Wubd(base_dir=BASE) as wubd:
        path = f"/cut/db/source.ts?start={iso(T0)}&end={iso(T0 + 6 * S)}"
        with socket.create_connection(("127.0.0.1", wubd.port)) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            s.recv(1000)  # the head and a little of the body, then gone
        again = get(wubd.url + path)
        assert again.status == 200 and again.body == b"".join(MEDIA[0:6])


def video_frames(data, suffix):
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as f:
        f.write(data)
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
                          "stream=nb_read_frames", "-of", "csv=p=0", f.name], capture_output=True, text=True)
    os.unlink(f.name)
    return int(out.stdout.split()[0])  # MPEG-TS lists the stream again under its program


def test_full_cuts_are_exact_and_playable():
    with Wubd(base_dir=BASE) as wubd:
        for kind, content_type, suffix in (("mpegts", "video/mp2t", ".ts"), ("mp4", "video/mp4", ".mp4")):
            r = get(cut_url(wubd, start=iso(T0 + S / 2), end=iso(T0 + 5 * S), type=kind))
            assert r.status == 200 and r.headers["content-type"] == content_type, r
            assert "content-length" not in r.headers  # streamed as ffmpeg writes it
            frames = video_frames(r.body, suffix)
            assert abs(frames - 270) <= 1, (kind, frames)  # 9.0 s at 30 fps, within one frame
            assert_playable(r.body)


def test_fast_cuts_trim_the_ends_and_copy_the_middle():
    with Wubd(base_dir=BASE) as wubd:
        cases = [  # (start, end) in seconds from T0, expected frames at 30 fps
            (1.0, 9.0, 240),  # both ends trimmed, three segments copied
            (0.5, 1.5, 30),   # inside one segment: one ffmpeg run trims both ends
            (2.0, 6.0, 120),  # on segment boundaries: nothing to trim, bytes copied
        ]
        for start, end, expected in cases:
            seconds = datetime.timedelta(seconds=1)
            r = get(cut_url(wubd, start=iso(T0 + start * seconds), end=iso(T0 + end * seconds), type="fast"))
            assert r.status == 200 and r.headers["content-type"] == "video/mp2t", r
            frames = video_frames(r.body, ".ts")
            assert abs(frames - expected) <= 1, (start, end, frames)
            assert_playable(r.body)
        # experimental=true is fast; a range on segment boundaries is the segments' bytes.
        untrimmed = get(cut_url(wubd, start=iso(T0 + 2 * S), end=iso(T0 + 3 * S), experimental="true"))
        assert untrimmed.body == MEDIA[2], "copied as bytes"


def test_ffmpeg_failing_before_any_byte_is_a_500_with_the_reason():
    base = tempfile.mkdtemp(prefix="wubd-cut-bad-")
    for i in range(3):
        write_segment(base, "db", "junk", T0 + i * S, b"this is not video at all" * 100)
    with Wubd(base_dir=base) as wubd:
        r = get(f"{wubd.url}/cut/db/junk.ts?start={iso(T0)}&end={iso(T0 + 3 * S)}&type=mpegts")
        assert r.status == 500 and "ffmpeg exited" in r.text, r
        assert "ffmpeg:" in wubd.log()  # its stderr went to the cut logger


def children_of(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_a_client_leaving_a_full_cut_kills_ffmpeg_at_once():
    import time
    with Wubd(base_dir=BASE) as wubd:
        path = f"/cut/db/source.ts?start={iso(T0)}&end={iso(T0 + 6 * S)}&type=mp4"
        s = socket.create_connection(("127.0.0.1", wubd.port))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        deadline = time.monotonic() + 5
        while not children_of(wubd.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert children_of(wubd.proc.pid), "ffmpeg never started"
        s.close()
        gone_by = time.monotonic() + 1
        while children_of(wubd.proc.pid) and time.monotonic() < gone_by:
            time.sleep(0.01)
        assert not children_of(wubd.proc.pid), "ffmpeg outlived its client by more than 1 s"
        assert "client gone; killing ffmpeg" in wubd.log()


def test_too_many_full_cuts_get_503_with_retry_after():
    with Wubd("--max-full-cuts", "1", base_dir=BASE) as wubd:
        path = f"/cut/db/source.ts?start={iso(T0)}&end={iso(T0 + 6 * S)}&type=mp4"
        with socket.create_connection(("127.0.0.1", wubd.port)) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            import time
            deadline = time.monotonic() + 5
            while not children_of(wubd.proc.pid) and time.monotonic() < deadline:
                time.sleep(0.01)
            r = get(wubd.url + path)
            assert r.status == 503 and r.headers.get("retry-after") == "5", r
            assert get(cut_url(wubd, start=iso(T0), end=iso(T0 + S))).status == 200  # rough is not capped


def test_head_of_an_encoding_cut_starts_nothing():
    import time
    from harness import metric
    with Wubd("--max-full-cuts", "2", "--shutdown-timeout", "2", base_dir=BASE) as wubd:
        for kind, content_type in [("mp4", "video/mp4"), ("mpegts", "video/mp2t"), ("fast", "video/mp2t"),
                                   ("smart", "video/mp2t")] * 2:
            path = f"/cut/db/source.ts?start={iso(T0 + S / 2)}&end={iso(T0 + 5 * S)}&type={kind}"
            head = http("HEAD", wubd.url + path)
            assert head.status == 200 and head.body == b"", (kind, head)
            assert head.headers["content-type"] == content_type, head.headers
            assert head.headers.get("transfer-encoding") == "chunked", head.headers  # as the GET streams
            assert kind != "mp4" or head.headers["content-disposition"].endswith('.mp4"'), head.headers
            assert not children_of(wubd.proc.pid), "a HEAD started ffmpeg"
        assert metric(wubd, "wubd_cuts_active") == 0
        # the errors a GET would get, without a body
        assert http("HEAD", wubd.url + f"/cut/db/source.ts?start={iso(T0 + 11 * S)}&end={iso(T0 + 14 * S)}"
                                       "&type=mp4").status == 406
        # slots are all free: a real encoding cut still runs
        r = get(wubd.url + f"/cut/db/source.ts?start={iso(T0)}&end={iso(T0 + 2 * S)}&type=mpegts")
        assert r.status == 200 and len(r.body) > 1000, r
        started = time.monotonic()
    assert time.monotonic() - started < 3, "SIGTERM took too long"


def test_sigterm_during_encoding_cuts_exits_within_the_shutdown_timeout():
    import time
    wubd = Wubd("--shutdown-timeout", "1", base_dir=BASE)
    sockets = []
    try:
        for kind in ["mp4", "mpegts", "fast", "smart"]:
            s = socket.create_connection(("127.0.0.1", wubd.port))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(f"GET /cut/db/source.ts?start={iso(T0)}&end={iso(T0 + 5 * S)}&type={kind} HTTP/1.1\r\n"
                      "Host: x\r\n\r\n".encode())
            sockets.append(s)  # and never read: the cuts wait on their clients
        wait_for(lambda: metric(wubd, "wubd_cuts_active") == 4, 5, "the four cuts to run")
        started = time.monotonic()
        code = wubd.stop(timeout=10)
        assert code == 0, wubd.log()
        assert time.monotonic() - started < 3, time.monotonic() - started
        assert not children_of(wubd.proc.pid)
    finally:
        for s in sockets:
            s.close()


if __name__ == "__main__":
    run_tap([
        test_rough_cut_is_the_covering_segments_bytes,
        test_parameters_errors_and_holes,
        test_ranges_are_cut_back_to_back_in_order,
        test_twenty_parallel_rough_cuts_while_serving_playlists,
        test_a_client_that_leaves_mid_cut_costs_nothing,
        test_full_cuts_are_exact_and_playable,
        test_fast_cuts_trim_the_ends_and_copy_the_middle,
        test_ffmpeg_failing_before_any_byte_is_a_500_with_the_reason,
        test_a_client_leaving_a_full_cut_kills_ffmpeg_at_once,
        test_too_many_full_cuts_get_503_with_retry_after,
        test_head_of_an_encoding_cut_starts_nothing,
        test_sigterm_during_encoding_cuts_exits_within_the_shutdown_timeout,
    ])
