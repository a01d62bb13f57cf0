// SQLite's readings.details patches (src/storage/sqlite/details_patch.hpp): patches of the
// first format (every number written out) resolve as they always did; an empty field is the
// run before's number, trailing ones are left out; `=` is the row's own balance, written only
// when the number's text is exactly balance_text of it ("2827.3" stays a number when the
// balance reads "2827.30"); random pairs round-trip byte for byte. Then through SqliteStore
// with real SQLite: a DeepSeek-like account's readings (with a late reading, a prune in the
// middle of an hour and a read from the middle of an hour) come back byte-identical, stored
// as three-byte patches. Into PostgreSQL: tests/unit/test_storage_copy.cpp and
// tests/integration/test_migrate_cli.cpp.
#include "../../src/storage/sqlite/details_patch.hpp"

#include "creditwatch/common/decimal.hpp"

#include "fakes/store_fixtures.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace creditwatch;
using namespace creditwatch::testing;
using storage::balance_text;
using storage::details_patch;
using storage::resolve_details;

namespace {

constexpr std::int64_t k_any_balance = 123'450'000;  // 123.45: equals no number below unless said

std::string deepseek(const std::string& granted, const std::string& topped_up) {
  return R"({"granted_balance":")" + granted + R"(","topped_up_balance":")" + topped_up + R"("})";
}

std::optional<std::string> text(const char* s) { return std::string(s); }

// The patch the first format wrote: every number of `after`, comma-separated.
std::string first_format_patch(const std::string& after) {
  std::vector<std::string_view> numbers;
  storage::skeleton_of(after, &numbers);
  std::string patch(1, storage::k_patch_mark);
  for (std::size_t i = 0; i < numbers.size(); ++i) patch += (i > 0 ? "," : "") + std::string(numbers[i]);
  return patch;
}

}  // namespace

TEST_SUITE("storage_details_patch") {
  TEST_CASE("details patch: patches of the first format resolve as they always did") {
    const std::string before = deepseek("0.00", "2830.00");
    // As stored by the code before empty and `=` fields: whatever the row's balance.
    for (const std::int64_t balance : {std::int64_t{0}, std::int64_t{2'827'360'000}, k_any_balance}) {
      CHECK(resolve_details(before, text("\x1f" "0.00,2827.36"), balance) == deepseek("0.00", "2827.36"));
      CHECK(resolve_details(before, text("\x1f" "10.00,2830.00"), balance) == deepseek("10.00", "2830.00"));
    }
    CHECK(resolve_details(R"({"a":[1,-2.5,3]})", text("\x1f" "7,8,-9.25"), 0) == R"({"a":[7,8,-9.25]})");
    CHECK(resolve_details("-", text("\x1f" "-."), 0) == "-.");
    // NULL is the run before's; text in full is itself.
    CHECK(resolve_details(before, std::nullopt, 0) == before);
    CHECK(resolve_details(before, text(R"({"x":"1,2"})"), 0) == R"({"x":"1,2"})");
  }

  TEST_CASE("details patch: unchanged numbers are empty fields and trailing ones are left out") {
    const std::string before = R"({"a":"1.00","b":"2.00","c":"3.00"})";
    const std::string only_b = R"({"a":"1.00","b":"5.00","c":"3.00"})";
    const std::string only_a = R"({"a":"9.00","b":"2.00","c":"3.00"})";
    const std::string only_c = R"({"a":"1.00","b":"2.00","c":"4.25"})";
    CHECK(details_patch(before, only_b, k_any_balance) == std::optional<std::string>("\x1f,5.00"));
    CHECK(details_patch(before, only_a, k_any_balance) == std::optional<std::string>("\x1f" "9.00"));
    CHECK(details_patch(before, only_c, k_any_balance) == std::optional<std::string>("\x1f,,4.25"));
    for (const auto& after : {only_a, only_b, only_c}) {
      CAPTURE(after);
      CHECK(resolve_details(before, details_patch(before, after, k_any_balance), k_any_balance) == after);
    }
    // Written by hand: every way of leaving fields out.
    CHECK(resolve_details(before, text("\x1f"), 0) == before);
    CHECK(resolve_details(before, text("\x1f,"), 0) == before);
    CHECK(resolve_details(before, text("\x1f,,"), 0) == before);
    CHECK(resolve_details(before, text("\x1f,,7"), 0) == R"({"a":"1.00","b":"2.00","c":"7"})");
    CHECK(resolve_details(before, text("\x1f" "7,,8"), 0) == R"({"a":"7","b":"2.00","c":"8"})");
    CHECK(resolve_details(before, text("\x1f" "7"), 0) == R"({"a":"7","b":"2.00","c":"3.00"})");
    // A different skeleton: no patch.
    CHECK_FALSE(details_patch(before, R"({"a":"1.00","b":"2.00"})", 0));
    CHECK_FALSE(details_patch(before, R"({"a":"1.00","B":"2.00","c":"3.00"})", 0));
  }

  TEST_CASE("details patch: = is the row's own balance, only when its text is exactly that") {
    const std::string before = deepseek("0.00", "2830.00");
    const std::string after = deepseek("0.00", "2827.36");
    const auto patch = details_patch(before, after, 2'827'360'000);
    CHECK(patch == std::optional<std::string>("\x1f,="));  // granted unchanged, topped_up the balance
    CHECK(resolve_details(before, patch, 2'827'360'000) == after);
    // `=` is the row's balance: another balance resolves to another text (so every reader
    // must pass the row's own).
    CHECK(resolve_details(before, patch, 2'827'350'000) == deepseek("0.00", "2827.35"));

    // The trailing zero: "2827.30" is balance_text of 2827.30, "2827.3" and "2827.300" are not.
    CHECK(balance_text(2'827'300'000) == "2827.30");
    CHECK(details_patch(before, deepseek("0.00", "2827.30"), 2'827'300'000) == std::optional<std::string>("\x1f,="));
    CHECK(resolve_details(before, text("\x1f,="), 2'827'300'000) == deepseek("0.00", "2827.30"));
    for (const char* other : {"2827.3", "2827.300", "02827.30", "2827.30-"}) {
      CAPTURE(other);
      const auto literal = details_patch(before, deepseek("0.00", other), 2'827'300'000);
      REQUIRE(literal);
      CHECK(*literal == std::string("\x1f,") + other);
      CHECK(resolve_details(before, literal, 2'827'300'000) == deepseek("0.00", other));
    }
    // Both numbers the balance, a negative balance, a whole one.
    CHECK(details_patch(before, deepseek("-3.00", "-3.00"), -3'000'000) == std::optional<std::string>("\x1f=,="));
    CHECK(resolve_details(before, text("\x1f=,="), -3'000'000) == deepseek("-3.00", "-3.00"));
    CHECK(details_patch(before, deepseek("0.00", "12.00"), 12'000'000) == std::optional<std::string>("\x1f,="));
    CHECK(details_patch(before, deepseek("0.00", "0.000001"), 1) == std::optional<std::string>("\x1f,="));
    // A number already unchanged is an empty field even when it equals the balance.
    CHECK(details_patch(deepseek("0.00", "5.00"), deepseek("0.00", "5.00"), 5'000'000) ==
          std::optional<std::string>("\x1f"));
  }

  TEST_CASE("details patch: balance_text is Decimal::to_string's form") {
    std::mt19937_64 random(16);
    std::vector<std::int64_t> values = {0, 1, -1, 10, 100'000, 1'000'000, -1'000'000, 1'234'500, 2'827'300'000,
                                        std::numeric_limits<std::int64_t>::max(),
                                        std::numeric_limits<std::int64_t>::min() + 1};
    for (int i = 0; i < 10'000; ++i) {
      const auto magnitude = static_cast<std::int64_t>(random() >> (1 + random() % 63));
      values.push_back(i % 2 ? magnitude : -magnitude);
    }
    for (const auto micros : values) {
      CAPTURE(micros);
      CHECK(balance_text(micros) == Decimal::from_micros(micros).to_string());
    }
    CHECK(balance_text(std::numeric_limits<std::int64_t>::min()) == "-9223372036854.775808");
  }

  TEST_CASE("details patch: random details pairs round-trip byte for byte, old and new patches") {
    std::mt19937 random(1616);
    auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
    const std::vector<std::string> skeleton_parts = {R"({"a":")", R"(","b":")", R"(",)", ",", "[", "]", "x", R"("\"")",
                                                     " ", "é", "{}", ":"};
    auto random_number = [&](std::int64_t balance) -> std::string {
      switch (pick(8)) {
        case 0: return balance_text(balance);
        case 1: {  // the balance without its trailing zero, or with one more
          std::string t = balance_text(balance);
          if (t.back() == '0') t.pop_back();
          else t += "0";
          return t;
        }
        case 2: return "-";
        case 3: return ".";
        case 4: return "0.00";
        case 5: return std::to_string(pick(1000)) + "." + std::to_string(pick(100));
        case 6: return "-" + std::to_string(pick(100000));
        default: return balance_text(balance + pick(3) - 1);
      }
    };
    int patched = 0;
    int with_balance = 0;
    int with_empty = 0;
    for (int round = 0; round < 30'000; ++round) {
      const std::int64_t balance = (pick(3) == 0 ? -1 : 1) * static_cast<std::int64_t>(random() % 5'000'000'000u);
      // A skeleton with up to six numbers, before's numbers, and after's (each kept, the
      // balance or another number); now and then after's skeleton differs.
      std::vector<std::string> parts;
      const int numbers = pick(7);
      for (int i = 0; i <= numbers; ++i) parts.push_back(skeleton_parts[static_cast<std::size_t>(pick(12))]);
      std::string before = parts[0];
      std::string after = parts[0];
      for (int i = 1; i <= numbers; ++i) {
        const std::string old_number = random_number(balance);
        const int what = pick(3);
        before += old_number + parts[static_cast<std::size_t>(i)];
        after += (what == 0 ? old_number : what == 1 ? balance_text(balance) : random_number(balance)) +
                 parts[static_cast<std::size_t>(i)];
      }
      if (pick(20) == 0) after += "y";
      CAPTURE(before);
      CAPTURE(after);
      CAPTURE(balance);
      const auto patch = details_patch(before, after, balance);
      if (patch) {
        ++patched;
        CHECK(patch->size() < after.size());
        CHECK(resolve_details(before, patch, balance) == after);
        if (patch->find('=') != std::string::npos) ++with_balance;
        if (patch->size() == 1 || patch->find(",,") != std::string::npos || (*patch)[1] == ',') ++with_empty;
      }
      // The first format's patch of the same pair still resolves to it.
      std::vector<std::string_view> ignored;
      if (storage::skeleton_of(before, &ignored) == storage::skeleton_of(after, &ignored)) {
        CHECK(resolve_details(before, first_format_patch(after), balance) == after);
      }
    }
    CHECK(patched > 10'000);
    CHECK(with_balance > 1'000);
    CHECK(with_empty > 1'000);
  }

  TEST_CASE("details patch: a DeepSeek account through SqliteStore reads back byte-identical") {
    TempDir dir;
    const std::string path = dir.file("cw.db");
    std::vector<std::string> written;  // one run a reading: the balance changes at every one
    std::vector<TimePoint> at;
    {
      storage::SqliteStore store(path);
      std::int64_t cents = 282'736;  // 2827.36
      for (int i = 0; i < 400; ++i) {
        cents -= 1 + i % 7;
        if (i == 250) cents += 100'000;  // a top-up
        if (i % 50 == 10) cents -= cents % 10;  // "2827.30"
        const auto balance = Decimal::from_micros(cents * 10'000);
        std::string topped_up = balance.to_string();
        std::string granted = "0.00";
        if (i % 50 == 10) topped_up.pop_back();  // "2827.3": the same amount, not the balance's text
        if (i >= 100 && i < 130) {  // granted credit for a while: topped_up is not the balance
          granted = "5.00";
          topped_up = Decimal::from_micros(cents * 10'000 - 5'000'000).to_string();
        }
        storage::SampleRow row = sample_row("ds", k_store_t0 + std::chrono::minutes(i), "0", "CNY");
        row.balance = balance;
        row.details_json = deepseek(granted, topped_up);
        store.add_samples({row}, ok_probe_row("ds", row.at));
        written.push_back(row.details_json);
        at.push_back(row.at);
      }
      // A reading committed late, between two runs: the run after it gets its details in full.
      storage::SampleRow late = sample_row("ds", at[200] + std::chrono::seconds(30), "1000.00", "CNY");
      late.details_json = deepseek("0.00", "999.99");
      store.add_samples({late}, ok_probe_row("ds", late.at));
      written.insert(written.begin() + 201, late.details_json);
      at.insert(at.begin() + 201, late.at);
    }
    storage::Database raw(path);
    auto count = [&](const std::string& where) {
      auto s = raw.prepare("SELECT count(*) FROM readings WHERE " + where);
      REQUIRE(s.step());
      return s.int64(0);
    };
    // Most runs store three bytes: mark, empty field (granted unchanged), `=`.
    CHECK(count("details = char(31) || ',='") > 300);
    for (const std::size_t i : {std::size_t{10}, std::size_t{110}, std::size_t{160}}) {  // not the first of an hour
      CAPTURE(i);
      auto s = raw.prepare("SELECT details FROM readings WHERE from_ms = ?1");
      s.bind(1, to_unix_ms(at[i]));
      REQUIRE(s.step());
      const auto number = written[i].substr(written[i].rfind(':') + 2, written[i].size() - written[i].rfind(':') - 4);
      CHECK(s.text(0).substr(s.text(0).find(',')) == "," + number);  // the number itself, not `=`
    }
    CHECK(count("substr(details, 1, 1) = char(31)") + count("substr(details, 1, 1) = '{'") == 401);

    storage::SqliteStore store(path);
    auto check_from = [&](std::size_t first) {
      CAPTURE(first);
      const auto runs = store.samples("ds", at[first], "CNY");
      REQUIRE(runs.size() == written.size() - first);
      for (std::size_t i = 0; i < runs.size(); ++i) {
        CAPTURE(i);
        CHECK(runs[i].at == at[first + i]);
        CHECK(runs[i].details_json == written[first + i]);
      }
    };
    check_from(0);
    check_from(37);   // from the middle of an hour: the first run's details looked up back to the hour's first
    check_from(125);  // inside the granted stretch
    check_from(202);  // just after the late run
    // A prune whose cutoff falls in the middle of an hour: the oldest run left gets its details in full.
    store.prune(at[150], k_store_t0);
    {
      auto s = raw.prepare("SELECT details FROM readings ORDER BY from_ms LIMIT 1");
      REQUIRE(s.step());
      CHECK(s.text(0) == written[150]);
    }
    check_from(150);
    check_from(163);
  }
}
