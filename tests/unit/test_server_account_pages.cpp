// GET /api/v1/accounts pages: the query's parsing and checks, the cursor, and paging through
// a fleet in every order while accounts come, go and change between two pages.
#include "creditwatch/server/account_pages.hpp"

#include <doctest/doctest.h>

#include "creditwatch/common/clock.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

using creditwatch::Decimal;
using creditwatch::scheduler::AssessmentSummary;
using creditwatch::scheduler::CheckState;
using creditwatch::server::AccountCursor;
using creditwatch::server::AccountPage;
using creditwatch::server::AccountsQuery;
using creditwatch::server::AccountSort;
using creditwatch::server::decode_cursor;
using creditwatch::server::encode_cursor;
using creditwatch::server::HttpRequest;
using creditwatch::server::ListedAccount;
using creditwatch::server::page_accounts;
using creditwatch::server::parse_accounts_query;

namespace {

// A fleet the test can grow between pages; std::deque keeps the pointers it hands out valid.
struct TestFleet {
  struct Entry {
    std::string name;
    std::map<std::string, std::string> labels;
    std::optional<AssessmentSummary> assessment;
  };
  std::deque<Entry> entries;

  Entry& add(const std::string& name, CheckState state, std::optional<double> balance,
             std::optional<double> runway, std::map<std::string, std::string> labels = {}) {
    Entry e{name, std::move(labels), std::nullopt};
    AssessmentSummary a;
    a.account = name;
    a.state = state;
    if (balance) {
      AssessmentSummary::Figures f;
      f.balance = Decimal::from_double(*balance);
      f.runway_days = runway;
      a.forecast = f;
    }
    e.assessment = a;
    entries.push_back(std::move(e));
    return entries.back();
  }
  // Known by name only: not probed yet.
  void add_unjudged(const std::string& name) { entries.push_back({name, {}, std::nullopt}); }

  std::vector<ListedAccount> listed() const {
    std::vector<ListedAccount> out;
    for (const auto& e : entries) out.push_back({&e.name, &e.labels, e.assessment ? &*e.assessment : nullptr});
    return out;
  }
};

HttpRequest request(std::vector<std::pair<std::string, std::string>> query) {
  HttpRequest r;
  r.method = "GET";
  r.path = "/api/v1/accounts";
  r.query = std::move(query);
  return r;
}

AccountsQuery query_of(std::vector<std::pair<std::string, std::string>> params) {
  auto parsed = parse_accounts_query(request(std::move(params)));
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error()));
  return *parsed;
}

std::vector<std::string> names(const AccountPage& page) {
  std::vector<std::string> out;
  for (const auto& row : page.rows) out.push_back(*row.name);
  return out;
}

// Reads every page of `sort`; `between` runs after each page (to change the fleet).
std::vector<std::string> read_all(TestFleet& fleet, const std::string& sort, std::size_t limit,
                                  const std::function<void(int)>& between = {}) {
  std::vector<std::string> seen;
  std::optional<std::string> cursor;
  for (int page_no = 0; page_no < 1000; ++page_no) {
    std::vector<std::pair<std::string, std::string>> params = {{"sort", sort}, {"limit", std::to_string(limit)}};
    if (cursor) params.emplace_back("cursor", *cursor);
    const auto page = page_accounts(fleet.listed(), query_of(params));
    CHECK(page.rows.size() <= limit);
    for (const auto& n : names(page)) seen.push_back(n);
    if (!page.next_cursor) return seen;
    cursor = page.next_cursor;
    if (between) between(page_no);
  }
  FAIL("paging did not end");
  return seen;
}

std::string padded(int i) {
  std::string s = std::to_string(i);
  return std::string(4 - s.size(), '0') + s;
}

TestFleet varied_fleet(int n) {
  TestFleet fleet;
  const CheckState states[] = {CheckState::ok, CheckState::warning, CheckState::critical, CheckState::unknown};
  for (int i = 0; i < n; ++i) {
    // Repeated values (ties broken by name) and accounts without a balance or runway.
    std::optional<double> balance, runway;
    if (i % 7 != 0) balance.emplace((i * 37) % 50);
    if (i % 5 != 0) runway.emplace((i * 13) % 30 / 4.0);
    fleet.add("acct-" + padded((i * 7919) % 1000), states[i % 4], balance, runway, {{"team", "t" + std::to_string(i % 6)}});
  }
  return fleet;
}

}  // namespace

TEST_SUITE("server_account_pages") {
  TEST_CASE("defaults: 100 accounts by name, the total, and a cursor only when more follow") {
    TestFleet fleet;
    for (int i = 0; i < 250; ++i) fleet.add("a" + padded(249 - i), CheckState::ok, 1.0, 1.0);
    const auto first = page_accounts(fleet.listed(), query_of({}));
    CHECK(first.rows.size() == 100);
    CHECK(first.total == 250);
    CHECK(*first.rows.front().name == "a0000");
    CHECK(*first.rows.back().name == "a0099");
    REQUIRE(first.next_cursor);
    const auto last = page_accounts(fleet.listed(), query_of({{"cursor", *first.next_cursor}, {"limit", "1000"}}));
    CHECK(last.rows.size() == 150);
    CHECK(*last.rows.front().name == "a0100");
    CHECK_FALSE(last.next_cursor);
    CHECK(last.total == 250);
  }

  TEST_CASE("every sort pages through the whole fleet, each account once, in order") {
    for (const std::string sort : {"name", "-name", "state", "-state", "runway", "-runway", "balance", "-balance"}) {
      CAPTURE(sort);
      auto fleet = varied_fleet(240);
      fleet.add_unjudged("zz-unjudged");
      fleet.add_unjudged("aa-unjudged");
      const auto all = page_accounts(fleet.listed(), query_of({{"sort", sort}, {"limit", "1000"}}));
      CHECK_FALSE(all.next_cursor);
      const auto paged = read_all(fleet, sort, 7);
      CHECK(paged == names(all));
      CHECK(std::set<std::string>(paged.begin(), paged.end()).size() == fleet.entries.size());
    }
  }

  TEST_CASE("orders: state by severity, runway and balance with ties by name and missing values last") {
    TestFleet fleet;
    fleet.add("c", CheckState::critical, 5.0, 1.0);
    fleet.add("u", CheckState::unknown, std::nullopt, std::nullopt);
    fleet.add("w", CheckState::warning, 5.0, 9.0);
    fleet.add("o", CheckState::ok, 20.0, std::nullopt);
    fleet.add("o2", CheckState::ok, 1.0, 30.0);
    fleet.add_unjudged("new");
    const auto order = [&](const std::string& sort) {
      return names(page_accounts(fleet.listed(), query_of({{"sort", sort}})));
    };
    CHECK(order("state") == std::vector<std::string>{"o", "o2", "w", "new", "u", "c"});
    CHECK(order("-state") == std::vector<std::string>{"c", "u", "new", "w", "o2", "o"});
    CHECK(order("runway") == std::vector<std::string>{"c", "w", "o2", "new", "o", "u"});
    CHECK(order("-runway") == std::vector<std::string>{"o2", "w", "c", "u", "o", "new"});
    CHECK(order("balance") == std::vector<std::string>{"o2", "c", "w", "o", "new", "u"});
    CHECK(order("-balance") == std::vector<std::string>{"o", "w", "c", "o2", "u", "new"});
  }

  TEST_CASE("the account that ended a page is not listed again when its figure moved past the cursor") {
    for (const std::string sort : {"-balance", "balance", "-runway", "runway"}) {
      CAPTURE(sort);
      TestFleet fleet;
      for (int i = 0; i < 10; ++i) fleet.add("acct-" + padded(i), CheckState::ok, 1000.0 - 100 * i, 100.0 - 10 * i);
      const auto seen = read_all(fleet, sort, 3, [&](int) {
        // Every account is probed again: balances and runways fall by less than the gap
        // between neighbours, but past each one's own value frozen in the cursor.
        for (auto& e : fleet.entries) {
          auto& f = *e.assessment->forecast;
          f.balance = f.balance - Decimal::from_double(1);
          *f.runway_days -= 0.5;
        }
      });
      std::multiset<std::string> counted(seen.begin(), seen.end());
      CHECK(seen.size() == 10);
      for (const auto& name : seen) CHECK(counted.count(name) == 1);
    }
  }

  TEST_CASE("accounts added or removed between pages: none of the others is missed or repeated") {
    for (const std::string sort : {"name", "-name", "state", "-state", "runway", "-runway", "balance", "-balance"}) {
      CAPTURE(sort);
      auto fleet = varied_fleet(120);
      std::set<std::string> original;
      for (const auto& e : fleet.entries) original.insert(e.name);
      std::set<std::string> added;
      int serial = 0;
      const auto seen = read_all(fleet, sort, 9, [&](int page_no) {
        // New accounts land everywhere in the order, before and after the cursor.
        for (int k = 0; k < 3; ++k) {
          const int i = 1000 + serial++;
          auto& e = fleet.add("acct-" + padded((i * 7919) % 1000) + "-new" + std::to_string(i),
                              page_no % 2 ? CheckState::critical : CheckState::ok, (i * 37) % 50, (i * 13) % 30 / 4.0);
          added.insert(e.name);
        }
        // And one account not yet shown is removed (a reload dropped it).
        if (page_no == 3) {
          fleet.entries.erase(fleet.entries.begin() + static_cast<std::ptrdiff_t>(fleet.entries.size() / 2));
        }
      });
      std::set<std::string> left;
      for (const auto& e : fleet.entries) left.insert(e.name);
      std::multiset<std::string> counted(seen.begin(), seen.end());
      for (const auto& name : original) {
        CAPTURE(name);
        if (left.count(name)) CHECK(counted.count(name) == 1);  // there throughout: exactly once
      }
      for (const auto& name : seen) CHECK(counted.count(name) == 1);
      for (const auto& name : seen) CHECK((original.count(name) + added.count(name)) == 1);
    }
  }

  TEST_CASE("filters: q on names and label values in any case, state, label, and the total counts matches") {
    TestFleet fleet;
    fleet.add("payments-prod", CheckState::critical, 1.0, 1.0, {{"team", "Payments"}});
    fleet.add("search-prod", CheckState::ok, 1.0, 1.0, {{"team", "search"}, {"tier", "prod"}});
    fleet.add("bots", CheckState::warning, 1.0, 1.0, {{"team", "ml"}, {"tier", "prod"}});
    fleet.add("sandbox", CheckState::ok, 1.0, 1.0, {{"team", "ml"}, {"tier", "dev"}});
    const auto listed = [&](std::vector<std::pair<std::string, std::string>> params) {
      const auto page = page_accounts(fleet.listed(), query_of(params));
      CHECK(page.total == page.rows.size());
      return names(page);
    };
    CHECK(listed({{"q", "PROD"}}) == std::vector<std::string>{"bots", "payments-prod", "search-prod"});
    CHECK(listed({{"q", "payments"}}) == std::vector<std::string>{"payments-prod"});
    CHECK(listed({{"q", "ml"}}) == std::vector<std::string>{"bots", "sandbox"});
    CHECK(listed({{"state", "ok"}}) == std::vector<std::string>{"sandbox", "search-prod"});
    CHECK(listed({{"state", "CRITICAL"}}) == std::vector<std::string>{"payments-prod"});
    CHECK(listed({{"state", "unknown"}}).empty());
    CHECK(listed({{"label", "tier:prod"}}) == std::vector<std::string>{"bots", "search-prod"});
    CHECK(listed({{"label", "tier:prod"}, {"state", "warning"}}) == std::vector<std::string>{"bots"});
    CHECK(listed({{"q", "nothing-like-it"}}).empty());
    // The total is the whole match, not the page.
    const auto page = page_accounts(fleet.listed(), query_of({{"q", "prod"}, {"limit", "1"}}));
    CHECK(page.rows.size() == 1);
    CHECK(page.total == 3);
  }

  TEST_CASE("bad input is refused with a reason") {
    const auto error_of = [](std::vector<std::pair<std::string, std::string>> params) {
      auto parsed = parse_accounts_query(request(std::move(params)));
      REQUIRE_FALSE(parsed.ok());
      return parsed.error();
    };
    for (const char* limit : {"0", "1001", "-1", "ten", "", "1e3", "99999999999999999999"}) {
      CAPTURE(limit);
      CHECK(error_of({{"limit", limit}}).find("limit must be") == 0);
    }
    CHECK(query_of({{"limit", "1000"}}).limit == 1000);
    CHECK(error_of({{"sort", "price"}}).find("sort must be") == 0);
    CHECK(error_of({{"sort", "--name"}}).find("sort must be") == 0);
    CHECK(error_of({{"state", "bad"}}).find("state must be") == 0);
    CHECK(error_of({{"label", "novalue"}}).find("label must be") == 0);
    CHECK(error_of({{"cursor", "zz"}}).find("cursor is not one") == 0);
    CHECK(error_of({{"cursor", "7b7d"}}).find("cursor is not one") == 0);  // "{}"
    const auto by_runway = encode_cursor(AccountCursor{AccountSort::runway, true, 2.5, "x"});
    CHECK(error_of({{"cursor", by_runway}}).find("cursor belongs to sort=-runway") == 0);
    CHECK(query_of({{"cursor", by_runway}, {"sort", "-runway"}}).after->account == "x");
  }

  TEST_CASE("a cursor reads back as it was made, values to the last bit") {
    for (const auto& c : {AccountCursor{AccountSort::name, false, std::nullopt, "team a/\"quoted\""},
                          AccountCursor{AccountSort::balance, true, 0.1 + 0.2, "b"},
                          AccountCursor{AccountSort::state, false, 3, "ünïcode"}}) {
      const auto text = encode_cursor(c);
      CHECK(text.find_first_not_of("0123456789abcdef") == std::string::npos);
      const auto back = decode_cursor(text);
      REQUIRE(back);
      CHECK(back->sort == c.sort);
      CHECK(back->descending == c.descending);
      CHECK(back->value == c.value);
      CHECK(back->account == c.account);
    }
  }
}

TEST_SUITE("server_account_pages") {
  TEST_CASE("the fleet view's columns: provider, burn, P10 runway, exhaustion and firing alerts, paged in both directions") {
    TestFleet fleet;
    const auto now = creditwatch::from_unix_ms(1'800'000'000'000);
    for (int i = 0; i < 40; ++i) {
      auto& e = fleet.add("acct-" + padded(i), CheckState::ok, 100.0 + i, 10.0 - i / 8.0);
      auto& f = *e.assessment->forecast;
      if (i % 9 != 0) {
        f.burn_per_day = (i * 7) % 11;
        f.runway_p10_days = (i * 5) % 13 / 2.0;
        f.exhausted_at = now + std::chrono::hours((i * 11) % 17);
      }
      for (int k = 0; k < i % 3; ++k) e.assessment->firing.push_back({creditwatch::alerts::Rule::runway, true, creditwatch::alerts::Severity::critical, ""});
      e.assessment->provider = i % 4 == 0 ? "deepseek" : (i % 4 == 1 ? "openrouter" : "simulated");
    }
    const auto listed = fleet.listed();
    const auto number = [&](const std::string& name, const std::string& sort) -> std::optional<double> {
      const auto& a = *fleet.entries[static_cast<std::size_t>(std::stoi(name.substr(5)))].assessment;
      if (sort == "burn") return a.forecast->burn_per_day;
      if (sort == "runway_p10") return a.forecast->runway_p10_days;
      if (sort == "exhausts" && a.forecast->exhausted_at) return double(creditwatch::to_unix_ms(*a.forecast->exhausted_at));
      if (sort == "alerts") return double(a.firing.size());
      return std::nullopt;
    };
    for (const std::string sort : {"burn", "runway_p10", "exhausts", "alerts", "provider"}) {
      for (const std::string direction : {"", "-"}) {
        CAPTURE(direction + sort);
        const auto seen = read_all(fleet, direction + sort, 7);
        REQUIRE(seen.size() == 40);
        CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 40);
        for (std::size_t i = 1; i < seen.size(); ++i) {
          CAPTURE(seen[i - 1]);
          CAPTURE(seen[i]);
          if (sort == "provider") {
            const auto& p = fleet.entries[static_cast<std::size_t>(std::stoi(seen[i - 1].substr(5)))].assessment->provider;
            const auto& q = fleet.entries[static_cast<std::size_t>(std::stoi(seen[i].substr(5)))].assessment->provider;
            CHECK((direction.empty() ? p <= q : p >= q));
            continue;
          }
          const auto a = number(seen[i - 1], sort), b = number(seen[i], sort);
          if (!a) CHECK(!b);  // rows without the figure come last
          if (a && b) CHECK((direction.empty() ? *a <= *b : *a >= *b));
        }
      }
    }
    // q finds the provider too.
    CHECK(page_accounts(listed, query_of({{"q", "OpenRouter"}, {"limit", "1000"}})).total == 10);
    // A provider cursor keeps its text.
    const auto cursor = decode_cursor(encode_cursor(AccountCursor{AccountSort::provider, false, std::nullopt, "a", "x y"}));
    REQUIRE(cursor);
    CHECK(cursor->text == std::optional<std::string>("x y"));
  }
}
