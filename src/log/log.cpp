#include "wubd/log/log.h"

#include <cstring>

#include <array>

#include <chrono>
#include <mutex>

#include <spdlog/details/null_mutex.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "wubd/core/time.h"

#include <cJSON.h>

namespace wubd::log {
namespace {

// The fields of the Fields scopes alive on this thread, innermost last.
thread_local std::vector<std::pair<std::string, std::string>> t_fields;

// One JSON object per line: time, level, logger, msg, then the structured fields of
// the scopes alive when the line was logged (log::Fields), innermost first. Built
// with cJSON, which escapes whatever a URL or a peer's error text holds.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch()).count();
    cJSON* line = cJSON_CreateObject();
    cJSON_AddStringToObject(line, "time", core::format_time_us(micros).c_str());
    auto level = spdlog::level::to_string_view(msg.level);
    cJSON_AddStringToObject(line, "level", std::string(level.data(), level.size()).c_str());
    cJSON_AddStringToObject(line, "logger", std::string(msg.logger_name.data(), msg.logger_name.size()).c_str());
    cJSON_AddStringToObject(line, "msg", std::string(msg.payload.data(), msg.payload.size()).c_str());
    for (auto it = t_fields.rbegin(); it != t_fields.rend(); ++it) {
      if (!cJSON_HasObjectItem(line, it->first.c_str()))
        cJSON_AddStringToObject(line, it->first.c_str(), it->second.c_str());
    }
    char* text = cJSON_PrintUnformatted(line);
    if (text) {
      dest.append(text, text + std::strlen(text));
      cJSON_free(text);
    }
    dest.push_back('\n');
    cJSON_Delete(line);
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

// Feeds wubd_log_messages_total. Logging happens on the loop thread only.
class CountingSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit CountingSink(core::CounterFamily& counter) : counter_(counter) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    auto level = spdlog::level::to_string_view(msg.level);
    counter_.inc({{"level", std::string_view(level.data(), level.size())},
                  {"logger", std::string_view(msg.logger_name.data(), msg.logger_name.size())}});
  }
  void flush_() override {}

 private:
  core::CounterFamily& counter_;
};

struct LogState {
  std::vector<spdlog::sink_ptr> sinks;
  spdlog::level::level_enum level = spdlog::level::info;
  std::map<std::string, spdlog::level::level_enum> logger_levels;
};

LogState& state() {
  static LogState s = [] {
    LogState init;
    auto err = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    err->set_formatter(
        std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%fZ %l %n: %v", spdlog::pattern_time_type::utc));
    init.sinks.push_back(err);
    return init;
  }();
  return s;
}

core::Result<spdlog::level::level_enum> parse_level(const std::string& text) {
  auto level = spdlog::level::from_str(text);
  // from_str answers `off` for anything it does not know.
  if (level == spdlog::level::off && text != "off") {
    return core::make_error("unknown log level \"" + text + "\" (trace, debug, info, warning, error, critical, off)");
  }
  return level;
}

void apply_level(spdlog::logger& l) {
  const LogState& s = state();
  auto it = s.logger_levels.find(l.name());
  l.set_level(it == s.logger_levels.end() ? s.level : it->second);
}

}  // namespace

namespace {

constexpr std::array<std::pair<Module, std::string_view>, 9> kModules = {{
    {Module::Main, "main"},
    {Module::Http, "http"},
    {Module::HttpClient, "http_client"},
    {Module::Store, "store"},
    {Module::Restreamer, "restreamer"},
    {Module::Cut, "cut"},
    {Module::Downloader, "downloader"},
    {Module::Backfill, "backfill"},
    {Module::Transfers, "transfers"},
}};
constexpr bool modules_in_declaration_order() {
  for (std::size_t i = 0; i < kModules.size(); ++i) {
    if (std::size_t(kModules[i].first) != i) return false;
  }
  return true;
}
static_assert(modules_in_declaration_order(),
              "kModules lists every Module in declaration order: logger() indexes it by the enum");

}  // namespace

std::string_view name(Module module) {
  for (const auto& [m, text] : kModules) {
    if (m == module) return text;
  }
  return "unknown";
}

std::vector<std::string> module_names() {
  std::vector<std::string> names;
  names.reserve(kModules.size());
  for (const auto& [m, text] : kModules) names.emplace_back(text);
  return names;
}

namespace {

core::Result<bool> check_logger_name(const std::string& name) {
  for (const auto& [m, known] : kModules) {
    if (known == name) return true;
  }
  std::string list;
  for (const auto& [m, known] : kModules) list += (list.empty() ? "" : ", ") + std::string(known);
  return core::make_error("unknown logger \"" + name + "\" (" + list + ")");
}

}  // namespace

core::Result<bool> check_log_options(const LogOptions& options) {
  if (auto level = parse_level(options.level); !level) return level.error();
  for (const auto& [name, text] : options.logger_levels) {
    if (auto known = check_logger_name(name); !known) return known.error();
    if (auto l = parse_level(text); !l) return core::make_error("logger " + name + ": " + l.error().message);
  }
  if (options.format != "json" && options.format != "text") {
    return core::make_error("unknown log format \"" + options.format + "\" (text, json)");
  }
  return true;
}

core::Result<bool> setup_logging(const LogOptions& options) {
  if (auto ok = check_log_options(options); !ok) return ok;
  LogState& s = state();
  auto level = parse_level(options.level);
  if (!level) return level.error();
  s.level = *level;
  for (const auto& [name, text] : options.logger_levels) {
    if (auto known = check_logger_name(name); !known) return known.error();
    auto l = parse_level(text);
    if (!l) return core::make_error("logger " + name + ": " + l.error().message);
    s.logger_levels[name] = *l;
  }
  if (options.format == "json") {
    s.sinks.front()->set_formatter(std::make_unique<JsonFormatter>());
  } else if (options.format != "text") {
    return core::make_error("unknown log format \"" + options.format + "\" (text, json)");
  }
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { apply_level(*l); });
  return true;
}

void count_messages(core::MetricsRegistry& metrics) {
  auto sink = std::make_shared<CountingSink>(
      metrics.counter("wubd_log_messages_total", "Log messages written, by level and logger."));
  state().sinks.push_back(sink);
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->sinks().push_back(sink); });
}

core::Result<bool> set_level(const std::string& name, const std::string& level_text) {
  auto level = parse_level(level_text);
  if (!level) return level.error();
  if (!name.empty()) {
    if (auto known = check_logger_name(name); !known) return known.error();
  }
  LogState& s = state();
  if (name.empty()) {
    s.level = *level;
    s.logger_levels.clear();
  } else {
    s.logger_levels[name] = *level;
  }
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { apply_level(*l); });
  return true;
}

spdlog::logger& logger(Module module) {
  // Created once per module; spdlog's registry keeps them for set_level's apply_all.
  // Process-wide on purpose: the log is the process's (one stderr, one --log-file).
  static std::array<std::shared_ptr<spdlog::logger>, kModules.size()> created;
  std::shared_ptr<spdlog::logger>& slot = created[std::size_t(module)];
  if (!slot) {
    const LogState& s = state();
    slot = std::make_shared<spdlog::logger>(std::string(name(module)), s.sinks.begin(), s.sinks.end());
    apply_level(*slot);
    spdlog::register_logger(slot);
  }
  return *slot;
}

Fields::Fields(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) : count_(fields.size()) {
  for (const auto& [key, value] : fields) t_fields.emplace_back(key, value);
}

Fields::~Fields() { t_fields.resize(t_fields.size() - count_); }

}  // namespace wubd::log
