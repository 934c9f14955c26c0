#include "wubd/store/segment_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include "wubd/io/beneath.h"
#include "wubd/log/log.h"

namespace wubd::store {
namespace {

// A random id for temp names, uuid-shaped like wubloader's.
std::string random_id() {
  static std::mt19937_64 random{std::random_device{}()};
  std::uint64_t a = random(), b = random();
  char text[40];
  std::snprintf(text, sizeof text, "%08x-%04x-4%03x-%04x-%012llx", unsigned(a >> 32), unsigned(a >> 16) & 0xffff,
                unsigned(a) & 0xfff, unsigned(b >> 48) & 0xffff,
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return text;
}

// The hour directory BASE/relative, created as needed, opened without following a
// symlink below BASE; its descriptor or an error naming the path.
core::Result<int> open_hour_directory(const std::string& base_dir, const std::string& relative) {
  int base_fd = ::open(base_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (base_fd < 0) return core::make_error("cannot open the base directory " + base_dir + ": " + std::strerror(errno));
  int fd = io::make_directories_beneath(base_fd, relative);
  ::close(base_fd);
  if (fd == -ELOOP) {
    return core::make_error("cannot create " + base_dir + "/" + relative +
                            ": a directory on the way is a symbolic link (wubd follows none below the base directory)");
  }
  if (fd < 0) return core::make_error("cannot create " + base_dir + "/" + relative + ": " + std::strerror(-fd));
  return fd;
}

}  // namespace

core::Result<std::unique_ptr<SegmentWriter>> SegmentWriter::create(const std::string& base_dir,
                                                                   const std::string& stream,
                                                                   const std::string& variant, core::Micros start,
                                                                   core::Micros duration) {
  std::unique_ptr<SegmentWriter> writer(new SegmentWriter());
  std::string relative = stream + "/" + variant + "/" + core::format_hour(start);
  writer->directory_ = base_dir + "/" + relative;
  auto dir_fd = open_hour_directory(base_dir, relative);
  if (!dir_fd) return dir_fd.error();
  writer->dir_fd_ = *dir_fd;
  writer->name_.start = start;
  writer->name_.duration = duration;
  writer->name_.type = core::SegmentType::Temp;
  writer->name_.hash = random_id();
  writer->temp_name_ = core::format_segment_name(writer->name_);
  writer->temp_path_ = writer->directory_ + "/" + writer->temp_name_;
  writer->fd_ =
      ::openat(writer->dir_fd_, writer->temp_name_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (writer->fd_ < 0) {
    return core::make_error("cannot create " + writer->temp_path_ + ": " + std::strerror(errno));
  }
  writer->sha256_ = EVP_MD_CTX_new();
  EVP_DigestInit_ex(writer->sha256_, EVP_sha256(), nullptr);
  return writer;
}

SegmentWriter::~SegmentWriter() {
  if (!finished_) discard();
  if (sha256_) EVP_MD_CTX_free(sha256_);
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

core::Result<bool> SegmentWriter::write(std::string_view bytes) {
  if (finished_) return core::make_error("write after commit: " + temp_path_);
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

core::Result<bool> SegmentWriter::flush() {
  std::string_view pending = buffer_;
  while (!pending.empty()) {
    ssize_t n = ::write(fd_, pending.data(), pending.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      buffer_.clear();
      return core::make_error("cannot write " + temp_path_ + ": " + std::strerror(errno));
    }
    pending.remove_prefix(std::size_t(n));
  }
  buffer_.clear();
  return true;
}

core::Result<std::string> SegmentWriter::finish_hash() {
  if (finished_) return core::make_error("commit twice: " + temp_path_);
  auto flushed = flush();
  finished_ = true;
  ::close(fd_);
  fd_ = -1;
  if (!flushed) {
    ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
    return flushed.error();
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(sha256_, digest, &length);
  return core::encode_hash({digest, length});
}

core::Result<std::string> SegmentWriter::rename_to(const std::string& final_name) {
  std::string final_path = directory_ + "/" + final_name;
  // renameat replaces a symlink at the final name instead of writing through it.
  if (::renameat(dir_fd_, temp_name_.c_str(), dir_fd_, final_name.c_str()) != 0) {
    int error = errno;
    ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
    // Some file systems refuse to replace: the name is the content, so keep theirs.
    if (error == EEXIST) return final_path;
    return core::make_error("cannot rename " + temp_path_ + " to " + final_path + ": " + std::strerror(error));
  }
  return final_path;
}

core::Result<std::string> SegmentWriter::commit(core::SegmentType type) {
  auto hash = finish_hash();
  if (!hash) return hash.error();
  name_.type = type;
  name_.hash = std::move(*hash);
  return rename_to(core::format_segment_name(name_));
}

core::Result<std::string> SegmentWriter::commit_verified(const std::string& file_name,
                                                         const std::string& expected_hash) {
  auto hash = finish_hash();
  if (!hash) return hash.error();
  if (*hash != expected_hash) {
    ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
    return core::make_error("hash mismatch: the name says " + expected_hash + ", the bytes hash to " + *hash,
                            kHashMismatch);
  }
  return rename_to(file_name);
}

void SegmentWriter::discard() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!finished_ && dir_fd_ >= 0) ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
  finished_ = true;
}

std::size_t remove_stale_temp_files(const std::string& base_dir, core::Micros max_age) {
  namespace fs = std::filesystem;
  std::size_t removed = 0;
  std::error_code ec;
  auto now = fs::file_time_type::clock::now();
  for (auto it = fs::recursive_directory_iterator(base_dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() > 3) {
      it.disable_recursion_pending();
      continue;
    }
    // symlink_status: a symlink is never followed, only a regular temp file removed.
    if (it.depth() != 3 || !fs::is_regular_file(it->symlink_status(ec))) continue;
    std::string name = it->path().filename().string();
    if (name.find("-temp-") == std::string::npos) continue;
    auto hour = it->path().parent_path().filename().string();
    auto parsed = core::parse_segment_path(hour, name);
    if (!parsed || parsed->type != core::SegmentType::Temp) continue;
    auto age = std::chrono::duration_cast<std::chrono::microseconds>(now - it->last_write_time(ec)).count();
    if (ec || age < max_age) continue;
    if (fs::remove(it->path(), ec)) {
      ++removed;
      log::logger(log::Module::Store).info("removed stale temp file {}", it->path().string());
    }
  }
  return removed;
}

}  // namespace wubd::store
