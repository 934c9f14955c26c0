// HttpResponse and the bodies it builds: from memory, a file's range, a list of files.
#include "wubd/io/http_response.h"

#include <fcntl.h>

#include <cstring>
#include <deque>

#include <spdlog/spdlog.h>

#include "wubd/io/file_streamer.h"
#include "wubd/log/log.h"

namespace wubd::io {
namespace {

class MemoryBody final : public HttpBody {
 public:
  MemoryBody(int status, std::string_view content_type, std::string bytes)
      : status_(status), content_type_(content_type), bytes_(std::move(bytes)) {}

  void start(BodyWriter& out) override {
    out.begin(status_, content_type_, std::int64_t(bytes_.size()));
    if (!bytes_.empty()) out.write(std::move(bytes_));
    out.end();
  }

 private:
  int status_;
  std::string content_type_;
  std::string bytes_;
};

class SharedBody final : public HttpBody {
 public:
  SharedBody(int status, std::string_view content_type, std::shared_ptr<const std::string> bytes)
      : status_(status), content_type_(content_type), bytes_(std::move(bytes)) {}

  void start(BodyWriter& out) override {
    out.begin(status_, content_type_, std::int64_t(bytes_->size()));
    if (!bytes_->empty()) out.write_borrowed(bytes_, bytes_->data(), bytes_->size());
    out.end();
  }

 private:
  int status_;
  std::string content_type_;
  std::shared_ptr<const std::string> bytes_;
};

class FileRangeBody final : public HttpBody {
 public:
  FileRangeBody(uv_loop_t* loop, int status, std::string_view content_type, int fd, std::int64_t offset,
                std::int64_t length)
      : status_(status),
        content_type_(content_type),
        file_(std::make_shared<const OwnedFd>(fd)),
        offset_(offset),
        length_(length),
        streamer_(loop) {}

  void start(BodyWriter& out) override {
    out.begin(status_, content_type_, length_);
    if (out.finished()) return;  // HEAD
    streamer_.stream(out, file_, offset_, length_, std::string(out.request_path()), [&out](bool ok) {
      if (ok) return out.end();
      out.fail(500, "the file could not be read");
    });
  }
  void resume() override { streamer_.resume(); }

 private:
  int status_;
  std::string content_type_;
  std::shared_ptr<const OwnedFd> file_;
  std::int64_t offset_, length_;
  FileStreamer streamer_;
};

class FileListBody final : public HttpBody {
 public:
  FileListBody(uv_loop_t* loop, int status, std::string_view content_type, std::vector<FileSlice> files)
      : status_(status), content_type_(content_type), streamer_(loop) {
    for (FileSlice& file : files) {
      total_ += file.length;
      if (file.length > 0) files_.push_back(std::move(file));
    }
  }

  void start(BodyWriter& out) override {
    out_ = &out;
    out.begin(status_, content_type_, total_);
    if (!out.finished()) next_file();
  }
  void resume() override { streamer_.resume(); }

 private:
  void next_file() {
    if (files_.empty()) return out_->end();
    FileSlice file = std::move(files_.front());
    files_.pop_front();
    // Opening a file in the page cache takes microseconds; doing it here, one file at
    // a time, keeps a long body from holding a descriptor per file.
    int fd = open_beneath(file.file, O_RDONLY);
    if (fd < 0) {
      log::logger(log::Module::Http)
          .warn("{}: cannot open {}: {}", out_->request_path(), file.file.display, std::strerror(-fd));
      return out_->fail(500, "cannot open " + file.file.display);
    }
    streamer_.stream(*out_, std::make_shared<const OwnedFd>(fd), 0, file.length, file.file.display, [this](bool ok) {
      if (!ok) return out_->fail(500, "a file could not be read");
      next_file();
    });
  }

  int status_;
  std::string content_type_;
  std::deque<FileSlice> files_;
  std::int64_t total_ = 0;
  BodyWriter* out_ = nullptr;
  FileStreamer streamer_;
};

class FunctionBody final : public HttpBody {
 public:
  explicit FunctionBody(BodyFunctions functions) : functions_(std::move(functions)) {}
  void start(BodyWriter& out) override {
    if (functions_.start) functions_.start(out);
  }
  void resume() override {
    if (functions_.resume) functions_.resume();
  }
  void stop() override {
    if (functions_.stop) functions_.stop();
  }
  bool stop_on_client_eof() const override { return functions_.stop_on_client_eof; }

 private:
  BodyFunctions functions_;
};

}  // namespace

std::unique_ptr<HttpBody> make_body(BodyFunctions functions) {
  return std::make_unique<FunctionBody>(std::move(functions));
}

void HttpResponse::send(int status, std::string_view content_type, std::string body) {
  send_body(std::make_unique<MemoryBody>(status, content_type, std::move(body)));
}

void HttpResponse::send_shared(int status, std::string_view content_type, std::shared_ptr<const std::string> body) {
  send_body(std::make_unique<SharedBody>(status, content_type, std::move(body)));
}

void HttpResponse::send_error(int status, std::string_view message) {
  send(status, "text/plain; charset=utf-8", std::string(message) + "\n");
}

void HttpResponse::send_file(int status, std::string_view content_type, int fd, std::int64_t offset,
                             std::int64_t length) {
  send_body(std::make_unique<FileRangeBody>(loop_, status, content_type, fd, offset, length));
}

void HttpResponse::send_files(int status, std::string_view content_type, std::vector<FileSlice> files) {
  send_body(std::make_unique<FileListBody>(loop_, status, content_type, std::move(files)));
}

namespace {

// A body that also keeps some tokens alive; everything else is the inner body's.
class KeepingBody : public HttpBody {
 public:
  KeepingBody(std::unique_ptr<HttpBody> inner, std::vector<std::shared_ptr<void>> keep)
      : keep_(std::move(keep)), inner_(std::move(inner)) {}
  void start(BodyWriter& out) override { inner_->start(out); }
  void resume() override { inner_->resume(); }
  void stop() override { inner_->stop(); }
  bool stop_on_client_eof() const override { return inner_->stop_on_client_eof(); }

 private:
  std::vector<std::shared_ptr<void>> keep_;  // declared first: destroyed after the inner body
  std::unique_ptr<HttpBody> inner_;
};

}  // namespace

std::unique_ptr<HttpBody> HttpResponse::take_body() {
  if (!body_ || keep_.empty()) return std::move(body_);
  return std::make_unique<KeepingBody>(std::move(body_), std::move(keep_));
}

void HttpResponse::send_body(std::unique_ptr<HttpBody> body) {
  // A handler that answers twice has a bug; the second answer is dropped, loudly.
  if (body_) {
    log::logger(log::Module::Http).error("a handler answered twice; dropping the second answer");
    return;
  }
  body_ = std::move(body);
}

}  // namespace wubd::io
