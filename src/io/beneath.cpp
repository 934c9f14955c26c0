#include "wubd/io/beneath.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string_view>
#include <vector>

namespace wubd::io {
namespace {

// Set once openat2 answered ENOSYS: every later call walks instead. Process-wide on
// purpose: what the kernel offers is the same for every daemon in the process.
std::atomic<bool> g_no_openat2{false};

std::vector<std::string> components(const std::string& relative) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= relative.size()) {
    std::size_t slash = relative.find('/', start);
    if (slash == std::string::npos) slash = relative.size();
    if (slash > start) parts.emplace_back(relative, start, slash - start);
    start = slash + 1;
  }
  return parts;
}

// Opens directory `name` in `dir` without following a symlink: O_DIRECTORY | O_NOFOLLOW
// on a symlink says ENOTDIR, so that case is told apart and reported as ELOOP.
int open_directory_nofollow(int dir, const std::string& name) {
  int fd = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) return fd;
  int error = errno;
  struct stat st;
  if (error == ENOTDIR && ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
    return -ELOOP;
  }
  return -error;
}

// The fallback: each directory opened with O_NOFOLLOW (ELOOP on a symlink), then the
// last component with the caller's flags plus O_NOFOLLOW.
int walk_open_impl(int dir_fd, const std::string& relative, int flags, mode_t mode) {
  std::vector<std::string> parts = components(relative);
  for (const std::string& part : parts) {
    if (part == "..") return -EXDEV;  // never leave dir_fd
  }
  if (parts.empty()) parts.push_back(".");
  int current = dir_fd;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    int next = open_directory_nofollow(current, parts[i]);
    if (current != dir_fd) ::close(current);
    if (next < 0) return next;
    current = next;
  }
  int fd;
  if ((flags & O_DIRECTORY) && !(flags & O_PATH)) {
    fd = open_directory_nofollow(current, parts.back());
  } else {
    fd = ::openat(current, parts.back().c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) fd = -errno;
  }
  if (current != dir_fd) ::close(current);
  if (fd < 0) return fd;
  if (flags & O_PATH) {
    // O_PATH | O_NOFOLLOW opens a symlink itself instead of failing: refuse it here.
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
      ::close(fd);
      return -ELOOP;
    }
  }
  return fd;
}

}  // namespace

int open_beneath(int dir_fd, const std::string& relative, int flags, mode_t mode) {
  static const std::string kHere = ".";
  const std::string& path = relative.empty() ? kHere : relative;
  if (!g_no_openat2) {
    open_how how{};
    how.flags = std::uint64_t(flags | O_CLOEXEC);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH;
    long fd = ::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how);
    if (fd >= 0) return int(fd);
    if (errno == EAGAIN) return walk_open_impl(dir_fd, path, flags, mode);  // a rename raced the lookup
    if (errno != ENOSYS) return -errno;
    g_no_openat2 = true;
  }
  return walk_open_impl(dir_fd, path, flags, mode);
}

int open_beneath_by_walking(int dir_fd, const std::string& relative, int flags, mode_t mode) {
  return walk_open_impl(dir_fd, relative.empty() ? std::string(".") : relative, flags, mode);
}

int stat_beneath(int dir_fd, const std::string& relative, struct stat& st) {
  int fd = open_beneath(dir_fd, relative, O_PATH);
  if (fd < 0) return fd;
  int rc = ::fstat(fd, &st) == 0 ? 0 : -errno;
  ::close(fd);
  return rc;
}

int make_directories_beneath(int dir_fd, const std::string& relative) {
  int current = ::dup(dir_fd);
  if (current < 0) return -errno;
  for (const std::string& part : components(relative)) {
    if (part == "." || part == "..") {
      ::close(current);
      return -EINVAL;
    }
    // mkdirat never follows a symlink at the new name: one already there is EEXIST,
    // and the open below refuses it.
    if (::mkdirat(current, part.c_str(), 0755) != 0 && errno != EEXIST) {
      int error = errno;
      ::close(current);
      return -error;
    }
    int next = open_directory_nofollow(current, part);
    ::close(current);
    if (next < 0) return next;
    current = next;
  }
  return current;
}

OwnedFd::~OwnedFd() {
  if (fd_ >= 0) ::close(fd_);
}

std::string descriptor_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

}  // namespace wubd::io
