#!/usr/bin/env python3
"""Retention (README, "Retention"): --keep-hours and --keep-bytes delete whole hours,
oldest first, never a held range (--keep-range, the console's `lock`, a cut in
progress) nor the current hour; deletions are logged and counted, and the backfiller
does not copy back what retention deletes."""
import datetime
import json
import os
import socket
import tempfile
import time

from fixtures import write_segment
from harness import Wubd, get, metric, run_tap, wait_for, wait_for_metric
from test_console import Session

S = datetime.timedelta(seconds=2)
H = datetime.timedelta(hours=1)


def this_hour():
    return datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)


def hour_name(start):
    return start.strftime("%Y-%m-%dT%H")


def rfc3339(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def lay_out(base, stream, hours, segments=2, size=50_000):
    """`segments` contiguous segments at the start of each hour in `hours`."""
    for start in hours:
        for i in range(segments):
            write_segment(base, stream, "source", start + i * S, os.urandom(size))


def hours_on_disk(base, stream):
    directory = os.path.join(base, stream, "source")
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def test_keep_hours_deletes_whole_old_hours_but_not_a_locked_one():
    base = tempfile.mkdtemp(prefix="wubd-retention-")
    h0 = this_hour()
    lay_out(base, "db", [h0 - n * H for n in range(6, -1, -1)])
    lay_out(base, "other", [h0 - 6 * H, h0 - 5 * H])
    locked = h0 - 5 * H
    with Wubd("--keep-hours", "3", "--keep-range", f"db={rfc3339(locked + 10 * S)}/{rfc3339(locked + 20 * S)}",
              "--retention-interval", "0.5", base_dir=base) as w:
        # Wholly older than 3 hours: h0-4 and before (h0-3 ends less than 3 hours ago).
        wait_for(lambda: hours_on_disk(base, "db") == [hour_name(h0 - n * H) for n in (5, 3, 2, 1, 0)], 15,
                 "db's old hours deleted, the locked one kept")
        wait_for(lambda: hours_on_disk(base, "other") == [], 15, "other's old hours deleted")
        listing = json.loads(get(w.url + "/files/db/source").body)
        assert listing == hours_on_disk(base, "db"), listing  # the store followed at once
        log = w.log()
        for stream, hour in (("db", h0 - 6 * H), ("db", h0 - 4 * H), ("other", h0 - 5 * H)):
            line = f"retention: deleted {stream}/source/{hour_name(hour)} (2 files, 97.7 KiB): older than --keep-hours 3"
            assert line in log, log
        assert f"db/source/{hour_name(locked)}" not in log.split("retention: deleted")[-1]
        assert metric(w, "wubd_retention_deleted_hours_total", stream="db") == 2
        assert metric(w, "wubd_retention_deleted_hours_total", stream="other") == 2
        assert metric(w, "wubd_retention_deleted_bytes_total", stream="db") == 200_000
        # Playlists of what is left still work.
        r = get(w.url + f"/playlist/db/source.m3u8?start={rfc3339(h0 - 3 * H)}&end={rfc3339(h0 - 3 * H + 2 * S)}")
        assert r.status == 200 and "#EXT-X-ENDLIST" in r.text, r.text


def test_keep_bytes_deletes_the_oldest_hours_until_within_and_never_the_current_one():
    base = tempfile.mkdtemp(prefix="wubd-retention-")
    h0 = this_hour()
    lay_out(base, "db", [h0 - n * H for n in range(4, -1, -1)])  # 5 hours x 100 KB
    with Wubd("--keep-bytes", "250K", "--retention-interval", "0.5", base_dir=base) as w:
        # 500 KB, 256,000 allowed: the three oldest hours go, oldest first, and no more.
        wait_for(lambda: hours_on_disk(base, "db") == [hour_name(h0 - H), hour_name(h0)], 15, "the 3 oldest deleted")
        log = w.log()
        order = [log.index(f"deleted db/source/{hour_name(h0 - n * H)}") for n in (4, 3, 2)]
        assert order == sorted(order), "oldest first"
        assert "(2 files, 97.7 KiB): the archive over --keep-bytes 250K" in log, log
        wait_for(lambda: metric(w, "wubd_archive_bytes", stream="db") == 200_000, 5, "the archive's size")
        assert "every hour left is held or current" not in log
    with Wubd("--keep-bytes", "50K", "--retention-interval", "0.5", base_dir=base) as w:
        # Over even with the current hour alone: it stays, and the node says so once.
        wait_for(lambda: hours_on_disk(base, "db") == [hour_name(h0)], 15, "all but the current hour deleted")
        wait_for(lambda: "every hour left is held or current" in w.log(), 10, "the unmet limit said")
        passes = metric(w, "wubd_retention_passes_total")
        wait_for_metric(w, "wubd_retention_passes_total", passes + 2, 10)  # two more passes, no new line
        unmet = "retention: the archive is 100000, over --keep-bytes 50K, and every hour left is held or current"
        assert w.log().count(unmet) == 1, w.log()


def test_a_cut_in_progress_and_an_operators_lock_hold_their_hour():
    base = tempfile.mkdtemp(prefix="wubd-retention-")
    h0 = this_hour()
    old = h0 - 5 * H
    lay_out(base, "db", [old], segments=16, size=2_000_000)  # 32 MB: more than the socket buffers hold
    lay_out(base, "db", [h0])
    sock_path = os.path.join(tempfile.mkdtemp(prefix="wubd-retention-sock-"), "console.sock")
    with Wubd("--keep-hours", "1", "--retention-interval", "3600", "--console", f"unix:{sock_path}",
              "--keep-range", f"{rfc3339(old)}/{rfc3339(old + H)}", base_dir=base) as w:
        console = Session(path=sock_path)
        locks = console.ask_json("locks")["rows"]
        assert [(l["stream"], l["note"]) for l in locks] == [("*", "--keep-range")], locks
        extra = console.ask_json(f"lock db={rfc3339(old)}/{rfc3339(old + 60 * S)} editing the highlight")
        assert extra["ok"] and extra["locked"] == "2", extra
        wait_for(lambda: console.ask_json("retention")["last_result"].startswith("0 hours deleted"), 10,
                 "the first pass, which deletes nothing")
        # A slow client cuts the old hour and stops reading.
        client = socket.create_connection(("127.0.0.1", w.port))
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        query = f"start={rfc3339(old)}&end={rfc3339(old + 16 * S)}"
        client.sendall(f"GET /cut/db/source.ts?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        head = client.recv(4096)
        assert head.startswith(b"HTTP/1.1 200"), head
        for lock_id in ("1", "2"):
            assert console.ask_json(f"unlock {lock_id}")["ok"]
        assert console.ask_json("locks")["rows"] == []
        status = console.ask_json("retention run")
        assert status["cuts_holding"] == "1", status
        wait_for(lambda: console.ask_json("retention")["last_pass"] != status["last_pass"], 10, "the pass")
        assert hours_on_disk(base, "db") == [hour_name(old), hour_name(h0)], "the cut's hour is kept"
        client.close()
        wait_for(lambda: console.ask_json("retention")["cuts_holding"] == "0", 10, "the cut's hold released")
        console.ask("retention run")
        wait_for(lambda: hours_on_disk(base, "db") == [hour_name(h0)], 10, "deleted once the cut is over")
        assert "console#1 unix: unlock 2: retention may delete that range again" in w.log()
        bad = console.ask_json("lock db=yesterday/today")
        assert not bad["ok"] and "start" in bad["error"], bad
        console.close()


def test_the_backfiller_does_not_copy_back_what_retention_deletes():
    h0 = this_hour()
    base_a = tempfile.mkdtemp(prefix="wubd-retention-a-")
    lay_out(base_a, "db", [h0 - n * H for n in range(6, 0, -1)])  # 6 past hours, 2 segments each
    with Wubd(base_dir=base_a) as a:
        base_b = tempfile.mkdtemp(prefix="wubd-retention-b-")
        with Wubd("--peer", a.url, "--keep-hours", "3", "--retention-interval", "0.5", base_dir=base_b) as b:
            # The first pass is a recent one (the last 3 hours: h0-2 .. h0); the full pass
            # after it is the one that reaches h0-3, and the one that would copy back what
            # retention deletes: wait for it to end, not for the first pass.
            wait_for_metric(b, "wubd_backfill_passes_total", 1, 20, remote=a.url, kind="full", result="ok")
            # h0-3 .. h0-1 are kept (h0-3 ends less than 3 hours ago); older ones never fetched.
            assert hours_on_disk(base_b, "db") == [hour_name(h0 - n * H) for n in (3, 2, 1)], hours_on_disk(base_b, "db")
            assert metric(b, "wubd_segments_backfilled_total") == 6
            assert "retention: deleted" not in b.log()


def test_nothing_is_deleted_while_the_index_is_still_being_built():
    # Every directory read waits 250 ms (tools/slow_disk's shim), so the index of eight
    # hours takes about a second to build: retention must wait for it (an hour it has
    # not read would be missed, its bytes with it), then delete what is too old.
    base = tempfile.mkdtemp(prefix="wubd-retention-")
    h0 = this_hour()
    hours = [h0 - n * H for n in range(7, -1, -1)]
    lay_out(base, "db", hours)
    sock_path = os.path.join(tempfile.mkdtemp(prefix="wubd-retention-sock-"), "console.sock")
    shim = os.path.join(os.path.dirname(os.environ["WUBD"]), "tools", "libslow-disk.so")
    preload = {"LD_PRELOAD": shim, "SLOW_DISK_MS": "250",
               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
    with Wubd("--keep-hours", "2", "--retention-interval", "0.1", "--console", f"unix:{sock_path}",
              base_dir=base, env=preload) as w:
        console = Session(path=sock_path)
        waited = 0
        deadline = time.monotonic() + 20
        while metric(w, "wubd_store_index_directories_pending") > 0 and time.monotonic() < deadline:
            assert hours_on_disk(base, "db") == [hour_name(h) for h in hours], "deleted before the index was built"
            waited += console.ask_json("retention")["last_result"] == "waiting for the store's index"
            time.sleep(0.05)
        assert waited > 0, "retention never had to wait: the index was built before it could be checked"
        wait_for(lambda: hours_on_disk(base, "db") == [hour_name(h) for h in hours[-3:]], 15,
                 "the old hours deleted once the index is built")


def test_a_live_window_keeps_what_it_showed_for_as_long_as_it_is_long():
    """A segment that left a live window stays fetchable for the window's length (RFC
    8216 6.2.2: a player may still be behind): while the open-ended playlist is
    followed, retention keeps from a window's length before its head."""
    base = tempfile.mkdtemp(prefix="wubd-retention-")
    h0 = this_hour()
    lay_out(base, "db", [h0 - n * H for n in range(5, -1, -1)])  # h0-5 .. h0, 2 segments at each start
    sock_path = os.path.join(tempfile.mkdtemp(prefix="wubd-retention-sock-"), "console.sock")
    # The --keep-range holds everything until the window has been served once.
    with Wubd("--keep-hours", "1", "--max-playlist-hours", "2", "--retention-interval", "3600",
              "--console", f"unix:{sock_path}", "--keep-range", f"{rfc3339(h0 - 6 * H)}/{rfc3339(h0 + H)}",
              base_dir=base) as w:
        console = Session(path=sock_path)
        window = get(w.url + "/playlist/db/source.m3u8").text
        # The newest 2 hours of segments: h0-1's and h0's; the head is h0-1's first.
        assert hour_name(h0 - H) in window.split("/segments/")[1] and hour_name(h0 - 2 * H) not in window, window
        assert console.ask_json("unlock 1")["ok"]
        status = console.ask_json("retention run")
        wait_for(lambda: console.ask_json("retention")["last_pass"] != status["last_pass"], 10, "the pass")
        # --keep-hours 1 alone would leave h0-1 and h0; the window holds from 2 hours
        # before its head (h0-3) on.
        assert hours_on_disk(base, "db") == [hour_name(h0 - n * H) for n in (3, 2, 1, 0)], hours_on_disk(base, "db")
        console.close()


def test_bad_retention_flags_are_refused_naming_the_flag():
    import subprocess
    from harness import WUBD
    for args, flag in ((["--keep-hours", "0"], "--keep-hours"), (["--keep-hours", "db=x"], "--keep-hours"),
                       (["--keep-bytes", "5g"], "--keep-bytes"), (["--keep-range", "2026-11-21T04:00:00Z"], "--keep-range")):
        result = subprocess.run([WUBD, *args], capture_output=True, text=True, timeout=10)
        assert result.returncode == 2 and flag in result.stderr, (args, result.stderr)


if __name__ == "__main__":
    run_tap([
        test_keep_hours_deletes_whole_old_hours_but_not_a_locked_one,
        test_keep_bytes_deletes_the_oldest_hours_until_within_and_never_the_current_one,
        test_a_cut_in_progress_and_an_operators_lock_hold_their_hour,
        test_the_backfiller_does_not_copy_back_what_retention_deletes,
        test_nothing_is_deleted_while_the_index_is_still_being_built,
        test_a_live_window_keeps_what_it_showed_for_as_long_as_it_is_long,
        test_bad_retention_flags_are_refused_naming_the_flag,
    ])
