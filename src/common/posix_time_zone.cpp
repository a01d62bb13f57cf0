#include "posix_time_zone.hpp"

#include "creditwatch/common/civil_time.hpp"

#include <cctype>

namespace creditwatch::posix_tz {
namespace {

// A cursor over the TZ string; every read_* leaves it unmoved on failure only where the
// caller can still go another way (an optional part), else the parse fails as a whole.
class Reader {
public:
  explicit Reader(std::string_view text) : m_text(text) {}

  bool done() const { return m_pos == m_text.size(); }
  bool next_is(char c) const { return m_pos < m_text.size() && m_text[m_pos] == c; }
  bool take(char c) {
    if (!next_is(c)) return false;
    ++m_pos;
    return true;
  }

  // "CET" (three or more letters) or "<+0330>" (quoted: letters, digits, + and -).
  std::optional<std::string> name() {
    const std::size_t start = m_pos;
    if (take('<')) {
      while (m_pos < m_text.size() && (std::isalnum(byte()) || next_is('+') || next_is('-'))) ++m_pos;
      if (!take('>') || m_pos - start < 5) return std::nullopt;
      return std::string(m_text.substr(start + 1, m_pos - start - 2));
    }
    while (m_pos < m_text.size() && std::isalpha(byte())) ++m_pos;
    if (m_pos - start < 3) return std::nullopt;
    return std::string(m_text.substr(start, m_pos - start));
  }

  // [+-]hh[:mm[:ss]] in seconds, hours at most `max_hours`.
  std::optional<std::int32_t> hms(int max_hours) {
    int sign = 1;
    if (take('-')) {
      sign = -1;
    } else {
      take('+');
    }
    auto hours = digits(0, max_hours);
    if (!hours) return std::nullopt;
    std::int32_t total = *hours * 3600;
    for (int factor : {60, 1}) {
      if (!take(':')) break;
      auto part = digits(0, 59);
      if (!part) return std::nullopt;
      total += *part * factor;
    }
    return sign * total;
  }

  std::optional<int> digits(int min, int max) {
    const std::size_t start = m_pos;
    int value = 0;
    while (m_pos < m_text.size() && std::isdigit(byte()) && m_pos - start < 3) value = value * 10 + (m_text[m_pos++] - '0');
    if (m_pos == start || value < min || value > max) return std::nullopt;
    return value;
  }

private:
  unsigned char byte() const { return static_cast<unsigned char>(m_text[m_pos]); }

  std::string_view m_text;
  std::size_t m_pos = 0;
};

std::optional<ChangeRule> read_change(Reader& in) {
  ChangeRule rule;
  if (in.take('M')) {
    auto month = in.digits(1, 12);
    auto week = in.take('.') ? in.digits(1, 5) : std::nullopt;
    auto weekday = in.take('.') ? in.digits(0, 6) : std::nullopt;
    if (!month || !week || !weekday) return std::nullopt;
    rule.month = *month;
    rule.week = *week;
    rule.weekday = *weekday;
  } else if (in.take('J')) {
    auto day = in.digits(1, 365);
    if (!day) return std::nullopt;
    rule.form = ChangeRule::Form::julian_no_leap;
    rule.day = *day;
  } else {
    auto day = in.digits(0, 365);
    if (!day) return std::nullopt;
    rule.form = ChangeRule::Form::day_of_year;
    rule.day = *day;
  }
  if (in.take('/')) {
    auto time = in.hms(167);
    if (!time) return std::nullopt;
    rule.time = *time;
  }
  return rule;
}

// Days from January 1 of `year` to the day `rule` names.
int day_of_year(const ChangeRule& rule, int year) {
  switch (rule.form) {
    case ChangeRule::Form::julian_no_leap:
      return rule.day - 1 + (is_leap_year(year) && rule.day >= 60 ? 1 : 0);
    case ChangeRule::Form::day_of_year:
      return rule.day;
    case ChangeRule::Form::month_week_day:
      break;
  }
  const int first_weekday = static_cast<int>(weekday_of(CivilTime{year, rule.month, 1}));
  int day = 1 + (rule.weekday - first_weekday + 7) % 7 + (rule.week - 1) * 7;
  if (day > days_in_month(year, rule.month)) day -= 7;
  return static_cast<int>(days_from_civil(year, rule.month, day) - days_from_civil(year, 1, 1));
}

// The instant of `rule`'s change in `year`, its local time read at `offset`.
std::int64_t change_instant(const ChangeRule& rule, int year, std::int32_t offset) {
  return (days_from_civil(year, 1, 1) + day_of_year(rule, year)) * 86400 + rule.time - offset;
}

}  // namespace

std::optional<Rule> parse(std::string_view text) {
  Reader in(text);
  Rule rule;
  auto standard_name = in.name();
  auto standard_offset = standard_name ? in.hms(24) : std::nullopt;
  if (!standard_offset) return std::nullopt;
  rule.standard = {-*standard_offset, false, *standard_name};
  if (in.done()) return rule;
  auto daylight_name = in.name();
  if (!daylight_name) return std::nullopt;
  ZoneType daylight{rule.standard.offset + 3600, true, *daylight_name};
  if (!in.next_is(',') && !in.done()) {
    auto offset = in.hms(24);
    if (!offset) return std::nullopt;
    daylight.offset = -*offset;
  }
  rule.daylight = daylight;
  if (in.done()) {
    // POSIX leaves the default rules to the implementation; glibc uses the US ones.
    rule.start = {ChangeRule::Form::month_week_day, 3, 2, 0, 0, 7200};
    rule.end = {ChangeRule::Form::month_week_day, 11, 1, 0, 0, 7200};
    return rule;
  }
  auto start = in.take(',') ? read_change(in) : std::nullopt;
  auto end = start && in.take(',') ? read_change(in) : std::nullopt;
  if (!end || !in.done()) return std::nullopt;
  rule.start = *start;
  rule.end = *end;
  return rule;
}

const ZoneType& type_at(const Rule& rule, std::int64_t unix_seconds) {
  if (!rule.daylight) return rule.standard;
  const int year = civil_from_seconds(unix_seconds + rule.standard.offset).year;
  const std::int64_t start = change_instant(rule.start, year, rule.standard.offset);
  const std::int64_t end = change_instant(rule.end, year, rule.daylight->offset);
  // In the southern hemisphere daylight time spans the new year: it starts late in the year
  // and ends early in it.
  const bool daylight = start < end ? (start <= unix_seconds && unix_seconds < end)
                                    : !(end <= unix_seconds && unix_seconds < start);
  return daylight ? *rule.daylight : rule.standard;
}

}  // namespace creditwatch::posix_tz
