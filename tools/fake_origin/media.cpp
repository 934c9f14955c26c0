#include "media.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace wubd::fake_origin {
namespace fs = std::filesystem;

bool parse_profile(const std::string& text, Profile& profile) {
  std::size_t a = text.find(':');
  std::size_t b = a == std::string::npos ? a : text.find(':', a + 1);
  if (b == std::string::npos) return false;
  profile.name = text.substr(0, a);
  profile.size = text.substr(a + 1, b - a - 1);
  profile.bitrate = text.substr(b + 1);
  if (std::size_t c = profile.bitrate.find(':'); c != std::string::npos) {
    if (profile.bitrate.substr(c + 1) != "fmp4") return false;
    profile.fmp4 = true;
    profile.bitrate.resize(c);
  }
  return !profile.name.empty() && profile.size.find('x') != std::string::npos && !profile.bitrate.empty();
}

namespace {

// Runs a program and waits: this tool encodes before it starts serving.
int run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string segment_file(const fs::path& dir, int i) {
  char name[32];
  std::snprintf(name, sizeof name, "seg%04d.ts", i);
  return (dir / name).string();
}

}  // namespace

std::vector<std::shared_ptr<const std::string>> load_segments(const std::string& cache_dir, const Profile& profile,
                                                              int count, int seconds) {
  // "-loop2": made to loop seamlessly (below); older caches were not.
  fs::path dir = fs::path(cache_dir) / (profile.size + "-" + profile.bitrate + "-" + std::to_string(count) + "x" +
                                        std::to_string(seconds) + "-loop2");
  if (!fs::exists(segment_file(dir, count + 1))) {
    fs::create_directories(cache_dir);
    // Encoded into a private directory, then renamed: concurrent runs never see half a cache.
    fs::path tmp = fs::path(cache_dir) / (".tmp-" + std::to_string(getpid()) + "-" + dir.filename().string());
    fs::create_directories(tmp);
    // The segments play in a loop with their timestamps moved on by the loop's length
    // each time, so the loop must join seamlessly: 30 fps video and 32 kHz AAC (32 ms a
    // frame) both divide a whole number of seconds, and a segment more is encoded at
    // each end and dropped: the first holds the encoder's priming frame, the last its
    // flushed ones, and without them the last kept segment ends exactly where the
    // first kept one begins, a loop later.
    int total = (count + 2) * seconds;
    std::string rate = profile.bitrate;
    std::fprintf(stderr, "fake-origin: encoding %d x %d s of %s at %s into %s\n", count, seconds, profile.size.c_str(),
                 rate.c_str(), dir.c_str());
    // ffmpeg's flags and their values, as on a command line.
    // clang-format off
    int rc = run({"ffmpeg", "-nostdin", "-loglevel", "error", "-y",
                  "-f", "lavfi", "-i", "testsrc=duration=" + std::to_string(total) + ":size=" + profile.size + ":rate=30",
                  "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=32000:duration=" + std::to_string(total),
                  "-c:v", "libx264", "-preset", "ultrafast", "-g", std::to_string(30 * seconds),
                  "-sc_threshold", "0", "-force_key_frames", "expr:gte(t,n_forced*" + std::to_string(seconds) + ")",
                  "-b:v", rate, "-minrate", rate, "-maxrate", rate, "-bufsize", rate, "-x264-params", "nal-hrd=cbr",
                  "-c:a", "aac", "-b:a", "64k",
                  "-f", "segment", "-segment_time", std::to_string(seconds), "-segment_format", "mpegts",
                  (tmp / "seg%04d.ts").string()});
    // clang-format on
    if (rc != 0 || !fs::exists(segment_file(tmp, count + 1))) {
      std::fprintf(stderr, "fake-origin: ffmpeg failed (%d)\n", rc);
      fs::remove_all(tmp);
      return {};
    }
    std::error_code ec;
    fs::rename(tmp, dir, ec);
    if (ec) fs::remove_all(tmp);  // another run got there first
  }
  std::vector<std::shared_ptr<const std::string>> segments;
  for (int i = 1; i <= count; ++i) {
    std::ifstream file(segment_file(dir, i), std::ios::binary);
    std::ostringstream bytes;
    bytes << file.rdbuf();
    segments.push_back(std::make_shared<const std::string>(bytes.str()));
  }
  return segments;
}

namespace {

std::shared_ptr<const std::string> read_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return std::make_shared<const std::string>(bytes.str());
}

}  // namespace

Fmp4Media load_fmp4_segments(const std::string& cache_dir, const Profile& profile, int count, int seconds) {
  fs::path dir = fs::path(cache_dir) / (profile.size + "-" + profile.bitrate + "-" + std::to_string(count) + "x" +
                                        std::to_string(seconds) + "-fmp4");
  int half = count / 2;
  auto part_dir = [&](const fs::path& root, int part) { return root / ("part" + std::to_string(part)); };
  if (!fs::exists(part_dir(dir, 1) / "init.mp4")) {
    fs::create_directories(cache_dir);
    fs::path tmp = fs::path(cache_dir) / (".tmp-" + std::to_string(getpid()) + "-" + dir.filename().string());
    for (int part = 0; part < 2; ++part) {
      fs::path out = part_dir(tmp, part);
      fs::create_directories(out);
      int total = (part == 0 ? half : count - half) * seconds;
      std::fprintf(stderr, "fake-origin: encoding %d s of fMP4 (%s) into %s\n", total, profile.size.c_str(),
                   out.c_str());
      // ffmpeg's flags and their values, as on a command line.
      // clang-format off
      int rc = run({"ffmpeg", "-nostdin", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc=duration=" + std::to_string(total) + ":size=" + profile.size + ":rate=30",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=32000:duration=" + std::to_string(total),
                    "-c:v", "libx264", "-preset", "ultrafast", "-level", part == 0 ? "3.0" : "3.1",
                    "-g", std::to_string(30 * seconds), "-sc_threshold", "0",
                    "-force_key_frames", "expr:gte(t,n_forced*" + std::to_string(seconds) + ")",
                    "-b:v", profile.bitrate, "-c:a", "aac", "-b:a", "64k",
                    "-f", "hls", "-hls_time", std::to_string(seconds), "-hls_segment_type", "fmp4",
                    "-hls_playlist_type", "vod", "-hls_fmp4_init_filename", "init.mp4",
                    "-hls_segment_filename", (out / "seg%04d.m4s").string(), (out / "index.m3u8").string()});
      // clang-format on
      if (rc != 0 || !fs::exists(out / "init.mp4")) {
        std::fprintf(stderr, "fake-origin: ffmpeg failed making fMP4 (%d)\n", rc);
        fs::remove_all(tmp);
        return {};
      }
    }
    std::error_code ec;
    fs::rename(tmp, dir, ec);
    if (ec) fs::remove_all(tmp);
  }
  Fmp4Media media;
  for (int part = 0; part < 2; ++part) {
    media.inits.push_back(read_file(part_dir(dir, part) / "init.mp4"));
    for (int i = 0; i < (part == 0 ? half : count - half); ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "seg%04d.m4s", i);
      media.segments.push_back(read_file(part_dir(dir, part) / name));
    }
  }
  return media;
}

}  // namespace wubd::fake_origin
