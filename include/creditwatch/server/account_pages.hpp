#pragma once

#include "creditwatch/common/result.hpp"
#include "creditwatch/scheduler/assessment_summary.hpp"
#include "creditwatch/server/http_request.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace creditwatch::server {

// GET /api/v1/accounts pages: a fleet of thousands is read a page at a time, in an order the
// client picks, and a page boundary survives accounts being added, removed or re-judged
// between two requests (the cursor holds the last row's sort key, not an offset).

// Names in the API (`sort=`): name, state, runway, balance, provider, burn, runway_p10,
// exhausts (the P50 exhaustion time), alerts (how many are firing).
enum class AccountSort { name, state, runway, balance, provider, burn, runway_p10, exhausts, alerts };

// `limit` when the request names none, and the most it may name.
inline constexpr std::size_t k_default_accounts_limit = 100;
inline constexpr std::size_t k_max_accounts_limit = 1000;

// Where a page ended: the order it was read in and its last row's key.
struct AccountCursor {
  AccountSort sort = AccountSort::name;
  bool descending = false;
  std::optional<double> value;  // the last row's state rank, runway, balance...; nullopt: it had none
  std::string account;          // the last row's name (names are unique: the key is total)
  std::optional<std::string> text{};  // the last row's provider, for sort=provider
};

struct AccountsQuery {
  std::size_t limit = k_default_accounts_limit;
  std::optional<AccountCursor> after;
  std::string q;  // case-insensitive substring of the name, the provider or a label value; empty: any
  std::optional<scheduler::CheckState> state;
  std::optional<std::pair<std::string, std::string>> label;  // `label=KEY:VALUE`, exact
  AccountSort sort = AccountSort::name;
  bool descending = false;  // `sort=-runway`
};

// Reads limit, cursor, q, state, label and sort; the error (for a 400) says what is wrong.
Result<AccountsQuery, std::string> parse_accounts_query(const HttpRequest& request);

// Opaque to clients (hex of a small JSON array); nullopt when `text` is not one we made.
std::string encode_cursor(const AccountCursor& cursor);
std::optional<AccountCursor> decode_cursor(std::string_view text);

// One configured account and what is known of it (nullptr: nothing yet; it sorts as an
// UNKNOWN account with no balance and no runway). The pointers must outlive the page.
struct ListedAccount {
  const std::string* name = nullptr;
  const std::map<std::string, std::string>* labels = nullptr;
  const scheduler::AssessmentSummary* assessment = nullptr;
  const std::string* provider = nullptr;  // as configured; nullptr: the assessment's, if any
};

struct AccountPage {
  std::vector<ListedAccount> rows;
  std::size_t total = 0;                   // accounts matching q, state and label, on every page
  std::optional<std::string> next_cursor;  // nullopt on the last page
};

// Filters, sorts and cuts one page. Orders: by name; by state (OK, WARNING, UNKNOWN,
// CRITICAL, as scheduler::worse ranks them); by P50 runway; by balance; by provider; by burn
// per day; by P10 runway; by exhaustion time; by the number of firing alerts. Ties go by
// name, and accounts without the value (no forecast yet, no spend seen) come last in either
// direction.
AccountPage page_accounts(const std::vector<ListedAccount>& fleet, const AccountsQuery& query);

// Whether the account matches q, state and label.
bool matches(const ListedAccount& account, const AccountsQuery& query);

}  // namespace creditwatch::server
