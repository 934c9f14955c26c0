// The archive's files over HTTP, as a wubloader restreamer serves them: hour listings
// (tombstones on request), segments and every other file below the base under
// /segments, and recursive listings of extras directories.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <cJSON.h>
#include <spdlog/spdlog.h>

#include "wubd/core/byte_range.h"
#include "wubd/core/hour_files.h"
#include "wubd/io/json_text.h"
#include "wubd/io/task_group.h"
#include "wubd/log/log.h"
#include "wubd/restreamer/restreamer.h"
#include "wubd/store/extras.h"

namespace wubd::restreamer {
namespace {

constexpr std::string_view kJsonType = "application/json";

// An optional true/false query parameter (any case); false when absent.
core::Result<bool> bool_param(const core::QueryParams& query, const std::string& name) {
  auto it = query.find(name);
  if (it == query.end()) return false;
  std::string value = it->second;
  for (char& c : value) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (value != "true" && value != "false") {
    return core::make_error(name + " must be one of: true, false (not \"" + it->second + "\")", 400);
  }
  return value == "true";
}

// What a file's name says it holds; wubloader's server guesses the same way.
std::string_view content_type_of(std::string_view name) {
  if (name.ends_with(".ts")) return "video/MP2T";
  if (name.ends_with(".json")) return "application/json";
  return "application/octet-stream";
}

std::string join_path(const std::vector<std::string>& parts) {
  std::string path;
  for (const std::string& part : parts) path += (path.empty() ? "" : "/") + part;
  return path;
}

// GET /extras/DIR: the tree is walked in the threadpool, so a directory of a hundred
// thousand emotes never holds up the loop.
class ExtrasListingBody : public io::HttpBody {
 public:
  ExtrasListingBody(uv_loop_t* loop, io::BeneathPath dir) : tasks_(loop), dir_(std::move(dir)) {}

  void start(io::BodyWriter& out) override {
    out_ = &out;
    int rc = tasks_.compute<core::Result<std::vector<std::string>>>(
        [dir = dir_] { return store::list_extras(dir, store::kMaxExtrasFiles); },
        [this](core::Result<std::vector<std::string>> files) { answer(std::move(files)); });
    if (rc != 0) out.fail(500, std::string("cannot queue the listing: ") + uv_err_name(rc));
  }

 private:
  void answer(core::Result<std::vector<std::string>> files) {
    if (!files) {
      log::logger(log::Module::Restreamer).warn("{}: {}", out_->request_path(), files.error().message);
      out_->fail(500, files.error().message);
      return;
    }
    cJSON* array = cJSON_CreateArray();
    for (const std::string& file : *files) cJSON_AddItemToArray(array, cJSON_CreateString(file.c_str()));
    std::string body = io::take_json_text(array);
    out_->begin(200, kJsonType, std::int64_t(body.size()));
    out_->write(std::move(body));
    out_->end();
  }

  io::TaskGroup tasks_;
  io::BeneathPath dir_;
  io::BodyWriter* out_ = nullptr;
};

}  // namespace

void Restreamer::list_variant_hours(const core::Route& route, const core::QueryParams& query,
                                    io::HttpResponse& response) {
  auto digest = bool_param(query, "digest");
  if (!digest) return response.send_error(400, digest.error().message);
  std::vector<std::string> hours = store_.list_hours(route.stream, route.variant);
  if (!*digest) return list_names(response, hours);
  cJSON* object = cJSON_CreateObject();
  for (const std::string& hour : hours) {
    auto summary = store_.hour_digest(route.stream, route.variant, hour);
    if (!summary) {
      cJSON_AddNullToObject(object, hour.c_str());
      continue;
    }
    cJSON* item = cJSON_AddObjectToObject(object, hour.c_str());
    cJSON_AddNumberToObject(item, "count", double(summary->count));
    cJSON_AddStringToObject(item, "sha256", summary->sha256.c_str());
  }
  std::string body = io::take_json_text(object);
  response.send(200, kJsonType, std::move(body));
}

void Restreamer::list_hour(const core::Route& route, const core::QueryParams& query, io::HttpResponse& response) {
  auto with_tombstones = bool_param(query, "tombstones");
  if (!with_tombstones) return response.send_error(400, with_tombstones.error().message);
  bool tombstones = *with_tombstones;
  auto listing = store_.hour_listing(route.stream, route.variant, route.hour);
  std::vector<std::string_view> names = core::listed_names(*listing);
  if (!tombstones) return list_names(response, names);
  names.insert(names.end(), listing->tombstones.begin(), listing->tombstones.end());
  list_names(response, names);
}

void Restreamer::segment(const core::Route& route, const io::HttpRequest& request, io::HttpResponse& response) {
  std::string what = "segment " + route.stream + "/" + route.variant + "/" + route.hour + "/" + route.file;
  io::BeneathPath path = store_.segment_file(route.stream, route.variant, route.hour, route.file);
  auto hour = core::parse_hour(route.hour);
  if (!hour) return serve_file(path, what, request, response);  // no hour's listing to ask
  auto name = core::parse_segment_name(*hour, route.file);
  if (name && name->type == core::SegmentType::Temp) {
    response.send_error(404, "segment is still being written: " + route.file);
    return;
  }
  // Whether a tombstone deletes it is in the hour's listing (cached and watched, as
  // the playlists read it): no stat per request.
  auto listing = store_.hour_listing(route.stream, route.variant, route.hour);
  const std::string tombstone = core::tombstone_name(route.file);
  if (std::binary_search(listing->tombstones.begin(), listing->tombstones.end(), std::string_view(tombstone))) {
    response.send_error(404, what + " is deleted (a tombstone marks it)");
    return;
  }
  send_file(path, what, request, response);
}

void Restreamer::file(const core::Route& route, const io::HttpRequest& request, io::HttpResponse& response) {
  std::string relative = join_path(route.parts);
  serve_file(store_.below_base(relative), "file " + relative, request, response);
}

void Restreamer::list_extras(const core::Route& route, io::HttpResponse& response) {
  response.send_body(std::make_unique<ExtrasListingBody>(loop_, store_.below_base(route.stream)));
}

void Restreamer::serve_file(const io::BeneathPath& path, const std::string& what, const io::HttpRequest& request,
                            io::HttpResponse& response) {
  std::string_view file_name = std::string_view(path.relative).substr(path.relative.rfind('/') + 1);
  // A tombstone beside a file deletes it, for readers here as for wubloader's.
  if (!core::is_tombstone_name(file_name)) {
    std::string tombstone =
        path.relative.substr(0, path.relative.size() - file_name.size()) + core::tombstone_name(file_name);
    struct stat st;
    if (io::stat_beneath(path.dir_fd, tombstone, st) == 0) {
      response.send_error(404, what + " is deleted (a tombstone marks it)");
      return;
    }
  }
  send_file(path, what, request, response);
}

void Restreamer::send_file(const io::BeneathPath& path, const std::string& what, const io::HttpRequest& request,
                           io::HttpResponse& response) {
  std::string_view file_name = std::string_view(path.relative).substr(path.relative.rfind('/') + 1);
  int fd = io::open_beneath(path, O_RDONLY);
  if (fd < 0) {
    int err = -fd;
    // A symlink anywhere below the base is not followed: to a client it is not there.
    if (err == ENOENT || err == ENOTDIR || err == ELOOP) {
      if (err == ELOOP) store_.warn_symlink(path.relative);
      response.send_error(404, "no such " + what);
    } else {
      log::logger(log::Module::Restreamer).warn("cannot open {}: {}", path.display, std::strerror(err));
      response.send_error(500, "cannot open " + what + ": " + std::string(std::strerror(err)));
    }
    return;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    response.send_error(404, "no such " + what);
    return;
  }
  core::Micros mtime = core::Micros(st.st_mtim.tv_sec) * core::kMicrosPerSecond + st.st_mtim.tv_nsec / 1000;
  response.add_header("Last-Modified", core::format_http_date(mtime));
  // Archive files never change once named: same name, same bytes.
  response.add_header("Cache-Control", "public, max-age=31536000, immutable");
  response.add_header("Accept-Ranges", "bytes");

  std::string_view type = content_type_of(file_name);
  std::string last_modified = core::format_http_date(mtime);
  std::optional<std::string_view> range_header;
  if (const std::string* h = request.header("range")) range_header = *h;
  // If-Range (RFC 9110 13.1.5): the range holds only if the validator is exactly this
  // file's; we send no ETag, so an entity tag, or another date, means the whole file.
  if (const std::string* if_range = request.header("if-range"); if_range && *if_range != last_modified) {
    range_header.reset();
  }
  core::RangeDecision range = core::decide_range(range_header, st.st_size);
  switch (range.outcome) {
    case core::RangeOutcome::Whole:
      response.send_file(200, type, fd, 0, st.st_size);
      return;
    case core::RangeOutcome::Partial:
      response.add_header("Content-Range", "bytes " + std::to_string(range.range.first) + "-" +
                                               std::to_string(range.range.last) + "/" + std::to_string(st.st_size));
      response.send_file(206, type, fd, range.range.first, range.range.length());
      return;
    case core::RangeOutcome::Unsatisfiable:
      ::close(fd);
      response.add_header("Content-Range", "bytes */" + std::to_string(st.st_size));
      response.send_error(
          416, "range not satisfiable: " + std::string(*range_header) + " (size " + std::to_string(st.st_size) + ")");
      return;
  }
}

}  // namespace wubd::restreamer
