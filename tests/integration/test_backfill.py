"""The backfiller end to end: three real wubd nodes on 127.0.0.1 heal each other while
one downloads from the fake origin; a peer serving corrupt bytes, a dead peer and one
answering garbage JSON cost only their own transfers."""
import glob
import hashlib
import json
import os
import signal
import tempfile
import time

from fake_peer import FakePeer
from fixtures import segment_hash
from harness import Wubd, free_port, get, run_tap, wait_for_metric
from origin import FakeOrigin, temp_files
from test_downloader import FAST, metric, wait_for

BACKFILL = ["--fill-wait", "1", "--full-fill-wait", "2", "--recent-cutoff", "0"]
FAKE_HASH = segment_hash(b"what the name promises")


def bad_peer(kind):
    """A peer on a free port: `corrupt` lists a stream whose bytes never match their
    names; `garbage` answers listings with JSON that is not a list of strings."""
    hour = time.strftime("%Y-%m-%dT%H", time.gmtime(time.time() - 60))
    names = [f"{m:02d}:00.000000-2.0-full-{FAKE_HASH}.ts" for m in range(3)]
    listings = {"/files": ["ghost"], "/files/ghost": ["source"], "/files/ghost/source": [hour],
                f"/files/ghost/source/{hour}": names}

    def answer(handler, path, query):  # hour listings ask ?tombstones=true
        if kind == "garbage":
            return 200, b'{"streams": "ghost"}', "application/json"
        if path in listings:
            return 200, json.dumps(listings[path]).encode(), "application/json"
        if path.startswith("/segments/ghost/"):
            return 200, b"corrupt bytes " * 1000, "video/mp2t"
        return 404, b"not found"

    return FakePeer(answer)


def fulls(base_dir):
    """{relative path: bytes} of every full segment under base_dir."""
    out = {}
    for path in glob.glob(os.path.join(base_dir, "*", "*", "*", "*-full-*.ts")):
        with open(path, "rb") as f:
            out[os.path.relpath(path, base_dir)] = f.read()
    return out


def test_three_nodes_converge_and_bad_peers_cost_only_themselves():
    corrupt, garbage = bad_peer("corrupt"), bad_peer("garbage")
    dirs = {n: tempfile.mkdtemp(prefix=f"wubd-bf-{n}-") for n in "abc"}
    ports = {n: free_port() for n in "bc"}
    urls = {n: f"http://127.0.0.1:{ports[n]}" for n in "bc"}
    try:
        with FakeOrigin("--speed", "1") as origin:
            a = Wubd("--download", f"live={origin.url}/master.m3u8", *FAST, base_dir=dirs["a"])
            wait_for_metric(a, "wubd_segments_downloaded_total", 2, 15, type="full")
            # B starts late; its peers: A, C (not up yet), a dead port, and the two bad peers.
            b = Wubd("--listen", f"127.0.0.1:{ports['b']}", "--peer", a.url, "--peer", urls["c"],
                     "--peer", "http://127.0.0.1:1", "--peer", corrupt.url, "--peer", garbage.url,
                     "--peer", urls["b"], *BACKFILL, base_dir=dirs["b"])
            wait_for_metric(b, "wubd_segments_backfilled_total", 1, 15, remote=a.url)
            c = Wubd("--listen", f"127.0.0.1:{ports['c']}", "--peer", a.url, "--peer", urls["b"], *BACKFILL,
                     base_dir=dirs["c"])
            wait_for_metric(c, "wubd_segments_backfilled_total", 1, 15)
            c.proc.send_signal(signal.SIGKILL)  # C dies mid-run …
            c.proc.wait()
            # … and comes back; anything it was writing when it died is removed at start.
            c = Wubd("--listen", f"127.0.0.1:{ports['c']}", "--peer", a.url, "--peer", urls["b"], *BACKFILL,
                     "--temp-max-age", "0", base_dir=dirs["c"])
            wait_for_metric(c, "wubd_backfill_listing_requests_total", 1, 15, remote=a.url)
            wait_for_metric(a, "wubd_segments_downloaded_total", 20, 30, type="full")  # 10 per variant
        # The origin is gone: A's archive is final. Wait for full passes on B and C.
        target = set(fulls(dirs["a"]))
        assert len(target) >= 10, target
        wait_for(lambda: target <= set(fulls(dirs["b"])) and target <= set(fulls(dirs["c"])), 10,
                 "B and C to hold every full segment of A")
        for name in ("b", "c"):
            node_fulls = fulls(dirs[name])
            assert set(node_fulls) == target, set(node_fulls) ^ target
            for path, data in node_fulls.items():
                assert path.endswith(f"-full-{segment_hash(data)}.ts"), path
        # The corrupt peer's segments were fetched, refused, and left nowhere.
        assert metric(b, "wubd_hash_mismatches_total", remote=corrupt.url) >= 3
        assert not any(glob.glob(os.path.join(d, "ghost", "*", "*", "*.ts")) for d in dirs.values())
        assert metric(b, "wubd_backfill_errors_total", remote=garbage.url, reason="bad_listing") >= 1
        assert metric(b, "wubd_backfill_errors_total", remote="http://127.0.0.1:1", reason="listing") >= 1
        assert metric(b, "wubd_segments_backfilled_total", remote=a.url) > 0
        assert metric(b, "wubd_backfill_last_success_timestamp_seconds", remote=a.url) > time.time() - 60
        assert "is this node; not backfilling from it" in b.log()
        jobs = json.loads(get(b.url + f"/jobs?source={a.url}&state=Completed").text)
        assert jobs and all(j["source"] == a.url for j in jobs)
        for node in (a, b, c):
            assert node.stop() == 0, node.log()
        for d in dirs.values():
            assert not temp_files(d), temp_files(d)
    finally:
        corrupt.stop()
        garbage.stop()


def test_bad_backfill_flags_are_refused_with_a_reason():
    import subprocess
    from harness import WUBD
    cases = [(["--peer", "http://x", "--backfill-hours", "last:0"], "at least 1"),
             (["--peer", "http://x", "--backfill-hours", "2026-13"], "not an hour"),
             (["--peer", "http://x", "--recent-hours", "0"], "at least 1"),
             (["--peer", "http://x", "--backfill-order", "sideways"], "random, forward or reverse"),
             (["--source-limit", "http://x=0"], "N >= 1")]
    for args, message in cases:
        result = subprocess.run([WUBD, "--listen", "127.0.0.1:0", *args], capture_output=True, text=True, timeout=10)
        assert result.returncode == 2 and message in result.stderr, (args, result.returncode, result.stderr)


def test_explicit_hours_and_a_source_limit():
    """A full pass over an explicit list of hours fetches only those; --source-limit
    caps the peer at one download at a time."""
    from fixtures import make_segments, write_segment
    import datetime
    src = tempfile.mkdtemp(prefix="wubd-bf-src-")
    now = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
    old_hour, new_hour = now - datetime.timedelta(hours=5), now - datetime.timedelta(hours=1)
    segments = make_segments(4)
    for hour in (old_hour, new_hour):
        for i, data in enumerate(segments):
            write_segment(src, "s", "v", hour + datetime.timedelta(seconds=2 * i), data)
    with Wubd(base_dir=src) as peer:
        dst = tempfile.mkdtemp(prefix="wubd-bf-dst-")
        with Wubd("--peer", peer.url, "--recent-cutoff", "0", "--recent-hours", "1",
                  "--backfill-hours", old_hour.strftime("%Y-%m-%dT%H"), "--source-limit", f"{peer.url}=1,0.05",
                  base_dir=dst) as node:
            wait_for_metric(node, "wubd_segments_backfilled_total", 4, 10)  # the full pass's hour
            hours = sorted(os.listdir(os.path.join(dst, "s", "v")))
            assert hours == [old_hour.strftime("%Y-%m-%dT%H")], hours  # the recent hour has no data
            jobs = json.loads(get(node.url + "/jobs").text)
            assert len(jobs) == 4 and all(j["state"] == "Completed" for j in jobs), jobs
            starts = sorted(j["started_at"] for j in jobs)
            ends = sorted(j["finished_at"] for j in jobs)
            # One at a time, 50 ms apart: each starts after the previous one ended.
            assert all(starts[i + 1] >= ends[i] for i in range(3)), (starts, ends)


def test_a_no_op_pass_between_wubd_nodes_lists_no_hour():
    """A wubd peer answers each hour's digest (README, "Backfill by digest"): once two
    nodes hold the same hours, a full pass costs one request per variant."""
    from fixtures import make_segments, write_segment
    import datetime
    src = tempfile.mkdtemp(prefix="wubd-bf-src-")
    now = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
    hours = [now - datetime.timedelta(hours=n) for n in (6, 5, 4)]
    segments = make_segments(3)
    for variant in ("source", "480p"):
        for hour in hours:
            for i, data in enumerate(segments):
                write_segment(src, "s", variant, hour + datetime.timedelta(seconds=2 * i), data)
    with Wubd(base_dir=src) as peer:
        # The digest answer: count and sha256 of the sorted names, each followed by "\n".
        hour = hours[0].strftime("%Y-%m-%dT%H")
        get(peer.url + f"/files/s/source/{hour}")  # listed once: its digest is at hand
        digests = json.loads(get(peer.url + "/files/s/source?digest=true").text)
        names = sorted(os.listdir(os.path.join(src, "s", "source", hour)))
        expected = hashlib.sha256("".join(n + "\n" for n in names).encode()).hexdigest()
        assert digests[hour] == {"count": 3, "sha256": expected}, digests
        assert get(peer.url + "/files/s/source?digest=maybe").status == 400
        assert json.loads(get(peer.url + "/files/s/source").text) == sorted(h.strftime("%Y-%m-%dT%H") for h in hours)
        dst = tempfile.mkdtemp(prefix="wubd-bf-dst-")
        sock = os.path.join(tempfile.mkdtemp(prefix="wubd-bf-sock-"), "console.sock")
        with Wubd("--peer", peer.url, "--recent-cutoff", "0", "--console", f"unix:{sock}", base_dir=dst) as node:
            wait_for_metric(node, "wubd_segments_backfilled_total", 18, 15)
            wait_for(lambda: "full pass done" in node.log(), 10, "the first full pass")
            from test_console import Session
            console = Session(path=sock)
            console.ask("backfill")
            wait_for(lambda: node.log().count("full pass done") == 2, 10, "a second full pass")
            line = node.log().split("full pass done")[-1].splitlines()[0]
            # /files, /files/s and one digest request per variant; no hour listed.
            assert ": 4 listing requests, 6 hours the same by digest, 0 fetched" in line, line
            console.close()


def test_sigterm_mid_pass_exits_cleanly():
    """SIGTERM while a pass has downloads done and others still queued: every one left
    is abandoned, none is written, and the process exits 0 (a finished download's
    empty slot once crashed the shutdown)."""
    from fixtures import make_segments, write_segment
    import datetime
    src = tempfile.mkdtemp(prefix="wubd-bf-src-")
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=2)
    for i, data in enumerate(make_segments(8)):
        write_segment(src, "s", "v", start + datetime.timedelta(seconds=2 * i), data)
    with Wubd(base_dir=src) as peer:
        dst = tempfile.mkdtemp(prefix="wubd-bf-dst-")
        node = Wubd("--peer", peer.url, "--recent-cutoff", "0", "--source-limit", f"{peer.url}=1,0.4",
                    base_dir=dst)
        try:
            wait_for(lambda: metric(node, "wubd_segments_backfilled_total") >= 2, 10, "two segments backfilled")
        finally:
            code = node.stop()
            log = node.log()
            os.unlink(node.log_file.name)
        assert code == 0, f"wubd exited with {code}:\n{log}"
        assert 2 <= len(glob.glob(os.path.join(dst, "s", "v", "*", "*.ts"))) < 8
        assert temp_files(dst) == []


if __name__ == "__main__":
    run_tap([test_three_nodes_converge_and_bad_peers_cost_only_themselves,
             test_a_no_op_pass_between_wubd_nodes_lists_no_hour,
             test_bad_backfill_flags_are_refused_with_a_reason,
             test_explicit_hours_and_a_source_limit,
             test_sigterm_mid_pass_exits_cleanly])
