#include "peer_backfill.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "backfill_log.h"
#include "wubd/core/hour_files.h"
#include "wubd/core/routes.h"
#include "wubd/core/segment_name.h"
#include "wubd/core/url.h"
#include "wubd/io/clock.h"
#include "wubd/io/lifetime.h"
#include "wubd/log/log.h"
#include "wubd/store/extras.h"
#include "wubd/store/file_writer.h"
#include "wubd/store/segment_store.h"
#include "wubd/store/segment_writer.h"
#include "wubd/transfers/transfer_engine.h"

namespace wubd::backfiller {
namespace {

// Listings are small; a peer that sends more is not answering a listing.
constexpr std::size_t kMaxListingBytes = 16 << 20;
constexpr std::uint64_t kListingTimeoutMs = 60'000;
// A segment from a peer: a peer that stalls or trickles its bytes must not hold one of
// its download slots forever. A few MB in five minutes is a generous bound.
constexpr std::uint64_t kSegmentHeadersTimeoutMs = 30'000;
constexpr std::uint64_t kSegmentTotalTimeoutMs = 300'000;
// Extras are emote images and the like: a peer sending more is not sending one.
constexpr std::uint64_t kMaxExtraBytes = 64 << 20;

}  // namespace

// One file this pass copies.
struct PeerBackfill::Wanted {
  enum class Kind { Segment, ChatBatch, Extra } kind = Kind::Segment;
  std::string directory;        // below the base: "stream/variant/hour", or the extra's directory
  std::string name;             // the file name in it
  std::string url_path;         // the peer's /segments/... path, percent-encoded
  std::string hash;             // segments and chat batches: the sha256 their name gives
  std::string stream, variant;  // segments and chat batches, for metrics
  core::SegmentName segment;    // segments
};

struct PeerBackfill::Download {
  Wanted wanted;
  std::unique_ptr<store::FileWriter> writer;
  store::DiskTrouble::Ticket disk_ticket = 0;  // the disk's failures when the writer was made
  std::optional<core::Error> write_error;      // the file could not be created or written
  transfers::TransferId transfer = transfers::TransferId::None;
  std::string finished_transfer;  // its id, for the lines said once the file is renamed
  // Set while its on_done runs: freeing it then breaks lifetime.h's rule 3 (and the
  // backfill suite, which runs with assertions on, fails).
  bool in_callback = false;
  ~Download() { assert(!in_callback && "a download freed inside its own callback"); }
};

struct PeerBackfill::Pass {
  explicit Pass(uv_loop_t* loop) : tasks(loop) {}
  core::PassKind kind = core::PassKind::Recent;
  core::Micros started = 0;       // loop time
  core::Micros started_wall = 0;  // for hours and the recent cutoff
  int listings_outstanding = 0;
  int listing_requests = 0;
  int errors = 0;
  std::map<std::string, std::size_t> variants_left;  // per stream: hour lists still to come
  std::map<std::string, std::vector<std::string>> variants;
  std::map<std::string, std::vector<std::vector<std::string>>> hours;
  std::vector<Wanted> wanted;
  std::vector<std::pair<std::string, std::string>> order;  // (hour, "name\nindex into wanted")
  bool downloads_started = false;
  std::size_t downloads_left = 0;
  std::vector<std::unique_ptr<Download>> downloads;
  std::size_t fetched = 0, mismatched = 0, failed = 0, skipped = 0, tombstones = 0;
  // Per "stream/variant": the peer's hours and, from a wubd peer, their digests.
  std::map<std::string, core::PeerHours> digests;
  std::size_t same_by_digest = 0;  // hours not listed: their digests match ours
  io::TaskGroup tasks;             // local extras walks: their results die with the pass
};

PeerBackfill::PeerBackfill(uv_loop_t* loop, const BackfillConfig& config, std::string peer, store::SegmentStore& store,
                           io::HttpClient& client, transfers::TransferEngine& engine, BackfillMetrics& metrics,
                           store::DiskTrouble& disk)
    : loop_(loop),
      config_(config),
      peer_(std::move(peer)),
      store_(store),
      client_(client),
      engine_(engine),
      metrics_(metrics),
      disk_(disk),
      timer_(loop) {
  // An operator's --source-limit for this peer wins over --peer-concurrency.
  if (!engine_.has_limits(peer_)) engine_.set_limits(peer_, core::SourceLimits{config_.peer_concurrency, 0});
}

PeerBackfill::~PeerBackfill() { stop(); }

void PeerBackfill::start() {
  log::Fields fields{{"peer", peer_}};
  log().info("peer {}: backfilling (streams: {}, variants: {})", peer_,
             config_.streams.empty() ? "all" : fmt::format("{}", fmt::join(config_.streams, ",")),
             config_.variants.empty() ? "all" : fmt::format("{}", fmt::join(config_.variants, ",")));
  schedule();
}

void PeerBackfill::stop() {
  timer_.stop();
  for (io::RequestId id : std::exchange(listing_requests_, {})) client_.cancel(id);
  if (pass_) {
    for (auto& download : pass_->downloads) {
      // Finished ones left their slot empty.
      if (download && download->transfer != transfers::TransferId::None) engine_.abandon(download->transfer);
    }
    pass_.reset();  // writers remove their temp files
  }
}

void PeerBackfill::schedule() {
  core::Micros now = core::Micros(uv_now(loop_)) * core::kMicrosPerMilli;
  core::PassDecision decision = core::next_pass(schedule_, now, config_.fill_wait, config_.full_fill_wait);
  if (decision.kind != core::PassKind::None) {
    begin_pass(decision.kind);
    return;
  }
  next_pass_due_ = now + decision.wait;
  timer_.start(std::uint64_t((decision.wait + 999) / 1000), [this] { schedule(); });
}

PeerInfo PeerBackfill::info() const {
  PeerInfo info = last_;
  info.peer = peer_;
  info.state = pass_ ? "passing" : "waiting";
  if (!pass_) {
    core::Micros now = core::Micros(uv_now(loop_)) * core::kMicrosPerMilli;
    info.next_pass_in = double(std::max<core::Micros>(0, next_pass_due_ - now)) / 1e6;
  }
  return info;
}

bool PeerBackfill::run_now() {
  if (pass_) return false;
  timer_.stop();
  begin_pass(core::PassKind::Full);
  return true;
}

bool PeerBackfill::wanted(const std::vector<std::string>& filter, const std::string& name) const {
  return filter.empty() || std::find(filter.begin(), filter.end(), name) != filter.end();
}

void PeerBackfill::begin_pass(core::PassKind kind) {
  log::Fields fields{{"peer", peer_}};
  pass_ = std::make_unique<Pass>(loop_);
  pass_->kind = kind;
  pass_->started = core::Micros(uv_now(loop_)) * core::kMicrosPerMilli;
  pass_->started_wall = io::wall_clock_now();
  log().debug("peer {}: {} pass started", peer_, kind == core::PassKind::Full ? "full" : "recent");
  list("/files", [this](const std::vector<std::string>& streams) {
    for (const std::string& stream : streams) {
      // A wubloader node lists its extras directories (emotes) with its streams.
      if (!wanted(config_.streams, stream) || store_.is_extras_dir(stream)) continue;
      list("/files/" + core::percent_encode(stream),
           [this, stream](std::vector<std::string> variants) { on_variants(stream, std::move(variants)); });
    }
  });
  for (const std::string& dir : config_.extras) list_extras(dir);
}

void PeerBackfill::list(const std::string& path, std::function<void(std::vector<std::string>)> then) {
  fetch_listing(path, [then = std::move(then)](const std::string& body) -> std::string {
    auto names = core::parse_name_list(body);
    if (!names) return names.error().message;
    then(std::move(*names));
    return "";
  });
}

void PeerBackfill::fetch_listing(const std::string& path, std::function<std::string(const std::string& body)> take) {
  Pass* pass = pass_.get();
  ++pass->listings_outstanding;
  ++pass->listing_requests;
  metrics_.requests.inc({{"remote", peer_}});
  io::FetchRequest request;
  request.url = peer_ + path;
  request.total_timeout_ms = kListingTimeoutMs;
  auto id = std::make_shared<io::RequestId>(io::RequestId::None);
  *id = io::fetch_text(client_, std::move(request), kMaxListingBytes,
                       [this, pass, path, id, take = std::move(take)](const io::TextResult& text) {
                         std::string url = peer_ + path;
                         log::Fields fields{{"peer", peer_}, {"url", url}};
                         std::erase(listing_requests_, *id);
                         --pass->listings_outstanding;
                         if (!text.complete || text.status != 200) {
                           error("listing",
                                 fmt::format("GET {}{}: {}", peer_, path,
                                             text.complete ? "HTTP " + std::to_string(text.status) : text.error));
                         } else if (std::string why = take(text.body); !why.empty()) {
                           error("bad_listing", fmt::format("GET {}{}: {}", peer_, path, why));
                         }
                         maybe_finish();
                       });
  listing_requests_.push_back(*id);
}

void PeerBackfill::on_variants(const std::string& stream, std::vector<std::string> variants) {
  std::erase_if(variants, [this](const std::string& v) { return !wanted(config_.variants, v); });
  pass_->variants[stream] = variants;
  pass_->variants_left[stream] = variants.size();
  for (const std::string& variant : variants) {
    // A wubd peer answers each hour's digest, so hours that are the same here need no
    // listing; a wubloader peer ignores the parameter and lists the hours.
    fetch_listing("/files/" + core::percent_encode(stream) + "/" + core::percent_encode(variant) + "?digest=true",
                  [this, stream, variant](const std::string& body) -> std::string {
                    auto hours = core::parse_peer_hours(body);
                    if (!hours) return hours.error().message;
                    on_hours(stream, variant, std::move(*hours));
                    return "";
                  });
  }
}

bool PeerBackfill::same_here(const std::string& stream, const std::string& variant, const std::string& hour) {
  auto peer = pass_->digests.find(stream + "/" + variant);
  if (peer == pass_->digests.end() || !peer->second.has_digests) return false;  // a wubloader peer: list it
  auto digest = peer->second.digests.find(hour);
  if (digest == peer->second.digests.end()) return true;  // the peer has no such hour for this variant
  if (!digest->second) return false;                      // not at hand there: list it
  auto local = store_.hour_digest(stream, variant, hour);
  if (!local) {
    // Not indexed here (yet): the listing on_names would read anyway, read now.
    store_.hour_listing(stream, variant, hour);
    local = store_.hour_digest(stream, variant, hour);
  }
  return local && *local == *digest->second;
}

void PeerBackfill::on_hours(const std::string& stream, const std::string& variant, core::PeerHours hours) {
  pass_->hours[stream].push_back(hours.hours);
  pass_->digests[stream + "/" + variant] = std::move(hours);
  if (--pass_->variants_left[stream] > 0) return;
  // Every variant's hours are in: the union is what each variant is checked for.
  std::vector<std::string> all = core::hours_union(pass_->hours[stream]);
  if (pass_->kind == core::PassKind::Full && !config_.full_pass_hours.empty()) {
    all = core::explicit_hours(config_.full_pass_hours);  // a copy: the config stays as given
  } else if (pass_->kind == core::PassKind::Recent || config_.full_pass_last_hours > 0) {
    int count = pass_->kind == core::PassKind::Recent ? config_.recent_hours : config_.full_pass_last_hours;
    auto recent = core::last_hours(count, pass_->started_wall);
    std::set<std::string> keep(recent->begin(), recent->end());
    std::erase_if(all, [&](const std::string& hour) { return !keep.count(hour); });
  }
  if (config_.keeps_hour) {
    std::erase_if(all, [&](const std::string& hour) {
      auto start = core::parse_hour(hour);
      return start && !config_.keeps_hour(stream, *start);
    });
  }
  for (const std::string& v : pass_->variants[stream]) {
    for (const std::string& hour : all) {
      if (same_here(stream, v, hour)) {
        ++pass_->same_by_digest;
        continue;
      }
      // With tombstones: a deletion spreads, and what a tombstone deletes is not listed.
      list("/files/" + core::percent_encode(stream) + "/" + core::percent_encode(v) + "/" + core::percent_encode(hour) +
               "?tombstones=true",
           [this, stream, v, hour](const std::vector<std::string>& names) { on_names(stream, v, hour, names); });
    }
  }
}

void PeerBackfill::on_names(const std::string& stream, const std::string& variant, const std::string& hour,
                            const std::vector<std::string>& names) {
  log::Fields fields{{"stream", stream}, {"variant", variant}};
  store_.new_snapshot();
  auto local = store_.hour_listing(stream, variant, hour);
  core::FilesToCopy missing = core::files_to_copy(hour, names, *local, pass_->started_wall, config_.recent_cutoff);
  for (const auto& [name, why] : missing.skipped) {
    log().warn("peer {}: skipping {}/{}/{}/{}: {}", peer_, stream, variant, hour, name, why);
  }
  pass_->skipped += missing.skipped.size();
  create_tombstones(stream, variant, hour, missing.tombstones);
  std::string directory = stream + "/" + variant + "/" + hour;
  std::string url_directory = "/segments/" + core::percent_encode(stream) + "/" + core::percent_encode(variant) + "/" +
                              core::percent_encode(hour) + "/";
  auto hour_start = core::parse_hour(hour);
  for (std::string& name : missing.fetch) {
    Wanted file;
    file.directory = directory;
    file.url_path = url_directory + core::percent_encode(name);
    file.stream = stream;
    file.variant = variant;
    if (name.ends_with(".json")) {
      file.kind = Wanted::Kind::ChatBatch;
      file.hash = core::parse_chat_batch_name(*hour_start, name)->hash;  // checked by files_to_copy
    } else {
      file.segment = *core::parse_segment_path(hour, name);  // likewise
      file.hash = file.segment.hash;
    }
    file.name = std::move(name);
    pass_->order.emplace_back(hour, file.name + "\n" + std::to_string(pass_->wanted.size()));
    pass_->wanted.push_back(std::move(file));
  }
}

void PeerBackfill::create_tombstones(const std::string& stream, const std::string& variant, const std::string& hour,
                                     const std::vector<std::string>& tombstones) {
  if (tombstones.empty()) return;
  // A tombstone is an empty marker: there is nothing to download, only to create (in
  // the threadpool, as every file is made). It counts as a listing still out.
  std::string directory = fmt::format("{}/{}/{}", stream, variant, hour);
  Pass* pass = pass_.get();
  ++pass->listings_outstanding;
  using Made = std::vector<std::pair<std::string, core::Result<bool>>>;
  int rc = pass->tasks.compute<Made>(
      [base = config_.base_dir, directory, tombstones] {
        Made made;
        for (const std::string& name : tombstones) {
          made.emplace_back(name, store::create_empty_file(base, directory, name));
        }
        return made;
      },
      [this, pass, directory](const Made& made) {
        --pass->listings_outstanding;
        for (const auto& [name, result] : made) {
          std::string where = fmt::format("{}/{}", directory, name);
          if (!result) {
            error("write", fmt::format("cannot copy tombstone {}: {}", where, result.error().message));
            continue;
          }
          ++pass->tombstones;
          metrics_.others.inc({{"remote", peer_}, {"kind", "tombstone"}});
          log().info("peer {}: tombstone {} copied: the segment it marks is deleted here too", peer_, where);
        }
        maybe_finish();
      });
  if (rc != 0) {
    --pass->listings_outstanding;
    error("write", fmt::format("cannot queue the tombstones of {}: {}", directory, uv_err_name(rc)));
  }
}

void PeerBackfill::list_extras(const std::string& dir) {
  list("/extras/" + core::percent_encode(dir), [this, dir](std::vector<std::string> remote) {
    // The local tree is walked in the threadpool; it counts as a listing still out.
    Pass* pass = pass_.get();
    ++pass->listings_outstanding;
    int rc = pass->tasks.compute<core::Result<std::vector<std::string>>>(
        [path = store_.below_base(dir)] { return store::list_extras(path, store::kMaxExtrasFiles); },
        [this, pass, dir, remote = std::move(remote)](core::Result<std::vector<std::string>> local) {
          --pass->listings_outstanding;
          if (!local) {
            error("write", fmt::format("cannot list the local extras {}: {}", dir, local.error().message));
          } else {
            on_extras(dir, remote, *local);
          }
          maybe_finish();
        });
    if (rc != 0) {
      --pass->listings_outstanding;
      error("write", fmt::format("cannot queue a listing of the local extras {}: {}", dir, uv_err_name(rc)));
    }
  });
}

void PeerBackfill::on_extras(const std::string& dir, const std::vector<std::string>& remote,
                             const std::vector<std::string>& local) {
  std::set<std::string_view> have(local.begin(), local.end());
  for (const std::string& path : remote) {
    if (have.count(path) || path.ends_with(".temp")) continue;
    auto parts = core::split_relative_path(path, store::kMaxExtrasDepth);
    if (!parts) {
      ++pass_->skipped;
      log().warn("peer {}: skipping extra {}/{}: {}", peer_, dir, path, parts.error().message);
      continue;
    }
    Wanted file;
    file.kind = Wanted::Kind::Extra;
    file.name = parts->back();
    file.directory = dir;
    file.url_path = "/segments/" + core::percent_encode(dir);
    for (std::size_t i = 0; i < parts->size(); ++i) {
      if (i + 1 < parts->size()) file.directory += "/" + (*parts)[i];
      file.url_path += "/" + core::percent_encode((*parts)[i]);
    }
    // Extras sort before every hour: there are few, and they are small.
    pass_->order.emplace_back("", fmt::format("{}/{}\n{}", dir, path, pass_->wanted.size()));
    pass_->wanted.push_back(std::move(file));
  }
}

void PeerBackfill::maybe_finish() {
  log::Fields fields{{"peer", peer_}};
  Pass* pass = pass_.get();
  if (!pass || pass->listings_outstanding > 0) return;
  if (!pass->downloads_started) {
    pass->downloads_started = true;
    maybe_download();
  }
  if (pass->downloads_left > 0) return;
  core::Micros elapsed = core::Micros(uv_now(loop_)) * core::kMicrosPerMilli - pass->started;
  log().info(
      "peer {}: {} pass done in {:.2f} s: {} listing requests, {} hours the same by digest, {} fetched, "
      "{} hash mismatches, {} failed, {} skipped, {} tombstones copied, {} errors",
      peer_, pass->kind == core::PassKind::Full ? "full" : "recent", double(elapsed) / 1e6, pass->listing_requests,
      pass->same_by_digest, pass->fetched, pass->mismatched, pass->failed, pass->skipped, pass->tombstones,
      pass->errors);
  bool clean = pass->errors == 0 && pass->failed == 0;
  if (clean) {
    metrics_.last_success.set({{"remote", peer_}}, double(io::wall_clock_now()) / 1e6);
  } else {
    ++last_.errors;
  }
  metrics_.passes.inc({{"remote", peer_},
                       {"kind", pass->kind == core::PassKind::Full ? "full" : "recent"},
                       {"result", clean ? "ok" : "errors"}});
  last_.last_pass_end = double(io::wall_clock_now()) / 1e6;
  last_.last_pass = fmt::format("{} pass: {} fetched, {} failed, {} errors in {:.2f} s",
                                pass->kind == core::PassKind::Full ? "full" : "recent", pass->fetched, pass->failed,
                                pass->errors, double(elapsed) / 1e6);
  schedule_.last_recent = pass->started;
  if (pass->kind == core::PassKind::Full) schedule_.last_full = pass->started;
  // This runs inside the callback of the pass's last download or listing: the pass
  // (and the downloads it still holds) is freed on the next loop turn.
  io::defer_delete(loop_, std::move(pass_));
  schedule();
}

void PeerBackfill::maybe_download() {
  Pass& pass = *pass_;
  core::order_downloads(pass.order, config_.order, random_);
  pass.downloads.reserve(pass.order.size());
  pass.downloads_left = pass.order.size();
  for (std::size_t i = 0; i < pass.order.size(); ++i) start_download(i);
}

void PeerBackfill::start_download(std::size_t index) {
  Pass& pass = *pass_;
  const std::string& key = pass.order[index].second;
  auto download = std::make_unique<Download>();
  Download* d = download.get();
  d->wanted = std::move(pass.wanted[std::stoul(key.substr(key.rfind('\n') + 1))]);
  const Wanted& file = d->wanted;
  io::FetchRequest request;
  request.url = peer_ + file.url_path;
  request.receive_buffer_bytes = 64 * 1024;
  request.headers_timeout_ms = kSegmentHeadersTimeoutMs;
  request.total_timeout_ms = kSegmentTotalTimeoutMs;
  request.on_headers = [this, d](long status) {
    if (status != 200) return false;
    const Wanted& file = d->wanted;
    // Written under a temp name, renamed when complete: segments as the downloader
    // names its temp files, the others as wubloader does (`NAME.<uuid>.temp`).
    std::string temp_name = file.kind == Wanted::Kind::Segment
                                ? store::temp_segment_name(file.segment.start, file.segment.duration)
                                : file.name + "." + store::random_temp_id() + ".temp";
    d->writer = std::make_unique<store::FileWriter>(loop_, config_.base_dir, file.directory, temp_name);
    d->disk_ticket = disk_.ticket(file.stream);
    return true;
  };
  request.on_data = [d](std::string_view bytes) {
    if (!d->writer) return false;
    if (d->wanted.kind == Wanted::Kind::Extra && d->writer->bytes_written() + bytes.size() > kMaxExtraBytes) {
      d->write_error = core::make_error("larger than " + std::to_string(kMaxExtraBytes >> 20) + " MiB: not an extra");
      return false;
    }
    if (auto written = d->writer->write(bytes); !written) {
      d->write_error = written.error();
      return false;
    }
    return true;
  };
  request.must_wait = [] { return store::FileWriter::disk_is_behind(); };
  request.on_done = [this, d](const io::FetchOutcome& outcome) { on_download_done(d, outcome); };
  transfers::TransferSpec spec;
  spec.source = peer_;
  spec.target = file.directory;
  spec.file_name = file.name;
  spec.request = std::move(request);
  pass.downloads.push_back(std::move(download));
  d->transfer = engine_.submit(std::move(spec));
}

void PeerBackfill::on_download_done(Download* d, const io::FetchOutcome& outcome) {
  d->in_callback = true;
  d->finished_transfer = std::to_string(std::uint64_t(d->transfer));
  d->transfer = transfers::TransferId::None;
  const Wanted& file = d->wanted;
  if (outcome.complete && outcome.status == 200 && d->writer && !d->write_error) {
    // Renamed off the loop; the download counts as left until then. Extras have no
    // hash in their names: wubloader copies them as they come.
    auto done = [this, d](const core::Result<std::string>& committed) { on_committed(d, committed); };
    if (file.kind == Wanted::Kind::Extra) {
      d->writer->commit(file.name, done);
    } else {
      d->writer->commit_verified(file.name, file.hash, done);
    }
    d->in_callback = false;
    return;
  }
  Pass& pass = *pass_;
  std::string url = peer_ + file.url_path;
  log::Fields fields{{"peer", peer_}, {"stream", file.stream}, {"variant", file.variant}, {"url", url}};
  std::string where = file.directory + "/" + file.name;
  if (outcome.complete && outcome.status == 404 && file.kind == Wanted::Kind::ChatBatch) {
    // The chat archiver merges batches into new ones and removes the old: a batch
    // listed a moment ago may be gone now. wubloader does not count this either.
    log().debug("peer {}: chat batch {} is gone (merged); not an error", peer_, where);
  } else {
    ++pass.failed;
    if (d->writer) d->writer->discard();
    std::string why = d->write_error     ? d->write_error->message
                      : outcome.complete ? "HTTP " + std::to_string(outcome.status)
                                         : outcome.error;
    if (d->write_error && d->write_error->os_error) {
      metrics_.errors.inc({{"remote", peer_}, {"reason", "write"}});
      disk_.failed(file.stream, *d->write_error);  // once per stream, not per file
      log().debug("peer {}: cannot write {}: {}", peer_, where, why);
    } else {
      metrics_.errors.inc({{"remote", peer_}, {"reason", "download"}});
      log().warn("peer {}: cannot fetch {}: {}", peer_, where, why);
    }
  }
  release(d);
}

void PeerBackfill::on_committed(Download* d, const core::Result<std::string>& committed) {
  d->in_callback = true;
  Pass& pass = *pass_;
  const Wanted& file = d->wanted;
  std::string url = peer_ + file.url_path;
  // The fields the transfer engine gave the download's end, as the end is said now.
  log::Fields fields{{"peer", peer_},
                     {"stream", file.stream},
                     {"variant", file.variant},
                     {"url", url},
                     {"transfer", d->finished_transfer},
                     {"status", "200"}};
  std::string where = file.directory + "/" + file.name;
  if (committed) {
    disk_.wrote(file.stream, d->disk_ticket);
    ++pass.fetched;
    if (file.kind == Wanted::Kind::Segment) {
      metrics_.segments.inc({{"remote", peer_}, {"stream", file.stream}, {"variant", file.variant}});
    } else {
      metrics_.others.inc({{"remote", peer_}, {"kind", file.kind == Wanted::Kind::Extra ? "extra" : "chat_batch"}});
    }
    metrics_.bytes.inc({{"remote", peer_}}, double(d->writer->bytes_written()));
    log().debug("peer {}: backfilled {}", peer_, where);
  } else if (committed.error().code == store::FileWriter::kHashMismatch) {
    ++pass.mismatched;
    metrics_.mismatches.inc({{"remote", peer_}, {"stream", file.stream}, {"variant", file.variant}});
    log().warn("peer {}: {}: {}; discarded", peer_, where, committed.error().message);
  } else {
    ++pass.failed;
    metrics_.errors.inc({{"remote", peer_}, {"reason", "write"}});
    if (committed.error().os_error) {
      disk_.failed(file.stream, committed.error());  // once per stream, not per file
    } else {
      log().error("peer {}: {}: {}", peer_, where, committed.error().message);
    }
  }
  release(d);
}

void PeerBackfill::release(Download* d) {
  --pass_->downloads_left;
  // Inside the download's own callback (or its writer's): it is freed on the next loop
  // turn (its slot is emptied, not erased, since other callbacks hold pointers to the
  // others).
  for (auto& download : pass_->downloads) {
    if (download.get() == d) io::defer_delete(loop_, std::move(download));
  }
  maybe_finish();
  d->in_callback = false;  // still there: freed on the next turn
}

void PeerBackfill::error(const std::string& reason, const std::string& message) {
  ++pass_->errors;
  metrics_.errors.inc({{"remote", peer_}, {"reason", reason}});
  log().warn("peer {}: {}", peer_, message);
}

}  // namespace wubd::backfiller
