"""The fake origin (tools/fake_origin) as a subprocess on a free loopback port, and
helpers to compare what it served with what wubd archived."""
import glob
import json
import os
import re
import signal
import subprocess
import tempfile
import time

FAKE_ORIGIN = os.environ.get("FAKE_ORIGIN", os.path.join(os.path.dirname(__file__), "../../build/tools/fake-origin"))


class FakeOrigin:
    def __init__(self, *args):
        self.dir = tempfile.mkdtemp(prefix="wubd-origin-")
        self.served_log = os.path.join(self.dir, "served.jsonl")
        self.log_path = os.path.join(self.dir, "origin.log")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen([FAKE_ORIGIN, "--listen", "127.0.0.1:0", "--served-log", self.served_log, *args],
                                     stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120  # the first run encodes its media
        while time.monotonic() < deadline:
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", self.log())
            if match:
                self.port = int(match.group(1))
                self.url = f"http://127.0.0.1:{self.port}"
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"fake-origin exited with {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.05)
        raise AssertionError("fake-origin did not start:\n" + self.log())

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def served(self):
        """Every body it served, as dicts (kind, path, variant, index, start, bytes, total, complete, fault)."""
        if not os.path.exists(self.served_log):
            return []
        with open(self.served_log) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise AssertionError("fake-origin did not exit after SIGTERM")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def archived(base_dir, stream):
    """{(variant, start): [(type, path)]} of every segment file under base_dir/stream."""
    found = {}
    for path in glob.glob(os.path.join(base_dir, stream, "*", "*", "*.ts")):
        variant = path.split(os.sep)[-3]
        hour = path.split(os.sep)[-2]
        name = os.path.basename(path)
        time_part, duration, kind, _ = name[:-3].split("-", 3)
        start = f"{hour}:{time_part}Z"
        found.setdefault((variant, start), []).append((kind, path))
    return found


def temp_files(base_dir):
    return [p for p in glob.glob(os.path.join(base_dir, "*", "*", "*", "*.ts")) if "-temp-" in os.path.basename(p)]
