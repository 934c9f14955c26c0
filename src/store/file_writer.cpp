#include "wubd/store/file_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <utility>

#include <openssl/evp.h>

#include "wubd/core/segment_name.h"
#include "wubd/io/beneath.h"

namespace wubd::store {
namespace {

// The directory BASE/relative, created as needed, opened without following a
// symlink below BASE; its descriptor or an error naming the path.
core::Result<int> open_directory(const std::string& base_dir, const std::string& relative) {
  int base_fd = ::open(base_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (base_fd < 0) return core::make_os_error("cannot open the base directory " + base_dir, errno);
  int fd = io::make_directories_beneath(base_fd, relative);
  ::close(base_fd);
  if (fd == -ELOOP) {
    return core::make_error("cannot create " + base_dir + "/" + relative +
                            ": a directory on the way is a symbolic link (wubd follows none below the base directory)");
  }
  if (fd < 0) return core::make_os_error("cannot create " + base_dir + "/" + relative, -fd);
  return fd;
}

// Loop thread only, as the writers themselves.
std::set<std::string>& temp_paths_being_written() {
  static std::set<std::string> paths;
  return paths;
}

}  // namespace

std::string random_temp_id() {
  static std::mt19937_64 random{std::random_device{}()};
  std::uint64_t a = random(), b = random();
  char text[40];
  std::snprintf(text, sizeof text, "%08x-%04x-4%03x-%04x-%012llx", unsigned(a >> 32), unsigned(a >> 16) & 0xffff,
                unsigned(a) & 0xfff, unsigned(b >> 48) & 0xffff,
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return text;
}

// The file's side of a writer, shared by the writer on the loop and the drain that
// works in the threadpool. The writer hands over bytes and the end (finish or discard)
// under the mutex; a drain takes them, writes them with the mutex released, and goes
// on while at least kWriteBufferBytes wait (fewer are left to gather), or until the
// end is done. At most one drain runs at a time (`draining`), so the file sees its
// bytes in order; a writer destroyed mid-way leaves the end to the drain, which needs
// nothing from it.
struct FileWriter::Disk {
  std::mutex mutex;
  // Under the mutex.
  std::string pending;   // bytes handed over, not yet taken
  NameForHash name_for;  // finish() asked for, not yet taken
  bool discard = false;  // discard() asked for, not yet taken
  bool draining = false;
  std::optional<core::Error> failed;               // sticky, for the writer's next write
  std::optional<core::Result<std::string>> ended;  // the finish's outcome, for the writer

  // The drain's alone.
  std::string base_dir;
  std::string relative_dir;
  std::string directory;  // BASE/directory, for errors
  std::string temp_name;
  std::string temp_path;
  int dir_fd = -1;  // every create, rename and unlink is relative to it
  int fd = -1;
  EVP_MD_CTX* sha256 = nullptr;
  bool created = false;
  bool gone = false;  // renamed, removed, or never created
  std::optional<core::Error> error;

  ~Disk() {
    close_file();
    if (dir_fd >= 0) ::close(dir_fd);
    if (sha256) EVP_MD_CTX_free(sha256);
  }

  void close_file() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }

  void create() {
    created = true;
    auto opened = open_directory(base_dir, relative_dir);
    if (!opened) {
      gone = true;
      error = opened.error();
      return;
    }
    dir_fd = *opened;
    fd = ::openat(dir_fd, temp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
      gone = true;  // nothing to remove
      error = core::make_os_error("cannot create " + temp_path, errno);
      return;
    }
    sha256 = EVP_MD_CTX_new();
    EVP_DigestInit_ex(sha256, EVP_sha256(), nullptr);
  }

  void write(std::string_view bytes) {
    if (error || gone || bytes.empty()) return;
    EVP_DigestUpdate(sha256, bytes.data(), bytes.size());
    while (!bytes.empty()) {
      ssize_t n = ::write(fd, bytes.data(), bytes.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        error = core::make_os_error("cannot write " + temp_path, errno);
        return;
      }
      bytes.remove_prefix(std::size_t(n));
    }
  }

  void remove() {
    close_file();
    if (created && !gone) ::unlinkat(dir_fd, temp_name.c_str(), 0);
    gone = true;
  }

  core::Result<std::string> finish(const NameForHash& final_name_for) {
    if (error) {
      remove();
      return *error;
    }
    if (gone) return core::make_error("cannot finish " + temp_path + ": already gone");
    close_file();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(sha256, digest, &length);
    auto final_name = final_name_for(core::encode_hash({digest, length}));
    if (!final_name) {
      remove();
      return final_name.error();
    }
    std::string final_path = directory + "/" + *final_name;
    gone = true;
    // renameat replaces a symlink at the final name instead of writing through it.
    if (::renameat(dir_fd, temp_name.c_str(), dir_fd, final_name->c_str()) != 0) {
      int rename_error = errno;
      ::unlinkat(dir_fd, temp_name.c_str(), 0);
      // Some file systems refuse to replace: the name is the content, so keep theirs.
      if (rename_error == EEXIST) return final_path;
      return core::make_os_error("cannot rename " + temp_path + " to " + final_path, rename_error);
    }
    return final_path;
  }

  // Under the mutex: a failure either side found is both sides' (the writer refuses
  // bytes a stalled disk cannot take; then the file must not be finished either).
  void share_failure() {
    if (error && !failed) failed = error;
    if (failed && !error) error = failed;
  }

  // Runs in the threadpool until nothing is left for it (see above).
  void drain() {
    if (!created) create();
    for (;;) {
      std::string bytes;
      NameForHash final_name_for;
      bool remove_now = false;
      {
        std::lock_guard lock(mutex);
        share_failure();
        bool ending = name_for || discard;
        if (!ending && pending.size() < kWriteBufferBytes) {
          draining = false;
          return;
        }
        bytes.swap(pending);
        final_name_for = std::move(name_for);
        name_for = nullptr;
        remove_now = std::exchange(discard, false);
      }
      if (remove_now) {
        remove();
      } else {
        write(bytes);
      }
      if (remove_now || final_name_for) {
        auto outcome = remove_now ? core::Result<std::string>(core::make_error("discarded")) : finish(final_name_for);
        std::lock_guard lock(mutex);
        share_failure();
        ended = std::move(outcome);
        draining = false;
        return;
      }
    }
  }
};

FileWriter::FileWriter(uv_loop_t* loop, const std::string& base_dir, const std::string& directory,
                       std::string temp_name)
    : disk_(std::make_shared<Disk>()), drains_(loop) {
  disk_->base_dir = base_dir;
  disk_->relative_dir = directory;
  disk_->directory = base_dir + "/" + directory;
  disk_->temp_name = std::move(temp_name);
  disk_->temp_path = disk_->directory + "/" + disk_->temp_name;
  temp_path_ = disk_->temp_path;
  temp_paths_being_written().insert(temp_path_);
  disk_->draining = true;
  start_drain();  // creates the file now, so that it exists while the first bytes come
}

const std::set<std::string>& FileWriter::being_written() { return temp_paths_being_written(); }

void FileWriter::forget_temp_path() {
  if (listed_) temp_paths_being_written().erase(temp_path_);
  listed_ = false;
}

FileWriter::~FileWriter() {
  // A finish already asked for still happens, unseen; anything else is removed.
  if (!ended_) discard();
  forget_temp_path();
}

bool FileWriter::busy() const {
  std::lock_guard lock(disk_->mutex);
  return disk_->draining;
}

core::Result<bool> FileWriter::write(std::string_view bytes) {
  if (failed_) return *failed_;
  if (ended_) return core::make_error("write after the end: " + temp_path_);
  bool start = false;
  {
    std::lock_guard lock(disk_->mutex);
    if (disk_->failed) {
      failed_ = disk_->failed;
    } else if (disk_->pending.size() + bytes.size() > kMaxQueuedBytes) {
      failed_ = core::make_error("cannot write " + temp_path_ + ": the disk is not keeping up (" +
                                 std::to_string(disk_->pending.size() >> 20) + " MiB waiting)");
      disk_->failed = failed_;
      disk_->pending.clear();
    } else {
      if (disk_->pending.capacity() < kWriteBufferBytes) disk_->pending.reserve(kWriteBufferBytes);
      disk_->pending.append(bytes);
      start = !disk_->draining && disk_->pending.size() >= kWriteBufferBytes;
      if (start) disk_->draining = true;
    }
  }
  if (failed_) return *failed_;
  bytes_ += bytes.size();
  if (start) start_drain();
  return true;
}

void FileWriter::end(NameForHash name_for) {
  ended_ = true;
  bool start = false;
  {
    std::lock_guard lock(disk_->mutex);
    if (name_for) {
      disk_->name_for = std::move(name_for);
    } else {
      disk_->pending.clear();
      disk_->discard = true;
    }
    start = !disk_->draining;
    disk_->draining = true;
  }
  if (start) start_drain();
}

void FileWriter::start_drain() {
  int rc = drains_.run([disk = disk_] { disk->drain(); }, [this] { on_drained(); });
  // uv_queue_work fails only for a missing callback; nothing to do but say so.
  if (rc != 0) failed_ = core::make_error("cannot queue a write of " + temp_path_ + ": " + uv_strerror(rc));
}

void FileWriter::on_drained() {
  std::optional<core::Result<std::string>> ended;
  {
    std::lock_guard lock(disk_->mutex);
    if (disk_->failed && !failed_) failed_ = disk_->failed;
    ended = std::exchange(disk_->ended, std::nullopt);
  }
  if (!ended || !done_) return;
  forget_temp_path();
  // The last thing this writer does: `done` may destroy it.
  std::exchange(done_, nullptr)(std::move(*ended));
}

void FileWriter::finish(NameForHash name_for, Done done) {
  if (ended_) {
    done(core::make_error("finished twice: " + temp_path_));
    return;
  }
  done_ = std::move(done);
  end(std::move(name_for));
}

void FileWriter::commit(std::string final_name, Done done) {
  finish([final_name = std::move(final_name)](const std::string&) -> core::Result<std::string> { return final_name; },
         std::move(done));
}

void FileWriter::commit_verified(std::string final_name, std::string expected_hash, Done done) {
  finish(
      [final_name = std::move(final_name),
       expected_hash = std::move(expected_hash)](const std::string& hash) -> core::Result<std::string> {
        if (hash != expected_hash) {
          return core::make_error("hash mismatch: the name says " + expected_hash + ", the bytes hash to " + hash,
                                  kHashMismatch);
        }
        return final_name;
      },
      std::move(done));
}

void FileWriter::discard() {
  if (ended_) return;
  forget_temp_path();
  end(nullptr);
}

core::Result<bool> create_empty_file(const std::string& base_dir, const std::string& directory,
                                     const std::string& name) {
  auto dir_fd = open_directory(base_dir, directory);
  if (!dir_fd) return dir_fd.error();
  int fd = ::openat(*dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  int error = errno;
  ::close(*dir_fd);
  if (fd < 0) {
    return core::make_os_error("cannot create " + base_dir + "/" + directory + "/" + name, error);
  }
  ::close(fd);
  return true;
}

}  // namespace wubd::store
