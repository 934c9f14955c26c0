#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>

// Opening files below the archive's base directory without ever following a symbolic
// link. The rule, for every role (restreamer, cuts, downloader and backfill writes):
// below BASE, no path component may be a symlink; a path that has one is refused
// (ELOOP) as if it were not there, so nothing outside BASE is read, listed, cut or
// written through one. BASE itself may be a symlink: the operator chose it.
//
// Linux's openat2() with RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH checks every component
// in one call; where the kernel lacks it (before 5.6, or a seccomp filter hiding it)
// the path is walked one component at a time with O_NOFOLLOW, which refuses the
// same paths. Either way the check and the open are one step, so a symlink swapped in
// after a check cannot be followed.
namespace wubd::io {

// A file below a directory: what every reader and writer of the archive opens.
struct BeneathPath {
  int dir_fd = -1;       // the base directory, open for the process's life
  std::string relative;  // "stream/variant/hour/file": parts already checked, no "." or ".."
  std::string display;   // the full path, for logs and errors
};

// openat() of `relative` (may be "." for the directory itself) below `dir_fd` that
// refuses symlinks at every level and paths that leave `dir_fd`. O_CLOEXEC is always
// added. Returns the descriptor, or -errno (-ELOOP for a symlink).
int open_beneath(int dir_fd, const std::string& relative, int flags, mode_t mode = 0);
inline int open_beneath(const BeneathPath& path, int flags) { return open_beneath(path.dir_fd, path.relative, flags); }
// The fallback open_beneath uses without openat2, exposed so that tests hold it to
// the same rule.
int open_beneath_by_walking(int dir_fd, const std::string& relative, int flags, mode_t mode = 0);

// An open descriptor, closed when the last owner lets go: shared by a reader and the
// threadpool reads it has in flight, so the descriptor outlives every read of it.
class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd();
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// stat() of `relative` below `dir_fd` under the same rule; 0 or -errno.
int stat_beneath(int dir_fd, const std::string& relative, struct stat& st);

// Creates the directories of `relative` below `dir_fd` that are missing (mode 0755)
// and opens the last one; a component that is a symlink or not a directory fails
// (-ELOOP, -ENOTDIR). Returns the directory's descriptor or -errno.
int make_directories_beneath(int dir_fd, const std::string& relative);

// "/proc/self/fd/N": a name for a descriptor opened under the rule, for libraries
// that only open by name (libavformat). Opening it reaches the same file whatever
// happened to its path since.
std::string descriptor_path(int fd);

}  // namespace wubd::io
