// The transfer engine on a real loop against our own server on loopback: per-source
// limits, the delay between starts, operator cancels and the bounded record ring.
// Every test ends with uv_loop_close() == 0.
#include "wubd/transfers/transfer_engine.h"

#include <gtest/gtest.h>

#include <functional>
#include <list>
#include <type_traits>

#include "../io/loop_test.h"
#include "../io/test_bodies.h"
#include "wubd/io/http_server.h"
#include "wubd/io/timer.h"

namespace wubd::transfers {
namespace transfer_engine_test {

using core::TransferState;

// The engine's ids and the HTTP client's both count from 1; were they one type, an
// engine id handed to HttpClient::cancel would stop someone else's request.
static_assert(!std::is_convertible_v<TransferId, io::RequestId>);
static_assert(!std::is_convertible_v<io::RequestId, TransferId>);
static_assert(!std::is_same_v<TransferId, io::RequestId>);

class TransferEngineTest : public io::LoopTest {
 protected:
  void SetUp() override {
    io::LoopTest::SetUp();
    server_ = std::make_unique<io::HttpServer>(&loop_, [this](const io::HttpRequest& req, io::HttpResponse& res) {
      // Every request is answered after 50 ms, so that transfers overlap.
      ++in_flight_;
      max_in_flight_ = std::max(max_in_flight_, in_flight_);
      started_ms_.push_back(uv_now(&loop_));
      res.send_body(io::answer_later(
          &loop_, 50,
          [this, path = req.path](io::BodyWriter& out) {
            --in_flight_;
            std::string body = path == "/missing" ? "no\n" : std::string(1000, 'x');
            out.begin(path == "/missing" ? 404 : 200, "text/plain", std::int64_t(body.size()));
            out.write(std::move(body));
            out.end();
          },
          [this] { --in_flight_; }));
    });
    ASSERT_TRUE(server_->listen("127.0.0.1", 0).ok());
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
    client_ = std::make_unique<io::HttpClient>(&loop_);
  }

  TransferSpec spec(const std::string& path, std::function<void(const io::FetchOutcome&)> done) {
    TransferSpec s;
    s.source = source_of_url(base_);
    s.target = "test";
    s.file_name = path;
    s.request.url = base_ + path;
    s.request.on_done = std::move(done);
    return s;
  }

  void TearDown() override {
    engine_.reset();
    bool client_closed = false, server_closed = false;
    client_->close([&] { client_closed = true; });
    server_->close_all_now();
    server_->close([&] { server_closed = true; });
    EXPECT_TRUE(spin_until([&] { return client_closed && server_closed; }));
    client_.reset();
    server_.reset();
    io::LoopTest::TearDown();
  }

  std::unique_ptr<io::HttpServer> server_;
  std::unique_ptr<io::HttpClient> client_;
  std::unique_ptr<TransferEngine> engine_;
  std::string base_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  std::vector<std::uint64_t> started_ms_;
};

TEST_F(TransferEngineTest, NeverMoreThanTheLimitInFlightPerSource) {
  engine_ = std::make_unique<TransferEngine>(&loop_, *client_, core::SourceLimits{2, 0});
  int done = 0, ok = 0;
  for (int i = 0; i < 8; ++i) {
    engine_->submit(spec("/x" + std::to_string(i), [&](const io::FetchOutcome& o) {
      ++done;
      ok += o.complete && o.status == 200;
      EXPECT_LE(engine_->in_flight(source_of_url(base_)), 2u);
    }));
  }
  EXPECT_EQ(engine_->list(TransferState::Initializing).size() + engine_->list(TransferState::InProgress).size(), 8u);
  ASSERT_TRUE(spin_until([&] { return done == 8; }));
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(max_in_flight_, 2);
  auto completed = engine_->list(TransferState::Completed);
  ASSERT_EQ(completed.size(), 8u);
  EXPECT_EQ(completed[0].bytes, 1000u);
  EXPECT_GT(completed[0].finished_at, completed[0].started_at);
  EXPECT_GT(completed[0].bytes_per_second(0), 0);
}

TEST_F(TransferEngineTest, DelayBetweenStartsIsRespected) {
  engine_ = std::make_unique<TransferEngine>(&loop_, *client_, core::SourceLimits{4, 0});
  engine_->set_limits(source_of_url(base_), core::SourceLimits{4, 100 * core::kMicrosPerMilli});
  int done = 0;
  for (int i = 0; i < 4; ++i) engine_->submit(spec("/d", [&](const io::FetchOutcome&) { ++done; }));
  ASSERT_TRUE(spin_until([&] { return done == 4; }));
  ASSERT_EQ(started_ms_.size(), 4u);
  for (std::size_t i = 1; i < started_ms_.size(); ++i) {
    EXPECT_GE(started_ms_[i] - started_ms_[i - 1], 95u) << i;  // loop time is in whole ms
  }
}

TEST_F(TransferEngineTest, CancelIsFinalAndTellsTheCallerAbandonDoesNot) {
  engine_ = std::make_unique<TransferEngine>(&loop_, *client_, core::SourceLimits{1, 0});
  std::vector<std::string> events;
  transfers::TransferId running = engine_->submit(
      spec("/a", [&](const io::FetchOutcome& o) { events.push_back(o.cancelled ? "a cancelled" : "a done"); }));
  transfers::TransferId queued = engine_->submit(spec("/b", [&](const io::FetchOutcome&) { events.push_back("b"); }));
  transfers::TransferId third = engine_->submit(
      spec("/c", [&](const io::FetchOutcome& o) { events.push_back(o.complete ? "c done" : "c failed"); }));
  ASSERT_TRUE(spin_until([&] { return in_flight_ == 1; }));
  EXPECT_TRUE(engine_->cancel(running));   // running: stopped, caller told
  engine_->abandon(queued);                // queued: dropped silently
  EXPECT_FALSE(engine_->cancel(running));  // already final
  ASSERT_TRUE(spin_until([&] { return events.size() == 2; }));
  EXPECT_EQ(events, (std::vector<std::string>{"a cancelled", "c done"}));
  auto records = engine_->list();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].state, TransferState::Cancelled);
  EXPECT_EQ(records[0].error, "cancelled by an operator");
  EXPECT_EQ(records[1].state, TransferState::Cancelled);
  EXPECT_EQ(records[2].id, third);
  EXPECT_EQ(records[2].state, TransferState::Completed);
  // The cancelled request's late answer changes nothing.
  ASSERT_TRUE(spin_until([&] { return in_flight_ == 0; }));
  for (int i = 0; i < 100; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(engine_->list(TransferState::Cancelled).size(), 2u);
  EXPECT_EQ(events.size(), 2u);
}

TEST_F(TransferEngineTest, FailuresAreTerminalAndTheRingIsBounded) {
  engine_ = std::make_unique<TransferEngine>(&loop_, *client_, core::SourceLimits{8, 0}, 3);
  int done = 0;
  engine_->submit(spec("/missing", [&](const io::FetchOutcome&) { ++done; }));
  TransferSpec bad = spec("", [&](const io::FetchOutcome&) { ++done; });
  bad.request.url = "http://127.0.0.1:1/refused";
  engine_->submit(std::move(bad));
  ASSERT_TRUE(spin_until([&] { return done == 2; }));
  auto errored = engine_->list(TransferState::Errored);
  ASSERT_EQ(errored.size(), 2u);
  EXPECT_EQ(errored[0].error, "HTTP 404");
  EXPECT_NE(errored[1].error.find("onnect"), std::string::npos) << errored[1].error;
  EXPECT_TRUE(engine_->list(TransferState::Initializing).empty());
  for (int i = 0; i < 5; ++i) engine_->submit(spec("/r", [&](const io::FetchOutcome&) { ++done; }));
  ASSERT_TRUE(spin_until([&] { return done == 7; }));
  EXPECT_EQ(engine_->list().size(), 3u);  // only the newest finished records are kept
  EXPECT_TRUE(engine_->list(std::nullopt, "http://elsewhere:1").empty());
}

}  // namespace transfer_engine_test
}  // namespace wubd::transfers
