#include "wubd/core/time.h"

#include <chrono>
#include <cstdio>

namespace wubd::core {
namespace {

using std::chrono::days;
using std::chrono::sys_days;

Error bad_time(std::string_view text, std::string_view why) {
  return make_error("invalid time \"" + std::string(text) + "\": " + std::string(why) +
                        " (expected ISO 8601 like 2026-11-21T04:05:06.789Z)",
                    400);
}

// Reads exactly `n` decimal digits at `pos`; false if they are not all digits.
bool read_digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int value = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += n;
  out = value;
  return true;
}

Micros days_to_micros(sys_days d) { return static_cast<Micros>(d.time_since_epoch().count()) * 24 * kMicrosPerHour; }

// Floor division, so that times before 1970 land in the right day and hour.
Micros floor_div(Micros a, Micros b) {
  Micros q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

Result<Micros> parse_time(std::string_view text) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, pos, 4, year) || pos >= text.size() || text[pos++] != '-' ||
      !read_digits(text, pos, 2, month) || pos >= text.size() || text[pos++] != '-' ||
      !read_digits(text, pos, 2, day)) {
    return bad_time(text, "no YYYY-MM-DD date");
  }
  std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{unsigned(month)},
                                  std::chrono::day{unsigned(day)}};
  if (!ymd.ok()) return bad_time(text, "no such date");

  Micros fraction_us = 0;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == 't' || text[pos] == ' ')) {
    ++pos;
    if (!read_digits(text, pos, 2, hour) || pos >= text.size() || text[pos++] != ':' ||
        !read_digits(text, pos, 2, minute)) {
      return bad_time(text, "no HH:MM time of day");
    }
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      if (!read_digits(text, pos, 2, second)) return bad_time(text, "bad seconds");
      if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
        ++pos;
        size_t digits = 0;
        Micros scale = 100'000;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          if (digits >= 9) return bad_time(text, "more than 9 fractional digits");
          fraction_us += (text[pos] - '0') * scale;
          scale /= 10;
          ++digits;
          ++pos;
        }
        if (digits == 0) return bad_time(text, "no digits after the decimal point");
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return bad_time(text, "time of day out of range");
  }

  Micros offset_us = 0;
  if (pos < text.size()) {
    char sign = text[pos];
    if (sign == 'Z' || sign == 'z') {
      ++pos;
    } else if (sign == '+' || sign == '-') {
      ++pos;
      int off_h = 0, off_m = 0;
      if (!read_digits(text, pos, 2, off_h)) return bad_time(text, "bad UTC offset");
      if (pos < text.size() && text[pos] == ':') ++pos;
      if (pos < text.size() && !read_digits(text, pos, 2, off_m)) {
        return bad_time(text, "bad UTC offset");
      }
      if (off_h > 23 || off_m > 59) return bad_time(text, "UTC offset out of range");
      offset_us = (off_h * 60 + off_m) * 60 * kMicrosPerSecond;
      if (sign == '-') offset_us = -offset_us;
    }
  }
  if (pos != text.size()) return bad_time(text, "unexpected text after the time");

  Micros t =
      days_to_micros(sys_days{ymd}) + hour * kMicrosPerHour + (minute * 60 + second) * kMicrosPerSecond + fraction_us;
  // A local time at +02:00 is two hours ahead of UTC, so subtract the offset.
  t -= offset_us;
  if (int utc_year = to_civil(t).year; utc_year < kMinYear || utc_year > kMaxYear) {
    return bad_time(text, "year out of range (0001 to 9999 in UTC)");
  }
  return t;
}

CivilTime to_civil(Micros t) {
  Micros day_index = floor_div(t, 24 * kMicrosPerHour);
  Micros in_day = t - day_index * 24 * kMicrosPerHour;
  std::chrono::year_month_day ymd{sys_days{days{day_index}}};
  CivilTime c;
  c.year = int(ymd.year());
  c.month = int(unsigned(ymd.month()));
  c.day = int(unsigned(ymd.day()));
  c.hour = int(in_day / kMicrosPerHour);
  c.minute = int(in_day / (60 * kMicrosPerSecond) % 60);
  c.second = int(in_day / kMicrosPerSecond % 60);
  c.micros = int(in_day % kMicrosPerSecond);
  return c;
}

std::string format_time(Micros t) {
  CivilTime c = to_civil(t);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year, c.month, c.day, c.hour, c.minute,
                c.second, c.micros / 1000);
  return buf;
}

std::string format_time_us(Micros t) {
  CivilTime c = to_civil(t);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", c.year, c.month, c.day, c.hour, c.minute,
                c.second, c.micros);
  return buf;
}

std::string format_hour(Micros t) {
  CivilTime c = to_civil(t);
  char buf[24];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d", c.year, c.month, c.day, c.hour);
  return buf;
}

Result<Micros> parse_hour(std::string_view hour) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0, h = 0;
  if (hour.size() != 13 || !read_digits(hour, pos, 4, year) || hour[pos++] != '-' ||
      !read_digits(hour, pos, 2, month) || hour[pos++] != '-' || !read_digits(hour, pos, 2, day) ||
      hour[pos++] != 'T' || !read_digits(hour, pos, 2, h)) {
    return make_error("invalid hour \"" + std::string(hour) + "\": expected YYYY-MM-DDTHH", 400);
  }
  std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{unsigned(month)},
                                  std::chrono::day{unsigned(day)}};
  if (!ymd.ok() || h > 23 || year < kMinYear) {
    return make_error("invalid hour \"" + std::string(hour) + "\": no such date or hour", 400);
  }
  return days_to_micros(sys_days{ymd}) + h * kMicrosPerHour;
}

Micros floor_hour(Micros t) { return floor_div(t, kMicrosPerHour) * kMicrosPerHour; }

std::string format_http_date(Micros t) {
  static constexpr const char* kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  CivilTime c = to_civil(t);
  std::chrono::weekday wd{sys_days{days{floor_div(t, 24 * kMicrosPerHour)}}};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kWeekdays[wd.c_encoding()], c.day,
                kMonths[c.month - 1], c.year, c.hour, c.minute, c.second);
  return buf;
}

}  // namespace wubd::core
