#include "creditwatch/server/account_pages.hpp"

#include "creditwatch/common/clock.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace creditwatch::server {
namespace {

constexpr const char* k_sort_names[] = {"name",     "state",      "runway",   "balance", "provider",
                                        "burn",     "runway_p10", "exhausts", "alerts"};

std::optional<AccountSort> sort_named(std::string_view name) {
  for (std::size_t i = 0; i < std::size(k_sort_names); ++i) {
    if (name == k_sort_names[i]) return static_cast<AccountSort>(i);
  }
  return std::nullopt;
}

std::string sort_text(AccountSort sort, bool descending) {
  return (descending ? "-" : "") + std::string(k_sort_names[static_cast<int>(sort)]);
}

std::optional<scheduler::CheckState> state_named(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (text == "ok") return scheduler::CheckState::ok;
  if (text == "warning") return scheduler::CheckState::warning;
  if (text == "critical") return scheduler::CheckState::critical;
  if (text == "unknown") return scheduler::CheckState::unknown;
  return std::nullopt;
}

// The order scheduler::worse() gives: an account we cannot read ranks above a warning.
double state_rank(scheduler::CheckState state) {
  switch (state) {
    case scheduler::CheckState::ok: return 0;
    case scheduler::CheckState::warning: return 1;
    case scheduler::CheckState::unknown: return 2;
    case scheduler::CheckState::critical: return 3;
  }
  return 2;
}

std::optional<double> finite(std::optional<double> value) {
  if (!value || !std::isfinite(*value)) return std::nullopt;
  return value;
}

const std::string* provider_of(const ListedAccount& account) {
  if (account.provider) return account.provider;
  return account.assessment ? &account.assessment->provider : nullptr;
}

double firing_count(const scheduler::AssessmentSummary& a) { return static_cast<double>(a.firing.size()); }

std::optional<double> sort_value(const ListedAccount& account, AccountSort sort) {
  const auto* a = account.assessment;
  const auto* f = a && a->forecast ? &*a->forecast : nullptr;
  switch (sort) {
    case AccountSort::name:
    case AccountSort::provider: return std::nullopt;
    case AccountSort::state: return state_rank(a ? a->state : scheduler::CheckState::unknown);
    case AccountSort::runway: return a && a->forecast ? finite(a->forecast->runway_days) : std::nullopt;
    case AccountSort::balance: return f ? std::optional<double>(f->balance.to_double()) : std::nullopt;
    case AccountSort::burn: return f ? finite(f->burn_per_day) : std::nullopt;
    case AccountSort::runway_p10: return f ? finite(f->runway_p10_days) : std::nullopt;
    case AccountSort::exhausts:
      return f && f->exhausted_at ? std::optional<double>(static_cast<double>(to_unix_ms(*f->exhausted_at)))
                                  : std::nullopt;
    case AccountSort::alerts: return a ? std::optional<double>(firing_count(*a)) : std::nullopt;
  }
  return std::nullopt;
}

struct Key {
  std::optional<double> value;
  const std::string* name;
  const std::string* text = nullptr;  // sort=provider: the provider (nullptr: none known)
};

// Whether `a` comes before `b`: values (or texts) first, ascending or descending, then names
// in the same direction; rows without a value last either way.
bool before(const Key& a, const Key& b, AccountSort sort, bool descending) {
  if (sort == AccountSort::provider) {
    if ((a.text != nullptr) != (b.text != nullptr)) return a.text != nullptr;
    if (a.text && *a.text != *b.text) return descending ? *a.text > *b.text : *a.text < *b.text;
  } else if (sort != AccountSort::name) {
    if (a.value.has_value() != b.value.has_value()) return a.value.has_value();
    if (a.value && *a.value != *b.value) return descending ? *a.value > *b.value : *a.value < *b.value;
  }
  return descending ? *a.name > *b.name : *a.name < *b.name;
}

bool contains_folded(const std::string& text, const std::string& lowered_needle) {
  const auto it = std::search(text.begin(), text.end(), lowered_needle.begin(), lowered_needle.end(),
                              [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  return it != text.end();
}

std::string to_hex(const std::string& bytes) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += k_digits[c >> 4];
    out += k_digits[c & 0xf];
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  const auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = digit(text[i]), lo = digit(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::optional<std::size_t> parse_limit(const std::string& text) {
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const auto limit = std::stoul(text);
  if (limit == 0 || limit > k_max_accounts_limit) return std::nullopt;
  return limit;
}

}  // namespace

std::string encode_cursor(const AccountCursor& cursor) {
  const nlohmann::json value = cursor.text ? nlohmann::json(*cursor.text)
                              : cursor.value ? nlohmann::json(*cursor.value)
                                             : nlohmann::json(nullptr);
  const nlohmann::json j = {sort_text(cursor.sort, cursor.descending), value, cursor.account};
  return to_hex(j.dump());
}

std::optional<AccountCursor> decode_cursor(std::string_view text) {
  const auto bytes = from_hex(text);
  if (!bytes) return std::nullopt;
  const auto j = nlohmann::json::parse(*bytes, nullptr, false);
  if (!j.is_array() || j.size() != 3 || !j[0].is_string() || !(j[1].is_number() || j[1].is_null() || j[1].is_string()) ||
      !j[2].is_string()) {
    return std::nullopt;
  }
  std::string sort = j[0].get<std::string>();
  AccountCursor cursor;
  cursor.descending = !sort.empty() && sort.front() == '-';
  if (cursor.descending) sort.erase(0, 1);
  const auto named = sort_named(sort);
  if (!named) return std::nullopt;
  cursor.sort = *named;
  if (j[1].is_number()) cursor.value = j[1].get<double>();
  if (j[1].is_string()) cursor.text = j[1].get<std::string>();
  cursor.account = j[2].get<std::string>();
  return cursor;
}

Result<AccountsQuery, std::string> parse_accounts_query(const HttpRequest& request) {
  AccountsQuery query;
  if (const auto limit = request.query_value("limit")) {
    const auto parsed = parse_limit(*limit);
    if (!parsed) return "limit must be a whole number from 1 to " + std::to_string(k_max_accounts_limit);
    query.limit = *parsed;
  }
  if (const auto sort = request.query_value("sort")) {
    std::string_view name = *sort;
    query.descending = !name.empty() && name.front() == '-';
    if (query.descending) name.remove_prefix(1);
    const auto named = sort_named(name);
    if (!named) {
      return std::string(
          "sort must be name, state, runway, balance, provider, burn, runway_p10, exhausts or alerts, with a leading - "
          "for descending");
    }
    query.sort = *named;
  }
  if (const auto state = request.query_value("state")) {
    query.state = state_named(*state);
    if (!query.state) return std::string("state must be ok, warning, critical or unknown");
  }
  if (const auto label = request.query_value("label")) {
    const auto colon = label->find(':');
    if (colon == std::string::npos || colon == 0) return std::string("label must be KEY:VALUE, e.g. team:payments");
    query.label = std::make_pair(label->substr(0, colon), label->substr(colon + 1));
  }
  if (const auto q = request.query_value("q")) {
    query.q = *q;
    for (auto& c : query.q) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (const auto cursor = request.query_value("cursor"); cursor && !cursor->empty()) {
    query.after = decode_cursor(*cursor);
    if (!query.after) return std::string("cursor is not one this server gave: pass next_cursor back as it came");
    if (query.after->sort != query.sort || query.after->descending != query.descending) {
      return "cursor belongs to sort=" + sort_text(query.after->sort, query.after->descending) +
             ": ask the next page with the same sort";
    }
  }
  return query;
}

bool matches(const ListedAccount& account, const AccountsQuery& query) {
  if (query.state && (account.assessment ? account.assessment->state : scheduler::CheckState::unknown) != *query.state) {
    return false;
  }
  if (query.label) {
    if (!account.labels) return false;
    const auto it = account.labels->find(query.label->first);
    if (it == account.labels->end() || it->second != query.label->second) return false;
  }
  if (query.q.empty() || contains_folded(*account.name, query.q)) return true;
  if (const auto* provider = provider_of(account); provider && contains_folded(*provider, query.q)) return true;
  if (account.labels) {
    for (const auto& [k, v] : *account.labels) {
      if (contains_folded(v, query.q)) return true;
    }
  }
  return false;
}

AccountPage page_accounts(const std::vector<ListedAccount>& fleet, const AccountsQuery& query) {
  AccountPage page;
  std::vector<std::pair<Key, const ListedAccount*>> rows;
  std::optional<Key> after;
  if (query.after) {
    after = Key{query.after->value, &query.after->account, query.after->text ? &*query.after->text : nullptr};
  }
  for (const auto& account : fleet) {
    if (!matches(account, query)) continue;
    ++page.total;
    Key key{sort_value(account, query.sort), account.name,
            query.sort == AccountSort::provider ? provider_of(account) : nullptr};
    // The cursor's account ended the last page: its figure may have moved past its own
    // frozen value since (a falling balance in a descending order), so it is skipped by name.
    if (after && (*account.name == query.after->account || !before(*after, key, query.sort, query.descending))) continue;
    rows.emplace_back(key, &account);
  }
  const auto order = [&](const auto& a, const auto& b) { return before(a.first, b.first, query.sort, query.descending); };
  // One more than the page: whether another page follows.
  const std::size_t wanted = std::min(rows.size(), query.limit + 1);
  std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(wanted), rows.end(), order);
  const std::size_t shown = std::min(rows.size(), query.limit);
  for (std::size_t i = 0; i < shown; ++i) page.rows.push_back(*rows[i].second);
  if (rows.size() > query.limit) {
    const auto& last = rows[shown - 1].first;
    page.next_cursor = encode_cursor(AccountCursor{query.sort, query.descending, last.value, *last.name,
                                                   last.text ? std::optional<std::string>(*last.text) : std::nullopt});
  }
  return page;
}

}  // namespace creditwatch::server
