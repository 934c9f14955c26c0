// The curl-multi HTTP client on a real libuv loop, against our own HTTP server on
// loopback. Every test ends with uv_loop_close() == 0: no handle may leak.
#include "wubd/io/http_client.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>

#include "loop_test.h"
#include "wubd/io/http_server.h"

namespace wubd::io {
namespace http_client_test {

FetchRequest get(std::string url) {
  FetchRequest request;
  request.url = std::move(url);
  return request;
}

FetchRequest post(std::string url, std::string body) {
  FetchRequest request = get(std::move(url));
  request.method = "POST";
  request.body = std::move(body);
  return request;
}

FetchRequest with_timeouts(std::string url, std::uint64_t headers_ms, std::uint64_t total_ms) {
  FetchRequest request = get(std::move(url));
  request.headers_timeout_ms = headers_ms;
  request.total_timeout_ms = total_ms;
  return request;
}

class HttpClientTest : public LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    server_ =
        std::make_unique<HttpServer>(&loop_, [this](const HttpRequest& req, HttpResponse& res) { handle(req, res); });
    ASSERT_TRUE(server_->listen("127.0.0.1", 0).ok());
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
    client_ = std::make_unique<HttpClient>(&loop_);
  }

  void handle(const HttpRequest& req, HttpResponse& res) {
    ++requests_;
    if (req.path == "/big") {
      res.send(200, "application/octet-stream", std::string(3 << 20, 'x'));
    } else if (req.path == "/post") {
      res.send(200, "text/plain", req.method + " ok");
    } else if (req.path == "/never") {
      res.send_body(make_body({}));  // answers nothing: the client's timeout must fire
    } else if (req.path == "/trickle") {
      ++trickling_;
      res.send_body(make_body({[](BodyWriter& out) {
                                 out.begin(200, "text/plain", std::nullopt);
                                 out.write("first part ");
                               },
                               {},
                               [this] { --trickling_; },
                               false}));
    } else if (req.path == "/short") {
      res.send_body(make_body({[](BodyWriter& out) {
                                 out.begin(200, "text/plain", 100);  // promises 100 bytes, sends 10
                                 out.write("0123456789");
                                 out.fail(500, "the test breaks it off");
                               },
                               {},
                               {},
                               false}));
    } else {
      res.send_error(404, "no such thing");
    }
  }

  // Fetches a path and waits for the outcome; the body lands in `body`.
  FetchOutcome fetch(FetchRequest request, std::string& body) {
    FetchOutcome result;
    bool done = false;
    request.on_data = [&](std::string_view bytes) {
      body.append(bytes);
      return true;
    };
    request.on_done = [&](const FetchOutcome& outcome) {
      result = outcome;
      done = true;
    };
    client_->start(std::move(request));
    EXPECT_TRUE(spin_until([&] { return done; }));
    return result;
  }

  void TearDown() override {
    bool client_closed = false, server_closed = false;
    client_->close([&] { client_closed = true; });
    server_->close_all_now();  // the responses held back by /never and /trickle
    server_->close([&] { server_closed = true; });
    EXPECT_TRUE(spin_until([&] { return client_closed && server_closed; }));
    EXPECT_EQ(client_->easy_handles(), 0u);
    client_.reset();
    server_.reset();
    LoopTest::TearDown();
  }

  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::string base_;
  int requests_ = 0;
  int trickling_ = 0;  // /trickle responses still streaming
};

TEST_F(HttpClientTest, StreamsABodyInPiecesAndReusesTheConnection) {
  int pieces = 0;
  std::string body;
  FetchRequest request = get(base_ + "/big");
  long status_seen = 0;
  request.on_headers = [&](long status) {
    status_seen = status;
    return true;
  };
  FetchOutcome outcome;
  bool done = false;
  request.on_data = [&](std::string_view bytes) {
    ++pieces;
    body.append(bytes);
    return true;
  };
  request.on_done = [&](const FetchOutcome& o) {
    outcome = o;
    done = true;
  };
  client_->start(std::move(request));
  ASSERT_TRUE(spin_until([&] { return done; }));
  EXPECT_TRUE(outcome.complete) << outcome.error;
  EXPECT_EQ(outcome.status, 200);
  EXPECT_EQ(status_seen, 200);
  EXPECT_EQ(body.size(), std::size_t(3 << 20));
  EXPECT_GT(pieces, 10);  // streamed, never buffered whole
  EXPECT_EQ(outcome.body_bytes, std::uint64_t(3 << 20));
  std::string again;
  EXPECT_TRUE(fetch(get(base_ + "/big"), again).complete);
  EXPECT_EQ(server_->connection_count(), 1u);  // the second fetch reused the connection
}

TEST_F(HttpClientTest, AReceiverThatMustWaitPausesTheTransferAndLosesNothing) {
  // The consumer falls behind after every 256 KiB it takes, for its next three answers
  // to must_wait(): the transfer pauses each time and resumes with the piece it kept.
  int behind_for = 3, pauses = 0;
  std::size_t next_stall = 256 << 10;
  bool data_while_behind = false;
  std::string body;
  FetchRequest request = get(base_ + "/big");
  request.must_wait = [&] {
    if (behind_for == 0) return false;
    if (behind_for == 3) ++pauses;
    --behind_for;
    return true;
  };
  FetchOutcome outcome;
  bool done = false;
  request.on_data = [&](std::string_view bytes) {
    if (behind_for > 0) data_while_behind = true;
    body.append(bytes);
    if (body.size() >= next_stall) {
      next_stall += 256 << 10;
      behind_for = 3;
    }
    return true;
  };
  request.on_done = [&](const FetchOutcome& o) {
    outcome = o;
    done = true;
  };
  client_->start(std::move(request));
  ASSERT_TRUE(spin_until([&] { return done; })) << pauses << " pauses, " << body.size() << " bytes";
  EXPECT_TRUE(outcome.complete) << outcome.error;
  EXPECT_EQ(body, std::string(3 << 20, 'x'));
  EXPECT_FALSE(data_while_behind);
  EXPECT_GE(pauses, 11);  // one at the start, one after each 256 KiB
}

TEST_F(HttpClientTest, StatusPostAndErrors) {
  std::string body;
  FetchOutcome missing = fetch(get(base_ + "/nothing"), body);
  EXPECT_TRUE(missing.complete);  // a complete 404 body is still a complete transfer
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(body, "no such thing\n");

  body.clear();
  FetchOutcome posted = fetch(post(base_ + "/post", "{}"), body);
  EXPECT_EQ(body, "POST ok");

  body.clear();
  FetchOutcome refused = fetch(get("http://127.0.0.1:1/x"), body);
  EXPECT_FALSE(refused.complete);
  EXPECT_EQ(refused.status, 0);
  EXPECT_NE(refused.error.find("onnect"), std::string::npos) << refused.error;

  FetchOutcome bad_url = fetch(get("not a url"), body);
  EXPECT_FALSE(bad_url.complete);
  EXPECT_FALSE(bad_url.error.empty());

  FetchOutcome truncated = fetch(get(base_ + "/short"), body);
  EXPECT_FALSE(truncated.complete);
  EXPECT_EQ(truncated.status, 200);
  EXPECT_EQ(truncated.body_bytes, 10u);
}

TEST_F(HttpClientTest, HeadersAndTotalTimeouts) {
  std::string body;
  std::uint64_t started = uv_now(&loop_);
  FetchOutcome no_headers = fetch(with_timeouts(base_ + "/never", 150, 0), body);
  EXPECT_FALSE(no_headers.complete);
  EXPECT_TRUE(no_headers.timed_out);
  EXPECT_NE(no_headers.error.find("waiting for headers"), std::string::npos) << no_headers.error;
  EXPECT_GE(uv_now(&loop_) - started, 140u);

  body.clear();
  FetchOutcome stalled = fetch(with_timeouts(base_ + "/trickle", 1000, 200), body);
  EXPECT_TRUE(stalled.timed_out);
  EXPECT_EQ(stalled.status, 200);
  EXPECT_EQ(body, "first part ");
  EXPECT_NE(stalled.error.find("without the whole body"), std::string::npos) << stalled.error;
  ASSERT_TRUE(spin_until([&] { return trickling_ == 0; }));  // the server saw the client go
}

TEST_F(HttpClientTest, CancelledTransfersNeverReport) {
  bool reported = false;
  FetchRequest slow_request = get(base_ + "/trickle");
  slow_request.on_done = [&](const FetchOutcome&) { reported = true; };
  RequestId slow = client_->start(std::move(slow_request));
  std::string body;
  // Cancel the slow one from inside another transfer's data callback (inside curl).
  FetchRequest request = get(base_ + "/big");
  bool cancelled = false;
  request.on_data = [&](std::string_view) {
    if (!cancelled) client_->cancel(slow);
    cancelled = true;
    return true;
  };
  bool done = false;
  request.on_done = [&](const FetchOutcome& o) {
    EXPECT_TRUE(o.complete);
    done = true;
  };
  client_->start(std::move(request));
  ASSERT_TRUE(spin_until([&] { return done && trickling_ == 0 && client_->active() == 0; }));
  EXPECT_FALSE(reported);
  client_->cancel(RequestId{12345});  // unknown: ignored
}

TEST_F(HttpClientTest, ARequestThatFailedToStartAndIsCancelledFreesItsHandle) {
  // curl refuses the handle (as it does when out of memory); the failure would be
  // reported on the next turn, but the owner cancels first: nothing is reported, and
  // the easy handle is freed with the request, not leaked.
  client_->fail_next_adds_for_testing(1);
  bool reported = false;
  FetchRequest request = get(base_ + "/big");
  request.on_done = [&](const FetchOutcome&) { reported = true; };
  RequestId id = client_->start(std::move(request));
  EXPECT_EQ(client_->easy_handles(), 1u);
  client_->cancel(id);
  EXPECT_EQ(client_->easy_handles(), 0u);
  EXPECT_EQ(client_->active(), 0u);
  spin_for(50);
  EXPECT_FALSE(reported);

  // Not cancelled, the same failure arrives through on_done, on a later turn.
  client_->fail_next_adds_for_testing(1);
  FetchOutcome outcome;
  FetchRequest second = get(base_ + "/big");
  second.on_done = [&](const FetchOutcome& o) {
    outcome = o;
    reported = true;
  };
  client_->start(std::move(second));
  EXPECT_FALSE(reported) << "never inside start()";
  ASSERT_TRUE(spin_until([&] { return reported; }));
  EXPECT_FALSE(outcome.complete);
  EXPECT_NE(outcome.error.find("curl_multi_add_handle"), std::string::npos) << outcome.error;
  EXPECT_EQ(client_->easy_handles(), 0u);
}

TEST_F(HttpClientTest, ARefusedDeferredStartFinishesWithAnError) {
  // Started from inside another request's callback, a request is added to curl once
  // curl has returned. If curl refuses it then, the request must still end, with
  // curl's reason, instead of never finishing.
  std::optional<FetchOutcome> inner;
  bool started_inner = false;
  FetchRequest outer = get(base_ + "/big");
  outer.on_data = [&](std::string_view) {
    if (started_inner) return true;
    started_inner = true;
    client_->fail_next_adds_for_testing(1);
    FetchRequest request = get(base_ + "/post");
    request.on_done = [&](const FetchOutcome& o) { inner = o; };
    client_->start(std::move(request));
    return true;
  };
  bool outer_done = false;
  outer.on_done = [&](const FetchOutcome& o) {
    EXPECT_TRUE(o.complete) << o.error;
    outer_done = true;
  };
  client_->start(std::move(outer));
  ASSERT_TRUE(spin_until([&] { return outer_done && inner.has_value(); }));
  EXPECT_FALSE(inner->complete);
  EXPECT_NE(inner->error.find("curl_multi_add_handle"), std::string::npos) << inner->error;
  EXPECT_EQ(client_->active(), 0u);
  EXPECT_EQ(client_->easy_handles(), 0u);
}

TEST_F(HttpClientTest, ReceiverCanStop) {
  FetchRequest request = get(base_ + "/nothing");
  request.on_headers = [](long status) { return status == 200; };
  std::string body;
  FetchOutcome outcome = fetch(std::move(request), body);
  EXPECT_FALSE(outcome.complete);
  EXPECT_EQ(outcome.status, 404);
  EXPECT_EQ(outcome.error, "stopped after headers");
}

TEST(ResolveUrl, RelativeAndAbsolute) {
  struct Case {
    const char* base;
    const char* reference;
    const char* expected;
  };
  const Case cases[] = {
      {"http://o/live/master.m3u8?token=1", "480p/index.m3u8", "http://o/live/480p/index.m3u8"},
      {"http://o/live/master.m3u8", "/abs/seg.ts", "http://o/abs/seg.ts"},
      {"http://o/a/b/c.m3u8", "../seg1.ts?x=1", "http://o/a/seg1.ts?x=1"},
      {"http://o/a/c.m3u8", "https://cdn.example/v1/seg.ts", "https://cdn.example/v1/seg.ts"},
      {"http://o:8080/a/c.m3u8", "//other/x.ts", "http://other/x.ts"},
  };
  for (const Case& c : cases) {
    auto resolved = resolve_url(c.base, c.reference);
    ASSERT_TRUE(resolved) << resolved.error().message;
    EXPECT_EQ(*resolved, c.expected);
  }
  auto bad = resolve_url("not a url", "x.ts");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("bad base URL"), std::string::npos);
}

}  // namespace http_client_test
}  // namespace wubd::io
