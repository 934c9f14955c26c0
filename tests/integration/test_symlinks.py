#!/usr/bin/env python3
"""The symlink rule in every role: below the base directory wubd follows no symbolic
link, so no byte outside it is served, listed, cut, or written through one. Symlinks
at every level (stream, variant, hour, file) point at real media outside the base."""
import datetime
import glob
import json
import os
import socket
import tempfile
import time
import urllib.parse

from fixtures import make_segments, parse_time, segment_name, write_segment
from harness import Wubd, get, http, metric, run_tap, wait_for
from origin import FakeOrigin

T0 = parse_time("2026-11-21T04:00:00.000000")
S = datetime.timedelta(seconds=2)
MEDIA = make_segments(12)
SECRET = MEDIA[11]  # real media, so that only the rule (not a parse error) keeps it out


def build():
    root = tempfile.mkdtemp(prefix="wubd-symlinks-")
    base = os.path.join(root, "base")
    outside = os.path.join(root, "outside")
    for i in range(6):
        write_segment(base, "db", "source", T0 + i * S, MEDIA[i])
    # Outside the base: a whole variant tree and a lone segment file.
    for i in range(6, 9):
        write_segment(outside, "ext", "source", T0 + datetime.timedelta(hours=1) + (i - 6) * S, SECRET)
    hour, lone_name = segment_name(T0 + 6 * S, data=SECRET)
    secret_file = os.path.join(outside, "lone.ts")
    with open(secret_file, "wb") as f:
        f.write(SECRET)
    src = os.path.join(base, "db", "source")
    os.symlink(secret_file, os.path.join(src, hour, lone_name))                 # a file
    os.symlink(os.path.join(outside, "ext", "source", "2026-11-21T05"), os.path.join(src, "2026-11-21T05"))  # an hour
    os.symlink(os.path.join(outside, "ext", "source"), os.path.join(base, "db", "linked"))  # a variant
    os.symlink(os.path.join(outside, "ext"), os.path.join(base, "ext"))          # a stream
    return base, outside, lone_name


BASE, OUTSIDE, LONE = build()


def assert_no_secret(body, what):
    assert SECRET[:4096] not in body, f"bytes from outside the base came back: {what}"


def test_reads_listings_and_playlists_never_follow_a_symlink():
    with Wubd(base_dir=BASE) as w:
        assert json.loads(get(w.url + "/files").body) == ["db"]
        assert json.loads(get(w.url + "/files/db").body) == ["source"]
        assert json.loads(get(w.url + "/files/db/source").body) == ["2026-11-21T04"]
        names = json.loads(get(w.url + "/files/db/source/2026-11-21T04").body)
        assert LONE not in names and len(names) == 6, names
        assert json.loads(get(w.url + "/files/ext/source/2026-11-21T05").body) == []
        assert json.loads(get(w.url + "/files/db/source/2026-11-21T05").body) == []
        lone = get(w.url + "/segments/db/source/2026-11-21T04/" + urllib.parse.quote(LONE))
        assert lone.status == 404, lone
        for path in ["/segments/db/source/2026-11-21T05/", "/segments/db/linked/2026-11-21T05/",
                     "/segments/ext/source/2026-11-21T05/"]:
            name = os.listdir(os.path.join(OUTSIDE, "ext", "source", "2026-11-21T05"))[0]
            r = get(w.url + path + urllib.parse.quote(name))
            assert r.status == 404, (path, r)
            assert_no_secret(r.body, path)
        for path in ["/playlist/ext/source.m3u8", "/playlist/db/linked.m3u8", "/playlist/ext.m3u8"]:
            assert get(w.url + path).status == 404, path
        playlist = get(w.url + "/playlist/db/source.m3u8?start=2026-11-21T04:00:00Z&end=2026-11-21T05:00:10Z").text
        assert "2026-11-21T05" not in playlist and urllib.parse.quote(LONE) not in playlist, playlist
        master = get(w.url + "/playlist/db.m3u8").text
        assert "linked" not in master, master
        assert "a symbolic link" in w.log()


def test_no_cut_type_reads_through_a_symlink():
    with Wubd(base_dir=BASE) as w:
        for kind in ["rough", "fast", "smart", "mpegts"]:
            for start, end in [("04:00:00", "04:00:16"), ("05:00:00", "05:00:06")]:
                r = get(f"{w.url}/cut/db/source.ts?start=2026-11-21T{start}Z&end=2026-11-21T{end}Z"
                        f"&allow_holes=true&type={kind}")
                assert_no_secret(r.body, (kind, start))
                if start == "05:00:00":
                    assert r.status == 406, (kind, r)  # the symlinked hour holds nothing
        for kind in ["rough", "mpegts"]:
            r = get(f"{w.url}/cut/ext/source.ts?start=2026-11-21T05:00:00Z&end=2026-11-21T05:00:06Z&type={kind}")
            assert r.status == 404, (kind, r)


def test_a_file_swapped_for_a_symlink_mid_cut_is_not_read():
    # A rough cut streams files one at a time as the client reads. A file replaced by
    # a symlink after the cut was planned is refused when its turn comes: the body is
    # cut short, and the secret never leaves.
    base = tempfile.mkdtemp(prefix="wubd-swap-")
    big = MEDIA[0] * 40  # big enough that the client's socket buffers hold one file at most
    paths = [write_segment(base, "db", "source", T0 + i * S, big) for i in range(4)]
    with Wubd(base_dir=base) as w:
        with socket.create_connection(("127.0.0.1", w.port)) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            s.sendall(b"GET /cut/db/source.ts?start=2026-11-21T04:00:00Z&end=2026-11-21T04:00:08Z HTTP/1.1\r\n"
                      b"Host: x\r\n\r\n")
            first = s.recv(65536)
            assert b" 200 " in first.split(b"\r\n")[0], first[:200]
            last = os.path.join(base, paths[3])
            os.unlink(last)
            os.symlink(os.path.join(OUTSIDE, "lone.ts"), last)
            data = first
            s.settimeout(10)
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                data += chunk
        assert_no_secret(data, "swapped file")
        assert len(data) < 4 * len(big), "the body did not stop at the symlink"


def test_writers_never_create_anything_through_a_symlink():
    # The downloader's stream directory and the backfiller's hour directory are
    # symlinks out of the base: nothing may appear outside.
    root = tempfile.mkdtemp(prefix="wubd-write-")
    out = os.path.join(root, "outside")
    os.makedirs(out)
    dl_base = os.path.join(root, "dl")
    os.makedirs(dl_base)
    os.symlink(out, os.path.join(dl_base, "live"))
    with FakeOrigin("--speed", "4") as origin:
        with Wubd("--download", f"live={origin.url}/master.m3u8", "--playlist-interval", "0.25",
                  base_dir=dl_base) as w:
            # Segments arrive, and every write is refused: their transfers end in error.
            wait_for(lambda: len(json.loads(get(w.url + "/jobs?state=Errored").text)) >= 4, 20,
                     "segment writes to be refused")
            assert "symbolic link" in w.log()
    assert os.listdir(out) == [], os.listdir(out)

    peer_base = tempfile.mkdtemp(prefix="wubd-peer-")
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    for i in range(3):
        write_segment(peer_base, "db", "source", now + i * S, MEDIA[i])
    hour = now.strftime("%Y-%m-%dT%H")
    bf_base = os.path.join(root, "bf")
    os.makedirs(os.path.join(bf_base, "db", "source"))
    os.symlink(out, os.path.join(bf_base, "db", "source", hour))
    with Wubd(base_dir=peer_base) as peer:
        with Wubd("--peer", peer.url, "--fill-wait", "1", "--full-fill-wait", "2", "--recent-cutoff", "0",
                  base_dir=bf_base) as w:
            # All three segments fetched, and every write refused.
            wait_for(lambda: metric(w, "wubd_backfill_errors_total", reason="download") >= 3, 20,
                     "the backfiller's writes to be refused")
            assert "symbolic link" in w.log()
    assert os.listdir(out) == [], os.listdir(out)
    assert glob.glob(os.path.join(bf_base, "*", "*", "*", "*.ts")) == []


if __name__ == "__main__":
    run_tap([
        test_reads_listings_and_playlists_never_follow_a_symlink,
        test_no_cut_type_reads_through_a_symlink,
        test_a_file_swapped_for_a_symlink_mid_cut_is_not_read,
        test_writers_never_create_anything_through_a_symlink,
    ])
