#include "wubd/store/file_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

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

core::Result<std::unique_ptr<FileWriter>> FileWriter::create(const std::string& base_dir, const std::string& directory,
                                                             std::string temp_name) {
  std::unique_ptr<FileWriter> writer(new FileWriter());
  writer->directory_ = base_dir + "/" + directory;
  auto dir_fd = open_directory(base_dir, directory);
  if (!dir_fd) return dir_fd.error();
  writer->dir_fd_ = *dir_fd;
  writer->temp_name_ = std::move(temp_name);
  writer->temp_path_ = writer->directory_ + "/" + writer->temp_name_;
  writer->fd_ =
      ::openat(writer->dir_fd_, writer->temp_name_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (writer->fd_ < 0) {
    writer->done_ = true;  // nothing to remove
    return core::make_os_error("cannot create " + writer->temp_path_, errno);
  }
  temp_paths_being_written().insert(writer->temp_path_);
  writer->sha256_ = EVP_MD_CTX_new();
  EVP_DigestInit_ex(writer->sha256_, EVP_sha256(), nullptr);
  return writer;
}

const std::set<std::string>& FileWriter::being_written() { return temp_paths_being_written(); }

void FileWriter::mark_done() {
  if (!done_) temp_paths_being_written().erase(temp_path_);
  done_ = true;
}

FileWriter::~FileWriter() {
  discard();
  if (sha256_) EVP_MD_CTX_free(sha256_);
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

core::Result<bool> FileWriter::write(std::string_view bytes) {
  if (closed_) return core::make_error("write after the end: " + temp_path_);
  if (failed_) return *failed_;
  EVP_DigestUpdate(sha256_, bytes.data(), bytes.size());
  bytes_ += bytes.size();
  if (buffer_.empty() && bytes.size() >= kWriteBufferBytes) {
    buffer_.assign(bytes);
    return flush();
  }
  if (buffer_.capacity() < kWriteBufferBytes) buffer_.reserve(kWriteBufferBytes);
  buffer_.append(bytes);
  return buffer_.size() >= kWriteBufferBytes ? flush() : core::Result<bool>(true);
}

core::Result<bool> FileWriter::flush() {
  std::string_view pending = buffer_;
  while (!pending.empty()) {
    ssize_t n = ::write(fd_, pending.data(), pending.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      buffer_.clear();
      // Sticky: the hash counts bytes the file lacks now, so finish() must fail too
      // (or a `partial` would be named for bytes it does not hold).
      failed_ = core::make_os_error("cannot write " + temp_path_, errno);
      return *failed_;
    }
    pending.remove_prefix(std::size_t(n));
  }
  buffer_.clear();
  return true;
}

core::Result<std::string> FileWriter::finish() {
  if (closed_) return core::make_error("finished twice: " + temp_path_);
  auto flushed = failed_ ? core::Result<bool>(*failed_) : flush();
  closed_ = true;
  ::close(fd_);
  fd_ = -1;
  if (!flushed) {
    discard();
    return flushed.error();
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(sha256_, digest, &length);
  return core::encode_hash({digest, length});
}

core::Result<std::string> FileWriter::rename_to(const std::string& final_name) {
  std::string final_path = directory_ + "/" + final_name;
  if (done_) return core::make_error("cannot rename " + temp_path_ + " to " + final_path + ": already gone");
  mark_done();
  // renameat replaces a symlink at the final name instead of writing through it.
  if (::renameat(dir_fd_, temp_name_.c_str(), dir_fd_, final_name.c_str()) != 0) {
    int error = errno;
    ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
    // Some file systems refuse to replace: the name is the content, so keep theirs.
    if (error == EEXIST) return final_path;
    return core::make_os_error("cannot rename " + temp_path_ + " to " + final_path, error);
  }
  return final_path;
}

core::Result<std::string> FileWriter::commit(const std::string& final_name) {
  auto hash = finish();
  if (!hash) return hash.error();
  return rename_to(final_name);
}

core::Result<std::string> FileWriter::commit_verified(const std::string& final_name, const std::string& expected_hash) {
  auto hash = finish();
  if (!hash) return hash.error();
  if (*hash != expected_hash) {
    discard();
    return core::make_error("hash mismatch: the name says " + expected_hash + ", the bytes hash to " + *hash,
                            kHashMismatch);
  }
  return rename_to(final_name);
}

void FileWriter::discard() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  closed_ = true;
  if (!done_ && dir_fd_ >= 0) ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
  mark_done();
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
