#include "creditwatch/notify/digest.hpp"

#include "creditwatch/common/amount_text.hpp"
#include "creditwatch/common/duration.hpp"
#include "creditwatch/common/html.hpp"
#include "creditwatch/common/text.hpp"
#include "creditwatch/common/time_format.hpp"
#include "creditwatch/notify/notification.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace creditwatch::notify {
namespace {

constexpr const char* k_kind = "digest";
// Bump when a field changes meaning or disappears; adding fields keeps the version.
constexpr const char* k_schema_version = "1";

std::string line(const std::string& text) { return safe_text(text, LineBreaks::fold); }

// "2026-12-07 09:00 UTC": the period's ends are whole minutes, the seconds are noise.
std::string minute_text(TimePoint t) {
  const std::string rfc = format_rfc3339(t);  // 2026-12-07T09:00:00Z
  return rfc.substr(0, 10) + " " + rfc.substr(11, 5) + " UTC";
}

std::string money(const Decimal& amount, const std::string& currency) {
  return amount_with_unit(amount.to_string(), currency);
}

std::string percent_text(double percent) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%+.1f%%", percent);
  return buffer;
}

// "+40.0% vs 50.00", "new" (nothing spent before), "no earlier data".
std::string change_text(const std::optional<Decimal>& previous, Decimal current) {
  if (!previous) return "no earlier data";
  if (auto percent = change_percent(previous, current)) return percent_text(*percent) + " vs " + previous->to_string();
  return current > Decimal() ? "none spent before" : "unchanged";
}

std::string runway_text(const std::optional<double>& days) {
  if (!days) return "-";
  if (std::isinf(*days)) return "not burning";
  return describe_days(*days);
}

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string html_row(const DigestAccount& a) {
  auto cell = [](const std::string& text, bool number = false) {
    return std::string(number ? "<td align=\"right\">" : "<td>") + html_escape(text) + "</td>";
  };
  std::string alerts;
  for (const auto& alert : a.alerts) alerts += (alerts.empty() ? "" : ", ") + alert;
  return "<tr>" + cell(a.account) + cell(a.provider) + cell(money(a.spend, a.currency), true) +
         cell(change_text(a.previous_spend, a.spend)) + cell(money(a.deposits, a.currency), true) +
         cell(a.balance ? money(*a.balance, a.currency) : "-", true) + cell(runway_text(a.runway_days)) +
         cell(a.recommended_topup ? money(*a.recommended_topup, a.currency) : "-", true) +
         cell(alerts.empty() ? "-" : alerts) + "</tr>\n";
}

std::string html_table(const std::vector<const DigestAccount*>& accounts) {
  std::string out =
      "<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\">\n<tr><th>Account</th><th>Provider</th><th>Spend</th>"
      "<th>Change</th><th>Deposits</th><th>Balance</th><th>Runway</th><th>Top-up</th><th>Alerts</th></tr>\n";
  for (const auto* a : accounts) out += html_row(*a);
  return out + "</table>\n";
}

std::optional<Decimal> optional_decimal(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return Decimal::parse(it->get<std::string>());
}

nlohmann::json decimal_or_null(const std::optional<Decimal>& value) {
  return value ? nlohmann::json(value->to_string()) : nlohmann::json(nullptr);
}

std::string string_at(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? line(it->get<std::string>()) : "";
}

TimePoint time_at(const nlohmann::json& j, const char* key) {
  auto parsed = parse_rfc3339(j.at(key).get<std::string>());
  if (!parsed) throw std::runtime_error(std::string(key) + " is not an RFC 3339 time");
  return *parsed;
}

nlohmann::json account_json(const DigestAccount& a) {
  const auto change = change_percent(a.previous_spend, a.spend);
  nlohmann::json runway = nullptr;
  if (a.runway_days && std::isfinite(*a.runway_days)) runway = *a.runway_days;
  return {{"account", a.account},
          {"provider", a.provider},
          {"currency", a.currency},
          {"labels", a.labels},
          {"spend", a.spend.to_string()},
          {"previous_spend", decimal_or_null(a.previous_spend)},
          {"spend_change_percent", change ? nlohmann::json(*change) : nlohmann::json(nullptr)},
          {"deposits", a.deposits.to_string()},
          {"balance", decimal_or_null(a.balance)},
          {"runway_days", runway},
          {"burning", !(a.runway_days && std::isinf(*a.runway_days))},
          {"recommended_topup", decimal_or_null(a.recommended_topup)},
          {"alerts", a.alerts}};
}

DigestAccount account_from_json(const nlohmann::json& j) {
  DigestAccount a;
  a.account = string_at(j, "account");
  a.provider = string_at(j, "provider");
  a.currency = string_at(j, "currency");
  if (auto labels = j.find("labels"); labels != j.end() && labels->is_object()) {
    for (const auto& [k, v] : labels->items()) {
      if (v.is_string()) a.labels[line(k)] = line(v.get<std::string>());
    }
  }
  a.spend = optional_decimal(j, "spend").value_or(Decimal());
  a.previous_spend = optional_decimal(j, "previous_spend");
  a.deposits = optional_decimal(j, "deposits").value_or(Decimal());
  a.balance = optional_decimal(j, "balance");
  if (auto runway = j.find("runway_days"); runway != j.end() && runway->is_number()) a.runway_days = runway->get<double>();
  if (auto burning = j.find("burning"); burning != j.end() && burning->is_boolean() && !burning->get<bool>()) {
    a.runway_days = std::numeric_limits<double>::infinity();
  }
  a.recommended_topup = optional_decimal(j, "recommended_topup");
  if (auto alerts = j.find("alerts"); alerts != j.end() && alerts->is_array()) {
    for (const auto& alert : *alerts) {
      if (alert.is_string()) a.alerts.push_back(line(alert.get<std::string>()));
    }
  }
  return a;
}

}  // namespace

std::string digest_account_line(const DigestAccount& a) {
  std::string out = a.account + " (" + a.provider + "): spent " + money(a.spend, a.currency) + " (" +
                    change_text(a.previous_spend, a.spend) + ")";
  if (a.deposits > Decimal()) out += ", deposits " + money(a.deposits, a.currency);
  out += ", balance " + (a.balance ? money(*a.balance, a.currency) : std::string("-"));
  out += ", runway " + runway_text(a.runway_days);
  if (a.recommended_topup) out += ", top up " + money(*a.recommended_topup, a.currency);
  if (!a.alerts.empty()) {
    std::string alerts;
    for (const auto& alert : a.alerts) alerts += (alerts.empty() ? "" : ", ") + alert;
    out += ", alerts: " + alerts;
  }
  return out;
}

std::string digest_total_line(const DigestTotal& t) {
  return "Spend " + money(t.spend, t.currency) + " (" + change_text(t.previous_spend, t.spend) + "), deposits " +
         money(t.deposits, t.currency);
}

std::string digest_group_heading(const Digest& d, const DigestGroup& g) {
  return d.group_by + ": " + (g.name.empty() ? "(none)" : g.name);
}

std::optional<double> change_percent(const std::optional<Decimal>& previous, Decimal current) {
  if (!previous || *previous == Decimal()) return std::nullopt;
  return (current - *previous).to_double() / previous->to_double() * 100.0;
}

std::string Digest::dedup_key() const { return "creditwatch-digest-" + format_rfc3339(period_end); }

std::vector<DigestGroup> Digest::groups() const {
  std::map<std::string, DigestGroup> by_name;
  for (const auto& a : accounts) {
    std::string name;
    if (!group_by.empty()) {
      auto label = a.labels.find(group_by);
      if (label != a.labels.end()) name = label->second;
    }
    auto& group = by_name[name];
    group.name = name;
    group.accounts.push_back(&a);
  }
  std::vector<DigestGroup> out;
  for (auto& [name, group] : by_name) {
    std::sort(group.accounts.begin(), group.accounts.end(),
              [](const DigestAccount* x, const DigestAccount* y) { return x->account < y->account; });
    out.push_back(std::move(group));
  }
  // Accounts without the label come last: the named teams are what the reader looks for.
  std::stable_partition(out.begin(), out.end(), [](const DigestGroup& g) { return !g.name.empty(); });
  return out;
}

std::vector<DigestTotal> Digest::totals() const {
  std::map<std::string, DigestTotal> by_currency;
  for (const auto& a : accounts) {
    auto& total = by_currency[a.currency];
    total.currency = a.currency;
    total.spend += a.spend;
    total.previous_spend += a.previous_spend.value_or(Decimal());
    total.deposits += a.deposits;
  }
  std::vector<DigestTotal> out;
  for (auto& [currency, total] : by_currency) out.push_back(std::move(total));
  return out;
}

std::size_t Digest::alerts_fired() const {
  std::size_t n = 0;
  for (const auto& a : accounts) n += a.alerts.size();
  return n;
}

std::size_t Digest::topups_recommended() const {
  return static_cast<std::size_t>(
      std::count_if(accounts.begin(), accounts.end(), [](const DigestAccount& a) { return a.recommended_topup.has_value(); }));
}

std::string digest_title(const Digest& d) {
  return "creditwatch digest " + minute_text(d.period_start).substr(0, 16) + " to " + minute_text(d.period_end) + ": " +
         plural(d.accounts.size(), "account") + ", " + plural(d.alerts_fired(), "alert") + " fired, " +
         plural(d.topups_recommended(), "top-up") + " recommended";
}

std::string digest_text(const Digest& d) {
  std::string out = digest_title(d) + "\n";
  for (const auto& total : d.totals()) out += digest_total_line(total) + "\n";
  for (const auto& group : d.groups()) {
    out += "\n";
    if (!d.group_by.empty()) out += digest_group_heading(d, group) + "\n";
    for (const auto* a : group.accounts) out += "- " + digest_account_line(*a) + "\n";
  }
  return out;
}

std::string digest_html(const Digest& d) {
  std::string out = "<!DOCTYPE html>\n<html><body>\n<h2>" + html_escape(digest_title(d)) + "</h2>\n";
  for (const auto& total : d.totals()) out += "<p>" + html_escape(digest_total_line(total)) + "</p>\n";
  for (const auto& group : d.groups()) {
    if (!d.group_by.empty()) out += "<h3>" + html_escape(digest_group_heading(d, group)) + "</h3>\n";
    out += html_table(group.accounts);
  }
  return out + "<p><small>creditwatch &middot; " + html_escape(d.dedup_key()) + "</small></p>\n</body></html>\n";
}

nlohmann::json to_json(const Digest& d) {
  nlohmann::json accounts = nlohmann::json::array();
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& group : d.groups()) {
    nlohmann::json names = nlohmann::json::array();
    for (const auto* a : group.accounts) {
      accounts.push_back(account_json(*a));
      names.push_back(a->account);
    }
    groups.push_back({{"name", group.name}, {"accounts", names}});
  }
  nlohmann::json totals = nlohmann::json::array();
  for (const auto& t : d.totals()) {
    totals.push_back({{"currency", t.currency},
                      {"spend", t.spend.to_string()},
                      {"previous_spend", t.previous_spend.to_string()},
                      {"deposits", t.deposits.to_string()}});
  }
  return {{"kind", k_kind},
          {"version", k_schema_version},
          {"dedup_key", d.dedup_key()},
          {"title", digest_title(d)},
          {"period_start", format_rfc3339(d.period_start)},
          {"period_end", format_rfc3339(d.period_end)},
          {"group_by", d.group_by.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.group_by)},
          {"alerts_fired", d.alerts_fired()},
          {"topups_recommended", d.topups_recommended()},
          {"totals", totals},
          {"groups", groups},
          {"accounts", accounts}};
}

Digest digest_from_json(const nlohmann::json& j) {
  Digest d;
  d.period_start = time_at(j, "period_start");
  d.period_end = time_at(j, "period_end");
  d.group_by = string_at(j, "group_by");
  for (const auto& a : j.at("accounts")) d.accounts.push_back(account_from_json(a));
  return d;
}

bool is_digest_payload(const nlohmann::json& j) {
  auto kind = j.find("kind");
  return kind != j.end() && kind->is_string() && kind->get<std::string>() == k_kind;
}

}  // namespace creditwatch::notify
