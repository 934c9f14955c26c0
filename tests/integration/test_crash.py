"""Crash consistency: a node downloading from the fake origin, backfilling from a peer
and serving cuts at once is SIGKILLed at random moments and restarted each time.
Afterwards every `full`, `partial` and `suspect` file hashes to its name, no `temp`
file is listed or served, and nothing that was `full` before a kill is lost."""
import datetime
import glob
import os
import random
import re
import tempfile
import threading
import time
import urllib.request

from fixtures import make_segments, segment_hash, write_segment
from harness import Wubd, free_port, get, run_tap, wait_for
from origin import FakeOrigin

KILLS = 22
FAST = ["--playlist-interval", "0.25", "--master-interval", "0.5", "--retry-delay", "0.3",
        "--playlist-timeouts", "1,5", "--segment-header-timeouts", "1,5", "--segment-total-timeouts", "1.5,10"]
BACKFILL = ["--fill-wait", "0.5", "--full-fill-wait", "1", "--recent-cutoff", "0"]


def segment_files(base):
    """(path, kind, hash in the name) of every segment file under base."""
    found = []
    for path in glob.glob(os.path.join(base, "*", "*", "*", "*.ts")):
        match = re.fullmatch(r"\d\d:\d\d\.\d+-[\d.]+-(\w+)-(.+)\.ts", os.path.basename(path))
        if match:
            found.append((path, match.group(1), match.group(2)))
    return found


class CutClient(threading.Thread):
    """Asks the node, whichever process is up, for fast and smart cuts of what it has."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{port}"
        self.stopping = threading.Event()
        self.cuts_begun = 0

    def run(self):
        while not self.stopping.is_set():
            try:
                hours = sorted(eval_json(self.url + "/files/live/source"))
                names = sorted(eval_json(f"{self.url}/files/live/source/{hours[-1]}"))
                first, last = [start_of(hours[-1], n) for n in (names[0], names[-1])]
                kind = random.choice(["fast", "smart"])
                query = f"start={iso(first + 0.5)}&end={iso(min(first + 12, last))}&type={kind}&allow_holes=true"
                with urllib.request.urlopen(f"{self.url}/cut/live/source.ts?{query}", timeout=5) as r:
                    self.cuts_begun += 1
                    while r.read(65536) and not self.stopping.is_set():
                        pass
            except Exception:  # the node is down, restarting, or has nothing yet
                time.sleep(0.05)


def eval_json(url):
    import json
    with urllib.request.urlopen(url, timeout=2) as r:
        return json.loads(r.read())


def start_of(hour, name):
    t = datetime.datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=datetime.timezone.utc).timestamp()
    minutes, seconds = name.split("-", 1)[0].split(":")
    return t + int(minutes) * 60 + float(seconds)


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


def test_sigkill_at_random_moments_loses_and_corrupts_nothing():
    seed = int(os.environ.get("CRASH_SEED", time.time()))
    rng = random.Random(seed)
    print(f"# seed {seed} (CRASH_SEED={seed} repeats this run)", flush=True)
    peer_base = tempfile.mkdtemp(prefix="wubd-crash-peer-")
    hour = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0) \
        - datetime.timedelta(hours=2)
    media = make_segments(6)
    for i in range(90):  # 3 minutes of an older hour for the backfiller to copy
        write_segment(peer_base, "live", "source", hour + datetime.timedelta(seconds=2 * i), media[i % len(media)])
    base = tempfile.mkdtemp(prefix="wubd-crash-")
    port = free_port()
    # Half the segments stall mid-body for a second, so that kills land mid-download.
    with FakeOrigin("--speed", "4", "--fault", "segment:stall:seconds=1:p=0.5") as origin, \
            Wubd(base_dir=peer_base) as peer:
        args = ["--listen", f"127.0.0.1:{port}", "--download", f"live={origin.url}/master.m3u8", *FAST,
                "--peer", peer.url, *BACKFILL]
        cuts = CutClient(port)
        cuts.start()
        full_before_a_kill = set()
        try:
            for _ in range(KILLS):
                node = Wubd(*args, base_dir=base)
                time.sleep(rng.uniform(0.2, 0.9))
                full_before_a_kill |= {path for path, kind, _ in segment_files(base) if kind == "full"}
                node.proc.kill()
                node.proc.wait()
                os.unlink(node.log_file.name)
            with Wubd(*args, base_dir=base) as node:
                # Serving after the last kill: no temp file is listed, none is served.
                old_hour = os.path.join(base, "live", "source", hour.strftime("%Y-%m-%dT%H"))
                wait_for(lambda: len(glob.glob(os.path.join(old_hour, "*-full-*.ts"))) == 90, 20,
                         "the peer's 90 segments backfilled")
                hours = eval_json(node.url + "/files/live/source")
                for h in hours:
                    names = eval_json(f"{node.url}/files/live/source/{h}")
                    assert not [n for n in names if "-temp-" in n], names
                for path, kind, _ in segment_files(base):
                    if kind == "temp":
                        relative = os.path.relpath(path, base)
                        assert get(f"{node.url}/segments/{relative}").status == 404, relative
        finally:
            cuts.stopping.set()
            cuts.join(5)
    assert cuts.cuts_begun >= 3, f"only {cuts.cuts_begun} cuts began: the kills did not land during cuts"
    files = segment_files(base)
    counts = {}
    for path, kind, name_hash in files:
        counts[kind] = counts.get(kind, 0) + 1
        if kind in ("full", "partial", "suspect"):
            with open(path, "rb") as f:
                assert segment_hash(f.read()) == name_hash, f"{path} does not hash to its name"
    lost = [p for p in full_before_a_kill if not os.path.exists(p)]
    assert not lost, f"full before a kill, gone after: {lost[:5]}"
    assert counts.get("full", 0) >= 90, counts  # the backfilled hour at least, and the live stream
    print(f"# {KILLS} kills; files after: {counts}; {cuts.cuts_begun} cuts begun", flush=True)
    assert counts.get("temp", 0) > 0, "no kill landed mid-download: the test proved nothing about temp files"


if __name__ == "__main__":
    run_tap([test_sigkill_at_random_moments_loses_and_corrupts_nothing])
