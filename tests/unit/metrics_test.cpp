#include "wubd/core/metrics.h"

#include <gtest/gtest.h>

namespace wubd::core {
namespace metrics_test {

TEST(Metrics, CountersGaugesAndHistogramsRenderInTextFormat) {
  MetricsRegistry r;
  auto& requests = r.counter("wubd_http_requests_total", "HTTP requests answered.");
  requests.inc({{"endpoint", "files"}, {"method", "GET"}, {"status", "200"}});
  requests.inc({{"endpoint", "files"}, {"method", "GET"}, {"status", "200"}}, 2);
  r.gauge("wubd_http_connections", "Open connections.").set({}, 3);
  auto& latency = r.histogram("wubd_http_request_duration_seconds", "Latency.", {0.1, 1});
  latency.observe({{"endpoint", "files"}}, 0.05);
  latency.observe({{"endpoint", "files"}}, 0.5);
  latency.observe({{"endpoint", "files"}}, 5);

  EXPECT_EQ(&requests, &r.counter("wubd_http_requests_total", "ignored"));
  EXPECT_EQ(requests.value({{"endpoint", "files"}, {"method", "GET"}, {"status", "200"}}), 3);
  EXPECT_EQ(latency.count({{"endpoint", "files"}}), 3u);

  EXPECT_EQ(r.render(),
            "# HELP wubd_http_connections Open connections.\n"
            "# TYPE wubd_http_connections gauge\n"
            "wubd_http_connections 3\n"
            "# HELP wubd_http_request_duration_seconds Latency.\n"
            "# TYPE wubd_http_request_duration_seconds histogram\n"
            "wubd_http_request_duration_seconds_bucket{endpoint=\"files\",le=\"0.1\"} 1\n"
            "wubd_http_request_duration_seconds_bucket{endpoint=\"files\",le=\"1\"} 2\n"
            "wubd_http_request_duration_seconds_bucket{endpoint=\"files\",le=\"+Inf\"} 3\n"
            "wubd_http_request_duration_seconds_sum{endpoint=\"files\"} 5.55\n"
            "wubd_http_request_duration_seconds_count{endpoint=\"files\"} 3\n"
            "# HELP wubd_http_requests_total HTTP requests answered.\n"
            "# TYPE wubd_http_requests_total counter\n"
            "wubd_http_requests_total{endpoint=\"files\",method=\"GET\",status=\"200\"} 3\n");
}

TEST(Metrics, RefreshFunctionsRunBeforeEachRenderWhileRegistered) {
  MetricsRegistry r;
  GaugeFamily& open = r.gauge("wubd_things_open", "Things open now.");
  int things = 3;
  {
    MetricsRegistry::Refresh refresh = r.add_refresh([&] { open.set({}, things); });
    EXPECT_NE(r.render().find("wubd_things_open 3\n"), std::string::npos);
    things = 5;
    EXPECT_NE(r.render().find("wubd_things_open 5\n"), std::string::npos);
  }
  things = 7;  // its owner is gone: the gauge keeps its last value
  EXPECT_NE(r.render().find("wubd_things_open 5\n"), std::string::npos);
}

TEST(Metrics, LabelValuesAreEscaped) { EXPECT_EQ(render_labels({{"a", "x\"y\\z\nw"}}), "a=\"x\\\"y\\\\z\\nw\""); }

}  // namespace metrics_test
}  // namespace wubd::core
