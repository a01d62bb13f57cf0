// copy_database, what `migrate` runs: progress after every batch of a table copied in several,
// a refusal that names what the target holds, and a copy racing another into the same empty
// database refused as "not empty" (the tables are locked before they are counted) rather than
// failing on a duplicate id. The CLI around it: tests/integration/test_migrate_cli.cpp.
#include "creditwatch/storage/copy.hpp"

#include "fakes/postgres_server.hpp"
#include "fakes/process.hpp"
#include "fakes/store_fixtures.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace creditwatch;
using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t k_samples = storage::k_copy_batch_rows + 1;

TimePoint second(std::size_t n) { return k_store_t0 + std::chrono::seconds(n); }

// A SQLite file with one more run than a batch holds (every reading a new balance), one
// successful probe, nothing else.
void fill(storage::SqliteStore& store) {
  std::vector<storage::SampleRow> samples;
  for (std::size_t i = 0; i < k_samples; ++i) {
    samples.push_back(sample_row("a", second(i), "10.00"));
    samples.back().balance = Decimal::from_micros(static_cast<std::int64_t>(10'000'000 - i));
  }
  store.add_samples(samples, ok_probe_row("a", second(0)));
}

std::string progress_text(const storage::TableProgress& p) {
  return p.table + " " + std::to_string(p.copied) + "/" + std::to_string(p.total);
}

// What makes `database`'s sessions wait for a lock another holds, right now.
int waiting_for_locks(const std::string& database) {
  const auto result = PostgresServer::shared().psql(
      "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + database + "' AND wait_event_type = 'Lock'",
      "postgres");
  REQUIRE(result.exit_code == 0);
  return std::stoi(result.out);
}

}  // namespace

TEST_SUITE("storage_copy") {
  TEST_CASE("copy: progress after every batch, and once for an empty table" * doctest::skip(PostgresServer::skipped())) {
    TempDir dir;
    storage::SqliteStore from(dir.file("cw.db"));
    fill(from);
    PostgresBackend target;
    storage::PostgresStore to(target.url());

    std::vector<std::string> reported;
    const auto summary =
        storage::copy_database(from, to, [&](const storage::TableProgress& p) { reported.push_back(progress_text(p)); });

    const std::vector<std::string> expected = {
        "accounts 1/1", "currencies 1/1", "readings 10000/10001", "readings 10001/10001", "heads 1/1", "failures 0/0",
        "rollups 0/0",  "ledgers 0/0",    "alerts 0/0",           "outbox 0/0",             "silences 0/0",
        "acks 0/0"};
    CHECK(reported == expected);
    REQUIRE(summary.tables.size() == 11);
    CHECK(progress_text(summary.tables[2]) == "readings 10001/10001");
    CHECK(summary.pending_notifications == 0);
    CHECK(to.samples("a", k_store_t0).size() == k_samples);
  }

  TEST_CASE("copy: details SQLite keeps as a patch of the run before's arrive in full" *
            doctest::skip(PostgresServer::skipped())) {
    TempDir dir;
    storage::SqliteStore from(dir.file("cw.db"));
    // DeepSeek-like: each new balance changes a figure of the details, and only that.
    for (int i = 0; i < 30; ++i) {
      const auto topped_up = std::to_string(100 - i) + ".00";
      storage::SampleRow row = sample_row("ds", second(static_cast<std::size_t>(i) * 60), "10.00", "CNY");
      row.balance = Decimal::from_micros(110'000'000 - i * 1'000'000);
      row.details_json = R"({"granted":"10.00","topped_up":")" + topped_up + R"("})";
      from.add_samples({row}, ok_probe_row("ds", row.at));
      // topped_up the balance's own text (stored as `=`), or the same amount in other text.
      row.account = "ds0";
      row.balance = Decimal::from_micros(2'827'360'000 - i * 60'000);
      row.details_json = R"({"granted":"0.00","topped_up":")" + row.balance.to_string() + R"("})";
      if (i % 3 == 1) row.details_json = R"({"granted":"0.00","topped_up":")" + row.balance.to_string() + R"(0"})";
      from.add_samples({row}, ok_probe_row("ds0", row.at));
    }
    PostgresBackend target;
    storage::PostgresStore to(target.url());
    storage::copy_database(from, to);
    const auto copied = to.samples("ds", k_store_t0);
    const auto original = from.samples("ds", k_store_t0);
    REQUIRE(copied.size() == 30);
    REQUIRE(original.size() == 30);
    for (std::size_t i = 0; i < copied.size(); ++i) {
      CAPTURE(i);
      CHECK(copied[i].details_json == original[i].details_json);
    }
    CHECK(copied.back().details_json == R"({"granted":"10.00","topped_up":"71.00"})");
    const auto copied0 = to.samples("ds0", k_store_t0);
    const auto original0 = from.samples("ds0", k_store_t0);
    REQUIRE(copied0.size() == 30);
    REQUIRE(original0.size() == 30);
    for (std::size_t i = 0; i < copied0.size(); ++i) {
      CAPTURE(i);
      CHECK(copied0[i].details_json == original0[i].details_json);
    }
    CHECK(copied0[29].details_json == R"({"granted":"0.00","topped_up":"2825.62"})");
    CHECK(copied0[28].details_json == R"({"granted":"0.00","topped_up":"2825.680"})");
    CHECK(copied0[27].details_json == R"({"granted":"0.00","topped_up":"2825.74"})");
  }

  TEST_CASE("copy: a target holding rows is refused by name and left alone" * doctest::skip(PostgresServer::skipped())) {
    TempDir dir;
    storage::SqliteStore from(dir.file("cw.db"));
    fill(from);
    PostgresBackend target;
    storage::PostgresStore to(target.url());
    to.add_probe(failed_probe_row("other", k_store_t0));
    to.save_alert(alert_row("other", "runway", "firing", k_store_t0), {});

    std::string refusal;
    try {
      storage::copy_database(from, to);
    } catch (const storage::TargetNotEmpty& e) {
      refusal = e.what();
    }
    CHECK(refusal == "not empty: 1 row in accounts, 1 row in failures, 1 row in alerts");
    CHECK(to.samples("a", k_store_t0).empty());
    CHECK(to.latest_probe("other").has_value());
  }

  TEST_CASE("copy: a second copy racing the first into one database is refused as not empty" *
            doctest::skip(PostgresServer::skipped())) {
    TempDir dir;
    {
      storage::SqliteStore source(dir.file("cw.db"));
      fill(source);
    }
    PostgresBackend target;
    storage::SqliteStore first_from(dir.file("cw.db"));
    storage::SqliteStore second_from(dir.file("cw.db"));
    storage::PostgresStore first_to(target.url());
    storage::PostgresStore second_to(target.url());

    // The first copy stops after its first batch (tables locked, rows written, nothing
    // committed) until the second is stuck waiting on it; then both go on.
    std::string second_outcome;
    std::thread second;
    std::atomic<bool> started{false};
    storage::copy_database(first_from, first_to, [&](const storage::TableProgress&) {
      if (started.exchange(true)) return;
      second = std::thread([&] {
        try {
          storage::copy_database(second_from, second_to);
          second_outcome = "copied";
        } catch (const storage::TargetNotEmpty& e) {
          second_outcome = std::string("refused: ") + e.what();
        } catch (const storage::DatabaseError& e) {
          second_outcome = std::string("failed: ") + e.what();
        }
      });
      CHECK(eventually([&] { return waiting_for_locks(target.database()) == 1; }, 10s));
    });
    second.join();
    CHECK(second_outcome ==
          "refused: not empty: 1 row in accounts, 1 row in currencies, 10001 rows in readings, 1 row in heads");
    CHECK(first_to.samples("a", k_store_t0).size() == k_samples);
  }
}
