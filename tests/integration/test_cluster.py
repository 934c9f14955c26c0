"""wubd in a wubloader cluster: tombstones, chat batches, extras and node files, in the
shapes wubloader's code writes and asks for (its restreamer, backfiller and chat
archiver), between real wubd nodes and against a peer that answers as wubloader's
restreamer does."""
import datetime
import json
import os
import tempfile
import urllib.parse

from fake_peer import FakePeer
from fixtures import make_segments, segment_hash, write_segment
from harness import Wubd, get, metric, run_tap, wait_for, wait_for_metric

BACKFILL = ["--fill-wait", "1", "--full-fill-wait", "2", "--recent-cutoff", "0"]


def in_the_last_hour():
    """10 minutes into the previous hour: old enough for any cutoff, inside a recent
    pass, and with room for a few minutes of files in the same hour directory."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.replace(minute=10, second=0, microsecond=0) - datetime.timedelta(hours=1)


def touch(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").close()


def tombstone_of(relative):
    """wubloader's tombstone path for a segment or batch: the extension swapped."""
    return os.path.splitext(relative)[0] + ".tombstone"


def write_batch(base_dir, stream, start, messages):
    """A chat batch as wubloader's chat archiver writes it: HOUR/MM:SS-HASH.json."""
    data = "\n".join(json.dumps(m, separators=(",", ":"), sort_keys=True) for m in messages).encode()
    hour = start.strftime("%Y-%m-%dT%H")
    relative = f"{stream}/chat/{hour}/{start.strftime('%M:%S')}-{segment_hash(data)}.json"
    os.makedirs(os.path.join(base_dir, os.path.dirname(relative)), exist_ok=True)
    with open(os.path.join(base_dir, relative), "wb") as f:
        f.write(data)
    return relative


def read(base_dir, relative):
    with open(os.path.join(base_dir, relative), "rb") as f:
        return f.read()


def test_tombstones_are_honoured_listed_and_spread():
    a_dir, b_dir = tempfile.mkdtemp(prefix="wubd-ts-a-"), tempfile.mkdtemp(prefix="wubd-ts-b-")
    start = in_the_last_hour()
    data = make_segments(6)
    paths = [write_segment(a_dir, "s", "v", start + datetime.timedelta(seconds=2 * i), d) for i, d in enumerate(data)]
    deleted, ours = paths[2], paths[4]
    touch(os.path.join(a_dir, tombstone_of(deleted)))  # deleted on A: the file is still beside it
    touch(os.path.join(b_dir, tombstone_of(ours)))     # deleted on B before B ever had it
    hour = paths[0].split("/")[2]
    with Wubd(base_dir=a_dir) as a:
        # Listings: hidden unless asked for, as wubloader's restreamer answers.
        listing = json.loads(get(f"{a.url}/files/s/v/{hour}").text)
        assert os.path.basename(deleted) not in listing and os.path.basename(paths[1]) in listing, listing
        assert len(listing) == 5, listing
        with_tombstones = json.loads(get(f"{a.url}/files/s/v/{hour}?tombstones=true").text)
        assert sorted(with_tombstones) == sorted(listing + [os.path.basename(tombstone_of(deleted))]), with_tombstones
        assert json.loads(get(f"{a.url}/files/s/v/{hour}?tombstones=False").text) == listing
        bad = get(f"{a.url}/files/s/v/{hour}?tombstones=maybe")
        assert bad.status == 400 and "tombstones must be one of: true, false" in bad.text, bad
        # The segment itself is gone for every reader.
        gone = get(f"{a.url}/segments/{deleted}")
        assert gone.status == 404 and "tombstone" in gone.text, gone
        assert get(f"{a.url}/segments/{paths[1]}").body == data[1]
        playlist = get(f"{a.url}/playlist/s/v.m3u8").text
        assert os.path.basename(deleted) not in playlist and playlist.count("#EXTINF") == 5, playlist
        assert "#EXT-X-DISCONTINUITY" in playlist, playlist
        span = f"start={(start + datetime.timedelta(seconds=1)).isoformat()}&end=" \
               f"{(start + datetime.timedelta(seconds=9)).isoformat()}".replace("+00:00", "Z")
        for kind in ("rough", "fast", "smart"):
            cut = get(f"{a.url}/cut/s/v.ts?type={kind}&{span}")
            assert cut.status == 406 and "holes" in cut.text, (kind, cut)
        rough = get(f"{a.url}/cut/s/v.ts?type=rough&{span}&allow_holes=true")
        assert rough.status == 200 and rough.body == data[0] + data[1] + data[3] + data[4], len(rough.body)
        with Wubd("--peer", a.url, *BACKFILL, base_dir=b_dir) as b:
            wait_for_metric(b, "wubd_backfill_files_total", 1, 15, kind="tombstone")
            wait_for(lambda: all(os.path.exists(os.path.join(b_dir, p)) for p in (paths[0], paths[1], paths[3],
                                                                                  paths[5])),
                     15, "B to copy the live segments")
            wait_for_metric(b, "wubd_backfill_passes_total", 1, 10, remote=a.url, kind="full", result="ok")
            # The tombstone spread (empty, as wubloader writes one) and its segment did not.
            assert read(b_dir, tombstone_of(deleted)) == b""
            assert not os.path.exists(os.path.join(b_dir, deleted))
            # B's own tombstone keeps A's copy out, pass after pass.
            wait_for_metric(b, "wubd_backfill_listing_requests_total", 12, 10, remote=a.url)
            assert not os.path.exists(os.path.join(b_dir, ours))
            assert metric(b, "wubd_backfill_errors_total") == 0, b.log()
            # A wubloader peer copying from B gets the tombstones, not the segments.
            on_b = json.loads(get(f"{b.url}/files/s/v/{hour}?tombstones=true").text)
            assert os.path.basename(tombstone_of(deleted)) in on_b and os.path.basename(deleted) not in on_b
            assert os.path.basename(tombstone_of(ours)) in on_b and os.path.basename(ours) not in on_b
        # A tombstone made while A runs deletes its segment for readers as soon as A's
        # watched listing sees it.
        assert get(f"{a.url}/segments/{paths[5]}").body == data[5]
        touch(os.path.join(a_dir, tombstone_of(paths[5])))
        wait_for(lambda: get(f"{a.url}/segments/{paths[5]}").status == 404, 10, "the new tombstone to delete it")
        assert "tombstone" in get(f"{a.url}/segments/{paths[5]}").text


def test_chat_batches_are_copied_and_never_video():
    a_dir, b_dir = tempfile.mkdtemp(prefix="wubd-chat-a-"), tempfile.mkdtemp(prefix="wubd-chat-b-")
    start = in_the_last_hour()
    for i, d in enumerate(make_segments(2)):
        write_segment(a_dir, "s", "source", start + datetime.timedelta(seconds=2 * i), d)
    batches = [write_batch(a_dir, "s", start + datetime.timedelta(minutes=m),
                           [{"time": 1.0 + m, "time_range": 0, "command": "PRIVMSG", "params": ["#s", f"hi {m}"]}])
               for m in range(3)]
    touch(os.path.join(a_dir, tombstone_of(batches[2])))  # merged away or deleted
    with Wubd(base_dir=a_dir) as a:
        master = get(f"{a.url}/playlist/s.m3u8").text
        assert "source" in master and "chat" not in master, master
        chat_playlist = get(f"{a.url}/playlist/s/chat.m3u8")
        assert chat_playlist.status == 404 and "not a video variant" in chat_playlist.text, chat_playlist
        cut = get(f"{a.url}/cut/s/chat.ts?start={start.isoformat()}&end="
                  f"{(start + datetime.timedelta(minutes=1)).isoformat()}".replace("+00:00", "Z"))
        assert cut.status == 404, cut
        hour = batches[0].split("/")[2]
        listing = json.loads(get(f"{a.url}/files/s/chat/{hour}").text)
        expected = [os.path.basename(b) for b in batches[:2]]
        assert listing == expected, listing
        served = get(f"{a.url}/segments/{batches[0]}")
        assert served.status == 200 and served.headers["content-type"] == "application/json", served
        assert served.body == read(a_dir, batches[0])
        with Wubd("--peer", a.url, *BACKFILL, base_dir=b_dir) as b:
            wait_for_metric(b, "wubd_backfill_files_total", 2, 15, kind="chat_batch")
            for batch in batches[:2]:
                assert read(b_dir, batch) == read(a_dir, batch), batch
            assert not os.path.exists(os.path.join(b_dir, batches[2]))
            assert read(b_dir, tombstone_of(batches[2])) == b""
            assert "chat" not in get(f"{b.url}/playlist/s.m3u8").text


def lay_out_emotes(base_dir):
    """What wubloader's chat archiver leaves under emotes/: ID/THEME-SCALE files."""
    files = {"25/dark-1.0": b"GIF89a kappa", "25/light-2.0": b"\x89PNG kappa 2x",
             "emotesv2_0a1b/dark-3.0": b"\x89PNG big"}
    for relative, data in files.items():
        path = os.path.join(base_dir, "emotes", relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    # Not extras: hidden, being written (wubloader's atomic_write), and a symlink out.
    touch(os.path.join(base_dir, "emotes", "25", ".hidden"))
    touch(os.path.join(base_dir, "emotes", "25", "dark-4.0.0b1c2d3e-0000-4000-8000-000000000000.temp"))
    os.symlink("/etc/passwd", os.path.join(base_dir, "emotes", "25", "passwd"))
    return {f"emotes/{k}": v for k, v in files.items()}


def test_extras_are_served_copied_and_never_a_stream():
    a_dir, b_dir, c_dir = (tempfile.mkdtemp(prefix=f"wubd-extras-{n}-") for n in "abc")
    start = in_the_last_hour()
    for i, d in enumerate(make_segments(2)):
        write_segment(a_dir, "s", "source", start + datetime.timedelta(seconds=2 * i), d)
    emotes = lay_out_emotes(a_dir)
    with Wubd(base_dir=a_dir) as a:
        listing = json.loads(get(f"{a.url}/extras/emotes").text)
        assert listing == sorted(k[len("emotes/"):] for k in emotes), listing
        assert json.loads(get(f"{a.url}/extras/nothing-here").text) == []
        for relative, data in emotes.items():
            served = get(f"{a.url}/segments/{relative}")
            assert served.status == 200 and served.body == data, (relative, served)
        for bad, status in (("/segments/emotes/25/passwd", 404), ("/segments/emotes/25/.hidden", 403),
                            ("/extras/..", 403), ("/segments/emotes/../s", 403)):
            assert get(a.url + bad).status == status, bad
        assert json.loads(get(f"{a.url}/files").text) == ["s"]
        assert get(f"{a.url}/playlist/emotes.m3u8").status == 404
        with Wubd("--peer", a.url, "--backfill-extras", "emotes", *BACKFILL, base_dir=b_dir) as b, \
                Wubd("--peer", a.url, *BACKFILL, base_dir=c_dir) as c:
            wait_for_metric(b, "wubd_backfill_files_total", len(emotes), 15, kind="extra")
            for relative, data in emotes.items():
                assert read(b_dir, relative) == data, relative
            assert not os.path.exists(os.path.join(b_dir, "emotes", "25", "passwd"))
            # C is not told to copy extras: it copies the stream only, and asks nothing of emotes.
            wait_for_metric(c, "wubd_segments_backfilled_total", 2, 15)
            wait_for_metric(c, "wubd_backfill_passes_total", 1, 10, remote=a.url, kind="full", result="ok")
            assert not os.path.exists(os.path.join(c_dir, "emotes"))
            for node in (b, c):
                assert metric(node, "wubd_backfill_errors_total") == 0, node.log()


def wubloader_restreamer(base_dir):
    """A peer answering as wubloader's restreamer does (its list_* functions and static
    /segments): every directory under /files, `emotes` included, and a 500 for an hour
    listing of something that is a file (os.listdir raises NotADirectoryError). The
    requests it got are in its `requests`."""
    requests = []

    def answer(handler, path, query):
        requests.append(handler.path)
        path = urllib.parse.unquote(path)  # as Flask decodes it
        parts = [p for p in path.split("/") if p]
        local = os.path.join(base_dir, *parts[1:])
        if parts and parts[0] == "files" and len(parts) <= 4:
            try:
                names = [n for n in os.listdir(local) if not n.startswith(".")]
            except FileNotFoundError:
                names = []
            except NotADirectoryError:
                return 500, b"Internal Server Error"
            if len(parts) == 4:
                tombstones = {os.path.splitext(n)[0] for n in names if n.endswith(".tombstone")}
                names = [n for n in names if os.path.splitext(n)[0] not in tombstones and
                         n.endswith((".ts", ".json"))] + \
                        ([n for n in names if n.endswith(".tombstone")] if "tombstones=true" in query else [])
            return 200, json.dumps(names).encode()
        if parts and parts[0] == "segments" and os.path.isfile(local):
            return 200, read(base_dir, os.path.join(*parts[1:]))
        return 404, b"not found"

    peer = FakePeer(answer)
    peer.requests = requests
    return peer


def test_pulling_from_a_wubloader_node_never_takes_emotes_for_a_stream():
    src, dst = tempfile.mkdtemp(prefix="wubd-wl-src-"), tempfile.mkdtemp(prefix="wubd-wl-dst-")
    start = in_the_last_hour()
    data = make_segments(3)
    paths = [write_segment(src, "s", "source", start + datetime.timedelta(seconds=2 * i), d) for i, d in enumerate(data)]
    touch(os.path.join(src, tombstone_of(paths[1])))
    batch = write_batch(src, "s", start, [{"time": 1.0, "time_range": 0, "command": "PRIVMSG"}])
    lay_out_emotes(src)
    # Another extras directory wubd was not told about: never listed as hours.
    os.makedirs(os.path.join(src, "static", "css"))
    touch(os.path.join(src, "static", "css", "site.css"))
    peer = wubloader_restreamer(src)
    try:
        with Wubd("--peer", peer.url, *BACKFILL, base_dir=dst) as node:
            wait_for_metric(node, "wubd_segments_backfilled_total", 2, 15)
            wait_for_metric(node, "wubd_backfill_files_total", 1, 15, kind="tombstone")
            wait_for_metric(node, "wubd_backfill_files_total", 1, 15, kind="chat_batch")
            wait_for_metric(node, "wubd_backfill_passes_total", 1, 10, remote=peer.url, kind="full", result="ok")
            assert metric(node, "wubd_backfill_errors_total") == 0, node.log()
            assert read(dst, paths[0]) == data[0] and read(dst, batch) == read(src, batch)
            assert not os.path.exists(os.path.join(dst, paths[1]))
            assert not any(r.startswith("/files/emotes") for r in peer.requests), peer.requests
            assert not any(r.startswith("/files/static/css/") for r in peer.requests), peer.requests
            assert any("?tombstones=true" in r for r in peer.requests), peer.requests
    finally:
        peer.stop()


def test_a_wubloader_node_file_names_peers():
    a_dir, b_dir, dst = (tempfile.mkdtemp(prefix=f"wubd-nodes-{n}-") for n in ("a", "b", "dst"))
    start = in_the_last_hour()
    data = make_segments(2)
    write_segment(a_dir, "s", "v", start, data[0])
    write_segment(b_dir, "s", "v", start + datetime.timedelta(seconds=2), data[1])
    with Wubd(base_dir=a_dir) as a, Wubd(base_dir=b_dir) as b:
        nodes = tempfile.NamedTemporaryFile("w", suffix=".nodes", delete=False)
        nodes.write(f"# name url, as wubloader's --node-file\nalpha {a.url}\n\n{b.url}\n"
                    f"archive-box-3 http://127.0.0.1:1  # this node: skipped by name\n")
        nodes.close()
        with Wubd("--peers-file", nodes.name, "--node-name", "archive-box-3", *BACKFILL, base_dir=dst) as node:
            wait_for_metric(node, "wubd_segments_backfilled_total", 1, 15, remote=a.url)
            wait_for_metric(node, "wubd_segments_backfilled_total", 1, 15, remote=b.url)
            assert metric(node, "wubd_backfill_listing_requests_total", remote="http://127.0.0.1:1") == 0
            assert metric(node, "wubd_backfill_errors_total") == 0, node.log()
        os.unlink(nodes.name)


if __name__ == "__main__":
    run_tap([test_tombstones_are_honoured_listed_and_spread,
             test_chat_batches_are_copied_and_never_video,
             test_extras_are_served_copied_and_never_a_stream,
             test_pulling_from_a_wubloader_node_never_takes_emotes_for_a_stream,
             test_a_wubloader_node_file_names_peers])
