#include "wubd/store/file_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
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

// Bytes every writer holds for its drain: the loop adds, the drains take away.
// Process-wide on purpose: it bounds the process's memory, whichever daemon writes.
std::atomic<std::int64_t> bytes_waiting_for_disk{0};

// Loop thread only, as the writers themselves. Process-wide on purpose: no sweeper of
// this process may remove a temp file the process is writing, whichever daemon's.
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
// works in the threadpool. The writer hands over bytes and the end under the mutex; a
// drain takes them, writes them with the mutex released, and goes on while at least
// kWriteBufferBytes wait (fewer are left to gather), or until the end is done. At most
// one drain runs at a time (`draining`), so the file sees its bytes in order; a writer
// destroyed mid-way leaves the end to the drain, which needs nothing from it.
struct FileWriter::Disk {
  // How the file ends: renamed to `final_name`, or removed (then `error` says why).
  struct End {
    std::string final_name;
    std::optional<core::Error> error;
  };

  std::mutex mutex;
  // Under the mutex.
  std::string pending;     // bytes handed over, not yet taken
  std::optional<End> end;  // asked for, not yet taken
  bool draining = false;
  std::optional<core::Error> failed;               // a write failed: for the writer's next write
  std::optional<core::Result<std::string>> ended;  // the end's outcome, for the writer

  // The drain's alone.
  std::string base_dir;
  std::string relative_dir;
  std::string directory;  // BASE/directory, for errors
  std::string temp_name;
  std::string temp_path;
  int dir_fd = -1;  // every create, rename and unlink is relative to it
  int fd = -1;
  bool created = false;
  bool gone = false;  // renamed, removed, or never created
  std::optional<core::Error> error;
  // Swapped with `pending`: the two buffers go back and forth and keep their capacity,
  // so that no chunk is allocated on the loop and freed in the threadpool.
  std::string taken;

  ~Disk() {
    close_file();
    if (dir_fd >= 0) ::close(dir_fd);
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
    }
  }

  void write(std::string_view bytes) {
    if (error || gone) return;
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

  core::Result<std::string> finish(const End& how) {
    if (how.error || error) {
      remove();
      return how.error ? *how.error : *error;
    }
    if (gone) return core::make_error("cannot finish " + temp_path + ": already gone");
    close_file();
    std::string final_path = directory + "/" + how.final_name;
    gone = true;
    // renameat replaces a symlink at the final name instead of writing through it.
    if (::renameat(dir_fd, temp_name.c_str(), dir_fd, how.final_name.c_str()) != 0) {
      int rename_error = errno;
      ::unlinkat(dir_fd, temp_name.c_str(), 0);
      // Some file systems refuse to replace: the name is the content, so keep theirs.
      if (rename_error == EEXIST) return final_path;
      return core::make_os_error("cannot rename " + temp_path + " to " + final_path, rename_error);
    }
    return final_path;
  }

  // Runs in the threadpool until nothing is left for it (see above).
  void drain() {
    if (!created) create();
    for (;;) {
      std::optional<End> how;
      {
        std::lock_guard lock(mutex);
        if (error && !failed) failed = error;
        if (!end && pending.size() < kWriteBufferBytes) {
          draining = false;
          return;
        }
        taken.swap(pending);
        how = std::exchange(end, std::nullopt);
      }
      bytes_waiting_for_disk -= std::int64_t(taken.size());
      if (!how || !how->error) write(taken);
      // Kept for the next swap if it is the usual size; a buffer that grew while a write
      // waited goes, so that a writer holds no more than two of the usual size.
      if (how || taken.capacity() > 2 * kWriteBufferBytes) {
        std::string().swap(taken);
      } else {
        taken.clear();
      }
      if (how) {
        auto outcome = finish(*how);
        std::lock_guard lock(mutex);
        if (error && !failed) failed = error;
        ended = std::move(outcome);
        draining = false;
        return;
      }
    }
  }
};

FileWriter::FileWriter(uv_loop_t* loop, const std::string& base_dir, const std::string& directory,
                       std::string temp_name)
    : disk_(std::make_shared<Disk>()), drains_(loop), sha256_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(sha256_, EVP_sha256(), nullptr);
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

bool FileWriter::disk_is_behind() { return bytes_waiting_for_disk > std::int64_t(kMaxWaitingBytes); }

void FileWriter::forget_temp_path() {
  if (listed_) temp_paths_being_written().erase(temp_path_);
  listed_ = false;
}

FileWriter::~FileWriter() {
  // A finish already asked for still happens, unseen; anything else is removed.
  if (!ended_) discard();
  forget_temp_path();
  EVP_MD_CTX_free(sha256_);
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
      bytes_waiting_for_disk -= std::int64_t(disk_->pending.size());
      disk_->pending.clear();
    } else {
      if (disk_->pending.capacity() < kWriteBufferBytes) disk_->pending.reserve(kWriteBufferBytes);
      disk_->pending.append(bytes);
      bytes_waiting_for_disk += std::int64_t(bytes.size());
      start = !disk_->draining && disk_->pending.size() >= kWriteBufferBytes;
      if (start) disk_->draining = true;
    }
  }
  if (failed_) return *failed_;
  // Hashed here, as the bytes come, not in the drain: the hash is the CPU a segment
  // costs, and paying it on the loop keeps a download from outrunning it (the loop
  // reads no faster than it hashes, so bytes never pile up in memory behind the hash).
  EVP_DigestUpdate(sha256_, bytes.data(), bytes.size());
  bytes_ += bytes.size();
  if (start) start_drain();
  return true;
}

void FileWriter::end(std::string final_name, std::optional<core::Error> error) {
  ended_ = true;
  bool start = false;
  {
    std::lock_guard lock(disk_->mutex);
    if (error) {
      bytes_waiting_for_disk -= std::int64_t(disk_->pending.size());
      std::string().swap(disk_->pending);
    }
    disk_->end = Disk::End{std::move(final_name), std::move(error)};
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

void FileWriter::finish(const NameForHash& name_for, Done done) {
  if (ended_) {
    done(core::make_error("finished twice: " + temp_path_));
    return;
  }
  done_ = std::move(done);
  if (failed_) return end("", *failed_);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(sha256_, digest, &length);
  auto final_name = name_for(core::encode_hash({digest, length}));
  if (!final_name) return end("", final_name.error());
  end(std::move(*final_name), std::nullopt);
}

void FileWriter::commit(const std::string& final_name, Done done) {
  finish([&final_name](const std::string&) -> core::Result<std::string> { return final_name; }, std::move(done));
}

void FileWriter::commit_verified(const std::string& final_name, const std::string& expected_hash, Done done) {
  finish(
      [&](const std::string& hash) -> core::Result<std::string> {
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
  end("", core::make_error("discarded"));
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
