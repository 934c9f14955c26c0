"""A fake HTTP peer for the suites: a real server on a free loopback port, in a thread
of the test process, answering each GET with what the test's `answer` says. The peers
that misbehave (corrupt bytes, garbage listings, a stalled download) and the one that
answers as wubloader's restreamer are each an `answer` function over this."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakePeer:
    """`answer(handler, path, query)` returns (status, body) or (status, body,
    content_type), or None after writing the response itself through `handler` (a
    peer that stalls mid-body). `path` is the request's path, still percent-encoded;
    `query` what follows `?`. Stop it with stop(), or use it as a context manager."""

    def __init__(self, answer):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path, _, query = self.path.partition("?")
                reply = answer(self, path, query)
                if reply is None:
                    return
                status, body, *content_type = reply
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type[0])
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
