#!/usr/bin/env python3
"""HTTP/1.1 behaviour of the real wubd: keep-alive, pipelining, limits, timeouts, the
connection cap, clients that vanish, and shutdown while a response is in progress."""
import datetime
import json
import os
import socket
import tempfile
import time

from fixtures import parse_time, write_segment
from harness import Wubd, assert_cors, get, metric, parse_responses, raw_exchange, read_response, run_tap, wait_for

BASE = tempfile.mkdtemp(prefix="wubd-http-")
BIG = os.urandom(1 << 20) * 48  # 48 MiB: far more than socket buffers hold
BIG_PATH = write_segment(BASE, "db", "source", parse_time("2026-11-21T04:00:00.000000"), BIG)
SMALL = b"small segment bytes"
write_segment(BASE, "db", "source", parse_time("2026-11-21T04:00:02.000000"), SMALL)


def request(path, method="GET", extra=""):
    return f"{method} {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode()


def test_keep_alive_serves_several_requests_on_one_connection():
    with Wubd(base_dir=BASE) as w:
        with socket.create_connection(("127.0.0.1", w.port), timeout=5) as s:
            for _ in range(3):
                s.sendall(request("/files"))
                status, headers, body = read_response(s)
                assert status == 200 and json.loads(body) == ["db"], body
                assert headers["connection"] == "keep-alive"


def test_pipelined_requests_are_answered_in_order():
    with Wubd(base_dir=BASE) as w:
        data = raw_exchange(w.port, request("/files/db") + request("/nope") + request("/files", "HEAD")
                            + request("/files", extra="Connection: close\r\n"))
        responses = parse_responses(data, head_only=(2,))
        assert [r[0] for r in responses] == [200, 404, 200, 200], responses
        assert json.loads(responses[0][2]) == ["source"]
        assert responses[2][2] == b"" and responses[2][1]["content-length"] == "6"  # HEAD: length, no body
        assert json.loads(responses[3][2]) == ["db"] and responses[3][1]["connection"] == "close"


def test_http_1_0_gets_its_answer_and_the_connection_closes():
    with Wubd(base_dir=BASE) as w:
        data = raw_exchange(w.port, b"GET /files HTTP/1.0\r\n\r\n")
        (status, headers, body), = parse_responses(data)
        assert status == 200 and body == b'["db"]' and headers["connection"] == "close", data


def test_limits_answer_with_clear_statuses():
    with Wubd(base_dir=BASE) as w:
        cases = [
            (request("/files", extra="X-Big: " + "a" * 17000 + "\r\n"), 431, b"header fields too large"),
            (request("/files?" + "a" * 9000), 414, b"URL too long"),
            (b"GARBAGE\r\n\r\n", 400, b"malformed request"),
            (b"GET /files HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", 400, b"malformed request"),
        ]
        for raw, status, message in cases:
            data = raw_exchange(w.port, raw)  # returns only once the server closed
            (got, headers, body), = parse_responses(data)
            assert got == status and message in body, (status, data[:300])
            assert headers["connection"] == "close"
            assert_cors(headers)
        assert get(w.url + "/files").status == 200  # still serving


def test_idle_connections_are_closed():
    with Wubd("--idle-timeout", "0.3", base_dir=BASE) as w:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", w.port), timeout=5) as s:
            assert s.recv(1) == b""  # closed by the server, no bytes
        assert time.monotonic() - started < 3
        with socket.create_connection(("127.0.0.1", w.port), timeout=5) as s:
            s.sendall(b"GET /files HTTP/1.1\r\n")  # a request that never completes
            assert s.recv(1) == b""


def test_trickling_requests_meet_a_deadline_and_others_are_answered_meanwhile():
    # 256 clients each send one byte of a request head a second: every byte resets the
    # idle timer, but the whole head has a deadline (here the idle timeout, 2 s).
    with Wubd("--idle-timeout", "2", base_dir=BASE) as w:
        head = request("/files")
        trickling = [socket.create_connection(("127.0.0.1", w.port), timeout=5) for _ in range(256)]
        started = time.monotonic()
        latencies = []
        for second in range(7):
            for s in trickling:
                try:
                    s.send(head[second:second + 1])
                except OSError:
                    pass  # closed by the server: expected once the deadline passed
            before = time.monotonic()
            assert get(w.url + "/files").status == 200  # a legitimate client, answered meanwhile
            latencies.append(time.monotonic() - before)
            time.sleep(max(0.0, started + second + 1 - time.monotonic()))
        answers = []
        for s in trickling:
            s.settimeout(2)
            try:
                data = b""
                while chunk := s.recv(4096):
                    data += chunk
            except (socket.timeout, ConnectionResetError):
                data = b"still open"
            answers.append(data)
            s.close()
        assert all(a.startswith(b"HTTP/1.1 408 ") and b"request head not received within 2.0 s" in a
                   for a in answers), {a[:80] for a in answers}
        assert max(latencies) < 0.5, latencies
        assert 'status="408"' in get(w.url + "/metrics").text


def test_request_bodies_have_a_deadline_and_a_size_limit():
    with Wubd("--body-timeout", "1", base_dir=BASE) as w:
        with socket.create_connection(("127.0.0.1", w.port), timeout=5) as s:
            s.sendall(b"GET /files HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
            started = time.monotonic()
            data = b""
            for _ in range(10):
                try:
                    s.send(b"x")  # a byte of body every 0.3 s: never 100 bytes in time
                except OSError:
                    break
                time.sleep(0.3)
            s.settimeout(3)
            try:
                while chunk := s.recv(4096):
                    data += chunk
            except ConnectionResetError:
                pass
            assert data.startswith(b"HTTP/1.1 408 ") and b"request body not received within 1.0 s" in data, data
            assert time.monotonic() - started < 3
        data = raw_exchange(w.port, b"GET /files HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
        (status, headers, body), = parse_responses(data)
        assert status == 413 and b"request body too large" in body, data
        chunked = raw_exchange(w.port, b"GET /files HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                               + b"10000\r\n" + b"y" * 0x10000 + b"\r\n" + b"10000\r\n" + b"y" * 0x10000 + b"\r\n")
        assert chunked.startswith(b"HTTP/1.1 413 "), chunked[:200]
        small = raw_exchange(w.port, b"GET /files HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                             b"Connection: close\r\n\r\nhello")
        assert parse_responses(small)[0][0] == 200, small


def test_connections_over_the_cap_get_503():
    with Wubd("--max-connections", "2", base_dir=BASE) as w:
        held = [socket.create_connection(("127.0.0.1", w.port), timeout=5) for _ in range(2)]
        try:
            for s in held:  # make sure both are accepted before the third arrives
                s.sendall(request("/files"))
                assert read_response(s)[0] == 200
            data = raw_exchange(w.port, request("/files"))
            (status, headers, body), = parse_responses(data)
            assert status == 503 and headers.get("retry-after") == "1", data
        finally:
            for s in held:
                s.close()
        # Room again once the server has seen them go. Polling the gauge raced with the
        # poll's own connection (counted, closed, not yet reaped); a request that gets
        # in is what "room again" means.
        wait_for(lambda: get(w.url + "/files").status == 200, 5, "the held connections to close")


def test_a_client_that_vanishes_mid_download_costs_nothing():
    with Wubd(base_dir=BASE) as w:
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", w.port), timeout=5) as s:
                s.sendall(request("/segments/" + BIG_PATH))
                assert s.recv(65536).startswith(b"HTTP/1.1 200")
        # Only the connection asking remains.
        wait_for(lambda: metric(w, "wubd_http_connections") == 1, 5, "the vanished clients' connections to close")
        r = get(w.url + "/segments/" + BIG_PATH)
        assert r.status == 200 and r.body == BIG  # and whole files still stream


def test_sigterm_with_a_response_in_progress_exits_cleanly():
    w = Wubd("--shutdown-timeout", "1", base_dir=BASE)
    s = socket.create_connection(("127.0.0.1", w.port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(request("/segments/" + BIG_PATH))
    assert s.recv(1024).startswith(b"HTTP/1.1 200")  # then stop reading: the server must wait
    idle = socket.create_connection(("127.0.0.1", w.port), timeout=5)
    # Both accepted (the check's own connection counts too).
    wait_for(lambda: metric(w, "wubd_http_connections") >= 3, 5, "both connections to be accepted")
    started = time.monotonic()
    code = w.stop(timeout=10)
    elapsed = time.monotonic() - started
    log = w.log()
    s.close()
    idle.close()
    assert code == 0, log
    assert 0.5 <= elapsed < 4, elapsed  # waited for the response, up to the deadline
    assert "shutdown deadline passed" in log and "stopped" in log, log
    assert "handles left open" not in log, log


def test_sigterm_when_idle_exits_at_once():
    w = Wubd(base_dir=BASE)
    assert get(w.url + "/files").status == 200
    started = time.monotonic()
    assert w.stop() == 0
    assert time.monotonic() - started < 1, time.monotonic() - started
    assert "handles left open" not in w.log()


def test_strict_versions_hosts_and_transfer_encoding():
    """RFC 9110/9112, as nginx answers: a major version other than 1 is 505, a
    version that is not digit.digit 400; HTTP/1.1 without a Host, or any request with
    two, is 400; Transfer-Encoding on HTTP/1.0 is 400. Each gets a message saying which
    rule, and the connection closes. HTTP/1.2 to 1.9 are HTTP/1.1, answered as 1.1."""
    cases = [
        (b"GET /files HTTP/2.0\r\nHost: x\r\n\r\n", 505, "HTTP/2.0 is not supported"),
        (b"GET /files HTTP/9.9\r\nHost: x\r\n\r\n", 505, "HTTP/1.0 and HTTP/1.1"),
        (b"GET /files HTTP/1.x\r\nHost: x\r\n\r\n", 400, "malformed request"),
        (b"GET /files HTTP/11.1\r\nHost: x\r\n\r\n", 400, "malformed request"),
        (b"GET /files HTTP/1.5\r\nConnection: close\r\n\r\n", 400, "missing Host header"),
        (b"GET /files HTTP/1.1\r\nConnection: close\r\n\r\n", 400, "missing Host header"),
        (b"GET /files HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one Host header"),
        (b"GET /files HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one Host header"),
        (b"GET /files HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
         "Transfer-Encoding in an HTTP/1.0 request"),
    ]
    with Wubd(base_dir=BASE) as w:
        for data, status, says in cases:
            answer = raw_exchange(w.port, data)
            (got, headers, body), = parse_responses(answer)
            assert got == status and says in body.decode(), (data, answer[:300])
        # HTTP/1.0 needs no Host; HTTP/1.1 with one Host is answered as before.
        (status, _, _), = parse_responses(raw_exchange(w.port, b"GET /files HTTP/1.0\r\n\r\n"))
        assert status == 200
        # A later 1.x is 1.1: answered 200 as HTTP/1.1, kept alive (two requests, one connection).
        for minor in (b"2", b"9"):
            request = b"GET /files HTTP/1." + minor + b"\r\nHost: x\r\n\r\n"
            answer = raw_exchange(w.port, request + request[:-2] + b"Connection: close\r\n\r\n")
            assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
            assert [status for status, _, _ in parse_responses(answer)] == [200, 200], answer[:300]
        assert get(w.url + "/files").status == 200


def test_strict_header_lines_methods_and_targets():
    """RFC 9112/9110 as nginx reads them: obsolete line folding and whitespace before a
    header's colon are 400; a method that is a token but not GET/HEAD/OPTIONS (`get`
    included: methods are case-sensitive) is 405 with Allow; absolute-form targets are
    routed by their path (RFC 9112 3.2.2: a server MUST accept them), `*` is OPTIONS's
    alone; an HTTP/0.9 line is answered at once, not left waiting for headers."""
    close = b"Connection: close\r\n\r\n"
    cases = [
        (b"GET /files HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n" + close, 400, "obsolete line folding"),
        (b"GET /files HTTP/1.1\r\nHost: x\r\nX-A: one\r\n\ttwo\r\n" + close, 400, "obsolete line folding"),
        (b"GET /files HTTP/1.1\r\nHost : x\r\n" + close, 400, "whitespace between the header name host"),
        (b"GET /files HTTP/1.1\r\nHost: x\r\nX-Y  : 1\r\n" + close, 400, "whitespace between the header name x-y"),
        (b"get /files HTTP/1.1\r\nHost: x\r\n" + close, 405, "methods are case-sensitive"),
        (b"BREW /files HTTP/1.1\r\nHost: x\r\n" + close, 405, "method BREW not allowed"),
        (b"DELETE /files HTTP/1.1\r\nHost: x\r\n" + close, 405, "method DELETE not allowed"),
        (b"G(T /files HTTP/1.1\r\nHost: x\r\n" + close, 400, "not a token"),
        (b"GET http://x/files/../a HTTP/1.1\r\nHost: x\r\n" + close, 403, "Bad stream"),
        (b"GET ftp://x/files HTTP/1.1\r\nHost: x\r\n" + close, 400, "must be http or https"),
        (b"GET * HTTP/1.1\r\nHost: x\r\n" + close, 400, "only for OPTIONS"),
        (b"GET /\r\n", 505, "HTTP/0.9 is not supported"),
    ]
    with Wubd(base_dir=BASE) as w:
        for data, status, says in cases:
            answer = raw_exchange(w.port, data, timeout=2)
            (got, headers, body), = parse_responses(answer)
            assert got == status and says in body.decode(), (data, answer[:300])
            if status == 405:
                assert headers.get("allow") == "GET, HEAD, OPTIONS", headers
        for target in (b"http://x/files", b"HTTP://x:1/files?y=1"):
            (got, _, body), = parse_responses(raw_exchange(w.port, b"GET " + target + b" HTTP/1.1\r\nHost: y\r\n" + close))
            assert got == 200 and body == get(w.url + "/files").body, (target, got, body)
        (got, headers, _), = parse_responses(raw_exchange(w.port, b"OPTIONS * HTTP/1.1\r\nHost: x\r\n" + close))
        assert got == 204

        # The same bytes in pieces: a fold is found wherever the reads split it, and a
        # value merely split across reads is no fold.
        folded = b"GET /files HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n" + close
        for cut in (folded.index(b"one") + 3, folded.index(b"one") + 4, folded.index(b"one") + 5,
                    folded.index(b" two") + 1):
            (got, _, body), = parse_responses(raw_in_pieces(w.port, [folded[:cut], folded[cut:]]))
            assert got == 400 and b"obsolete line folding" in body, (cut, got, body)
        plain = b"GET /files HTTP/1.1\r\nHost: x\r\nX-A: one two\r\n" + close
        for cut in (plain.index(b"one") + 2, plain.index(b" two"), plain.index(b" two") + 1):
            (got, _, body), = parse_responses(raw_in_pieces(w.port, [plain[:cut], plain[cut:]]))
            assert got == 200, (cut, got, body)
        # An unknown method is judged once it is whole, however it was cut.
        for request, status in ((b"BREW /files HTTP/1.1\r\nHost: x\r\n" + close, 405),
                                (b"GET0\r\n\r\n", 400)):
            for cut in (1, 2, 3, 4):
                (got, _, body), = parse_responses(raw_in_pieces(w.port, [request[:cut], request[cut:]]))
                assert got == status, (request, cut, got, body)
        assert get(w.url + "/files").status == 200


def raw_in_pieces(port, pieces, gap=0.05):
    """Sends each piece as its own read for the server (a pause between them) and
    returns everything received until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in pieces:
            s.sendall(piece)
            time.sleep(gap)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


if __name__ == "__main__":
    run_tap([
        test_keep_alive_serves_several_requests_on_one_connection,
        test_pipelined_requests_are_answered_in_order,
        test_http_1_0_gets_its_answer_and_the_connection_closes,
        test_limits_answer_with_clear_statuses,
        test_idle_connections_are_closed,
        test_trickling_requests_meet_a_deadline_and_others_are_answered_meanwhile,
        test_request_bodies_have_a_deadline_and_a_size_limit,
        test_connections_over_the_cap_get_503,
        test_a_client_that_vanishes_mid_download_costs_nothing,
        test_sigterm_with_a_response_in_progress_exits_cleanly,
        test_sigterm_when_idle_exits_at_once,
        test_strict_versions_hosts_and_transfer_encoding,
        test_strict_header_lines_methods_and_targets,
    ])
