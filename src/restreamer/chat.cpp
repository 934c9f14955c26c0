// GET /<stream>/chat.json?start&end: the chat messages of a range, from the chat
// archiver's batches (BASE/STREAM/chat/HOUR/MM:SS-HASH.json), merged as wubloader
// merges them. The batches are found in the store's listings on the loop; reading,
// parsing and merging run in the threadpool. At most 2 hours (wubloader's limit), so
// the answer is bounded in memory.
#include <fcntl.h>
#include <unistd.h>

#include <cJSON.h>

#include "wubd/core/chat.h"
#include "wubd/core/hour_files.h"
#include "wubd/io/beneath.h"
#include "wubd/io/json_text.h"
#include "wubd/restreamer/restreamer.h"

#include "query_times.h"
#include "work_body.h"

namespace wubd::restreamer {
namespace {

using core::Micros;

// A whole batch file, or nullopt if it is gone (deleted since it was listed).
core::Result<std::optional<std::string>> read_batch(const io::BeneathPath& path) {
  int fd = io::open_beneath(path, O_RDONLY);
  if (fd == -ENOENT) return std::optional<std::string>();
  if (fd < 0) return core::make_error("cannot open " + path.display + ": " + std::strerror(-fd));
  io::OwnedFd file(fd);
  std::string text;
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::read(file.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core::make_error("cannot read " + path.display + ": " + std::strerror(errno));
    if (n == 0) break;
    text.append(buffer, std::size_t(n));
  }
  return std::optional<std::string>(std::move(text));
}

// The messages as one JSON array, each field as it was written (cJSON writes keys
// and nesting; values are kept as the batch's own JSON text).
std::string write_messages(const std::vector<core::ChatMessage>& messages) {
  cJSON* array = cJSON_CreateArray();
  for (const core::ChatMessage& message : messages) {
    cJSON* object = cJSON_CreateObject();
    for (const auto& [key, value] : message.fields) {
      cJSON* item;
      if (key == "receivers") {
        item = cJSON_CreateObject();
        for (const auto& [node, when] : message.receivers)
          cJSON_AddItemToObject(item, node.c_str(), cJSON_CreateRaw(when.c_str()));
      } else {
        item = cJSON_CreateRaw(value.c_str());
      }
      cJSON_AddItemToObject(object, key.c_str(), item);
    }
    cJSON_AddItemToArray(array, object);
  }
  return io::take_json_text(array);
}

}  // namespace

void Restreamer::chat(const core::Route& route, const core::QueryParams& query, io::HttpResponse& response) {
  auto start = required_time(query, "start");
  if (!start) return response.send_error(400, start.error().message);
  auto end = required_time(query, "end");
  if (!end) return response.send_error(400, end.error().message);
  if (*end <= *start) return response.send_error(400, "End must be after start");
  if (*end - *start > 2 * core::kMicrosPerHour) return response.send_error(400, "Cannot request more than 2h of chat");
  if (store_.is_extras_dir(route.stream)) return response.send_error(404, route.stream + " holds extras, not a stream");

  const std::string variant(core::kChatVariant);
  std::vector<io::BeneathPath> batches;
  for (Micros hour : store_.hour_starts(route.stream, variant)) {
    // Hours that may hold a batch from two minutes before start to a minute after end.
    if (hour + core::kMicrosPerHour <= *start - 120 * core::kMicrosPerSecond) continue;
    if (hour >= *end + 60 * core::kMicrosPerSecond) break;
    std::string hour_name = core::format_hour(hour);
    auto listing = store_.hour_listing(route.stream, variant, hour_name);
    for (std::string_view name : listing->chat_batches) {
      auto batch = core::parse_chat_batch_name(hour, name);
      if (!batch || !core::chat_batch_in_range(batch->start, *start, *end)) continue;
      batches.push_back(store_.segment_file(route.stream, variant, hour_name, std::string(name)));
    }
  }
  auto work = [batches = std::move(batches), from = *start, to = *end]() -> core::Result<Reply> {
    std::vector<core::ChatMessage> messages;
    for (const io::BeneathPath& path : batches) {
      auto text = read_batch(path);
      if (!text) return text.error();
      if (!*text) continue;  // deleted since it was listed
      auto batch = core::parse_chat_batch(**text);
      if (!batch) return core::make_error(path.display + ": " + batch.error().message);
      messages = core::merge_chat(std::move(messages), std::move(*batch));
    }
    return Reply{200, "application/json", write_messages(core::chat_in_range(std::move(messages), from, to))};
  };
  response.send_body(std::make_unique<WorkBody>(loop_, std::move(work)));
}

}  // namespace wubd::restreamer
