#include "wubd/store/extras.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace wubd::store {
namespace {

struct Walk {
  std::size_t max_files;
  std::string display;
  std::vector<std::string> files;
};

// Lists the directory open as `fd` (taken over), whose path below the walk's root is
// `prefix` ("" or "a/b/").
core::Result<bool> walk(int fd, const std::string& prefix, int depth, Walk& state) {
  DIR* dir = fdopendir(fd);
  if (!dir) {
    int error = errno;
    ::close(fd);
    return core::make_error("cannot list " + state.display + "/" + prefix + ": " + std::strerror(error));
  }
  std::vector<std::string> subdirectories;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name[0] == '.' || name.ends_with(".temp")) continue;
    unsigned char type = entry->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st;
      if (fstatat(dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
    }
    if (type == DT_REG) {
      if (state.files.size() >= state.max_files) {
        closedir(dir);
        return core::make_error(state.display + " holds more than " + std::to_string(state.max_files) + " files");
      }
      state.files.push_back(prefix + name);
    } else if (type == DT_DIR) {
      subdirectories.push_back(std::move(name));
    }
    // Symlinks and anything else are not extras.
  }
  for (const std::string& name : subdirectories) {
    if (depth + 1 > kMaxExtrasDepth) {
      closedir(dir);
      return core::make_error(state.display + " is deeper than " + std::to_string(kMaxExtrasDepth) + " directories");
    }
    int child = ::openat(dirfd(dir), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child < 0) continue;  // gone, or swapped for a symlink since readdir
    if (auto walked = walk(child, prefix + name + "/", depth + 1, state); !walked) {
      closedir(dir);
      return walked;
    }
  }
  closedir(dir);
  return true;
}

}  // namespace

core::Result<std::vector<std::string>> list_extras(const io::BeneathPath& dir, std::size_t max_files) {
  int fd = io::open_beneath(dir, O_RDONLY | O_DIRECTORY);
  if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP) return std::vector<std::string>{};
  if (fd < 0) return core::make_error("cannot list " + dir.display + ": " + std::strerror(-fd));
  Walk state{max_files, dir.display, {}};
  if (auto walked = walk(fd, "", 1, state); !walked) return walked.error();
  std::sort(state.files.begin(), state.files.end());
  return std::move(state.files);
}

}  // namespace wubd::store
