"""Shared pieces of the integration tests: a TAP runner, the real wubd binary as a
subprocess on a free loopback port, and small HTTP helpers.

Every test runs the real binary against real files; nothing is mocked."""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

WUBD = os.environ.get("WUBD", os.path.join(os.path.dirname(__file__), "../../build/wubd"))


class Skip(Exception):
    """Raised by a test that cannot run here (say, without the right to mount a tmpfs);
    reported as TAP's SKIP with the reason, never as a pass."""


def run_tap(tests):
    """Runs test functions in order, printing TAP: one `ok`/`not ok` line each."""
    print(f"1..{len(tests)}", flush=True)
    failures = 0
    for number, test in enumerate(tests, 1):
        started = time.monotonic()
        try:
            test()
            print(f"ok {number} - {test.__name__} ({time.monotonic() - started:.2f}s)", flush=True)
        except Skip as skip:
            print(f"ok {number} - {test.__name__} # SKIP {skip}", flush=True)
        except Exception:  # noqa: BLE001 - every failure is reported, then the next test runs
            failures += 1
            print(f"not ok {number} - {test.__name__}", flush=True)
            for line in traceback.format_exc().splitlines():
                print(f"# {line}", flush=True)
            # meson shows a failed test's stderr, not its TAP comments: the reason
            # must reach a CI log too.
            print(f"{test.__name__} failed:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
    sys.exit(1 if failures else 0)


class Wubd:
    """A wubd process listening on 127.0.0.1 on a port it picked itself."""

    def __init__(self, *args, base_dir=None, env=None):
        self.base_dir = base_dir
        self.log_file = tempfile.NamedTemporaryFile(prefix="wubd-", suffix=".log", delete=False)
        listen = [] if "--listen" in args else ["--listen", "127.0.0.1:0"]
        cmd = [WUBD, *listen, "--log-level", "debug", *args]
        if base_dir:
            cmd += ["--base-dir", base_dir]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log_file,
                                     stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        self.port = self._wait_for_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def _wait_for_port(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", self.log())
            if match:
                return int(match.group(1))
            if self.proc.poll() is not None:
                raise AssertionError(f"wubd exited with {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.02)
        raise AssertionError("wubd did not start listening:\n" + self.log())

    def log(self):
        with open(self.log_file.name, errors="replace") as f:
            return f.read()

    def stop(self, timeout=10):
        """SIGTERM; returns the exit code (asserting it exits in time)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("wubd did not exit after SIGTERM:\n" + self.log())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        code = self.stop()
        log = self.log()
        os.unlink(self.log_file.name)
        if exc[0] is None:
            assert code == 0, f"wubd exited with {code}:\n{log}"


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def __repr__(self):
        return f"Response({self.status}, {self.text[:200]!r})"


def http(method, url, headers=None):
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


def get(url, headers=None):
    return http("GET", url, headers)


def free_port():
    """A loopback port free now, for a process that must be told its port before it
    starts (a peer's URL given to another node first)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metric(wubd, name, **labels):
    """The sum of a metric's samples on /metrics whose labels include `labels`."""
    total = 0.0
    for line in get(wubd.url + "/metrics").text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
    return total


def wait_for(condition, timeout, what):
    """Polls `condition` every 0.1 s until it is true, and returns what it returned;
    fails naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_metric(wubd, name, at_least, timeout, **labels):
    """Waits until a metric (summed over the samples whose labels include `labels`)
    reaches `at_least`; returns its value."""
    wait_for(lambda: metric(wubd, name, **labels) >= at_least, timeout,
             f"{name}{labels or ''} >= {at_least}")
    return metric(wubd, name, **labels)


def rss_mib(pid):
    """The resident memory of a process, in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def raw_exchange(port, data, read_until_close=True, timeout=5):
    """Sends raw bytes and returns everything received until the server closes (or
    the timeout passes, when read_until_close is False)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        s.settimeout(timeout)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except socket.timeout:
            if read_until_close:
                raise
        return b"".join(chunks)


def read_response(sock):
    """Reads one sized response from a socket: (status, headers, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed inside the head: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the body"
        body += chunk
    (status, headers, body), = parse_responses(head + b"\r\n\r\n" + body)
    return status, headers, body


def parse_responses(data, head_only=()):
    """Splits raw bytes into (status, headers, body) tuples of sized responses; the
    responses numbered in `head_only` answer HEAD requests and carry no body."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"incomplete response head: {data[:200]!r}"
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if len(out) in head_only else int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:length]))
        data = rest[length:]
    return out


def assert_cors(headers):
    expected = {
        "access-control-allow-origin": "*",
        "access-control-allow-credentials": "false",
        "access-control-allow-headers": "*",
        "access-control-allow-methods": "GET,POST,HEAD",
        "access-control-max-age": "86400",
    }
    for name, value in expected.items():
        assert headers.get(name) == value, f"{name}: {headers.get(name)!r} in {headers}"
