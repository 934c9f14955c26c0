// POST /generate_videos/<stream>/<variant> with {"NAME": [START, END], …}, as
// wubloader's restreamer: for each name, the range's segments split at holes into
// contiguous runs, and each run copied (no re-encoding) into BASE/STREAM_VARIANT_NAME_N.mkv
// by ffmpeg into a temp file that is then renamed in place (a reader never sees half
// a file; a file already there is kept, not made again). The answer, an empty
// 200, comes when every file is written. Ranges are capped by --max-cut-hours, the
// work takes a cut's slot, and the range is held from retention while it runs.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "wubd/core/hour_files.h"
#include "wubd/core/routes.h"
#include "wubd/io/lifetime.h"
#include "wubd/log/log.h"
#include "wubd/restreamer/restreamer.h"
#include "wubd/store/file_writer.h"  // random_temp_id

#include "cut/fed_child.h"

namespace wubd::restreamer {
namespace {

using core::Micros;

spdlog::logger& log() { return log::logger(log::Module::Restreamer); }

// One file to make: a contiguous run of segments.
struct VideoFile {
  std::string name;  // STREAM_VARIANT_NAME_N.mkv, in the base directory
  std::vector<io::BeneathPath> segments;
};

struct Requested {
  std::string name;
  core::TimeRange range;
};

// The request body: a JSON object of names to [start, end] pairs. Errors are 400s
// with wubloader's words where it has them.
core::Result<std::vector<Requested>> parse_videos(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (auto error = parser.parse(body).get(object)) {
    return core::make_error(
        std::string("The body must be a JSON object {name: [start, end]}: ") + simdjson::error_message(error), 400);
  }
  std::vector<Requested> videos;
  for (auto [key, value] : object) {
    std::string name(key);
    if (name.find('/') != std::string::npos) return core::make_error("Name cannot contain /", 400);
    // The name becomes part of a file name in the base directory.
    auto checked = core::decode_path_part(core::percent_encode(name), "name");
    if (!checked) return core::make_error(checked.error().message, 400);
    simdjson::dom::array pair;
    std::string_view texts[2];
    if (value.get_array().get(pair) || pair.size() != 2 || pair.at(0).get_string().get(texts[0]) ||
        pair.at(1).get_string().get(texts[1])) {
      return core::make_error("Bad range for \"" + name + "\": expected [start, end] as two times", 400);
    }
    auto start = core::parse_time(texts[0]);
    auto end = core::parse_time(texts[1]);
    if (!start || !end) {
      return core::make_error("Bad range for \"" + name + "\": " + (!start ? start : end).error().message, 400);
    }
    if (*end <= *start) return core::make_error("End must be after start", 400);
    videos.push_back({name, {*start, *end}});
  }
  return videos;
}

// The temp file ffmpeg writes a video into: BASE/NAME.<uuid>.temp, created here
// (never through a symlink: it is made in the base directory's descriptor), then
// renamed in place, as the store's writer does. Matroska with AAC needs a seekable
// output (its header is rewritten at the end), so ffmpeg gets the file itself, by
// descriptor, rather than a pipe into the writer.
struct TempVideo {
  std::shared_ptr<io::OwnedFd> file;
  std::string temp_name;
};

core::Result<TempVideo> create_temp(int base_fd, const std::string& name) {
  TempVideo temp{nullptr, name + "." + store::random_temp_id() + ".temp"};
  int fd = ::openat(base_fd, temp.temp_name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return core::make_os_error("cannot create " + temp.temp_name, errno);
  temp.file = std::make_shared<io::OwnedFd>(fd);
  return temp;
}

// Renames the finished temp file to `name`; a file of that name already there is
// kept (made meanwhile by another request) and the temp file removed.
core::Result<bool> put_in_place(int base_fd, const std::string& temp_name, const std::string& name) {
  if (::renameat2(base_fd, temp_name.c_str(), base_fd, name.c_str(), RENAME_NOREPLACE) == 0) return true;
  int error = errno;
  ::unlinkat(base_fd, temp_name.c_str(), 0);
  if (error == EEXIST) return true;
  return core::make_os_error("cannot rename " + temp_name + " to " + name, error);
}

// Makes the files one after another (each in the threadpool and an ffmpeg child),
// then answers.
class GenerateVideosBody final : public io::HttpBody {
 public:
  GenerateVideosBody(uv_loop_t* loop, int base_fd, std::vector<VideoFile> files, CutSlots::Slot slot)
      : loop_(loop), base_fd_(base_fd), files_(std::move(files)), slot_(std::move(slot)), tasks_(loop) {}

  ~GenerateVideosBody() override {
    // A video left unfinished (the client gone, ffmpeg failed): its temp file goes.
    if (!temp_name_.empty()) ::unlinkat(base_fd_, temp_name_.c_str(), 0);
  }

  void start(io::BodyWriter& out) override {
    out_ = &out;
    next();
  }

  void stop() override {
    if (child_) child_->kill();
    log().info("generate_videos: client gone; stopping (files already written stay)");
  }

 private:
  void next() {
    if (child_) io::defer_delete(loop_, std::move(child_));  // its exit may be on the stack
    if (out_->finished()) return;
    if (index_ == files_.size()) {
      out_->begin(200, "text/plain", 0);
      return out_->end();
    }
    const VideoFile& file = files_[index_++];
    struct stat st {};
    if (io::stat_beneath(base_fd_, file.name, st) == 0) {
      log().info("generate_videos: {} already exists; skipped", file.name);
      return next();
    }
    int base_fd = base_fd_;
    std::string name = file.name;
    tasks_.compute<core::Result<TempVideo>>([base_fd, name] { return create_temp(base_fd, name); },
                                            [this](core::Result<TempVideo> temp) { write(std::move(temp)); });
  }

  void write(core::Result<TempVideo> temp) {
    if (!temp) return fail(temp.error().message);
    const VideoFile& file = files_[index_ - 1];
    temp_name_ = temp->temp_name;
    log().info("generate_videos: writing {} from {} segments", file.name, file.segments.size());
    child_ = std::make_unique<FedChild>(loop_, tasks_, std::vector<std::vector<io::BeneathPath>>{file.segments}, false);
    FedChild::Callbacks callbacks;
    callbacks.on_stdout = [](std::string_view) {};
    callbacks.on_stderr = [this](std::string_view bytes) {
      if (stderr_.size() < 2000) stderr_.append(bytes);
    };
    callbacks.on_exit = [this, name = file.name](std::int64_t status, int signal, const std::string& feed_error) {
      if (status != 0 || signal != 0) {
        return fail("cannot write " + name + ": ffmpeg exited " + std::to_string(status) + ": " + stderr_ + feed_error);
      }
      std::string temp_name = std::exchange(temp_name_, {});
      int base_fd = base_fd_;
      tasks_.compute<core::Result<bool>>([base_fd, temp_name, name] { return put_in_place(base_fd, temp_name, name); },
                                         [this, name](const core::Result<bool>& placed) {
                                           if (!placed) return fail(placed.error().message);
                                           log().info("generate_videos: wrote {}", name);
                                           stderr_.clear();
                                           next();
                                         });
    };
    // The streams copied as they are into Matroska, into the file ffmpeg is handed
    // (its descriptor reopened through /proc, so the output can seek).
    std::string output = "/proc/self/fd/" + std::to_string(io::ChildProcess::passed_fd_number(1, 0));
    std::vector<std::string> argv = {"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
                                     "-i",     "pipe:0",       "-map",     "0",         "-c",
                                     "copy",   "-f",           "matroska", "-y",        output};
    auto started = child_->start(argv, std::move(callbacks), {temp->file->get()});
    if (!started) return fail(started.error().message);
  }

  void fail(const std::string& why) {
    log().error("generate_videos: {}", why);
    out_->fail(500, why);
  }

  uv_loop_t* loop_;
  int base_fd_;
  std::vector<VideoFile> files_;
  CutSlots::Slot slot_;
  io::TaskGroup tasks_;
  io::BodyWriter* out_ = nullptr;
  std::size_t index_ = 0;
  std::unique_ptr<FedChild> child_;
  std::string temp_name_;  // the video being written, until it is put in place
  std::string stderr_;
};

}  // namespace

void Restreamer::generate_videos(const core::Route& route, const io::HttpRequest& request, io::HttpResponse& response) {
  if (!check_video_variant(route, response)) return;
  auto videos = parse_videos(request.body);
  if (!videos) return response.send_error(videos.error().code, videos.error().message);
  std::vector<VideoFile> files;
  core::TimeRange held{std::numeric_limits<Micros>::max(), std::numeric_limits<Micros>::min()};
  for (const Requested& video : *videos) {
    if (auto error = core::check_range_cap(video.range.span(), limits_.cut_cap)) {
      return response.send_error(error->code, error->message);
    }
    held.start = std::min(held.start, video.range.start);
    held.end = std::max(held.end, video.range.end);
    int n = 0;
    VideoFile file;
    auto flush = [&] {
      if (file.segments.empty()) return;
      file.name = route.stream + "_" + route.variant + "_" + video.name + "_" + std::to_string(n++) + ".mkv";
      files.push_back(std::move(file));
      file = VideoFile{};
    };
    for (const core::SegmentOrHole& segment :
         store_.best_segments(route.stream, route.variant, video.range.start, video.range.end)) {
      if (!segment) {
        flush();
        continue;
      }
      file.segments.push_back(store_.segment_file(route.stream, route.variant, std::string(segment->hour),
                                                  std::string(segment->file_name)));
    }
    flush();
    log().info("generate_videos: {} for {}/{} from {} to {}: {} files", video.name, route.stream, route.variant,
               core::format_time(video.range.start), core::format_time(video.range.end), n);
  }
  if (!admit_cut(response)) return;
  if (range_holds_ && !files.empty()) {
    constexpr Micros kSegmentReach = 60 * core::kMicrosPerSecond;
    response.keep_while_sending(
        range_holds_->hold_while_cutting({route.stream, {held.start - kSegmentReach, held.end + kSegmentReach}}));
  }
  io::BeneathPath base = store_.below_base("");
  response.send_body(std::make_unique<GenerateVideosBody>(loop_, base.dir_fd, std::move(files), cut_slots_.take()));
}

}  // namespace wubd::restreamer
