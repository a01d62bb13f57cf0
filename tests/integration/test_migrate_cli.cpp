// `creditwatch migrate --to URL -c FILE`, the real binary against a real SQLite file and a real
// PostgreSQL: a database filled through SqliteStore (two currencies, failed probes, firing and
// resolved alerts, pending, delivered and dead notifications, enough readings for several
// batches, hourly rollups and a ledger snapshot) arrives row for row with its ids, the id
// sequences continue after them, a second copy into the same database is refused without
// touching it, a copy that fails half-way leaves the target empty, a schema-3 database (the
// fixture in tests/data/schema_v3) is migrated to schema 4 and copied whole, and the role's
// password appears in no output.
#include "creditwatch/storage/postgres/postgres_store.hpp"
#include "creditwatch/storage/sqlite/database.hpp"
#include "creditwatch/storage/sqlite/sqlite_store.hpp"

#include "fakes/postgres_server.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <charconv>
#include <filesystem>
#include <string>
#include <vector>

using namespace creditwatch;
using namespace creditwatch::testing;

namespace {

const TimePoint k_t0 = from_unix_ms(1'777'593'600'000);  // 2026-05-01T00:00:00Z
// Percent-encoded in the URL as "Mig-p%40ss%3Aw%2Frd%20%27x%27": neither form may be printed.
constexpr const char* k_password = "Mig-p@ss:w/rd 'x'";
constexpr const char* k_password_start = "Mig-p";
constexpr int k_rounds = 6'000;  // 3 samples a round: 18,000 samples, two batches of 10,000
constexpr const char* k_one_account = "accounts:\n  - name: alpha\n    provider: simulated\n";

TimePoint minute(int n) { return k_t0 + std::chrono::minutes(n); }

// Bytes a ledger snapshot may hold: NUL, high bytes, quotes and backslashes.
const std::string k_ledger_bytes("\0\x01\xff\"{,}\\ ledger\x80", 14);

// Text that SQL and PostgreSQL's array literals must carry unchanged.
constexpr const char* k_awkward = R"({"note":"a \"quoted\" {brace,comma}, back\\slash, NULL, é ✓"})";

void fill_samples(storage::SqliteStore& store) {
  constexpr int k_rounds_per_write = 500;
  for (int first = 0; first < k_rounds; first += k_rounds_per_write) {
    std::vector<storage::SampleRow> samples;
    for (int i = first; i < first + k_rounds_per_write; ++i) {
      const auto balance = Decimal::from_micros(1'000'000'000 - std::int64_t{i} * 1'234);
      // DeepSeek-like: topped_up the balance (SQLite stores a patch "=" field), a granted figure
      // that comes and goes (empty and written fields), now and then the amount in other text.
      const std::string topped_up = balance.to_string() + (i % 7 == 3 ? "0" : "");
      const std::string usd_details = std::string(R"({"granted_balance":")") + (i % 5 == 2 ? "1.00" : "0.00") +
                                      R"(","topped_up_balance":")" + topped_up + R"("})";
      samples.push_back({"alpha", minute(i), "USD", balance, Decimal::from_micros(std::int64_t{i} * 99), usd_details});
      samples.push_back({"alpha", minute(i), "CNY", balance + balance, std::nullopt, i % 1000 == 7 ? k_awkward : ""});
      samples.push_back({"beta", minute(i), "EUR", Decimal::from_micros(42'000'000), std::nullopt, "{}"});
    }
    store.add_samples(samples, {"alpha", minute(first), "ok", 200, 0.1 + first / 7e5, ""});
  }
}

// Hourly rollups of the first half (pruned in batches, as housekeeping does) and a ledger
// snapshot of bytes that are not text.
void fill_history(storage::SqliteStore& store) {
  while (store.prune(minute(k_rounds / 2), k_t0) >= storage::Store::k_prune_batch) {
  }
  store.save_ledger("alpha", "USD", {minute(k_rounds), k_ledger_bytes});
}

void fill_probes(storage::SqliteStore& store) {
  store.add_probe({"beta", minute(1), "timeout", 0, 15.000000000000002, "timed out after 15s"});
  store.add_probe({"beta", minute(2), "http_status", 503, 0.123456789012345678, k_awkward});
  store.add_probe({"alpha", minute(3), "auth", 401, 1e-05, "key \"sk-…\" refused"});
}

storage::OutboxRow notification(const std::string& notifier, const std::string& dedup, int at) {
  storage::OutboxRow n;
  n.created = minute(at);
  n.notifier = notifier;
  n.dedup_key = dedup;
  n.payload_json = k_awkward;
  n.next_attempt = minute(at);
  return n;
}

// Firing and resolved alerts; outbox rows pending, retried, claimed, delivered and dead.
void fill_alerts(storage::SqliteStore& store) {
  store.save_alert({"alpha", "runway", "firing", "critical", minute(10), minute(11), k_awkward},
                   {notification("hook", "alpha/runway", 11), notification("slack", "alpha/runway", 11)});
  store.save_alert({"beta", "min_balance", "resolved", "warning", minute(20), minute(30), "{}"},
                   {notification("hook", "beta/min_balance", 30)});
  store.save_alert({"alpha", "exhausted", "firing", "critical", minute(40), minute(40), "{}"},
                   {notification("pagerduty", "alpha/exhausted", 40)});
  const auto rows = store.notifications();
  REQUIRE(rows.size() == 4);
  store.mark_retry(rows[1].id, minute(45), "HTTP 503 from slack");
  store.mark_delivered(rows[2].id, minute(31));
  store.mark_dead(rows[3].id, "HTTP 400: invalid routing key");
  REQUIRE(store.claim_notification(rows[0].id, "old-host-1234", minute(50), minute(51)) == storage::Claim::taken);
}

std::string shortest(double value) {
  char buffer[32];
  return std::string(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

std::string text_of(const storage::SampleRow& s) {
  return s.account + "|" + std::to_string(to_unix_ms(s.at)) + "|" + s.currency + "|" + s.balance.to_string() + "|" +
         (s.spend_total ? s.spend_total->to_string() : "null") + "|" + s.details_json;
}

std::string text_of(const storage::AlertRow& a) {
  return a.account + "|" + a.rule + "|" + a.state + "|" + a.severity + "|" + std::to_string(to_unix_ms(a.since)) + "|" +
         std::to_string(to_unix_ms(a.last_notified)) + "|" + a.context_json;
}

std::string text_of(const storage::OutboxRow& o) {
  return std::to_string(o.id) + "|" + std::to_string(to_unix_ms(o.created)) + "|" + o.notifier + "|" + o.dedup_key +
         "|" + o.payload_json + "|" + std::to_string(o.attempts) + "|" + std::to_string(to_unix_ms(o.next_attempt)) +
         "|" + storage::to_string(o.state) + "|" + o.last_error + "|" + o.claimed_by + "|" +
         std::to_string(to_unix_ms(o.claim_until));
}

template <typename Row>
void check_same_rows(const std::vector<Row>& copied, const std::vector<Row>& original) {
  REQUIRE(copied.size() == original.size());
  for (std::size_t i = 0; i < copied.size(); ++i) {
    if (text_of(copied[i]) == text_of(original[i])) continue;
    INFO("row " << i);
    CHECK(text_of(copied[i]) == text_of(original[i]));
    return;
  }
}

// Every probe and every outbox delivery time, one line per row, as SQLite has them...
std::string sqlite_lines(const std::string& path, const std::string& sql) {
  storage::Database db(path);
  auto s = db.prepare(sql);
  std::string out;
  while (s.step()) {
    std::string line;
    for (int c = 0; c < 7; ++c) {
      if (c > 0) line += '|';
      if (c == 5) {
        line += s.is_null(c) ? "" : shortest(s.real(c));
      } else {
        line += s.text(c);
      }
    }
    out += line + "\n";
  }
  return out;
}

// ...and as PostgreSQL has them (psql -At: '|' between columns, NULL as nothing).
std::string postgres_lines(const std::string& database, const std::string& sql) {
  const auto result = PostgresServer::shared().psql(sql, database);
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  return result.out;
}

constexpr const char* k_failure_query =
    "SELECT id, account_id, ts_ms, outcome, http_status, latency_seconds, message FROM failures ORDER BY id";
constexpr const char* k_account_query =
    "SELECT id, name, last_ok_ms, ok_probes, failed_probes, last_ok_latency, '' FROM accounts ORDER BY id";
constexpr const char* k_reading_query =
    "SELECT account_id, currency_id, from_ms, held_ms, balance_micros, CAST(NULL AS REAL), coalesce(spend_micros, -1) "
    "|| CASE WHEN details IS NULL THEN ' NULL' ELSE ' set' END "
    "FROM readings ORDER BY account_id, currency_id, from_ms";
constexpr const char* k_rollup_query =
    "SELECT account_id || ' ' || currency_id, hour_ms, open_micros || ' ' || close_micros, low_micros, spend_micros, "
    "CAST(NULL AS REAL), deposits_micros || ' ' || readings FROM rollups ORDER BY account_id, currency_id, hour_ms";
// Every table migrate copies, in the order it copies them.
const std::vector<std::string> k_tables = {"accounts", "currencies", "readings", "heads", "failures",
                                           "rollups",  "ledgers",    "alerts",   "outbox", "silences", "acks"};
// Shaped like the probe query (the sixth column a real) so one reader serves both.
constexpr const char* k_delivered_query =
    "SELECT id, delivered_ms, attempts, state, 0, CAST(NULL AS REAL), last_error FROM outbox ORDER BY id";

std::int64_t count(const std::string& database, const std::string& sql) {
  return std::stoll(postgres_lines(database, sql));
}

// "accounts 2|currencies 3|..." for every copied table.
std::string counts_query() {
  std::string sql = "SELECT ";
  for (const auto& table : k_tables) {
    sql += (table == k_tables.front() ? "'" : " || '|") + table + " ' || (SELECT count(*) FROM " + table + ")";
  }
  return sql;
}

std::string table_counts(const std::string& database) { return postgres_lines(database, counts_query()); }

std::string sqlite_counts(const std::string& path) {
  storage::Database db(path);
  auto s = db.prepare(counts_query());
  REQUIRE(s.step());
  return s.text(0) + "\n";
}

// What the Store API reads back for `account`, the same through either store.
std::string everything_of(storage::Store& store, const std::string& account, TimePoint since) {
  std::string out;
  for (const auto& s : store.samples(account, since)) {
    out += text_of(s) + "|" + std::to_string(to_unix_ms(s.seen_until)) + "\n";
  }
  if (const auto latest = store.latest_sample(account)) out += "latest " + text_of(*latest) + "\n";
  if (const auto probe = store.latest_probe(account)) {
    out += "probe " + std::to_string(to_unix_ms(probe->at)) + " " + probe->outcome + " " +
           std::to_string(probe->http_status) + " " + shortest(probe->latency_seconds) + " " + probe->message + "\n";
  }
  if (const auto success = store.last_success(account)) out += "success " + std::to_string(to_unix_ms(*success)) + "\n";
  const auto counts = store.probe_counts(account);
  out += "counts " + std::to_string(counts.ok) + " " + std::to_string(counts.failed) + "\n";
  for (const auto& a : store.alerts(account)) out += text_of(a) + "\n";
  return out;
}

void check_no_password(const ProcessResult& r) {
  CHECK(r.out.find(k_password_start) == std::string::npos);
  CHECK(r.err.find(k_password_start) == std::string::npos);
}

// A SQLite database (as `run` leaves it), a config naming it, and an empty PostgreSQL
// database owned by a role that must give its password.
struct MigrateFixture {
  TempDir dir;
  std::string db_path = dir.file("cw.db");
  std::string config =
      dir.write("creditwatch.yaml", "storage:\n  path: " + db_path + "\naccounts:\n  - name: alpha\n    provider: simulated\n"
                                    "  - name: beta\n    provider: simulated\n");
  PostgresServer& server = PostgresServer::shared();
  PostgresRole role = server.create_role("migrate_owner", k_password);
  std::string database;
  std::string url;

  explicit MigrateFixture(std::string name) : database(std::move(name)) {
    server.create_database(database, role.name);
    url = server.url(role, database);
  }
  ~MigrateFixture() { server.psql("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)", "postgres"); }
  MigrateFixture(const MigrateFixture&) = delete;
  MigrateFixture& operator=(const MigrateFixture&) = delete;

  // The URL in a file only its owner reads, for --to-file.
  std::string url_file() const {
    const auto path = dir.write("database-url", url + "\n");
    ::chmod(path.c_str(), 0600);
    return path;
  }
  ProcessResult migrate(const std::vector<std::string>& target) const {
    std::vector<std::string> args = {"migrate", "-c", config};
    args.insert(args.end(), target.begin(), target.end());
    auto result = run_creditwatch(args, {}, std::chrono::seconds(120));
    INFO("stdout:\n" << result.out << "\nstderr:\n" << result.err);
    check_no_password(result);
    return result;
  }
};

}  // namespace

TEST_SUITE("migrate cli") {
  TEST_CASE("every row arrives with its id and the sequences continue after them" *
            doctest::skip(PostgresServer::skipped())) {
    MigrateFixture f("migrate_copy");
    {
      storage::SqliteStore sqlite(f.db_path);
      fill_samples(sqlite);
      fill_history(sqlite);  // before the probes and alerts, which its prune would take
      fill_probes(sqlite);
      fill_alerts(sqlite);
    }

    const auto copied = f.migrate({"--to-file", f.url_file()});
    REQUIRE(copied.exit_code == 0);
    CHECK(copied.out.find("copied " + f.db_path + " into postgresql://migrate_owner:***@127.0.0.1:") == 0);
    const auto counts = sqlite_counts(f.db_path);
    CHECK(table_counts(f.database) == counts);
    CHECK(counts.find("accounts 2|currencies 3|") == 0);
    CHECK(counts.find("|rollups 0|") == std::string::npos);
    CHECK(counts.find("|ledgers 1|alerts 3|outbox 4|silences 0|acks 0\n") != std::string::npos);
    CHECK(copied.out.find("readings    ") != std::string::npos);
    CHECK(copied.out.find("failures    3") != std::string::npos);
    CHECK(copied.out.find("outbox      4 (2 pending)") != std::string::npos);

    storage::SqliteStore sqlite(f.db_path);
    storage::PostgresStore postgres(f.url);
    for (const std::string account : {"alpha", "beta"}) {
      check_same_rows(postgres.samples(account, k_t0), sqlite.samples(account, k_t0));
      check_same_rows(postgres.alerts(account), sqlite.alerts(account));
      CHECK(everything_of(postgres, account, k_t0) == everything_of(sqlite, account, k_t0));
      for (const std::string currency : {"USD", "CNY", "EUR"}) {
        const auto copied_hours = postgres.rollups(account, currency, k_t0, minute(k_rounds));
        const auto hours = sqlite.rollups(account, currency, k_t0, minute(k_rounds));
        REQUIRE(copied_hours.size() == hours.size());
        for (std::size_t i = 0; i < hours.size(); ++i) {
          CHECK(copied_hours[i].hour == hours[i].hour);
          CHECK(copied_hours[i].close == hours[i].close);
          CHECK(copied_hours[i].spend == hours[i].spend);
          CHECK(copied_hours[i].readings == hours[i].readings);
        }
      }
    }
    CHECK(postgres.samples("alpha", k_t0 + std::chrono::minutes(k_rounds / 2), "CNY").size() ==
          sqlite.samples("alpha", k_t0 + std::chrono::minutes(k_rounds / 2), "CNY").size());
    CHECK_FALSE(postgres.rollups("alpha", "USD", k_t0, minute(k_rounds)).empty());
    REQUIRE(postgres.ledger("alpha", "USD").has_value());
    CHECK(postgres.ledger("alpha", "USD")->state == k_ledger_bytes);
    CHECK(postgres.ledger("alpha", "USD")->at == minute(k_rounds));
    for (const auto* query : {k_failure_query, k_account_query, k_reading_query, k_rollup_query}) {
      CAPTURE(query);
      CHECK(postgres_lines(f.database, query) == sqlite_lines(f.db_path, query));
    }
    CHECK(postgres_lines(f.database, k_delivered_query) == sqlite_lines(f.db_path, k_delivered_query));
    // The claim was the old process's: nobody holds it now, so the row is free to send.
    auto expected = sqlite.notifications();
    REQUIRE(expected.at(0).claimed_by == "old-host-1234");
    expected[0].claimed_by.clear();
    expected[0].claim_until = from_unix_ms(0);
    check_same_rows(postgres.notifications(), expected);
    CHECK(postgres.claim_notification(expected[0].id, "replica-a", minute(50), minute(51)) == storage::Claim::taken);

    SUBCASE("a second copy into the same database is refused and changes nothing") {
      const auto before = table_counts(f.database);
      const auto again = f.migrate({"--to", f.url});
      CHECK(again.exit_code == 1);
      CHECK(again.out.empty());
      CHECK(again.err.find("refused: postgresql://migrate_owner:***@127.0.0.1:") != std::string::npos);
      CHECK(again.err.find("is not empty: 2 rows in accounts, 3 rows in currencies, ") != std::string::npos);
      CHECK(again.err.find(" rows in readings, 3 rows in heads, 3 rows in failures, ") != std::string::npos);
      CHECK(again.err.find(", 1 row in ledgers, 3 rows in alerts, 4 rows in outbox. migrate copies into an empty "
                           "database only; nothing was written") != std::string::npos);
      CHECK(table_counts(f.database) == before);
    }

    SUBCASE("rows written after the copy get fresh ids") {
      const auto max_account = count(f.database, "SELECT max(id) FROM accounts");
      const auto max_currency = count(f.database, "SELECT max(id) FROM currencies");
      const auto max_failure = count(f.database, "SELECT max(id) FROM failures");
      const auto max_outbox = count(f.database, "SELECT max(id) FROM outbox");
      postgres.add_samples({{"gamma", minute(k_rounds), "GBP", Decimal::from_micros(41'000'000), std::nullopt, ""}},
                           {"gamma", minute(k_rounds), "ok", 200, 0.2, ""});
      postgres.add_probe({"beta", minute(k_rounds), "timeout", 0, 15.0, "timed out"});
      postgres.save_alert({"beta", "min_balance", "firing", "warning", minute(k_rounds), minute(k_rounds), "{}"},
                          {notification("hook", "beta/min_balance", k_rounds)});
      CHECK(count(f.database, "SELECT id FROM accounts WHERE name = 'gamma'") > max_account);
      CHECK(count(f.database, "SELECT id FROM currencies WHERE code = 'GBP'") > max_currency);
      CHECK(count(f.database, "SELECT max(id) FROM failures") == max_failure + 1);
      CHECK(count(f.database, "SELECT max(id) FROM outbox") == max_outbox + 1);
      CHECK(postgres.samples("gamma", minute(k_rounds)).size() == 1);
      CHECK(postgres.probe_counts("beta").failed == 3);
    }
  }

  TEST_CASE("a schema-3 database is migrated to schema 4 and copied whole" * doctest::skip(PostgresServer::skipped())) {
    MigrateFixture f("migrate_schema_3");
    std::filesystem::copy_file(std::string(CREDITWATCH_SOURCE_DIR) + "/tests/data/schema_v3/creditwatch.db", f.db_path);
    const TimePoint fixture_t0 = from_unix_ms(1'796'000'000'000);

    const auto copied = f.migrate({"--to", f.url});
    REQUIRE(copied.exit_code == 0);
    // The copy opened (and so migrated) the file first.
    CHECK(storage::SqliteStore(f.db_path).schema_version() == storage::SqliteStore::k_schema_version);
    const auto counts = sqlite_counts(f.db_path);
    CHECK(table_counts(f.database) == counts);
    CHECK(counts.find("accounts 4|currencies 3|") == 0);
    CHECK(counts.find("|failures 3|rollups 0|ledgers 0|alerts 4|outbox 4|silences 0|acks 0\n") != std::string::npos);
    CHECK(copied.out.find("outbox      4 (2 pending)") != std::string::npos);

    storage::SqliteStore sqlite(f.db_path);
    storage::PostgresStore postgres(f.url);
    for (const std::string account : {"ds-main", "or-counter", "flaky", "revoked"}) {
      CAPTURE(account);
      CHECK(everything_of(postgres, account, fixture_t0) == everything_of(sqlite, account, fixture_t0));
    }
    // The runs, not the 40 readings: unchanged readings were compacted by the migration.
    CHECK(postgres.samples("ds-main", fixture_t0).size() == 22);
    CHECK(postgres.probe_counts("ds-main").ok == 40);
    CHECK(postgres.latest_probe("flaky")->message == "HTTP 503: upstream überlastet — réessayez");
    check_same_rows(postgres.notifications(), sqlite.notifications());
    for (const auto* query : {k_failure_query, k_account_query, k_reading_query}) {
      CAPTURE(query);
      CHECK(postgres_lines(f.database, query) == sqlite_lines(f.db_path, query));
    }

    // The next reading continues the copied head.
    const auto last = postgres.latest_sample("ds-main");
    REQUIRE(last.has_value());
    postgres.add_samples({{"ds-main", last->seen_until + std::chrono::minutes(1), "CNY", last->balance, std::nullopt,
                           last->details_json}},
                         {"ds-main", last->seen_until + std::chrono::minutes(1), "ok", 200, 0.05, ""});
    CHECK(postgres.samples("ds-main", fixture_t0).size() == 22);
    CHECK(postgres.latest_sample("ds-main")->seen_until == last->seen_until + std::chrono::minutes(1));
  }

  TEST_CASE("a copy that fails half-way leaves the target empty" * doctest::skip(PostgresServer::skipped())) {
    MigrateFixture f("migrate_half_way");
    {
      storage::SqliteStore sqlite(f.db_path);
      fill_samples(sqlite);
      fill_alerts(sqlite);
    }
    // The outbox is copied last: by then samples, probes and alerts are in.
    storage::PostgresStore(f.url).schema_version();
    postgres_lines(f.database,
                   "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
                   "'refused by the test'; END $$; CREATE TRIGGER refuse BEFORE INSERT ON outbox FOR EACH ROW "
                   "EXECUTE FUNCTION refuse()");

    const auto failed = f.migrate({"--to", f.url});
    CHECK(failed.exit_code == 1);
    CHECK(failed.err.find("failed, nothing was written") != std::string::npos);
    CHECK(failed.err.find("refused by the test") != std::string::npos);
    CHECK(table_counts(f.database) ==
          "accounts 0|currencies 0|readings 0|heads 0|failures 0|rollups 0|ledgers 0|alerts 0|outbox 0|silences 0|acks "
          "0\n");

    postgres_lines(f.database, "DROP TRIGGER refuse ON outbox");
    const auto copied = f.migrate({"--to", f.url});
    CHECK(copied.exit_code == 0);
    CHECK(table_counts(f.database) == sqlite_counts(f.db_path));
    CHECK(table_counts(f.database).find("|alerts 3|outbox 4|silences 0|acks 0\n") != std::string::npos);
  }

  TEST_CASE("what cannot be copied is said clearly and without the password" *
            doctest::skip(PostgresServer::skipped())) {
    MigrateFixture f("migrate_refusals");
    { storage::SqliteStore sqlite(f.db_path); }
    const auto port = std::to_string(f.server.port());

    SUBCASE("not a PostgreSQL URL") {
      const auto r = f.migrate({"--to", "mysql://root:Mig-p@ss@db/creditwatch"});
      CHECK(r.exit_code == 1);
      CHECK(r.err == "creditwatch migrate: --to must start with postgresql:// or postgres://\n");
    }
    SUBCASE("a wrong password") {
      const auto r = f.migrate({"--to", "postgresql://migrate_owner:Mig-p-wrong@127.0.0.1:" + port + "/" + f.database});
      CHECK(r.exit_code == 1);
      CHECK(r.err.find("cannot open postgresql://migrate_owner:***@127.0.0.1:" + port + "/" + f.database + ": ") !=
            std::string::npos);
      CHECK(r.err.find("password authentication failed") != std::string::npos);
    }
    SUBCASE("nobody listening") {
      const auto r = f.migrate({"--to", "postgresql://u:Mig-p-x@127.0.0.1:1/creditwatch"});
      CHECK(r.exit_code == 1);
      CHECK(r.err.find("cannot open postgresql://u:***@127.0.0.1:1/creditwatch: could not connect") !=
            std::string::npos);
    }
    SUBCASE("no target, or two") {
      CHECK(f.migrate({}).err.find("give the PostgreSQL database as --to URL or --to-file FILE") != std::string::npos);
      CHECK(f.migrate({"--to", f.url, "--to-file", f.url_file()}).exit_code == 1);
    }
    SUBCASE("a config already on PostgreSQL") {
      const auto config = f.dir.write("pg.yaml", "storage:\n  url_file: " + f.url_file() + "\n" + k_one_account);
      const auto r = run_creditwatch({"migrate", "-c", config, "--to", f.url});
      check_no_password(r);
      CHECK(r.exit_code == 1);
      CHECK(r.err.find("sets storage.url: it already uses PostgreSQL") != std::string::npos);
    }
    SUBCASE("no SQLite database where the config says") {
      const auto config = f.dir.write("gone.yaml", "storage:\n  path: " + f.dir.file("gone.db") + "\n" + k_one_account);
      const auto r = run_creditwatch({"migrate", "-c", config, "--to", f.url});
      CHECK(r.exit_code == 1);
      CHECK(r.err.find("no SQLite database at \"" + f.dir.file("gone.db") + "\"") != std::string::npos);
    }
    // Refused before anything was created there.
    CHECK(postgres_lines(f.database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0\n");
  }
}
