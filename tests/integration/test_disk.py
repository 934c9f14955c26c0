"""A disk that fills or fails. The downloader's store on a small tmpfs filled to the
brim (needs the right to mount a tmpfs: root, as in CI; skipped otherwise, saying so),
and writes failing with EIO through tools/slow_disk's LD_PRELOAD shim: writes fail with
one clear log line per stream and a metric, no `full` file holds wrong bytes, no temp
file piles up, and recording resumes by itself when the disk can write again. And a disk
that stalls every operation (the same shim) never holds a playlist or /metrics."""
import contextlib
import glob
import os
import re
import subprocess
import tempfile
import time
import urllib.request

import datetime

from fixtures import make_segments, segment_hash, write_segment
from harness import Skip, Wubd, metric, run_tap, wait_for, wait_for_metric
from origin import FakeOrigin

SHIM = os.path.join(os.path.dirname(os.environ["WUBD"]), "tools", "libslow-disk.so")
FAST = ["--playlist-interval", "0.25", "--master-interval", "0.5", "--retry-delay", "0.3",
        "--playlist-timeouts", "1,5", "--segment-header-timeouts", "1,5", "--segment-total-timeouts", "1.5,10"]


@contextlib.contextmanager
def mounted_tmpfs(size):
    """A tmpfs of `size` mounted on a fresh directory, unmounted and removed after."""
    directory = tempfile.mkdtemp(prefix="wubd-tmpfs-")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", directory],
                            capture_output=True, text=True)
    if result.returncode != 0:
        os.rmdir(directory)
        raise Skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", directory], check=False)
        os.rmdir(directory)


def segment_files(base, kind):
    return [p for p in glob.glob(os.path.join(base, "*", "*", "*", "*.ts")) if f"-{kind}-" in os.path.basename(p)]


def assert_said_once(log, phrase, error_text):
    """One error line with `phrase` and the error's words, and nothing else about the
    error above debug level: no line per file."""
    said = [line for line in log.splitlines() if phrase in line]
    assert len(said) == 1 and error_text in said[0] and " error " in said[0], said
    loud = [line for line in log.splitlines() if error_text in line and " debug " not in line]
    assert loud == said, loud[:5]


def assert_files_hash_to_their_names(base, kinds=("full", "partial")):
    for path in [p for kind in kinds for p in segment_files(base, kind)]:
        with open(path, "rb") as f:
            assert path.endswith(f"-{segment_hash(f.read())}.ts"), f"{path}: wrong bytes for its name"


def fill(directory):
    """Writes a filler file until the file system is full; returns its path."""
    path = os.path.join(directory, "filler")
    with open(path, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return path


def test_a_full_disk_fails_writes_once_per_stream_and_recording_resumes():
    with mounted_tmpfs("6m") as base, FakeOrigin("--speed", "4") as origin:
        with Wubd("--download", f"live={origin.url}/master.m3u8", *FAST, base_dir=base) as wubd:
            wait_for(lambda: len(segment_files(base, "full")) >= 4, 10, "the first full segments")
            filler = fill(base)
            failed = wait_for_metric(wubd, "wubd_segment_write_errors_total", 6, 10, stream="live", error="ENOSPC")
            # More segments fail meanwhile, and still only one line says so.
            wait_for_metric(wubd, "wubd_segment_write_errors_total", failed + 4, 10, stream="live", error="ENOSPC")
            assert_said_once(wubd.log(), "cannot write segments", "No space left on device")
            # No temp file piles up: at most the attempts in flight (two variants, two each).
            assert len(segment_files(base, "temp")) <= 4, segment_files(base, "temp")
            assert_files_hash_to_their_names(base)
            fulls_while_full = len(segment_files(base, "full"))

            os.unlink(filler)
            wait_for(lambda: "live: writing segments again" in wubd.log(), 10, "recording to resume")
            wait_for(lambda: len(segment_files(base, "full")) >= fulls_while_full + 4, 10, "new full segments")
        # After a clean stop, no temp file at all.
        assert segment_files(base, "temp") == []
        assert_files_hash_to_their_names(base)


def test_a_full_disk_fails_backfill_writes_once_per_stream_and_the_next_pass_heals():
    peer_base = tempfile.mkdtemp(prefix="wubd-disk-peer-")
    hour = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0) \
        - datetime.timedelta(hours=2)
    media = make_segments(4)
    for i in range(60):
        write_segment(peer_base, "bf", "source", hour + datetime.timedelta(seconds=2 * i), media[i % 4])
    with mounted_tmpfs("8m") as base:
        filler = fill(base)
        with Wubd(base_dir=peer_base) as peer, \
                Wubd("--peer", peer.url, "--fill-wait", "0.5", "--full-fill-wait", "1", "--recent-cutoff", "0",
                     base_dir=base) as node:
            wait_for_metric(node, "wubd_backfill_write_errors_total", 10, 10, stream="bf", error="ENOSPC")
            assert_said_once(node.log(), "cannot write backfilled files", "No space left on device")
            os.unlink(filler)
            wait_for(lambda: len(segment_files(base, "full")) == 60, 20, "every segment backfilled")
            assert "bf: writing backfilled files again" in node.log()
        assert segment_files(base, "temp") == []
        assert_files_hash_to_their_names(base)


def test_a_failing_disk_eio_is_said_once_and_recording_resumes():
    base = tempfile.mkdtemp(prefix="wubd-eio-")
    control = os.path.join(tempfile.mkdtemp(prefix="wubd-eio-control-"), "failing")
    preload = {"LD_PRELOAD": SHIM, "SLOW_DISK_FAIL_WHILE": control, "SLOW_DISK_ERRNO": "5",
               # An ASan wubd wants its runtime first among the preloads; the shim needs none.
               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
    with FakeOrigin("--speed", "4") as origin:
        with Wubd("--download", f"live={origin.url}/master.m3u8", *FAST, base_dir=base, env=preload) as wubd:
            wait_for(lambda: len(segment_files(base, "full")) >= 4, 10, "the first full segments")
            open(control, "w").close()
            wait_for_metric(wubd, "wubd_segment_write_errors_total", 6, 10, stream="live", error="EIO")
            assert_said_once(wubd.log(), "cannot write segments", "Input/output error")
            assert len(segment_files(base, "temp")) <= 4, segment_files(base, "temp")
            before = len(segment_files(base, "full"))
            os.unlink(control)
            wait_for(lambda: "live: writing segments again" in wubd.log(), 10, "recording to resume")
            wait_for(lambda: len(segment_files(base, "full")) >= before + 4, 10, "new full segments")
        assert segment_files(base, "temp") == []
        assert_files_hash_to_their_names(base)


def test_a_stalled_disk_never_holds_playlists_or_metrics():
    # Every file create, write, rename and directory read waits 300 ms (the shim): an
    # answer that waited on the disk even once would take that long. The loop must not.
    # (Slow, but not slower than the stream: 2 segments/s at about 4 operations each.)
    base = tempfile.mkdtemp(prefix="wubd-stall-")
    delay_ms = 300
    preload = {"LD_PRELOAD": SHIM, "SLOW_DISK_MS": str(delay_ms),
               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
    with FakeOrigin("--speed", "2") as origin:
        with Wubd("--download", f"live={origin.url}/master.m3u8", *FAST, base_dir=base, env=preload) as wubd:
            wait_for(lambda: len(segment_files(base, "full")) >= 3, 30, "the first full segments")
            playlist = wubd.url + "/playlist/live/source.m3u8"
            get_timed = lambda url: (lambda t0: (urllib.request.urlopen(url, timeout=10).read(),
                                                 time.monotonic() - t0))(time.monotonic())
            get_timed(playlist)  # the directories' first read waits on the disk, once
            first_count = None
            slowest = {"metrics": 0.0, "playlist": 0.0}
            for _ in range(30):
                body, took = get_timed(playlist)
                slowest["playlist"] = max(slowest["playlist"], took)
                count = body.count(b"#EXTINF")
                first_count = count if first_count is None else first_count
                _, took = get_timed(wubd.url + "/metrics")
                slowest["metrics"] = max(slowest["metrics"], took)
                time.sleep(0.1)
            assert slowest["playlist"] < delay_ms / 2000 and slowest["metrics"] < delay_ms / 2000, slowest
            assert count > first_count, f"the playlist did not follow the downloads: {first_count} -> {count}"
        assert segment_files(base, "temp") == []
        assert_files_hash_to_their_names(base)


if __name__ == "__main__":
    run_tap([test_a_full_disk_fails_writes_once_per_stream_and_recording_resumes,
             test_a_full_disk_fails_backfill_writes_once_per_stream_and_the_next_pass_heals,
             test_a_failing_disk_eio_is_said_once_and_recording_resumes,
             test_a_stalled_disk_never_holds_playlists_or_metrics])
