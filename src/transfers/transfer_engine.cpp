#include "wubd/transfers/transfer_engine.h"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "wubd/io/clock.h"
#include "wubd/log/log.h"

namespace wubd::transfers {
namespace {

spdlog::logger& log() { return log::logger(log::Module::Transfers); }

}  // namespace

struct TransferEngine::Pending {
  TransferSpec spec;
  io::RequestId http = io::RequestId::None;  // the client's id while running
  bool running = false;
};

double TransferRecord::bytes_per_second(core::Micros now) const {
  if (!started_at) return 0;
  core::Micros end = finished_at ? finished_at : now;
  return end > started_at ? double(bytes) * 1e6 / double(end - started_at) : 0;
}

std::string source_of_url(const std::string& url) {
  std::size_t scheme = url.find("://");
  std::size_t host_start = scheme == std::string::npos ? 0 : scheme + 3;
  std::size_t end = url.find_first_of("/?#", host_start);
  return url.substr(0, end);
}

TransferEngine::TransferEngine(uv_loop_t* loop, io::HttpClient& client, core::SourceLimits default_limits,
                               std::size_t finished_capacity)
    : loop_(loop), client_(client), default_limits_(default_limits), finished_(finished_capacity) {}

TransferEngine::~TransferEngine() { stop_all(); }

void TransferEngine::set_limits(const std::string& source_name, core::SourceLimits limits) {
  limits_[source_name] = limits;
  pump(source_name);
}

core::SourceLimits TransferEngine::limits(const std::string& source_name) const {
  auto it = limits_.find(source_name);
  return it == limits_.end() ? default_limits_ : it->second;
}

TransferEngine::Source& TransferEngine::source(const std::string& name) {
  Source& s = sources_[name];
  if (!s.delay_timer) s.delay_timer = std::make_unique<io::Timer>(loop_);
  return s;
}

TransferRecord* TransferEngine::record(TransferId id) {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

TransferId TransferEngine::submit(TransferSpec spec) {
  TransferId id{next_id_++};
  TransferRecord& r = records_[id];
  r.id = id;
  r.source = spec.source;
  r.target = spec.target;
  r.file_name = spec.file_name;
  r.queued_at = io::wall_clock_now();
  auto pending = std::make_unique<Pending>();
  pending->spec = std::move(spec);
  std::string source_name = pending->spec.source;
  pending_.emplace(id, std::move(pending));
  source(source_name).queue.push_back(id);
  pump(source_name);
  return id;
}

void TransferEngine::pump(const std::string& name) {
  Source& s = source(name);
  core::SourceLimits l = limits(name);
  while (!s.queue.empty()) {
    core::Micros now = core::Micros(uv_now(loop_)) * core::kMicrosPerMilli;
    core::StartDecision decision = core::may_start(s.state, l, now);
    if (!decision.start) {
      if (decision.wait) {
        s.delay_timer->start(std::uint64_t((*decision.wait + 999) / 1000), [this, name] { pump(name); });
      }
      return;  // at the limit: a finishing transfer pumps again
    }
    TransferId id = s.queue.front();
    s.queue.pop_front();
    ++s.state.in_flight;
    s.state.last_start = now;
    begin(id);
  }
}

void TransferEngine::begin(TransferId id) {
  Pending& p = *pending_.at(id);
  TransferRecord& r = records_.at(id);
  r.state = core::next_state(r.state, core::TransferEvent::Started);
  r.started_at = io::wall_clock_now();
  p.running = true;
  io::FetchRequest request = p.spec.request;  // callbacks stay with the spec; these wrap them
  request.on_data = [this, id](std::string_view bytes) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return false;
    if (TransferRecord* r = record(id)) r->bytes += bytes.size();
    return !it->second->spec.request.on_data || it->second->spec.request.on_data(bytes);
  };
  request.on_done = [this, id](const io::FetchOutcome& outcome) { on_done(id, outcome); };
  p.http = client_.start(std::move(request));
}

void TransferEngine::on_done(TransferId id, const io::FetchOutcome& outcome) {
  // What the transfer's owner logs about it carries its id and status as fields.
  std::string id_text = std::to_string(std::uint64_t(id)), status_text = std::to_string(outcome.status);
  log::Fields fields{{"transfer", id_text}, {"status", status_text}};
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  std::unique_ptr<Pending> p = std::move(it->second);
  pending_.erase(it);
  Source& s = source(p->spec.source);
  --s.state.in_flight;
  bool ok = outcome.complete && outcome.status >= 200 && outcome.status < 300;
  std::string error = ok ? "" : !outcome.error.empty() ? outcome.error : "HTTP " + std::to_string(outcome.status);
  finish(id, ok ? core::TransferEvent::Succeeded : core::TransferEvent::Failed, error);
  if (p->spec.request.on_done) p->spec.request.on_done(outcome);
  pump(p->spec.source);
}

void TransferEngine::finish(TransferId id, core::TransferEvent event, const std::string& error) {
  auto it = records_.find(id);
  if (it == records_.end()) return;
  TransferRecord r = std::move(it->second);
  records_.erase(it);
  r.state = core::next_state(r.state, event);
  if (!core::is_final(r.state)) r.state = core::TransferState::Errored;  // never left hanging
  r.error = error;
  r.finished_at = io::wall_clock_now();
  finished_.push(std::move(r));
}

void TransferEngine::abandon(TransferId id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  std::unique_ptr<Pending> p = std::move(it->second);
  pending_.erase(it);
  Source& s = source(p->spec.source);
  if (p->running) {
    client_.cancel(p->http);
    --s.state.in_flight;
  } else {
    std::erase(s.queue, id);
  }
  finish(id, core::TransferEvent::Cancelled, "abandoned by its owner");
  pump(p->spec.source);
}

bool TransferEngine::cancel(TransferId id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return false;
  std::unique_ptr<Pending> p = std::move(it->second);
  pending_.erase(it);
  Source& s = source(p->spec.source);
  io::FetchOutcome outcome;
  if (p->running) {
    client_.cancel(p->http);
    --s.state.in_flight;
  } else {
    std::erase(s.queue, id);
  }
  if (TransferRecord* r = record(id)) outcome.body_bytes = r->bytes;
  finish(id, core::TransferEvent::Cancelled, "cancelled by an operator");
  log().info("transfer {} from {} ({}) cancelled by an operator", std::uint64_t(id), p->spec.source, p->spec.file_name);
  outcome.cancelled = true;
  outcome.error = "cancelled by an operator";
  if (p->spec.request.on_done) p->spec.request.on_done(outcome);
  pump(p->spec.source);
  return true;
}

std::vector<TransferRecord> TransferEngine::list(std::optional<core::TransferState> state,
                                                 const std::string& source_name) const {
  std::vector<TransferRecord> out;
  auto wanted = [&](const TransferRecord& r) {
    return (!state || r.state == *state) && (source_name.empty() || r.source == source_name);
  };
  for (const TransferRecord& r : finished_.items()) {
    if (wanted(r)) out.push_back(r);
  }
  for (const auto& [id, r] : records_) {
    if (wanted(r)) out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

std::size_t TransferEngine::in_flight(const std::string& source_name) const {
  auto it = sources_.find(source_name);
  return it == sources_.end() ? 0 : std::size_t(it->second.state.in_flight);
}

void TransferEngine::stop_all() {
  while (!pending_.empty()) abandon(pending_.begin()->first);
  for (auto& [name, s] : sources_) {
    if (s.delay_timer) s.delay_timer->stop();
  }
}

}  // namespace wubd::transfers
