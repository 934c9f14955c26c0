// The HTTP server on a real libuv loop over loopback. Every test ends by closing the
// server and asserting uv_loop_close() == 0: no handle may leak.
#include "wubd/io/http_server.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace wubd::io {
namespace {

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

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(uv_loop_init(&loop_), 0); }

  void start(HttpHandler handler, HttpLimits limits = {}) {
    server_ = std::make_unique<HttpServer>(&loop_, std::move(handler), limits);
    auto ok = server_->listen("127.0.0.1", 0);
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    ASSERT_GT(server_->port(), 0);
  }

  // Runs the loop until `done` holds, failing after a few seconds.
  void spin_until(const std::function<bool()>& done, double seconds = 5) {
    std::uint64_t deadline = uv_hrtime() + std::uint64_t(seconds * 1e9);
    while (!done()) {
      ASSERT_LT(uv_hrtime(), deadline) << "timed out";
      uv_run(&loop_, UV_RUN_NOWAIT);
    }
  }

  void TearDown() override {
    bool closed = false;
    if (server_) server_->close([&] { closed = true; });
    spin_until([&] { return closed || !server_; });
    uv_run(&loop_, UV_RUN_DEFAULT);
    server_.reset();
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "a handle leaked";
  }

  uv_loop_t loop_{};
  std::unique_ptr<HttpServer> server_;
};

const std::string kGet = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";

// Decodes a chunked body; false if it is malformed or has no terminating chunk.
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

TEST_F(HttpServerTest, ChunkedStreamHonoursBackpressure) {
  constexpr size_t kChunk = 64 * 1024;
  constexpr size_t kTotal = 16 * 1024 * 1024;
  size_t produced = 0;
  int paused = 0;
  HttpLimits limits;
  limits.write_high_watermark = 128 * 1024;
  start(
      [&](const HttpRequest&, HttpResponse& response) {
        response.begin_stream(200, "application/octet-stream");
        auto produce = [&, r = &response] {
          while (produced < kTotal && r->writable()) {
            r->write(std::string(kChunk, char('a' + produced / kChunk % 26)));
            produced += kChunk;
          }
          if (produced == kTotal) {
            r->end();
          } else {
            ++paused;  // resumed by on_writable once the client drains
          }
        };
        response.on_writable = produce;
        produce();
      },
      limits);
  TestClient client;
  client.start(&loop_, server_->port(), "GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  spin_until([&] { return client.closed; }, 20);
  size_t head_end = client.received.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_NE(client.received.find("Transfer-Encoding: chunked"), std::string::npos);
  std::string body;
  ASSERT_TRUE(decode_chunked(client.received.substr(head_end + 4), body));
  EXPECT_EQ(body.size(), kTotal);
  EXPECT_EQ(body[kTotal - 1], char('a' + (kTotal / kChunk - 1) % 26));
  EXPECT_GT(paused, 0) << "the producer never had to wait: no backpressure";
}

TEST_F(HttpServerTest, AbortAfterBytesLeavesTheBodyVisiblyUnfinished) {
  start([&](const HttpRequest&, HttpResponse& response) {
    response.begin_stream(200, "video/MP2T");
    response.write("some bytes");
    response.abort();
  });
  TestClient client;
  client.start(&loop_, server_->port(), kGet);
  spin_until([&] { return client.closed; });
  size_t head_end = client.received.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  std::string body = client.received.substr(head_end + 4);
  EXPECT_EQ(body, "a\r\nsome bytes\r\n") << "no terminating chunk may follow an abort";
  std::string decoded;
  EXPECT_FALSE(decode_chunked(body, decoded));
}

TEST_F(HttpServerTest, FilesWrittenIntoAStreamAreChunksInOrder) {
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
  OwnedFd dir_fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  start([&](const HttpRequest&, HttpResponse& response) {
    response.begin_stream(200, "video/MP2T");
    response.write("head;");
    response.write_file({dir_fd.get(), "big", dir + "/big"}, [&](bool ok) {
      events.push_back(ok ? "big" : "big failed");
      response.write(";tail");
      response.write_file({dir_fd.get(), "missing", dir + "/missing"}, [&](bool missing_ok) {
        events.push_back(missing_ok ? "missing" : "missing failed");  // and the body is aborted
      });
    });
  });
  TestClient client;
  client.start(&loop_, server_->port(), kGet);
  spin_until([&] { return client.closed; });
  EXPECT_EQ(events, (std::vector<std::string>{"big", "missing failed"}));
  size_t head_end = client.received.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  std::string body = client.received.substr(head_end + 4);
  std::string decoded;
  EXPECT_FALSE(decode_chunked(body, decoded)) << "an unreadable file aborts the body: no terminating chunk";
  std::string want = "5\r\nhead;\r\n300000\r\n" + big + "\r\n5\r\n;tail\r\n";
  EXPECT_EQ(body.size(), want.size());
  EXPECT_TRUE(body == want) << "the file's bytes, framed as one chunk, between the writes";
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
  std::uint64_t until = uv_hrtime() + 300'000'000;  // the server pushes what it can
  spin_until([&] { return uv_hrtime() > until; });
  for (int i = 30; i < 60; ++i) std::remove(files[std::size_t(i)].file.display.c_str());
  client.resume_reading();
  spin_until([&] { return client.closed; });
  size_t head_end = client.received.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_LT(client.received.size() - head_end - 4, 30 * content.size()) << "files were read ahead of the client";
  for (int i = 0; i < 30; ++i) std::remove(files[std::size_t(i)].file.display.c_str());
  rmdir(dir.c_str());
}

TEST_F(HttpServerTest, ClientGoneIsReportedOnce) {
  int gone = 0;
  start([&](const HttpRequest&, HttpResponse& response) {
    response.begin_stream(200, "video/MP2T");
    response.write("first");
    response.on_client_gone = [&] { ++gone; };
  });
  TestClient client;
  client.start(&loop_, server_->port(), kGet);
  spin_until([&] { return client.received.find("first") != std::string::npos; });
  client.close();
  spin_until([&] { return gone == 1 && client.handle_closed; });
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(gone, 1);
  EXPECT_EQ(server_->connection_count(), 0u);
}

TEST_F(HttpServerTest, AnswersMayComeLaterFromAnotherCallback) {
  uv_timer_t timer;
  uv_timer_init(&loop_, &timer);
  HttpResponse* pending = nullptr;
  start([&](const HttpRequest& request, HttpResponse& response) {
    EXPECT_EQ(request.path, "/later");
    EXPECT_EQ(request.query, "a=1");
    EXPECT_EQ(*request.header("x-test"), "Yes");
    pending = &response;
    timer.data = &pending;
    uv_timer_start(&timer, [](uv_timer_t* t) {
      auto** r = static_cast<HttpResponse**>(t->data);
      (*r)->send(200, "text/plain", "late answer");
    }, 50, 0);
  });
  TestClient client;
  client.start(&loop_, server_->port(),
               "GET /later?a=1 HTTP/1.1\r\nHost: t\r\nX-Test: Yes\r\nConnection: close\r\n\r\n");
  spin_until([&] { return client.closed; });
  EXPECT_NE(client.received.find("Content-Length: 11\r\n"), std::string::npos);
  EXPECT_NE(client.received.find("\r\n\r\nlate answer"), std::string::npos) << client.received;
  // The timer lives in this frame: its close must complete before the frame ends.
  bool timer_closed = false;
  timer.data = &timer_closed;
  uv_close(reinterpret_cast<uv_handle_t*>(&timer), [](uv_handle_t* h) { *static_cast<bool*>(h->data) = true; });
  spin_until([&] { return timer_closed; });
}

TEST_F(HttpServerTest, CloseWaitsForTheResponseInProgress) {
  HttpResponse* streaming = nullptr;
  start([&](const HttpRequest&, HttpResponse& response) {
    response.begin_stream(200, "text/plain");
    response.write("part one;");
    streaming = &response;
  });
  TestClient client;
  client.start(&loop_, server_->port(), kGet);
  spin_until([&] { return streaming != nullptr; });
  bool closed = false;
  server_->close([&] { closed = true; });
  for (int i = 0; i < 20; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_FALSE(closed) << "closed while a response was still being written";
  streaming->write("part two");
  streaming->end();
  spin_until([&] { return closed && client.closed; });
  std::string body;
  ASSERT_TRUE(decode_chunked(client.received.substr(client.received.find("\r\n\r\n") + 4), body));
  EXPECT_EQ(body, "part one;part two");
  server_.reset();
}

TEST_F(HttpServerTest, PipelinedRequestsAreDispatchedOneAtATime) {
  std::vector<std::string> order;
  HttpResponse* first = nullptr;
  start([&](const HttpRequest& request, HttpResponse& response) {
    order.push_back(request.path);
    if (request.path == "/1") {
      first = &response;  // answered later: /2 must wait for it
    } else {
      response.send(200, "text/plain", request.path);
    }
  });
  TestClient client;
  client.start(&loop_, server_->port(),
               "GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  spin_until([&] { return first != nullptr; });
  for (int i = 0; i < 20; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(order, std::vector<std::string>{"/1"});
  first->send(200, "text/plain", "/1");
  spin_until([&] { return client.closed; });
  EXPECT_EQ(order, (std::vector<std::string>{"/1", "/2"}));
  size_t one = client.received.find("\r\n\r\n/1");
  size_t two = client.received.find("\r\n\r\n/2");
  ASSERT_NE(one, std::string::npos);
  ASSERT_NE(two, std::string::npos);
  EXPECT_LT(one, two);
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
  spin_until([&] { return closed; });
}

}  // namespace
}  // namespace wubd::io
