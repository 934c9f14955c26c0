// The HTTP server on a real libuv loop over loopback. Every test ends by closing the
// server and asserting uv_loop_close() == 0: no handle may leak.
#include "wubd/io/http_server.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "loop_test.h"
#include "test_bodies.h"
#include "wubd/io/file_streamer.h"
#include "wubd/io/timer.h"

namespace wubd::io {
namespace http_server_test {

// A raw TCP client on the same loop: sends bytes, collects everything it receives.
struct TestClient {
  uv_tcp_t tcp{};
  uv_connect_t connect{};
  uv_write_t write_req{};
  std::string request;
  std::string received;
  bool closed = false;
  bool handle_closed = false;

  bool hold_reading = false;  // connect and send, but read only after resume_reading()

  void start(uv_loop_t* loop, int port, std::string bytes) {
    request = std::move(bytes);
    uv_tcp_init(loop, &tcp);
    tcp.data = this;
    sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port, &addr);
    connect.data = this;
    uv_tcp_connect(&connect, &tcp, reinterpret_cast<const sockaddr*>(&addr), [](uv_connect_t* c, int status) {
      auto* self = static_cast<TestClient*>(c->data);
      ASSERT_EQ(status, 0);
      uv_buf_t buf = uv_buf_init(self->request.data(), unsigned(self->request.size()));
      uv_write(&self->write_req, reinterpret_cast<uv_stream_t*>(&self->tcp), &buf, 1, nullptr);
      if (!self->hold_reading) self->resume_reading();
    });
  }

  void resume_reading() {
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&tcp),
        [](uv_handle_t*, size_t size, uv_buf_t* b) { *b = uv_buf_init(new char[size], unsigned(size)); },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
          auto* me = static_cast<TestClient*>(s->data);
          if (n > 0) me->received.append(b->base, size_t(n));
          if (n < 0) {
            me->closed = true;
            me->close();
          }
          delete[] b->base;
        });
  }

  void close() {
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&tcp))) return;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp),
             [](uv_handle_t* h) { static_cast<TestClient*>(h->data)->handle_closed = true; });
  }
};

class HttpServerTest : public LoopTest {
 protected:
  void start(HttpHandler handler, HttpLimits limits = {}) {
    server_ = std::make_unique<HttpServer>(&loop_, std::move(handler), limits);
    auto ok = server_->listen("127.0.0.1", 0);
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    ASSERT_GT(server_->port(), 0);
  }

  void TearDown() override {
    bool closed = false;
    if (server_) {
      server_->close_all_now();
      server_->close([&] { closed = true; });
      EXPECT_TRUE(spin_until([&] { return closed; }));
      server_.reset();
    }
    LoopTest::TearDown();
  }

  std::unique_ptr<HttpServer> server_;
};

const std::string kGet = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";

// Decodes a chunked body; false if it is malformed or has no terminating chunk (what
// was decoded until then is in `out`).
bool decode_chunked(const std::string& body, std::string& out) {
  size_t pos = 0;
  while (true) {
    size_t eol = body.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    size_t size = std::stoul(body.substr(pos, eol - pos), nullptr, 16);
    if (size == 0) return body.compare(eol, 4, "\r\n\r\n") == 0;
    if (eol + 2 + size + 2 > body.size()) return false;
    out.append(body, eol + 2, size);
    pos = eol + 2 + size + 2;
  }
}

std::string body_of(const std::string& response) {
  size_t head_end = response.find("\r\n\r\n");
  return head_end == std::string::npos ? std::string() : response.substr(head_end + 4);
}

// A body that counts what happens to it, for tests of who frees bodies and when.
struct BodyEvents {
  int stops = 0;
  bool destroyed = false;
  bool destroyed_inside_a_call = false;
  bool in_call = false;
};

class RecordingBody final : public HttpBody {
 public:
  RecordingBody(BodyEvents& events, std::function<void(BodyWriter&)> on_start)
      : events_(events), on_start_(std::move(on_start)) {}
  ~RecordingBody() override {
    events_.destroyed = true;
    events_.destroyed_inside_a_call = events_.in_call;
  }
  void start(BodyWriter& out) override {
    events_.in_call = true;
    on_start_(out);
    events_.in_call = false;
  }
  void stop() override {
    events_.in_call = true;
    ++events_.stops;
    EXPECT_FALSE(events_.destroyed);
    events_.in_call = false;
  }
  bool stop_on_client_eof() const override { return true; }

 private:
  BodyEvents& events_;
  std::function<void(BodyWriter&)> on_start_;
};

TEST_F(HttpServerTest, ChunkedStreamHonoursBackpressure) {
  constexpr size_t kChunk = 64 * 1024;
  constexpr size_t kTotal = 16 * 1024 * 1024;
  size_t produced = 0;
  int paused = 0;
  BodyWriter* writer = nullptr;
  auto produce = [&] {
    while (produced < kTotal && writer->writable()) {
      writer->write(std::string(kChunk, char('a' + produced / kChunk % 26)));
      produced += kChunk;
    }
    if (produced == kTotal) {
      writer->end();
    } else {
      ++paused;  // resumed once the client drains
    }
  };
  HttpLimits limits;
  limits.write_high_watermark = 128 * 1024;
  start(
      [&](const HttpRequest&, HttpResponse& response) {
        response.send_body(make_body({[&](BodyWriter& out) {
                                        writer = &out;
                                        out.begin(200, "application/octet-stream", std::nullopt);
                                        produce();
                                      },
                                      produce,
                                      {},
                                      false}));
      },
      limits);
  TestClient client;
  client.start(&loop_, server_->port(), "GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(spin_until([&] { return client.closed; }, 20));
  EXPECT_NE(client.received.find("Transfer-Encoding: chunked"), std::string::npos);
  std::string body;
  ASSERT_TRUE(decode_chunked(body_of(client.received), body));
  EXPECT_EQ(body.size(), kTotal);
  EXPECT_EQ(body[kTotal - 1], char('a' + (kTotal / kChunk - 1) % 26));
  EXPECT_GT(paused, 0) << "the producer never had to wait: no backpressure";
}

TEST_F(HttpServerTest, AFailureAfterBytesLeavesTheBodyVisiblyUnfinished) {
  start([&](const HttpRequest&, HttpResponse& response) {
    response.send_body(make_body({[](BodyWriter& out) {
                                    out.begin(200, "video/MP2T", std::nullopt);
                                    out.write("some bytes");
                                    out.fail(500, "the source broke");
                                  },
                                  {},
                                  {},
                                  false}));
  });
  TestClient client;
  client.start(&loop_, server_->port(), kGet);
  ASSERT_TRUE(spin_until([&] { return client.closed; }));
  std::string body = body_of(client.received);
  EXPECT_EQ(body, "a\r\nsome bytes\r\n") << "no terminating chunk may follow a failure";
  std::string decoded;
  EXPECT_FALSE(decode_chunked(body, decoded));
}

TEST_F(HttpServerTest, AFailureBeforeAnyByteIsAnErrorResponse) {
  start([&](const HttpRequest&, HttpResponse& response) {
    response.add_header("Content-Disposition", "inline; filename=\"x.ts\"");
    response.send_body(
        make_body({[](BodyWriter& out) { out.fail(500, "ffmpeg exited 1: no such codec"); }, {}, {}, false}));
  });
  TestClient client;
  client.start(&loop_, server_->port(), "GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(spin_until([&] { return client.closed; }));
  EXPECT_EQ(client.received.rfind("HTTP/1.1 500 ", 0), 0u) << client.received;
  EXPECT_EQ(body_of(client.received), "ffmpeg exited 1: no such codec\n");
}

TEST_F(HttpServerTest, AHandlerThatAnswersNothingGetsA500) {
  start([&](const HttpRequest&, HttpResponse&) {});
  TestClient client;
  client.start(&loop_, server_->port(), "GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(spin_until([&] { return client.closed; }));
  EXPECT_EQ(client.received.rfind("HTTP/1.1 500 ", 0), 0u) << client.received;
}

TEST_F(HttpServerTest, FilesStreamedIntoABodyComeInOrder) {
  char dir_template[] = "/tmp/wubd-write-file-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string dir = dir_template;
  std::string big(3 << 20, 'x');  // several mapped chunks, and the write queue fills
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = char('a' + (i / 4096) % 26);
  FILE* f = std::fopen((dir + "/big").c_str(), "wb");
  ASSERT_TRUE(f);
  std::fwrite(big.data(), 1, big.size(), f);
  std::fclose(f);
  std::vector<std::string> events;
  FileStreamer streamer(&loop_);
  start([&](const HttpRequest&, HttpResponse& response) {
    response.send_body(make_body({[&](BodyWriter& out) {
                                    out.begin(200, "video/MP2T", std::nullopt);
                                    out.write("head;");
                                    auto file =
                                        std::make_shared<const OwnedFd>(::open((dir + "/big").c_str(), O_RDONLY));
                                    streamer.stream(out, file, 0, std::int64_t(big.size()), "big", [&](bool ok) {
                                      events.push_back(ok ? "big" : "big failed");
                                      out.write(";tail");
                                      out.end();
                                    });
                                  },
                                  [&] { streamer.resume(); },
                                  {},
                                  false}));
  });
  TestClient client;
  client.start(&loop_, server_->port(), "GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(spin_until([&] { return client.closed; }));
  EXPECT_EQ(events, (std::vector<std::string>{"big"}));
  std::string decoded;
  EXPECT_TRUE(decode_chunked(body_of(client.received), decoded));
  EXPECT_EQ(decoded.size(), big.size() + 10);
  EXPECT_TRUE(decoded == "head;" + big + ";tail") << "the file's bytes, between the writes";
  std::remove((dir + "/big").c_str());
  rmdir(dir.c_str());
}

TEST_F(HttpServerTest, ASizedFileComesWholeWhileOtherRequestsAreAnswered) {
  // A sized file body goes out with sendfile where the socket takes it, a loop turn's
  // share at a time, and through queued writes where it does not: the bytes must come
  // whole and in order, and a request made meanwhile must not wait for them all.
  char dir_template[] = "/tmp/wubd-sendfile-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string dir = dir_template;
  std::string big(24 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 1000) big[i] = char('a' + (i / 1000) % 26);
  FILE* f = std::fopen((dir + "/big").c_str(), "wb");
  ASSERT_TRUE(f);
  std::fwrite(big.data(), 1, big.size(), f);
  std::fclose(f);
  start([&](const HttpRequest& request, HttpResponse& response) {
    if (request.path == "/small") return response.send(200, "text/plain", "small");
    response.send_file(200, "video/MP2T", ::open((dir + "/big").c_str(), O_RDONLY | O_CLOEXEC), 0,
                       std::int64_t(big.size()));
  });
  TestClient client, other;
  client.start(&loop_, server_->port(), "GET /big HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(spin_until([&] { return client.received.size() > (1u << 20); }));
  other.start(&loop_, server_->port(), "GET /small HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(spin_until([&] { return other.closed; }));
  EXPECT_EQ(body_of(other.received), "small");
  EXPECT_FALSE(client.closed) << "the small answer waited for the whole file";
  ASSERT_TRUE(spin_until([&] { return client.closed; }));
  EXPECT_TRUE(body_of(client.received) == big) << "the file's bytes, whole and in order";
  std::remove((dir + "/big").c_str());
  rmdir(dir.c_str());
}

TEST_F(HttpServerTest, ManyFilesAreOpenedOnlyAsTheClientTakesThem) {
  // 60 files of 256 KiB, more than loopback's socket buffers hold. While the client
  // does not read, the server may queue only a few of them; the rest are opened
  // when it reads. Removing them meanwhile then breaks the body, which shows that
  // they were not read ahead (a mapped file that was opened stays readable).
  char dir_template[] = "/tmp/wubd-files-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string dir = dir_template;
  std::vector<FileSlice> files;
  const std::string content(256 * 1024, 'z');
  OwnedFd dir_fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  for (int i = 0; i < 60; ++i) {
    std::string path = dir + "/" + std::to_string(i);
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_TRUE(f);
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
    files.push_back({{dir_fd.get(), std::to_string(i), path}, std::int64_t(content.size())});
  }
  start([&](const HttpRequest&, HttpResponse& response) { response.send_files(200, "video/MP2T", files); });
  TestClient client;
  client.hold_reading = true;
  client.start(&loop_, server_->port(), kGet);
  spin_for(300);  // the server pushes what it can
  for (int i = 30; i < 60; ++i) std::remove(files[std::size_t(i)].file.display.c_str());
  client.resume_reading();
  ASSERT_TRUE(spin_until([&] { return client.closed; }));
  EXPECT_LT(body_of(client.received).size(), 30 * content.size()) << "files were read ahead of the client";
  for (int i = 0; i < 30; ++i) std::remove(files[std::size_t(i)].file.display.c_str());
  rmdir(dir.c_str());
}

TEST_F(HttpServerTest, AClientThatLeavesStopsTheBodyOnceAndItIsFreedAfterwards) {
  BodyEvents events;
  start([&](const HttpRequest&, HttpResponse& response) {
    response.send_body(std::make_unique<RecordingBody>(events, [](BodyWriter& out) {
      out.begin(200, "video/MP2T", std::nullopt);
      out.write("first");
    }));
  });
  TestClient client;
  client.start(&loop_, server_->port(), kGet);
  ASSERT_TRUE(spin_until([&] { return client.received.find("first") != std::string::npos; }));
  client.close();
  ASSERT_TRUE(spin_until([&] { return events.destroyed && client.handle_closed; }));
  EXPECT_EQ(events.stops, 1);
  EXPECT_FALSE(events.destroyed_inside_a_call);
  EXPECT_EQ(server_->connection_count(), 0u);
}

TEST_F(HttpServerTest, ABodyThatEndsFromItsOwnCallbackIsFreedOnALaterTurn) {
  // The body ends its response from its timer: the connection must not free it while
  // that callback is still running.
  BodyEvents events;
  auto timer = std::make_shared<Timer>(&loop_);
  bool checked_after_end = false;
  start([&](const HttpRequest&, HttpResponse& response) {
    response.send_body(std::make_unique<RecordingBody>(events, [&, timer](BodyWriter& out) {
      timer->start(20, [&] {
        out.begin(200, "text/plain", 4);
        out.write("done");
        out.end();
        EXPECT_FALSE(events.destroyed) << "freed inside its own callback";
        checked_after_end = true;
      });
    }));
  });
  TestClient client;
  client.start(&loop_, server_->port(), "GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(spin_until([&] { return client.closed && events.destroyed; }));
  EXPECT_TRUE(checked_after_end);
  EXPECT_EQ(events.stops, 0) << "a body that ended is not stopped";
  EXPECT_EQ(body_of(client.received), "done");
  timer.reset();
}

TEST_F(HttpServerTest, AnswersMayComeLaterFromAnotherCallback) {
  start([&](const HttpRequest& request, HttpResponse& response) {
    EXPECT_EQ(request.path, "/later");
    EXPECT_EQ(request.query, "a=1");
    EXPECT_EQ(*request.header("x-test"), "Yes");
    response.send_body(answer_later(&loop_, 50, [](BodyWriter& out) {
      out.begin(200, "text/plain", 11);
      out.write("late answer");
      out.end();
    }));
  });
  TestClient client;
  client.start(&loop_, server_->port(),
               "GET /later?a=1 HTTP/1.1\r\nHost: t\r\nX-Test: Yes\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(spin_until([&] { return client.closed; }));
  EXPECT_NE(client.received.find("Content-Length: 11\r\n"), std::string::npos);
  EXPECT_NE(client.received.find("\r\n\r\nlate answer"), std::string::npos) << client.received;
}

TEST_F(HttpServerTest, CloseWaitsForTheResponseInProgress) {
  BodyWriter* streaming = nullptr;
  start([&](const HttpRequest&, HttpResponse& response) {
    response.send_body(make_body({[&](BodyWriter& out) {
                                    out.begin(200, "text/plain", std::nullopt);
                                    out.write("part one;");
                                    streaming = &out;
                                  },
                                  {},
                                  {},
                                  false}));
  });
  TestClient client;
  client.start(&loop_, server_->port(), kGet);
  ASSERT_TRUE(spin_until([&] { return streaming != nullptr; }));
  bool closed = false;
  server_->close([&] { closed = true; });
  spin_for(20);
  EXPECT_FALSE(closed) << "closed while a response was still being written";
  streaming->write("part two");
  streaming->end();
  ASSERT_TRUE(spin_until([&] { return closed && client.closed; }));
  std::string body;
  ASSERT_TRUE(decode_chunked(body_of(client.received), body));
  EXPECT_EQ(body, "part one;part two");
  server_.reset();
}

TEST_F(HttpServerTest, PipelinedRequestsAreDispatchedOneAtATime) {
  std::vector<std::string> order;
  BodyWriter* first = nullptr;
  start([&](const HttpRequest& request, HttpResponse& response) {
    order.push_back(request.path);
    if (request.path == "/1") {
      // Answered later: /2 must wait for it.
      response.send_body(make_body({[&](BodyWriter& out) { first = &out; }, {}, {}, false}));
    } else {
      response.send(200, "text/plain", request.path);
    }
  });
  TestClient client;
  client.start(&loop_, server_->port(),
               "GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(spin_until([&] { return first != nullptr; }));
  spin_for(20);
  EXPECT_EQ(order, std::vector<std::string>{"/1"});
  first->begin(200, "text/plain", 2);
  first->write("/1");
  first->end();
  ASSERT_TRUE(spin_until([&] { return client.closed; }));
  EXPECT_EQ(order, (std::vector<std::string>{"/1", "/2"}));
  size_t one = client.received.find("\r\n\r\n/1");
  size_t two = client.received.find("\r\n\r\n/2");
  ASSERT_NE(one, std::string::npos);
  ASSERT_NE(two, std::string::npos);
  EXPECT_LT(one, two);
}

TEST_F(HttpServerTest, HeadGetsTheHeadersAndNoBody) {
  int started = 0;
  start([&](const HttpRequest&, HttpResponse& response) {
    ++started;
    response.send(200, "text/plain", "twelve bytes");
  });
  TestClient client;
  client.start(&loop_, server_->port(), "HEAD /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(spin_until([&] { return client.closed; }));
  EXPECT_NE(client.received.find("Content-Length: 12\r\n"), std::string::npos) << client.received;
  EXPECT_EQ(body_of(client.received), "");
  EXPECT_EQ(started, 1);
}

TEST_F(HttpServerTest, ListenErrorsNameTheAddress) {
  start([](const HttpRequest&, HttpResponse& r) { r.send(200, "text/plain", ""); });
  HttpServer second(&loop_, [](const HttpRequest&, HttpResponse&) {});
  auto result = second.listen("127.0.0.1", server_->port());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("127.0.0.1:" + std::to_string(server_->port())), std::string::npos)
      << result.error().message;
  bool closed = false;
  second.close([&] { closed = true; });
  ASSERT_TRUE(spin_until([&] { return closed; }));
}

}  // namespace http_server_test
}  // namespace wubd::io
