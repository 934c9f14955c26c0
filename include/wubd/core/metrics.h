#pragma once

#include <cstdint>
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
  // Families are created once, by name; asking again returns the same family.
  // References stay valid for the registry's lifetime.
  CounterFamily& counter(const std::string& name, const std::string& help);
  GaugeFamily& gauge(const std::string& name, const std::string& help);
  HistogramFamily& histogram(const std::string& name, const std::string& help,
                             std::vector<double> upper_bounds);

  std::string render() const;

 private:
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
