// HTTP dates (RFC 9110 5.6.7): IMF-fixdate, the one format servers send and
// the preferred one recipients parse, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
#pragma once

#include <array>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace www {

/// `t` (seconds since the epoch) as an IMF-fixdate.
inline std::string format_http_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 64> text{};
  const std::size_t n = std::strftime(text.data(), text.size(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(text.data(), n);
}

/// Parses an IMF-fixdate. RFC 9110 5.6.7 also asks recipients to accept the
/// obsolete RFC 850 and asctime forms; a date we cannot parse makes a
/// conditional header ignored (RFC 9110 13.1.3: "A recipient MUST ignore the
/// If-Modified-Since header field if the received field value is not a valid
/// HTTP-date"), which is the safe answer for those rare forms too.
inline std::optional<std::time_t> parse_http_date(std::string_view text) {
  static constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // "Sun, 06 Nov 1994 08:49:37 GMT": fixed width, 29 characters.
  if (text.size() != 29 || text[3] != ',' || text[4] != ' ' || text.substr(26) != "GMT") return std::nullopt;
  auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  const auto day = digits(5, 2), year = digits(12, 4), hour = digits(17, 2), minute = digits(20, 2),
             second = digits(23, 2);
  if (!day || !year || !hour || !minute || !second || text[7] != ' ' || text[11] != ' ' || text[16] != ' ' ||
      text[19] != ':' || text[22] != ':' || text[25] != ' ')
    return std::nullopt;
  int month = -1;
  for (int m = 0; m < 12; ++m)
    if (text.substr(8, 3) == months[static_cast<std::size_t>(m)]) month = m;
  if (month < 0 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  return timegm(&tm);
}

}  // namespace www
