// Child processes on a real loop: output, exit status, stdin, backpressure, kill, and
// an owner that goes away mid-run. Every test ends with uv_loop_close() == 0.
#include "wubd/io/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <functional>
#include <memory>

#include "loop_test.h"

namespace wubd::io {
namespace child_process_test {

using ChildProcessTest = LoopTest;

TEST_F(ChildProcessTest, OutputErrorsStdinAndExitStatus) {
  ChildProcess child(&loop_);
  std::string out, err;
  std::int64_t status = -1;
  bool exited = false;
  ChildProcess::Callbacks callbacks;
  callbacks.on_stdout = [&](std::string_view b) { out.append(b); };
  callbacks.on_stderr = [&](std::string_view b) { err.append(b); };
  callbacks.on_exit = [&](std::int64_t s, int) {
    status = s;
    exited = true;
    EXPECT_EQ(out.size(), 3u * 100000 + 6u);  // every byte before the exit report
  };
  ASSERT_TRUE(child.spawn({"sh", "-c", "cat; echo oops >&2; exit 3"}, 1, callbacks));
  EXPECT_GT(child.pid(), 0);
  ASSERT_TRUE(child.write_input(0, "hello\n"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(child.write_input(0, std::string(100000, 'x')));
  child.close_input(0);
  EXPECT_FALSE(child.write_input(0, "late"));
  ASSERT_TRUE(spin_until([&] { return exited; }));
  EXPECT_EQ(status, 3);
  EXPECT_EQ(err, "oops\n");
  EXPECT_EQ(out.substr(0, 6), "hello\n");
  EXPECT_FALSE(child.running());
}

TEST_F(ChildProcessTest, SeveralInputsArriveOnStdinAndFdsThreeOn) {
  ChildProcess child(&loop_);
  std::string out;
  bool exited = false;
  std::int64_t status = -1;
  std::size_t drained_input = 99;
  ChildProcess::Callbacks callbacks;
  callbacks.on_stdout = [&](std::string_view b) { out.append(b); };
  callbacks.on_exit = [&](std::int64_t s, int) {
    status = s;
    exited = true;
  };
  callbacks.on_input_drained = [&](std::size_t input) { drained_input = input; };
  // Reads fd 4, then stdin, then fd 3: each input is its own pipe.
  ASSERT_TRUE(child.spawn({"sh", "-c", "cat <&4; cat; cat <&3"}, 3, callbacks));
  ASSERT_TRUE(child.write_input(2, std::string(600000, 'c')));  // above the watermark: drains later
  ASSERT_TRUE(child.write_input(0, "a"));
  ASSERT_TRUE(child.write_input(1, "b"));
  EXPECT_GT(child.input_queued(2), 0u);
  for (std::size_t i = 0; i < 3; ++i) child.close_input(i);
  EXPECT_FALSE(child.write_input(3, "no such input"));
  ASSERT_TRUE(spin_until([&] { return exited; }));
  EXPECT_EQ(status, 0);
  EXPECT_EQ(out, std::string(600000, 'c') + "ab");
  EXPECT_EQ(drained_input, 99u);  // closed before draining: no callback for a closed input
}

TEST_F(ChildProcessTest, PausedStdoutHoldsTheChildBack) {
  ChildProcess child(&loop_);
  std::size_t received = 0;
  bool exited = false;
  ChildProcess::Callbacks callbacks;
  callbacks.on_stdout = [&](std::string_view b) {
    received += b.size();
    child.pause_stdout();
  };
  callbacks.on_exit = [&](std::int64_t, int) { exited = true; };
  ASSERT_TRUE(child.spawn({"head", "-c", "10000000", "/dev/zero"}, 0, callbacks));
  ASSERT_TRUE(spin_until([&] { return received > 0; }));
  spin_for(100);
  EXPECT_LT(received, 1000000u);  // paused: the pipe fills and head blocks
  EXPECT_FALSE(exited);
  callbacks.on_stdout = nullptr;
  while (!exited) {
    child.resume_stdout();
    uv_run(&loop_, UV_RUN_ONCE);
  }
  EXPECT_EQ(received, 10000000u);
}

TEST_F(ChildProcessTest, KillReportsTheSignal) {
  ChildProcess child(&loop_);
  int signal_seen = 0;
  bool exited = false;
  ChildProcess::Callbacks callbacks;
  callbacks.on_exit = [&](std::int64_t, int s) {
    signal_seen = s;
    exited = true;
  };
  ASSERT_TRUE(child.spawn({"sleep", "30"}, 0, callbacks));
  child.kill();
  ASSERT_TRUE(spin_until([&] { return exited; }));
  EXPECT_EQ(signal_seen, SIGKILL);
}

TEST_F(ChildProcessTest, AnOwnerThatGoesAwayKillsTheChildAndHearsNothing) {
  bool called = false;
  int pid = 0;
  {
    ChildProcess child(&loop_);
    ChildProcess::Callbacks callbacks;
    callbacks.on_exit = [&](std::int64_t, int) { called = true; };
    ASSERT_TRUE(child.spawn({"sleep", "30"}, 1, callbacks));
    pid = child.pid();
  }
  uv_run(&loop_, UV_RUN_DEFAULT);  // handles close once the killed child is reaped
  EXPECT_FALSE(called);
  EXPECT_NE(::kill(pid, 0), 0);  // gone
}

TEST_F(ChildProcessTest, AProgramThatDoesNotExistIsAnError) {
  ChildProcess child(&loop_);
  auto started = child.spawn({"/nonexistent/ffmpeg"}, 1, {});
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find("cannot start /nonexistent/ffmpeg"), std::string::npos);
}

}  // namespace child_process_test
}  // namespace wubd::io
