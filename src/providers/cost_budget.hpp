#pragma once
// Shared by the spend-only providers (openai_costs, anthropic_costs): the configured credit or
// monthly budget that turns "spend since X" into a balance, and the has_more/next_page cursor
// pagination both cost APIs use. Private to src/providers.
#include "creditwatch/common/time_format.hpp"
#include "creditwatch/providers/settings_reader.hpp"
#include "creditwatch/providers/support.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace creditwatch::providers::cost {

// Cost reports come in USD; the balance is "amount minus spend since the period start".
inline constexpr const char* k_currency = "USD";
// Guards against a cursor chain that never ends (CodexBar stops at 100 pages too).
inline constexpr int k_max_pages = 100;

struct Budget {
  std::string kind;  // "credit": bought once at `anchor`; "budget": renews monthly at `anchor`'s day and time
  Decimal amount;
  TimePoint anchor;
};

// UTC civil time helpers: months are calendar months, and day 31 clamps to the month's end.
inline std::tm utc_fields(TimePoint t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
  std::tm out{};
  gmtime_r(&seconds, &out);
  return out;
}

inline TimePoint month_at(int year, int month, const std::tm& anchor) {
  std::tm last{};  // day 0 of the next month is this month's last day
  last.tm_year = year - 1900;
  last.tm_mon = month + 1;
  last.tm_mday = 0;
  std::time_t end = timegm(&last);
  std::tm end_fields{};
  gmtime_r(&end, &end_fields);
  std::tm t{};
  t.tm_year = year - 1900;
  t.tm_mon = month;
  t.tm_mday = std::min(anchor.tm_mday, end_fields.tm_mday);
  t.tm_hour = anchor.tm_hour;
  t.tm_min = anchor.tm_min;
  t.tm_sec = anchor.tm_sec;
  return std::chrono::system_clock::from_time_t(timegm(&t));
}

// Where the period that `now` falls in began: the credit's date, or this month's renewal.
inline TimePoint period_start(const Budget& budget, TimePoint now) {
  if (budget.kind != "budget") return budget.anchor;
  const std::tm anchor = utc_fields(budget.anchor);
  const std::tm today = utc_fields(now);
  TimePoint start = month_at(today.tm_year + 1900, today.tm_mon, anchor);
  if (start > now) start = month_at(today.tm_year + 1900, today.tm_mon - 1, anchor);  // timegm wraps January
  return std::max(start, budget.anchor);
}

// "2026-05-01" or a full RFC 3339 time.
inline std::optional<TimePoint> parse_start(const std::string& text) {
  if (text.size() == 10) return parse_rfc3339(text + "T00:00:00Z");
  return parse_rfc3339(text);
}

// budget_start: a date or time no later than now; nullopt (reported) otherwise.
inline std::optional<TimePoint> read_start(SettingsReader& settings, const Clock& clock, const std::string& text) {
  auto start = parse_start(text);
  if (!start) {
    settings.error("budget_start", "budget_start: expected a date or RFC 3339 time such as 2026-05-01 or "
                                   "2026-05-01T00:00:00Z, got \"" + text + "\"");
    return std::nullopt;
  }
  if (*start > clock.now()) {
    settings.error("budget_start", "budget_start " + format_rfc3339(*start) + " is in the future");
    return std::nullopt;
  }
  return start;
}

// Reads `credit` + `budget_start`, or `budget` (+ optional `budget_start`, default the 1st of
// the month 00:00 UTC). Reports problems through `settings`; nullopt when there were any.
inline std::optional<Budget> read_budget(const config::AccountConfig& account, const Clock& clock,
                                         SettingsReader& settings) {
  const std::string owner = "provider " + account.provider;
  const bool has_credit = settings.raw("credit") != nullptr;
  const bool has_budget = settings.raw("budget") != nullptr;
  auto credit = settings.decimal("credit");
  auto monthly = settings.decimal("budget");
  auto start_text = settings.string("budget_start");
  bool ok = true;
  if (has_credit && has_budget) {
    settings.error("budget", "give either credit (a prepaid amount) or budget (a monthly budget), not both");
    return std::nullopt;
  }
  if (!has_credit && !has_budget) {
    settings.error("credit", owner + " needs credit (a prepaid amount, with budget_start) or budget (a monthly budget)");
    return std::nullopt;
  }
  Budget budget;
  budget.kind = has_credit ? "credit" : "budget";
  auto value = has_credit ? credit : monthly;
  if (!value) {
    ok = false;  // not a number: already reported
  } else if (*value <= Decimal()) {
    settings.error(budget.kind, budget.kind + ": must be more than 0, got " + value->to_string());
    ok = false;
  } else {
    budget.amount = *value;
  }
  if (start_text) {
    auto start = read_start(settings, clock, *start_text);
    if (start) budget.anchor = *start;
    ok = ok && start.has_value();
  } else if (has_credit) {
    settings.error("credit", "credit needs budget_start: when the credit was bought, so spend is counted from then");
    ok = false;
  }  // budget without budget_start: the epoch, i.e. the 1st of each month at 00:00 UTC
  if (account.currency && *account.currency != k_currency) {
    settings.error("currency", owner + " reports spend in USD, not " + *account.currency);
    ok = false;
  }
  if (!ok) return std::nullopt;
  return budget;
}

// The balance left of the credit or budget after `spend` since `start`.
inline Reading budget_reading(const Budget& budget, TimePoint start, Decimal spend) {
  BalanceEntry entry{k_currency, budget.amount - spend, spend, nlohmann::json::object()};
  entry.details[budget.kind] = budget.amount.to_string();
  entry.details["spend"] = spend.to_string();
  entry.details["since"] = format_rfc3339(start);
  Reading reading;
  reading.balances.push_back(std::move(entry));
  return reading;
}

// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
inline std::string query_escape(std::string_view text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 0xF];
    }
  }
  return out;
}

// The cursor of the next page, nullopt on the last page. A cursor seen before is an error:
// following it would loop, and stopping there would undercount the spend.
inline Result<std::optional<std::string>, ProbeError> next_cursor(const nlohmann::json& body,
                                                                  std::vector<std::string>& seen) {
  auto more = body.find("has_more");
  if (more == body.end() || more->is_null()) return std::optional<std::string>();
  if (!more->is_boolean()) return bad_response("has_more: expected true or false, got " + describe(*more));
  if (!more->get<bool>()) return std::optional<std::string>();
  auto next = body.find("next_page");
  if (next == body.end() || !next->is_string() || next->get<std::string>().empty()) {
    return bad_response("has_more is true but next_page is " +
                        (next == body.end() ? std::string("missing") : describe(*next)));
  }
  std::string cursor = next->get<std::string>();
  for (const auto& old : seen) {
    if (old == cursor) return bad_response("next_page repeats an earlier cursor \"" + cursor + "\": pagination loop");
  }
  seen.push_back(cursor);
  return std::optional<std::string>(cursor);
}

// Sums every page: `fetch(cursor)` returns one page's body (cursor empty for the first),
// `sum(body)` that page's amount.
template <typename Fetch, typename Sum>
Result<Decimal, ProbeError> sum_pages(Fetch fetch, Sum sum) {
  Decimal total;
  std::vector<std::string> seen;
  std::optional<std::string> cursor;
  for (int page = 0; page < k_max_pages; ++page) {
    Result<nlohmann::json, ProbeError> body = fetch(cursor);
    if (!body) return body.error();
    Result<Decimal, ProbeError> amount = sum(*body);
    if (!amount) return amount.error();
    total += *amount;
    auto next = next_cursor(*body, seen);
    if (!next) return next.error();
    if (!*next) return total;
    cursor = *next;
  }
  return bad_response("more than " + std::to_string(k_max_pages) + " pages of costs: giving up");
}

// The list at `key` of `object`, or a bad_response naming it; `where` is the object's path
// ("" for the body itself).
inline Result<const nlohmann::json*, ProbeError> required_list(const nlohmann::json& object, const std::string& key,
                                                               const std::string& where) {
  const std::string path = where.empty() ? key : where + "." + key;
  if (!object.is_object()) {
    return bad_response((where.empty() ? "body" : where) + ": expected an object, got " + describe(object));
  }
  auto it = object.find(key);
  if (it == object.end()) return bad_response(path + " is missing");
  if (!it->is_array()) return bad_response(path + ": expected a list, got " + describe(*it));
  return &*it;
}

}  // namespace creditwatch::providers::cost
