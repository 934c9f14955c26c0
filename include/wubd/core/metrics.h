#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Prometheus metrics: counters, gauges and histograms with labels, rendered in the
// text exposition format (version 0.0.4). Owned by the process, used on the loop only.
namespace wubd::core {

// Label name/value pairs, in the order they are rendered.
using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

// Label values are escaped as the text format requires (\\, \", \n).
std::string render_labels(const Labels& labels);

class CounterFamily {
 public:
  void inc(const Labels& labels, double amount = 1);
  // For a count kept elsewhere (the kernel's CPU time, the store's scans), copied in
  // by a refresh: the value only ever rises, as a counter's must.
  void set_total(const Labels& labels, double total);
  double value(const Labels& labels) const;

 private:
  friend class MetricsRegistry;
  std::map<std::string, double> values_;
};

class GaugeFamily {
 public:
  void set(const Labels& labels, double value);
  void add(const Labels& labels, double amount);
  double value(const Labels& labels) const;

 private:
  friend class MetricsRegistry;
  std::map<std::string, double> values_;
};

class HistogramFamily {
 public:
  explicit HistogramFamily(std::vector<double> upper_bounds);
  void observe(const Labels& labels, double value);
  std::uint64_t count(const Labels& labels) const;

 private:
  friend class MetricsRegistry;
  struct Series {
    std::vector<std::uint64_t> bucket_counts;  // not cumulative; rendered cumulative
    double sum = 0;
    std::uint64_t count = 0;
  };
  std::vector<double> upper_bounds_;
  std::map<std::string, Series> series_;
};

class MetricsRegistry {
 public:
  // Keeps a refresh function registered while it lives (see add_refresh).
  class Refresh {
   public:
    Refresh() = default;
    Refresh(MetricsRegistry* registry, std::uint64_t id) : registry_(registry), id_(id) {}
    Refresh(Refresh&& other) noexcept : registry_(std::exchange(other.registry_, nullptr)), id_(other.id_) {}
    Refresh& operator=(Refresh&& other) noexcept;
    Refresh(const Refresh&) = delete;
    Refresh& operator=(const Refresh&) = delete;
    ~Refresh();

   private:
    MetricsRegistry* registry_ = nullptr;
    std::uint64_t id_ = 0;
  };

  // `refresh` runs before every render, to set gauges from state that lives
  // elsewhere (open connections, running cuts, workers): each service registers its
  // own. Unregistered when the returned handle is destroyed, which must happen before
  // the registry is.
  [[nodiscard]] Refresh add_refresh(std::function<void()> refresh);

  // Families are created once, by name; asking again returns the same family.
  // References stay valid for the registry's lifetime.
  CounterFamily& counter(const std::string& name, const std::string& help);
  GaugeFamily& gauge(const std::string& name, const std::string& help);
  HistogramFamily& histogram(const std::string& name, const std::string& help, std::vector<double> upper_bounds);

  // Runs the refresh functions, then renders every family.
  std::string render();

 private:
  std::map<std::uint64_t, std::function<void()>> refreshes_;
  std::uint64_t next_refresh_ = 1;
  struct Family {
    std::string help;
    std::unique_ptr<CounterFamily> counter;
    std::unique_ptr<GaugeFamily> gauge;
    std::unique_ptr<HistogramFamily> histogram;
  };
  std::map<std::string, Family> families_;
};

// Latency buckets in seconds, from 0.5 ms to 60 s.
std::vector<double> latency_buckets_seconds();

}  // namespace wubd::core
