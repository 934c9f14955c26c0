#!/usr/bin/env python3
"""The command line of the real wubd: every bad value is one line naming the flag and
the value, exit code 2; listen addresses in every form; the base directory checked at
start."""
import os
import re
import socket
import subprocess
import tempfile

from harness import WUBD, Wubd, get, run_tap

BASE = tempfile.mkdtemp(prefix="wubd-flags-")


def run(*args, timeout=10):
    return subprocess.run([WUBD, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def test_bad_values_are_one_line_naming_the_flag_and_exit_2():
    cases = [
        (["--listen", ":99999999999"], "--listen", "99999999999"),
        (["--listen", "127.0.0.1:65536"], "--listen", "65536"),
        (["--listen", "nosuch.invalid:8000"], "--listen", "nosuch.invalid"),
        (["--listen", "::1:8000"], "--listen", "brackets"),
        (["--source-limit", "s=2,abc"], "--source-limit", "abc"),
        (["--source-limit", "s=0"], "--source-limit", "N >= 1"),
        (["--logger-level", "foo=debug"], "--logger-level", "foo"),
        (["--logger-level", "http=loud"], "--logger-level", "loud"),
        (["--log-level", "loud"], "--log-level", "loud"),
        (["--max-connections", "0"], "--max-connections", "greater than 0"),
        (["--max-connections", "lots"], "--max-connections", "lots"),
        (["--idle-timeout", "-2"], "--idle-timeout", "-2"),
        (["--max-playlist-hours", "0"], "--max-playlist-hours", "greater than 0"),
        (["--playlist-timeouts", "9,5"], "--playlist-timeouts", "9,5"),
        (["--backfill-hours", "last:abc"], "--backfill-hours", "abc"),
        (["--peer", "ftp://x"], "--peer", "ftp://x"),
        (["--download", "nourl"], "--download", "nourl"),
        (["--no-such-flag"], "--no-such-flag", ""),
    ]
    for args, flag, value in cases:
        result = run("--base-dir", BASE, "--listen", "127.0.0.1:0", *args) if args[0] != "--listen" \
            else run("--base-dir", BASE, *args)
        assert result.returncode == 2, (args, result.returncode, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (args, lines)  # one line, no traceback, no 300-digit range
        assert flag in lines[0] and value in lines[0] and len(lines[0]) < 300, (args, lines[0])
        assert "terminate called" not in result.stderr


def test_the_base_directory_is_checked_at_start():
    missing = os.path.join(BASE, "missing")
    a_file = os.path.join(BASE, "a-file")
    open(a_file, "w").close()
    read_only = tempfile.mkdtemp(prefix="wubd-ro-")
    os.chmod(read_only, 0o555)
    cases = [([missing], "No such file"), ([a_file], "not a directory")]
    if os.geteuid() != 0:  # root may write anywhere
        cases.append(([read_only, "--download", "s=http://127.0.0.1:9/m.m3u8"], "not writable"))
    for args, message in cases:
        result = run("--listen", "127.0.0.1:0", "--base-dir", *args)
        assert result.returncode == 2 and "--base-dir" in result.stderr and message in result.stderr, \
            (args, result.stderr)
    # Serving only, a read-only archive is fine.
    with Wubd(base_dir=read_only) as w:
        assert get(w.url + "/files").status == 200


def bound_address(log):
    return re.search(r"listening on http://(\S+?):(\d+)/", log).groups()


def test_listen_forms():
    # A name is resolved; ":PORT" is every interface, as it reads.
    with Wubd("--listen", "localhost:0", base_dir=BASE) as w:
        assert bound_address(w.log())[0] in ("127.0.0.1", "[::1]"), w.log()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([WUBD, "--listen", f":{port}", "--base-dir", BASE], stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert "listening on http://0.0.0.0:" in line, line
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            c.sendall(b"GET /files HTTP/1.0\r\n\r\n")
            assert c.recv(100).startswith(b"HTTP/1.1 200")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    run_tap([
        test_bad_values_are_one_line_naming_the_flag_and_exit_2,
        test_the_base_directory_is_checked_at_start,
        test_listen_forms,
    ])
