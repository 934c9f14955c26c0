"""The operator's console on a real socket: every command against a running daemon
(a downloader on the fake origin, a backfiller on a stalling peer), JSON answers,
cancel and loglevel taking effect live, and clients that misbehave: garbage, a 1 MB
line, one that never reads."""
import datetime
import json
import os
import socket
import stat
import subprocess
import tempfile
import threading
import time

from fake_peer import FakePeer
from fixtures import segment_hash
from harness import WUBD, Wubd, get, metric, run_tap, wait_for, wait_for_metric
from origin import FakeOrigin
from test_downloader import FAST


class Session:
    """One console connection; `ask` sends a line and returns the answer before the
    next prompt."""

    def __init__(self, path=None, port=None):
        if path:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.connect(path)
        else:
            self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(10)
        self.buffer = b""
        self.banner = self._until_prompt()

    def _until_prompt(self):
        while b"> " not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError(self.buffer)
            self.buffer += data
        answer, _, self.buffer = self.buffer.partition(b"> ")
        return answer.decode()

    def ask(self, line):
        self.sock.sendall(line.encode() + b"\n")
        return self._until_prompt()

    def ask_json(self, line):
        return json.loads(self.ask("json " + line))

    def close(self):
        self.sock.close()


class StallingPeer:
    """A peer that lists one segment and then never sends its body: a transfer that
    stays InProgress until someone cancels it."""

    def __init__(self):
        hour = time.strftime("%Y-%m-%dT%H", time.gmtime(time.time() - 3600))
        name = f"10:00.000000-2.0-full-{segment_hash(b'never sent')}.ts"
        listings = {"/files": ["s"], "/files/s": ["v"], "/files/s/v": [hour], f"/files/s/v/{hour}": [name]}
        self.release = threading.Event()
        release = self.release

        def answer(handler, path, query):
            if path in listings:
                return 200, json.dumps(listings[path]).encode()
            handler.send_response(200)
            handler.send_header("Content-Length", "1000")
            handler.end_headers()
            handler.wfile.write(b"x")
            handler.wfile.flush()
            release.wait(30)
            return None

        self.peer = FakePeer(answer)
        self.url = self.peer.url

    def stop(self):
        self.release.set()
        self.peer.stop()


def test_every_command_on_a_unix_socket():
    base = tempfile.mkdtemp(prefix="wubd-console-")
    sock_path = os.path.join(tempfile.mkdtemp(prefix="wubd-console-sock-"), "console.sock")
    peer = StallingPeer()
    try:
        with FakeOrigin("--speed", "1") as origin:
            with Wubd("--download", f"live={origin.url}/master.m3u8", *FAST, "--peer", peer.url,
                      "--recent-cutoff", "0", "--fill-wait", "600", "--full-fill-wait", "600",
                      "--console", f"unix:{sock_path}", "--logger-level", "http=info", base_dir=base) as w:
                mode = os.stat(sock_path).st_mode
                assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600, oct(mode)
                s = Session(path=sock_path)
                assert "console" in s.banner and "help" in s.banner
                help_text = s.ask("help")
                for command in ("status", "streams", "workers", "getters", "transfers", "cancel", "peers",
                                "backfill", "refresh", "loglevel", "config", "quit"):
                    assert f"\n{command} " in help_text, (command, help_text)
                status = s.ask_json("status")
                assert status["ok"] and status["version"] and "downloader" in status["roles"], status
                assert "backfiller" in status["roles"] and status["console_sessions"] == "1", status
                wait_for_metric(w, "wubd_segments_downloaded_total", 2, 15, type="full")
                streams = s.ask_json("streams")["rows"]
                assert streams[0]["stream"] == "live" and streams[0]["state"] == "live", streams
                workers = s.ask_json("workers")["rows"]
                assert {r["variant"] for r in workers} >= {"source", "480p"} or len(workers) >= 2, workers
                assert all(r["state"] in ("polling", "replacing", "retiring") for r in workers), workers
                assert "stream" in s.ask("getters")
                text = s.ask("workers")
                assert text.splitlines()[0].split() == ["stream", "variant", "worker", "url_age", "state",
                                                        "getters", "last_segment"], text
                # The peer's segment hangs InProgress: cancel it by its /jobs id.
                wait_for(lambda: any(r["state"] == "InProgress" and r["source"] == peer.url
                                     for r in s.ask_json(f"transfers InProgress {peer.url}")["rows"]),
                         15, "the stalled transfer")
                transfer = s.ask_json(f"transfers InProgress {peer.url}")["rows"][0]
                assert s.ask_json(f"cancel {transfer['id']}")["ok"]
                jobs = json.loads(get(w.url + f"/jobs?state=Cancelled&source={peer.url}").text)
                assert [j["id"] for j in jobs] == [int(transfer["id"])], jobs
                assert "is not queued or running" in s.ask(f"cancel {transfer['id']}")
                assert "not a transfer id" in s.ask("cancel x")
                assert f"cancelled transfer {transfer['id']}" in w.log()
                peers = s.ask_json("peers")["rows"]
                assert peers[0]["peer"] == peer.url, peers
                backfill = s.ask("backfill")
                assert peer.url in backfill and ("full pass started" in backfill or "already running" in backfill)
                assert "no such peer" in s.ask("backfill http://nowhere:1")
                fetches = metric(w, "wubd_playlist_fetches_total", stream="live", kind="master")
                assert s.ask_json("refresh live")["ok"]
                wait_for(lambda: metric(w, "wubd_playlist_fetches_total", stream="live", kind="master") > fetches,
                         5, "the master playlist fetched now")
                assert "no such stream" in s.ask("refresh nope")
                # loglevel: the http logger at info logs no request; at debug it does, at once.
                get(w.url + "/files?before")
                assert "GET /files?before" not in w.log()
                assert s.ask_json("loglevel http debug")["ok"]
                get(w.url + "/files?after")
                wait_for(lambda: "GET /files?after" in w.log(), 5, "a request logged at debug")
                assert "unknown log level" in s.ask("loglevel http loud")
                assert "unknown logger" in s.ask("loglevel nosuch debug")
                assert "console#1 unix: loglevel: http now at debug" in w.log()
                config = s.ask_json("config")["config"]
                assert "console=" in config.replace(" ", "") and "peer=" in config.replace(" ", ""), config
                assert "unknown command" in s.ask("frobnicate")
                s.sock.sendall(b"quit\n")
                assert b"bye" in s.sock.recv(1000)
                s.close()
            assert not os.path.exists(sock_path)  # removed at exit
    finally:
        peer.stop()


def test_misbehaving_clients_cost_nothing():
    with Wubd("--console", "127.0.0.1:0", base_dir=tempfile.mkdtemp(prefix="wubd-console-")) as w:
        console_port = int(w.log().split("console listening on 127.0.0.1:")[1].split()[0])
        # Garbage: binary, control bytes, telnet negotiation.
        garbage = Session(port=console_port)
        assert "unknown command" in garbage.ask("\xff\xfb\x01\x00\x07 ls -la")
        # A 1 MB line: one error line and a disconnect.
        big = socket.create_connection(("127.0.0.1", console_port))
        big.settimeout(10)
        try:
            big.sendall(b"a" * (1 << 20) + b"\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = b""
        try:
            while True:
                data = big.recv(65536)
                if not data:
                    break
                received += data
        except (ConnectionResetError, socket.timeout):
            pass
        assert b"line longer than 4096 bytes" in received, received[-200:]
        # A client that asks and never reads: it is dropped, the loop never waits on it.
        silent = socket.create_connection(("127.0.0.1", console_port))
        silent.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            for _ in range(3000):
                silent.sendall(b"help\n" * 20)
        except (BrokenPipeError, ConnectionResetError):
            pass
        # Meanwhile everyone else is answered at once.
        started = time.monotonic()
        assert get(w.url + "/files").status == 200
        assert garbage.ask_json("status")["ok"]
        assert time.monotonic() - started < 1
        wait_for(lambda: garbage.ask_json("status")["console_sessions"] == "1", 10, "the silent client dropped")
        garbage.close()
        silent.close()
        big.close()


def test_remote_console_needs_a_flag():
    result = subprocess.run([WUBD, "--console", "0.0.0.0:0"], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2 and "--console-allow-remote" in result.stderr, result.stderr
    with Wubd("--console", "0.0.0.0:0", "--console-allow-remote", base_dir=tempfile.mkdtemp()) as w:
        assert "console listening on 0.0.0.0:" in w.log()


if __name__ == "__main__":
    run_tap([test_every_command_on_a_unix_socket,
             test_misbehaving_clients_cost_nothing,
             test_remote_console_needs_a_flag])
