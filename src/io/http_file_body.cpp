// Bodies sent over time. File bodies: a range of an open file, several files, or a
// file into a streamed body, sent as the client takes them. Resident pages are
// written straight from a mapping; the rest is read, in the loop when the page cache
// has it and in libuv's threadpool when it must come from disk, so the loop never
// waits on a disk. And the chunks of a streamed body.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <spdlog/spdlog.h>

#include "http_connection.h"
#include "wubd/app/logging.h"

namespace wubd::io {
namespace {

const std::int64_t kPage = sysconf(_SC_PAGESIZE);

}  // namespace

HttpConnection::FileMapping::~FileMapping() {
  if (address != MAP_FAILED) munmap(address, length);
}

void HttpConnection::start_file_body(int fd, std::int64_t offset, std::int64_t length) {
  file_fd_ = fd;
  file_offset_ = offset;
  file_remaining_ = length;
  if (request_.is_head() || length == 0) {
    ::close(file_fd_);
    file_fd_ = -1;
    finish_response(false);
    return;
  }
  // Map the range so resident pages can be written straight from the page cache:
  // one copy into the socket instead of two. Segments are never truncated once
  // named, so the mapping stays valid; if mapping fails, reads do the work.
  std::int64_t aligned = offset / kPage * kPage;
  auto mapping = std::make_shared<FileMapping>();
  mapping->length = size_t(length + (offset - aligned));
  mapping->address = mmap(nullptr, mapping->length, PROT_READ, MAP_SHARED, fd, aligned);
  if (mapping->address != MAP_FAILED) {
    file_map_ = std::move(mapping);
    file_map_offset_ = aligned;
  }
  read_next_file_chunk();
}

// Queues the next chunk from the mapping if all its pages are in the page cache, so
// that writing it cannot fault and wait on the disk inside the loop. False if they
// are not (or there is no mapping): the caller reads the chunk instead.
bool HttpConnection::write_mapped_chunk() {
  if (!file_map_) return false;
  constexpr std::int64_t kMappedChunk = 1 << 20;
  std::int64_t want = std::min(file_remaining_, kMappedChunk);
  auto* base = static_cast<char*>(file_map_->address);
  std::int64_t start = file_offset_ - file_map_offset_;
  std::int64_t first_page = start / kPage * kPage;
  size_t pages = size_t((start + want - first_page + kPage - 1) / kPage);
  unsigned char resident[(kMappedChunk / 4096) + 2];  // pages of 4 KiB or more
  if (pages > sizeof resident) return false;
  if (mincore(base + first_page, size_t(start + want - first_page), resident) != 0) return false;
  for (size_t i = 0; i < pages; ++i) {
    if (!(resident[i] & 1)) return false;
  }
  auto* w = new WriteRequest;
  w->mapping = file_map_;
  if (!queue_borrowed_write(w, base + start, size_t(want))) return true;  // closing
  file_offset_ += want;
  file_remaining_ -= want;
  body_bytes_ += std::uint64_t(want);
  return true;
}

void HttpConnection::read_next_file_chunk() {
  if (file_read_in_flight_ || file_fd_ < 0 || closing_) return;
  // Backpressure before every chunk, the first of a file too: a file of one chunk
  // ends here and the next one starts, so checking only after a chunk let a body
  // of many small files (a rough cut's 900 segments) be queued in one go.
  if (!can_write_more()) return;  // on_write_done continues
  while (write_mapped_chunk()) {
    if (closing_) return;
    if (file_remaining_ == 0) {
      finish_file_body();
      return;
    }
    if (!can_write_more()) return;  // on_write_done continues
  }
  size_t want = size_t(std::min<std::int64_t>(file_remaining_, std::int64_t(server_.limits_.file_chunk_bytes)));
  file_chunk_.resize(want);
  // Bytes already in the page cache are read right here: RWF_NOWAIT makes the read
  // fail with EAGAIN instead of waiting on the disk, so the loop never blocks, and
  // the common case (recent segments, hot in cache) skips a threadpool round trip.
  // Only a cache miss goes to libuv's threadpool.
  iovec direct = {file_chunk_.data(), want};
  ssize_t got = preadv2(file_fd_, &direct, 1, file_offset_, RWF_NOWAIT);
  if (got > 0) {
    on_file_read(got);
    return;
  }
  uv_buf_t buf = uv_buf_init(file_chunk_.data(), unsigned(want));
  file_req_.data = this;
  int rc = uv_fs_read(loop_, &file_req_, file_fd_, &buf, 1, file_offset_, on_file_read_cb);
  if (rc != 0) {
    app::logger("http")->warn("reading {} failed: {}", request_.path, uv_err_name(rc));
    abort_response();
    return;
  }
  file_read_in_flight_ = true;
}

void HttpConnection::on_file_read_cb(uv_fs_t* req) noexcept {
  auto* self = static_cast<HttpConnection*>(req->data);
  ssize_t result = req->result;
  uv_fs_req_cleanup(req);
  self->on_file_read(result);
}

void HttpConnection::on_file_read(ssize_t result) {
  file_read_in_flight_ = false;
  if (closing_) {
    maybe_release();
    return;
  }
  if (result <= 0) {
    // The file shrank or failed under us after the head promised its length.
    app::logger("http")->warn("reading {} failed: {}", request_.path,
                              result == 0 ? "unexpected end of file" : uv_err_name(int(result)));
    abort_response();
    return;
  }
  file_chunk_.resize(size_t(result));
  file_offset_ += result;
  file_remaining_ -= result;
  body_bytes_ += std::uint64_t(result);
  queue_write(std::move(file_chunk_), {});
  file_chunk_ = std::string();
  if (file_remaining_ == 0) {
    finish_file_body();
  } else if (can_write_more()) {
    read_next_file_chunk();
  }
}

void HttpConnection::finish_file_body() {
  ::close(file_fd_);
  file_fd_ = -1;
  file_map_.reset();  // queued writes keep the mapping until they are done
  if (stream_file_done_) {
    if (chunked_) queue_write("\r\n", {});
    auto done = std::move(stream_file_done_);
    stream_file_done_ = nullptr;
    done(true);
    return;
  }
  if (start_next_file()) return;
  finish_response(false);
}

void HttpConnection::write_chunk(std::string chunk) {
  if (!response_active_ || request_.is_head() || chunk.empty()) return;
  body_bytes_ += chunk.size();
  if (chunked_) {
    char size_line[24];
    int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
    chunk += "\r\n";
    queue_write(std::string(size_line, size_t(n)), std::move(chunk));
  } else {
    queue_write(std::move(chunk), {});
  }
}

void HttpConnection::write_file_chunk(const BeneathPath& path, std::function<void(bool ok)> done) {
  if (!response_active_ || closing_ || request_.is_head()) return done(response_active_ && !closing_);
  int fd = open_beneath(path, O_RDONLY);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    int error = fd < 0 ? -fd : errno;  // app::logger() may change errno
    app::logger("http")->warn("{}: cannot open {}: {}", request_.path, path.display, std::strerror(error));
    if (fd >= 0) ::close(fd);
    stream_file_done_ = std::move(done);
    abort_response();
    return;
  }
  if (st.st_size == 0) {
    ::close(fd);
    return done(true);
  }
  if (chunked_) {
    char size_line[24];
    int n = std::snprintf(size_line, sizeof size_line, "%llx\r\n", static_cast<unsigned long long>(st.st_size));
    queue_write(std::string(size_line, size_t(n)), {});
  }
  stream_file_done_ = std::move(done);
  start_file_body(fd, 0, std::int64_t(st.st_size));
}

void HttpConnection::start_files_body(std::vector<FileSlice> files) {
  pending_files_.clear();
  for (FileSlice& file : files) {
    if (file.length > 0) pending_files_.push_back(std::move(file));
  }
  if (request_.is_head() || !start_next_file()) finish_response(false);
}

bool HttpConnection::start_next_file() {
  if (pending_files_.empty() || request_.is_head()) return false;
  FileSlice file = std::move(pending_files_.front());
  pending_files_.pop_front();
  // Opening a file in the page cache is microseconds; doing it here, one file at a
  // time, keeps a long body from holding a descriptor per file.
  int fd = open_beneath(file.file, O_RDONLY);
  if (fd < 0) {
    app::logger("http")->warn("{}: cannot open {}: {}", request_.path, file.file.display, std::strerror(-fd));
    pending_files_.clear();
    abort_response();
    return true;
  }
  start_file_body(fd, 0, file.length);
  return true;
}

}  // namespace wubd::io
