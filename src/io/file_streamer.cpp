#include "wubd/io/file_streamer.h"

#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "wubd/log/log.h"

namespace wubd::io {
namespace {

const std::int64_t kPage = sysconf(_SC_PAGESIZE);
constexpr std::int64_t kMappedChunk = 1 << 20;

}  // namespace

// A range of a file mapped read-only, unmapped when the last write from it is done.
struct FileStreamer::Mapping {
  void* address = MAP_FAILED;
  std::size_t length = 0;
  ~Mapping() {
    if (address != MAP_FAILED) munmap(address, length);
  }
};

FileStreamer::~FileStreamer() = default;

void FileStreamer::stream(BodyWriter& out, std::shared_ptr<const OwnedFd> file, std::int64_t offset,
                          std::int64_t length, std::string display, std::function<void(bool ok)> done) {
  out_ = &out;
  file_ = std::move(file);
  offset_ = offset;
  remaining_ = length;
  display_ = std::move(display);
  done_ = std::move(done);
  mapping_.reset();
  if (length > 0) {
    // Segments are never truncated once named, so the mapping stays valid; if mapping
    // fails, reads do the work.
    std::int64_t aligned = offset / kPage * kPage;
    auto mapping = std::make_shared<Mapping>();
    mapping->length = std::size_t(length + (offset - aligned));
    mapping->address = mmap(nullptr, mapping->length, PROT_READ, MAP_SHARED, file_->get(), aligned);
    if (mapping->address != MAP_FAILED) {
      mapping_ = std::move(mapping);
      mapping_offset_ = aligned;
    }
  }
  pump();
}

void FileStreamer::resume() { pump(); }

// Sends the next chunk if all its pages are in the page cache (the mapping tells), so
// that sending it cannot wait on the disk inside the loop. False if they are not (or
// there is no mapping): the caller reads the chunk instead.
bool FileStreamer::write_mapped_chunk() {
  if (!mapping_) return false;
  std::int64_t want = std::min(remaining_, kMappedChunk);
  auto* base = static_cast<char*>(mapping_->address);
  std::int64_t start = offset_ - mapping_offset_;
  std::int64_t first_page = start / kPage * kPage;
  std::size_t pages = std::size_t((start + want - first_page + kPage - 1) / kPage);
  unsigned char resident[(kMappedChunk / 4096) + 2];  // pages of 4 KiB or more
  if (pages > sizeof resident) return false;
  if (mincore(base + first_page, std::size_t(start + want - first_page), resident) != 0) return false;
  for (std::size_t i = 0; i < pages; ++i) {
    if (!(resident[i] & 1)) return false;
  }
  // Resident: sent straight from the page cache where the connection can (no copy, no
  // faults on the mapping), the rest written from the mapping.
  auto sent = std::int64_t(out_->send_file_now(file_->get(), offset_, std::size_t(want)));
  offset_ += sent;
  remaining_ -= sent;
  want -= sent;
  if (want == 0 || !out_->writable()) return true;  // all sent, or resumed next turn
  offset_ += want;
  remaining_ -= want;
  out_->write_borrowed(mapping_, base + start + sent, std::size_t(want));
  return true;
}

void FileStreamer::pump() {
  if (pumping_) return;  // re-entered through a write: the loop below carries on
  pumping_ = true;
  // Backpressure before every chunk, the first of a file too: a body of many small
  // files (a rough cut's 900 segments) must not be queued in one go.
  while (out_ && !read_in_flight_ && remaining_ > 0 && out_->writable()) {
    if (write_mapped_chunk()) continue;
    std::size_t want = std::size_t(std::min<std::int64_t>(remaining_, kChunkBytes));
    std::string chunk(want, '\0');
    // Bytes already in the page cache are read right here: RWF_NOWAIT makes the read
    // fail with EAGAIN instead of waiting on the disk, so the loop never blocks, and
    // the common case (recent segments, hot in cache) skips a threadpool round trip.
    iovec direct = {chunk.data(), want};
    ssize_t got = preadv2(file_->get(), &direct, 1, offset_, RWF_NOWAIT);
    if (got > 0) {
      chunk.resize(std::size_t(got));
      offset_ += got;
      remaining_ -= got;
      out_->write(std::move(chunk));
      continue;
    }
    if (got == 0) {
      pumping_ = false;
      return on_read(0, {});  // shorter than promised
    }
    read_in_flight_ = true;
    int rc = reads_.read(file_, offset_, want, [this](ssize_t result, std::string bytes) {
      read_in_flight_ = false;
      on_read(result, std::move(bytes));
    });
    if (rc != 0) {
      read_in_flight_ = false;
      pumping_ = false;
      return on_read(rc, {});
    }
  }
  pumping_ = false;
  if (out_ && remaining_ == 0 && !read_in_flight_) finish(true);
}

void FileStreamer::on_read(ssize_t result, std::string bytes) {
  if (!out_) return;
  if (result <= 0) {
    // The file shrank or failed under us after the head promised its length.
    log::logger(log::Module::Http)
        .warn("{}: reading {} failed: {}", out_->request_path(), display_,
              result == 0 ? "unexpected end of file" : std::strerror(int(-result)));
    return finish(false);
  }
  offset_ += result;
  remaining_ -= result;
  out_->write(std::move(bytes));
  pump();
}

void FileStreamer::finish(bool ok) {
  out_ = nullptr;
  file_.reset();
  mapping_.reset();  // queued writes keep it until they are done
  auto done = std::move(done_);
  done_ = nullptr;
  if (done) done(ok);
}

}  // namespace wubd::io
