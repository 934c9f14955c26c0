#include "wubd/core/metrics.h"

#include <algorithm>

#include <cmath>
#include <cstdio>

namespace wubd::core {
namespace {

std::string format_value(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  return buf;
}

void append_series(std::string& out, const std::string& name, const std::string& labels, double value) {
  out += name;
  if (!labels.empty()) out += "{" + labels + "}";
  out += ' ';
  out += format_value(value);
  out += '\n';
}

}  // namespace

std::string render_labels(const Labels& labels) {
  std::string out;
  for (const auto& [name, value] : labels) {
    if (!out.empty()) out += ',';
    out += name;
    out += "=\"";
    for (char c : value) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '"') {
        out += "\\\"";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
  }
  return out;
}

void CounterFamily::inc(const Labels& labels, double amount) { values_[render_labels(labels)] += amount; }

void CounterFamily::set_total(const Labels& labels, double total) {
  double& value = values_[render_labels(labels)];
  value = std::max(value, total);
}

double CounterFamily::value(const Labels& labels) const {
  auto it = values_.find(render_labels(labels));
  return it == values_.end() ? 0 : it->second;
}

void GaugeFamily::set(const Labels& labels, double value) { values_[render_labels(labels)] = value; }
void GaugeFamily::add(const Labels& labels, double amount) { values_[render_labels(labels)] += amount; }

double GaugeFamily::value(const Labels& labels) const {
  auto it = values_.find(render_labels(labels));
  return it == values_.end() ? 0 : it->second;
}

HistogramFamily::HistogramFamily(std::vector<double> upper_bounds) : upper_bounds_(std::move(upper_bounds)) {}

void HistogramFamily::observe(const Labels& labels, double value) {
  Series& s = series_[render_labels(labels)];
  if (s.bucket_counts.empty()) s.bucket_counts.assign(upper_bounds_.size(), 0);
  for (size_t i = 0; i < upper_bounds_.size(); ++i) {
    if (value <= upper_bounds_[i]) {
      ++s.bucket_counts[i];
      break;
    }
  }
  s.sum += value;
  ++s.count;
}

std::uint64_t HistogramFamily::count(const Labels& labels) const {
  auto it = series_.find(render_labels(labels));
  return it == series_.end() ? 0 : it->second.count;
}

CounterFamily& MetricsRegistry::counter(const std::string& name, const std::string& help) {
  Family& f = families_[name];
  if (!f.counter) {
    f.help = help;
    f.counter = std::make_unique<CounterFamily>();
  }
  return *f.counter;
}

GaugeFamily& MetricsRegistry::gauge(const std::string& name, const std::string& help) {
  Family& f = families_[name];
  if (!f.gauge) {
    f.help = help;
    f.gauge = std::make_unique<GaugeFamily>();
  }
  return *f.gauge;
}

HistogramFamily& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                            std::vector<double> upper_bounds) {
  Family& f = families_[name];
  if (!f.histogram) {
    f.help = help;
    f.histogram = std::make_unique<HistogramFamily>(std::move(upper_bounds));
  }
  return *f.histogram;
}

MetricsRegistry::Refresh& MetricsRegistry::Refresh::operator=(Refresh&& other) noexcept {
  if (this != &other) {
    if (registry_) registry_->refreshes_.erase(id_);
    registry_ = std::exchange(other.registry_, nullptr);
    id_ = other.id_;
  }
  return *this;
}

MetricsRegistry::Refresh::~Refresh() {
  if (registry_) registry_->refreshes_.erase(id_);
}

MetricsRegistry::Refresh MetricsRegistry::add_refresh(std::function<void()> refresh) {
  std::uint64_t id = next_refresh_++;
  refreshes_.emplace(id, std::move(refresh));
  return Refresh(this, id);
}

std::string MetricsRegistry::render() {
  for (auto& [id, refresh] : refreshes_) refresh();
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + f.help + "\n";
    if (f.counter) {
      out += "# TYPE " + name + " counter\n";
      for (const auto& [labels, v] : f.counter->values_) append_series(out, name, labels, v);
    } else if (f.gauge) {
      out += "# TYPE " + name + " gauge\n";
      for (const auto& [labels, v] : f.gauge->values_) append_series(out, name, labels, v);
    } else if (f.histogram) {
      out += "# TYPE " + name + " histogram\n";
      const HistogramFamily& h = *f.histogram;
      for (const auto& [labels, s] : h.series_) {
        std::string sep = labels.empty() ? "" : labels + ",";
        std::uint64_t cumulative = 0;
        for (size_t i = 0; i < h.upper_bounds_.size(); ++i) {
          cumulative += s.bucket_counts[i];
          append_series(out, name + "_bucket", sep + "le=\"" + format_value(h.upper_bounds_[i]) + "\"",
                        double(cumulative));
        }
        append_series(out, name + "_bucket", sep + "le=\"+Inf\"", double(s.count));
        append_series(out, name + "_sum", labels, s.sum);
        append_series(out, name + "_count", labels, double(s.count));
      }
    }
  }
  return out;
}

std::vector<double> latency_buckets_seconds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

}  // namespace wubd::core
