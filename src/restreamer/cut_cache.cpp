#include "wubd/restreamer/cut_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "wubd/io/child_process.h"
#include "wubd/io/lifetime.h"
#include "wubd/io/task_group.h"
#include "wubd/log/log.h"
#include "wubd/media/media_probe.h"

#include "cut/fed_child.h"

namespace wubd::restreamer {
namespace {

spdlog::logger& cut_log() { return log::logger(log::Module::Cut); }

constexpr const char* kDirectory = ".wubd-cut-cache";

// Removes every file in the cache directory (what a process left, or this one's at
// its end). The directory is wubd's alone: nothing else is kept there.
void empty_directory(int dir_fd) {
  int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    ::close(fd);
    return;
  }
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(dir)) {
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0)
      names.emplace_back(entry->d_name);
  }
  ::closedir(dir);
  for (const std::string& name : names) ::unlinkat(dir_fd, name.c_str(), 0);
}

}  // namespace

struct CutCache::State {
  // One clip: made, or being made by `production`, for `waiters`.
  struct Clip {
    enum class Phase { Making, Made } phase = Phase::Making;
    std::string file_name;
    std::int64_t size = 0;
    std::uint64_t last_used = 0;
    std::map<std::uint64_t, Ready> waiters;
    // The making: ffmpeg fed the segments, writing into the clip's file.
    struct Production {
      explicit Production(uv_loop_t* loop) : tasks(loop) {}
      io::TaskGroup tasks;
      std::unique_ptr<FedChild> child;
      std::shared_ptr<CutSlots::Slot> slot;
      std::string stderr_tail;
    };
    std::unique_ptr<Production> production;
  };

  uv_loop_t* loop = nullptr;
  std::string directory;
  int dir_fd = -1;
  std::uint64_t max_bytes = 0;
  std::uint64_t bytes = 0;
  std::uint64_t next_id = 1;
  std::uint64_t use_counter = 0;
  std::map<std::string, std::unique_ptr<Clip>> clips;

  void start(const std::string& key, Clip& clip, Recipe recipe);
  void spawn(const std::string& key, Recipe recipe, bool has_video, bool has_audio);
  void made(const std::string& key, std::int64_t status, int signal, const std::string& feed_error);
  void fail(const std::string& key, const std::string& why);
  void abandon(const std::string& key);
  void evict(const std::string& keep);
  core::Result<ClipFile> open(const Clip& clip) const;
};

core::Result<CutCache::ClipFile> CutCache::State::open(const Clip& clip) const {
  int fd = ::openat(dir_fd, clip.file_name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return core::make_os_error("cannot open the clip " + directory + "/" + clip.file_name, errno);
  return ClipFile{std::make_shared<const io::OwnedFd>(fd), clip.size};
}

void CutCache::State::start(const std::string& key, Clip& clip, Recipe recipe) {
  clip.file_name = "clip-" + std::to_string(next_id++) + ".mp4";
  clip.production = std::make_unique<Clip::Production>(loop);
  Clip::Production& production = *clip.production;
  production.slot = std::move(recipe.slot);
  // Which streams there are decides the filter graph: a look at the first segment.
  io::BeneathPath probe = recipe.probe;
  auto shared_recipe = std::make_shared<Recipe>(std::move(recipe));
  int rc = production.tasks.compute<core::Result<media::StreamCodecs>>(
      [probe] { return media::probe_stream_codecs(probe); },
      [this, key, shared_recipe](core::Result<media::StreamCodecs> streams) {
        if (!streams) return fail(key, streams.error().message);
        spawn(key, std::move(*shared_recipe), streams->has_video, streams->has_audio);
      });
  if (rc != 0) fail(key, std::string("cannot queue a probe: ") + uv_err_name(rc));
}

void CutCache::State::spawn(const std::string& key, Recipe recipe, bool has_video, bool has_audio) {
  auto it = clips.find(key);
  if (it == clips.end() || !it->second->production) return;
  Clip& clip = *it->second;
  Clip::Production& production = *clip.production;
  int fd = ::openat(dir_fd, clip.file_name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail(key, "cannot create " + directory + "/" + clip.file_name + ": " + std::strerror(errno));
  io::OwnedFd output(fd);  // the child gets its own copy; ours closes once it started
  const std::size_t inputs = recipe.inputs.size();
  production.child = std::make_unique<FedChild>(loop, production.tasks, std::move(recipe.inputs), false);
  // ffmpeg writes the file it is handed by descriptor, reopened through /proc so that
  // its second pass (faststart moves the index to the front) can read it back.
  std::vector<std::string> argv = recipe.argv(has_video, has_audio);
  argv.push_back("/proc/self/fd/" + std::to_string(io::ChildProcess::passed_fd_number(inputs, 0)));
  FedChild::Callbacks callbacks;
  callbacks.on_stdout = [](std::string_view) {};
  callbacks.on_stderr = [&production](std::string_view bytes) {
    production.stderr_tail.append(bytes);
    if (production.stderr_tail.size() > 2000) production.stderr_tail.erase(0, production.stderr_tail.size() - 2000);
  };
  callbacks.on_exit = [this, key](std::int64_t status, int signal, const std::string& feed_error) {
    made(key, status, signal, feed_error);
  };
  if (auto started = production.child->start(argv, std::move(callbacks), {output.get()}); !started) {
    return fail(key, started.error().message);
  }
  cut_log().debug("cut: ffmpeg pid {} making {}", production.child->pid(), clip.file_name);
}

void CutCache::State::made(const std::string& key, std::int64_t status, int signal, const std::string& feed_error) {
  auto it = clips.find(key);
  if (it == clips.end()) return;
  Clip& clip = *it->second;
  if (status != 0 || signal != 0) {
    std::string tail = clip.production ? clip.production->stderr_tail : "";
    while (!tail.empty() && tail.back() == '\n') tail.pop_back();
    return fail(key, "ffmpeg exited " + std::to_string(status) +
                         (signal ? " (signal " + std::to_string(signal) + ")" : "") + ": " + tail + feed_error);
  }
  struct stat st {};
  if (::fstatat(dir_fd, clip.file_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return fail(key, "the clip " + clip.file_name + " is gone: " + std::strerror(errno));
  }
  clip.size = st.st_size;
  clip.phase = Clip::Phase::Made;
  clip.last_used = ++use_counter;
  bytes += std::uint64_t(clip.size);
  // This runs inside the child's exit: the making is freed on the next loop turn.
  io::defer_delete(loop, std::move(clip.production));
  cut_log().info("cut: made {} ({} bytes) for {} request(s)", clip.file_name, clip.size, clip.waiters.size());
  auto file = open(clip);
  std::map<std::uint64_t, Ready> waiters = std::move(clip.waiters);
  clip.waiters.clear();
  evict(key);
  for (auto& [id, ready] : waiters) ready(file);
}

void CutCache::State::fail(const std::string& key, const std::string& why) {
  auto it = clips.find(key);
  if (it == clips.end()) return;
  cut_log().error("cut: cannot make a clip: {}", why);
  std::unique_ptr<Clip> clip = std::move(it->second);
  clips.erase(it);
  if (!clip->file_name.empty()) ::unlinkat(dir_fd, clip->file_name.c_str(), 0);
  // We may be inside the child's exit (or its start): the making goes next turn.
  io::defer_delete(loop, std::move(clip->production));
  core::Result<ClipFile> failure = core::make_error(why, 500);
  for (auto& [id, ready] : clip->waiters) ready(failure);
}

void CutCache::State::abandon(const std::string& key) {
  auto it = clips.find(key);
  if (it == clips.end() || it->second->phase != Clip::Phase::Making || !it->second->waiters.empty()) return;
  std::unique_ptr<Clip> clip = std::move(it->second);
  clips.erase(it);
  cut_log().info("cut: nobody waits for {} any more: stopping ffmpeg", clip->file_name);
  if (clip->production && clip->production->child) clip->production->child->kill();
  ::unlinkat(dir_fd, clip->file_name.c_str(), 0);
  io::defer_delete(loop, std::move(clip->production));
}

void CutCache::State::evict(const std::string& keep) {
  while (bytes > max_bytes) {
    // The least recently used clip; the one just made only if nothing else is left
    // (its requesters have it open already: a clip larger than the bound is sent and
    // not kept).
    auto oldest = clips.end();
    for (auto it = clips.begin(); it != clips.end(); ++it) {
      if (it->second->phase != Clip::Phase::Made || it->first == keep) continue;
      if (oldest == clips.end() || it->second->last_used < oldest->second->last_used) oldest = it;
    }
    if (oldest == clips.end()) oldest = clips.find(keep);
    if (oldest == clips.end() || oldest->second->phase != Clip::Phase::Made) return;
    cut_log().debug("cut: the cache is over {} bytes: removing {}", max_bytes, oldest->second->file_name);
    ::unlinkat(dir_fd, oldest->second->file_name.c_str(), 0);
    bytes -= std::uint64_t(oldest->second->size);
    clips.erase(oldest);
  }
}

CutCache::CutCache(uv_loop_t* loop, const std::string& base_dir, std::uint64_t max_bytes)
    : state_(std::make_shared<State>()) {
  State& s = *state_;
  s.loop = loop;
  s.max_bytes = max_bytes;
  s.directory = base_dir + "/" + kDirectory;
  int base_fd = ::open(base_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (base_fd < 0) return;
  if (::mkdirat(base_fd, kDirectory, 0700) != 0 && errno != EEXIST) {
    cut_log().warn("cut: cannot make {}: {}; seekable clips are off", s.directory, std::strerror(errno));
  }
  s.dir_fd = ::openat(base_fd, kDirectory, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  ::close(base_fd);
  if (s.dir_fd >= 0) empty_directory(s.dir_fd);
}

CutCache::~CutCache() {
  State& s = *state_;
  for (auto& [key, clip] : s.clips) {
    if (clip->production && clip->production->child) clip->production->child->kill();
  }
  s.clips.clear();
  if (s.dir_fd >= 0) {
    empty_directory(s.dir_fd);
    ::close(s.dir_fd);
    s.dir_fd = -1;
  }
}

std::shared_ptr<void> CutCache::request(const std::string& key, const std::function<Recipe()>& recipe, Ready ready) {
  State& s = *state_;
  if (s.dir_fd < 0) {
    ready(core::make_error("no cut cache (" + s.directory + " could not be made)", 503));
    return nullptr;
  }
  auto it = s.clips.find(key);
  if (it != s.clips.end() && it->second->phase == State::Clip::Phase::Made) {
    it->second->last_used = ++s.use_counter;
    ready(s.open(*it->second));
    return nullptr;
  }
  bool start = it == s.clips.end();
  if (start) it = s.clips.emplace(key, std::make_unique<State::Clip>()).first;
  std::uint64_t id = s.next_id++;
  it->second->waiters.emplace(id, std::move(ready));
  std::weak_ptr<State> weak = state_;
  // The place owns nothing; dropping it takes the requester out of the line.
  std::shared_ptr<void> place(nullptr, [weak, key, id](void*) {
    auto state = weak.lock();
    if (!state) return;
    auto clip = state->clips.find(key);
    if (clip == state->clips.end()) return;
    clip->second->waiters.erase(id);
    state->abandon(key);
  });
  if (start) s.start(key, *it->second, recipe());
  return place;
}

bool CutCache::has(const std::string& key) const { return state_->clips.count(key) > 0; }
std::uint64_t CutCache::bytes() const { return state_->bytes; }
std::size_t CutCache::clips() const { return state_->clips.size(); }
const std::string& CutCache::directory() const { return state_->directory; }

}  // namespace wubd::restreamer
