// The conformance harness: see provider_conformance.hpp.
#include "integration/provider_conformance.hpp"

#include <set>

namespace creditwatch::testing {
namespace {

std::string shape_name(Shape shape) {
  switch (shape) {
    case Shape::success: return "documented success body";
    case Shape::empty_balance: return "empty balance";
    case Shape::out_of_money: return "out-of-money answer";
    case Shape::invalid_key: return "invalid-key answer";
    case Shape::rate_limit: return "rate limit";
    case Shape::malformed: return "malformed body";
    case Shape::other: return "other";
  }
  return "other";
}

std::string prefix_of(std::size_t index) { return "/case" + std::to_string(index); }

void check_balance(const providers::BalanceEntry& b, const ExpectedReading& expected) {
  REQUIRE(expected.balance.has_value());
  CHECK(b.currency == expected.currency);
  CHECK_MESSAGE(b.balance == dec(expected.balance->c_str()), "balance " << b.balance.to_string());
  if (expected.spend_total) {
    REQUIRE(b.spend_total.has_value());
    CHECK_MESSAGE(*b.spend_total == dec(expected.spend_total->c_str()), "spend " << b.spend_total->to_string());
  } else {
    CHECK_FALSE(b.spend_total.has_value());
  }
  for (const auto& [key, value] : expected.details) {
    CAPTURE(key);
    CHECK(b.details.value(key, nlohmann::json()) == value);
  }
  for (const auto& key : expected.absent_details) CHECK_FALSE(b.details.contains(key));
  for (const auto& words : expected.absent_text) {
    CHECK_MESSAGE(b.details.dump().find(words) == std::string::npos, "\"" << words << "\" in: " << b.details.dump());
  }
}

void check_reading(const providers::ProbeResult& result, const ExpectedReading& expected) {
  REQUIRE_MESSAGE(result.ok(), "expected a reading, got " << providers::to_string(result.error().kind) << ": "
                                                          << result.error().message);
  CHECK(result->available == expected.available);
  if (expected.unavailable_reason) CHECK(result->unavailable_reason == *expected.unavailable_reason);
  if (!expected.balance) {
    CHECK_MESSAGE(result->balances.empty(), "expected no balance, got " << result->balances.size());
    return;
  }
  REQUIRE(result->balances.size() == 1 + expected.more_balances.size());
  check_balance(result->balances[0], expected);
  for (std::size_t i = 0; i < expected.more_balances.size(); ++i) {
    CAPTURE(i + 1);
    check_balance(result->balances[i + 1], expected.more_balances[i]);
  }
}

void check_error(const providers::ProbeResult& result, const ExpectedError& expected) {
  auto e = expect_error(result, expected.kind);
  if (expected.http_status >= 0) CHECK(e.http_status == expected.http_status);
  for (const auto& words : expected.message_has) {
    CHECK_MESSAGE(e.message.find(words) != std::string::npos, "\"" << words << "\" not in: " << e.message);
  }
  if (expected.retry_after) {
    REQUIRE(e.retry_after.has_value());
    CHECK(*e.retry_after == *expected.retry_after);
  }
  if (expected.no_retry_after) CHECK_FALSE(e.retry_after.has_value());
}

// The requests the case made, once the fake has recorded `at_least` of them.
std::vector<RecordedRequest> requests_of(const FakeHttpServer& server, const std::string& prefix,
                                         std::size_t at_least) {
  std::vector<RecordedRequest> mine;
  eventually(
      [&] {
        mine.clear();
        for (auto& r : server.requests()) {
          if (r.path.starts_with(prefix + "/")) mine.push_back(r);
        }
        return mine.size() >= at_least;
      },
      std::chrono::seconds(2));
  return mine;
}

void check_requests(const ProviderConformance& table, const ConformanceCase& c,
                    const std::vector<RecordedRequest>& mine, const std::string& prefix) {
  CHECK_FALSE(mine.empty());
  for (const auto& r : mine) {
    CAPTURE(r.path);
    CHECK(r.method == table.method);
    if (!table.auth_header.empty()) CHECK(r.header(table.auth_header) == table.auth_value);
  }
  if (c.requested_paths.empty()) return;
  CHECK(mine.size() == c.requested_paths.size());
  if (mine.size() != c.requested_paths.size()) return;
  for (std::size_t i = 0; i < mine.size(); ++i) CHECK(mine[i].path == prefix + c.requested_paths[i]);
}

// Serves `canned` at `path` with the table's method, or the refusal check_request gives.
void serve_case_answer(FakeHttpServer& server, const ProviderConformance& table, const std::string& path,
                       const CannedAnswer& canned) {
  auto handler = [check = table.check_request, canned](const httplib::Request& req, httplib::Response& res) {
    const CannedAnswer a = check ? check(req).value_or(canned) : canned;
    res.status = a.status;
    for (const auto& [k, v] : a.headers) res.set_header(k, v);
    res.set_content(a.body, a.content_type);
  };
  if (table.method == "POST") {
    server.post(path, handler);
  } else {
    server.get(path, handler);
  }
}

void check_covers_every_shape(const ProviderConformance& table) {
  std::set<Shape> covered;
  for (const auto& c : table.cases) covered.insert(c.shape);
  for (Shape required : {Shape::success, Shape::empty_balance, Shape::out_of_money, Shape::invalid_key,
                         Shape::rate_limit, Shape::malformed}) {
    CHECK_MESSAGE(covered.contains(required), table.provider << " has no case for the " << shape_name(required));
  }
}

}  // namespace

void run_conformance(const ProviderConformance& table) {
  check_covers_every_shape(table);
  FakeHttpServer server;
  for (std::size_t i = 0; i < table.cases.size(); ++i) {
    for (const auto& a : table.cases[i].answers) serve_case_answer(server, table, prefix_of(i) + a.path, a);
  }
  server.start();

  for (std::size_t i = 0; i < table.cases.size(); ++i) {
    const auto& c = table.cases[i];
    INFO(table.provider << " case \"" << c.name << "\" (" << shape_name(c.shape) << ")");
    REQUIRE_MESSAGE(c.reading.has_value() != c.error.has_value(), "a case expects a reading or an error");
    auto settings = table.settings;
    for (const auto& [k, v] : c.settings) settings[k] = v;
    auto account = provider_account(table.provider, server.url() + prefix_of(i) + c.base_suffix, table.key, settings);
    account.currency = c.currency;

    auto result = probe_once(account);
    if (c.reading) check_reading(result, *c.reading);
    if (c.error) {
      check_error(result, *c.error);
      CHECK_MESSAGE(result.error().message.find(table.key) == std::string::npos, "the error message leaks the key");
    }
    const auto mine = requests_of(server, prefix_of(i), std::max<std::size_t>(1, c.requested_paths.size()));
    check_requests(table, c, mine, prefix_of(i));
  }

  for (const auto& bad : table.config_cases) {
    INFO(table.provider << " config that must be refused, mentioning \"" << bad.mentions << "\"");
    CHECK(any_error_mentions(build_errors(provider_account(table.provider, "", bad.key, bad.settings)), bad.mentions));
  }
}

}  // namespace creditwatch::testing
