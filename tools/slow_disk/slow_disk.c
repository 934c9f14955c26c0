// An LD_PRELOAD shim that makes the disk slow, or failing, on purpose:
// - slow (tools/bench/slow-disk): every write(2) to a regular file, every openat(2)
//   that creates a file, every rename and every opendir (but of /proc and /sys) waits
//   SLOW_DISK_MS milliseconds (default 200) first, as a throttled or dying disk makes
//   them wait;
// - failing (integration_disk): while the file SLOW_DISK_FAIL_WHILE exists, writes to
//   regular files fail with SLOW_DISK_ERRNO (default EIO), as a dying disk's do.
// Sockets, pipes and the standard streams (the process's log) are left alone.
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

static void wait_a_while(void) {
  static long ms = -1;
  if (ms < 0) {
    const char* text = getenv("SLOW_DISK_MS");
    ms = text ? atol(text) : getenv("SLOW_DISK_FAIL_WHILE") ? 0 : 200;
  }
  struct timespec delay = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&delay, NULL);
}

static int failing(void) {
  const char* control = getenv("SLOW_DISK_FAIL_WHILE");
  if (!control) return 0;
  struct stat st;
  if (stat(control, &st) != 0) return 0;
  const char* error = getenv("SLOW_DISK_ERRNO");
  return error ? atoi(error) : EIO;
}

ssize_t write(int fd, const void* buf, size_t count) {
  static ssize_t (*real)(int, const void*, size_t);
  if (!real) real = (ssize_t(*)(int, const void*, size_t))dlsym(RTLD_NEXT, "write");
  struct stat st;
  if (fd > 2 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    int error = failing();
    if (error) {
      errno = error;
      return -1;
    }
    wait_a_while();
  }
  return real(fd, buf, count);
}

int openat(int dirfd, const char* path, int flags, ...) {
  static int (*real)(int, const char*, int, ...);
  if (!real) real = (int (*)(int, const char*, int, ...))dlsym(RTLD_NEXT, "openat");
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list args;
    va_start(args, flags);
    mode = va_arg(args, mode_t);
    va_end(args);
    wait_a_while();
  }
  return real(dirfd, path, flags, mode);
}

int renameat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath) {
  static int (*real)(int, const char*, int, const char*);
  if (!real) real = (int (*)(int, const char*, int, const char*))dlsym(RTLD_NEXT, "renameat");
  wait_a_while();
  return real(olddirfd, oldpath, newdirfd, newpath);
}

// /proc and /sys are not the disk: a process reading its own fds is not slowed.
static int on_the_disk(const struct statfs* fs) { return fs->f_type != PROC_SUPER_MAGIC && fs->f_type != SYSFS_MAGIC; }

DIR* opendir(const char* path) {
  static DIR* (*real)(const char*);
  if (!real) real = (DIR * (*)(const char*)) dlsym(RTLD_NEXT, "opendir");
  struct statfs fs;
  if (statfs(path, &fs) != 0 || on_the_disk(&fs)) wait_a_while();
  return real(path);
}

DIR* fdopendir(int fd) {
  static DIR* (*real)(int);
  if (!real) real = (DIR * (*)(int)) dlsym(RTLD_NEXT, "fdopendir");
  struct statfs fs;
  if (fstatfs(fd, &fs) != 0 || on_the_disk(&fs)) wait_a_while();
  return real(fd);
}
