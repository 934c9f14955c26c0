// The per-hour coverage figures wubloader's segment_coverage exports as gauges, for
// each video variant's current and previous hour (window="current_hour",
// "previous_hour"). wubloader labels them with the hour itself; a label that takes a
// new value every hour makes a new series every hour for ever, which Prometheus
// advises against, so wubd keeps two windows that move. Computed when /metrics is
// scraped, from listings the store has (the index makes the newest hours'): no
// directory is read on the loop for them.
#include "wubd/core/coverage.h"
#include "wubd/core/hour_files.h"
#include "wubd/io/clock.h"
#include "wubd/restreamer/restreamer.h"

namespace wubd::restreamer {

Restreamer::CoverageGauges::CoverageGauges(core::MetricsRegistry& m)
    : segments(m.gauge("wubd_coverage_segments",
                       "Segment files in the hour, by type (full, suspect, partial), per variant and window "
                       "(current_hour, previous_hour): wubloader's segment_count.")),
      segment_seconds(m.gauge("wubd_coverage_segment_seconds",
                              "Seconds of the hour's segment files, by type: wubloader's segment_duration.")),
      covered_seconds(m.gauge("wubd_coverage_covered_seconds",
                              "Seconds of the hour the best segments cover, overlaps not counted twice: "
                              "wubloader's editable_coverage.")),
      holes(m.gauge("wubd_coverage_holes", "Holes reaching into the hour: wubloader's editable_holes.")),
      hole_seconds(m.gauge("wubd_coverage_hole_seconds", "Seconds of the hour in holes.")),
      overlaps(m.gauge("wubd_coverage_overlaps",
                       "Copies the best segments leave out (another copy of a start, an overlap): "
                       "wubloader's overlap_count.")),
      overlap_seconds(
          m.gauge("wubd_coverage_overlap_seconds", "Seconds of those copies: wubloader's overlap_duration.")) {}

void Restreamer::refresh_coverage_gauges() {
  const core::Micros now = io::wall_clock_now();
  const core::Micros current = core::floor_hour(now);
  auto base = store_.base_descriptor();
  for (const std::string& stream : store_.list_streams()) {
    for (const std::string& variant : store_.list_variants(stream)) {
      if (core::is_chat_variant(variant)) continue;
      for (auto [window, hour] :
           {std::pair{"current_hour", current}, std::pair{"previous_hour", current - core::kMicrosPerHour}}) {
        core::TimeRange range{hour, std::min(now, hour + core::kMicrosPerHour)};
        std::map<core::Micros, std::shared_ptr<const core::HourListing>> listings;
        std::vector<core::Micros> hours;
        bool known = true;
        for (const auto& source : store_.hour_sources(stream, variant, range.start, range.end)) {
          // Only what the store has in memory: an hour it has not read is left out.
          if (!source.listing && !source.names) {
            known = known && source.start != hour;
            continue;
          }
          listings[source.start] = store::SegmentStore::listing_of(base ? base->get() : -1, source);
          hours.push_back(source.start);
        }
        if (!known) continue;
        core::HourLookup lookup = [&listings](core::Micros h) -> std::shared_ptr<const core::HourListing> {
          auto it = listings.find(h);
          return it == listings.end() ? nullptr : it->second;
        };
        core::Coverage coverage = core::compute_coverage(lookup, hours, range);
        core::HourCoverage figures;
        figures.hour = hour;
        figures.holes = coverage.holes.size();
        for (const core::CoverageSpan& hole : coverage.holes) figures.hole_duration += hole.end - hole.start;
        for (const core::HourCoverage& h : coverage.hours) {
          if (h.hour == hour) figures = h;
        }
        core::Labels labels{{"stream", stream}, {"variant", variant}, {"window", window}};
        for (auto [type, by_type] : {std::pair{"full", figures.full}, std::pair{"suspect", figures.suspect},
                                     std::pair{"partial", figures.partial}}) {
          core::Labels typed = labels;
          typed.emplace_back("type", type);
          coverage_gauges_.segments.set(typed, double(by_type.count));
          coverage_gauges_.segment_seconds.set(typed, double(by_type.duration) / 1e6);
        }
        coverage_gauges_.covered_seconds.set(labels, double(figures.covered) / 1e6);
        coverage_gauges_.holes.set(labels, double(figures.holes));
        coverage_gauges_.hole_seconds.set(labels, double(figures.hole_duration) / 1e6);
        coverage_gauges_.overlaps.set(labels, double(figures.overlaps.count));
        coverage_gauges_.overlap_seconds.set(labels, double(figures.overlaps.duration) / 1e6);
      }
    }
  }
}

}  // namespace wubd::restreamer
