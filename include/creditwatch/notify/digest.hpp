#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/common/decimal.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace creditwatch::notify {

// One account's lines in a digest, in the currency its rules use.
struct DigestAccount {
  std::string account;
  std::string provider;
  std::string currency;
  std::map<std::string, std::string> labels;
  Decimal spend;                          // used in the period
  std::optional<Decimal> previous_spend;  // used in the period before; nullopt: nothing was read then
  Decimal deposits;                       // top-ups seen in the period
  std::optional<Decimal> balance;         // the latest reading
  std::optional<double> runway_days;      // P50 runway now; nullopt unknown, +inf not burning
  std::optional<Decimal> recommended_topup;  // nullopt: none needed (or nothing to go on)
  std::vector<std::string> alerts;        // alerts that fired in the period: "runway (critical)"
};

// The accounts sharing one value of digest.group_by ("" for those without the label).
struct DigestGroup {
  std::string name;
  std::vector<const DigestAccount*> accounts;
};

// Spend in one currency over every account of a digest.
struct DigestTotal {
  std::string currency;
  Decimal spend;
  Decimal previous_spend;
  Decimal deposits;
};

// The periodic report (`digest:`): what each account spent in [period_start, period_end)
// against the period before, its deposits, runway and recommended top-up now, and the alerts
// that fired. Built by scheduler/digest.hpp from the store; queued in the outbox as
// to_json(), so a retry sends the figures as they were at the period's end.
struct Digest {
  TimePoint period_start;
  TimePoint period_end;
  std::string group_by;  // a label key; empty: one list
  std::vector<DigestAccount> accounts;

  // "creditwatch-digest-2026-12-07T09:00:00Z": one per period, so the outbox holds a
  // period's digest once per notifier whichever replica or restart queues it.
  std::string dedup_key() const;
  // By group_by value (accounts without the label last, under ""), accounts by name.
  std::vector<DigestGroup> groups() const;
  // Per currency, sorted by currency.
  std::vector<DigestTotal> totals() const;
  std::size_t alerts_fired() const;
  std::size_t topups_recommended() const;
};

// The change from `previous` to `current` in percent; nullopt when there is no previous
// figure or it was zero (a change from nothing has no percentage).
std::optional<double> change_percent(const std::optional<Decimal>& previous, Decimal current);

// One account in one line: "ds-prod (deepseek): spent 70.00 USD (+40.0% vs 50.00), deposits
// 50.00 USD, balance 120.00 USD, runway 12.0 days, top up 90.00 USD, alerts: runway (warning)".
std::string digest_account_line(const DigestAccount& a);
// "Spend 123.45 USD (+12.0% vs 110.00), deposits 50.00 USD": one currency's totals.
std::string digest_total_line(const DigestTotal& t);
// "team: billing", "team: (none)": a group's heading when the digest is grouped.
std::string digest_group_heading(const Digest& d, const DigestGroup& g);

// "creditwatch digest 2026-11-30 09:00 to 2026-12-07 09:00 UTC: 4 accounts, 2 alerts".
std::string digest_title(const Digest& d);
// Plain text: a summary line per currency, then one line per account under group headings.
// What chat sinks without a richer format and the console show.
std::string digest_text(const Digest& d);
// A whole HTML document: the title, the totals and one table per group (email's HTML part).
std::string digest_html(const Digest& d);

// The JSON form: the webhook body and the outbox payload. Its "kind" is "digest", which is
// how the outbox tells it from an alert's notification (is_digest_payload).
nlohmann::json to_json(const Digest& d);
// Every text field becomes one line of safe text, as notification_from_json does.
Digest digest_from_json(const nlohmann::json& j);
bool is_digest_payload(const nlohmann::json& j);

}  // namespace creditwatch::notify
