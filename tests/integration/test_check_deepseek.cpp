// End-to-end: the real `creditwatch check` binary against a loopback fake of DeepSeek's
// GET /user/balance (shapes from shared/reference/providers.md sections 0, 1, 10 and 11).
#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include "creditwatch/storage/sqlite/sqlite_store.hpp"
#include "creditwatch/storage/store.hpp"
#include "creditwatch/version.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace creditwatch::testing;
using creditwatch::Decimal;
using nlohmann::json;

namespace {

// A distinctive key: any leak into stdout or stderr is unmistakable.
constexpr const char* k_key = "sk-SECRET-abc123xyz";
const std::map<std::string, std::string> k_env = {{"DEEPSEEK_KEY", k_key}};

// Documented bodies (providers.md section 1).
constexpr const char* k_doc_body =
    R"({"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"}]})";
constexpr const char* k_two_currencies =
    R"({"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"},{"currency":"USD","total_balance":"15.25","granted_balance":"0.00","topped_up_balance":"15.25"}]})";
constexpr const char* k_empty_account =
    R"({"is_available":false,"balance_infos":[{"currency":"CNY","total_balance":"0.00","granted_balance":"0.00","topped_up_balance":"0.00"}]})";
// The 401 body echoes the key's last four characters, as DeepSeek does.
constexpr const char* k_auth_failed =
    R"({"error":{"message":"Authentication Fails, Your api key: ****3xyz is invalid","type":"authentication_error","param":null,"code":"invalid_request_error"}})";
constexpr const char* k_insufficient =
    R"({"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":"invalid_request_error"}})";

struct AccountSpec {
  std::string name;
  std::string base_url;
  std::string extra = "";  // more account keys, each line indented by four spaces
};

std::string account_yaml(const AccountSpec& a) {
  return "  - name: " + a.name + "\n    provider: deepseek\n    api_key: ${DEEPSEEK_KEY}\n    base_url: " + a.base_url +
         "\n" + a.extra;
}

std::string write_config(const TempDir& dir, const std::vector<AccountSpec>& accounts,
                         const std::string& file = "creditwatch.yaml") {
  std::string yaml = "storage:\n  path: " + dir.file("db.sqlite") + "\naccounts:\n";
  for (const auto& a : accounts) yaml += account_yaml(a);
  return dir.write(file, yaml);
}

// The key, or a recognisable piece of it, must never reach the terminal.
void check_no_key(const ProcessResult& r) {
  for (const char* piece : {k_key, "SECRET-abc123", "abc123xyz"}) {
    CHECK_MESSAGE(r.out.find(piece) == std::string::npos, "stdout leaks the key: " << r.out);
    CHECK_MESSAGE(r.err.find(piece) == std::string::npos, "stderr leaks the key: " << r.err);
  }
}

struct CheckRun {
  ProcessResult process;
  json accounts;  // the --json array
  double seconds = 0;

  // The entry of one account in the --json output (null when absent).
  json entry(const std::string& name) const {
    for (const auto& a : accounts) {
      if (a.value("account", "") == name) return a;
    }
    return nullptr;
  }
};

CheckRun check_json(const std::string& config, std::vector<std::string> extra = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  std::vector<std::string> args = {"check", "-c", config, "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto started = std::chrono::steady_clock::now();
  CheckRun run;
  run.process = run_creditwatch(args, k_env, timeout);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  INFO("stdout: " << run.process.out);
  INFO("stderr: " << run.process.err);
  REQUIRE_FALSE(run.process.timed_out);
  check_no_key(run.process);
  run.accounts = json::parse(run.process.out, nullptr, false);
  REQUIRE_MESSAGE(!run.accounts.is_discarded(), "--json output does not parse: " << run.process.out);
  REQUIRE(run.accounts.is_array());
  for (const auto& a : run.accounts) {
    REQUIRE(a.is_object());
    REQUIRE(a.contains("account"));
    REQUIRE(a.contains("balance"));
  }
  return run;
}

// Serves one canned answer at {prefix}/user/balance.
void serve(FakeHttpServer& server, const std::string& prefix, int status, std::string body,
           std::string content_type = "application/json", std::vector<std::pair<std::string, std::string>> headers = {}) {
  server.get(prefix + "/user/balance", [=](const httplib::Request&, httplib::Response& res) {
    res.status = status;
    for (const auto& [k, v] : headers) res.set_header(k, v);
    res.set_content(body, content_type);
  });
}

// Holds slow handlers until the test ends, so the server's destructor never waits long.
class Gate {
public:
  bool open() const { return m_open.load(); }
  void release() { m_open = true; }

private:
  std::atomic<bool> m_open{false};
};
// Declared after the server: opens the gate before the server joins its workers.
struct GateRelease {
  Gate& gate;
  ~GateRelease() { gate.release(); }
};

// A loopback port nobody listens on.
int closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(fd);
  return ntohs(addr.sin_port);
}

// A socket that completes TCP handshakes (the kernel does that) but never reads or answers.
class SilentListener {
public:
  SilentListener() {
    m_fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(m_fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(m_fd, 16) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    m_port = ntohs(addr.sin_port);
  }
  ~SilentListener() { close(m_fd); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

private:
  int m_fd = -1;
  int m_port = 0;
};

std::string fixed2(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return buffer;
}

std::string balance_body(const std::string& currency, const std::string& total) {
  return R"({"is_available":true,"balance_infos":[{"currency":")" + currency + R"(","total_balance":")" + total +
         R"(","granted_balance":"0.00","topped_up_balance":")" + total + R"("}]})";
}

Decimal dec(const char* text) { return *Decimal::parse(text); }

}  // namespace

TEST_SUITE("check_deepseek") {
  TEST_CASE("a normal single-currency balance is read, printed and stored exactly") {
    FakeHttpServer server;
    serve(server, "", 200, k_doc_body);
    server.start();
    TempDir dir;
    auto config = write_config(dir, {{"ds", server.url()}});

    SUBCASE("table output") {
      auto r = run_creditwatch({"check", "-c", config}, k_env);
      INFO("stdout: " << r.out << "\nstderr: " << r.err);
      CHECK(r.exit_code == 0);
      CHECK(r.out.find("ds") != std::string::npos);
      CHECK(r.out.find("deepseek") != std::string::npos);
      CHECK(r.out.find("110.00") != std::string::npos);
      CHECK(r.out.find("CNY") != std::string::npos);
      CHECK(r.out.find("OK") != std::string::npos);
      check_no_key(r);
    }
    SUBCASE("json output") {
      auto run = check_json(config);
      CHECK(run.process.exit_code == 0);
      REQUIRE(run.accounts.size() == 1);
      auto ds = run.entry("ds");
      CHECK(ds["provider"] == "deepseek");
      CHECK(ds["state"] == "OK");
      CHECK(ds["currency"] == "CNY");
      CHECK(ds["balance"].get<double>() == doctest::Approx(110.0));
      CHECK(ds["error"].is_null());
      REQUIRE(ds["balances"].size() == 1);
      CHECK(ds["balances"][0]["currency"] == "CNY");
    }

    // The request is the documented one.
    REQUIRE(server.request_count() == 1);
    const auto request = server.requests()[0];
    CHECK(request.method == "GET");
    CHECK(request.path == "/user/balance");
    CHECK(request.header("Authorization") == std::string("Bearer ") + k_key);
    CHECK(request.header("User-Agent") == std::string("creditwatch/") + creditwatch::k_version);

    // The sample is in the database with its currency, exact amount and breakdown.
    creditwatch::storage::SqliteStore store(dir.file("db.sqlite"));
    auto rows = store.samples("ds", creditwatch::TimePoint{});
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].account == "ds");
    CHECK(rows[0].currency == "CNY");
    CHECK(rows[0].balance == dec("110.00"));
    CHECK(rows[0].balance.to_string() == "110.00");
    auto details = json::parse(rows[0].details_json, nullptr, false);
    REQUIRE(details.is_object());
    CHECK(details["granted_balance"] == "10.00");
    CHECK(details["topped_up_balance"] == "100.00");
    auto probe = store.latest_probe("ds");
    REQUIRE(probe.has_value());
    CHECK(probe->outcome == "ok");
  }

  TEST_CASE("several currencies all appear in --json balances and in the database") {
    FakeHttpServer server;
    serve(server, "", 200, k_two_currencies);
    server.start();
    TempDir dir;
    auto config = write_config(dir, {{"ds", server.url()}});
    auto run = check_json(config);
    CHECK(run.process.exit_code == 0);
    auto ds = run.entry("ds");
    REQUIRE(ds.is_object());
    CHECK(ds["state"] == "OK");
    REQUIRE(ds["balances"].is_array());
    REQUIRE(ds["balances"].size() == 2);
    std::map<std::string, double> seen;
    for (const auto& b : ds["balances"]) seen[b["currency"].get<std::string>()] = b["balance"].get<double>();
    CHECK(seen.count("CNY") == 1);
    CHECK(seen.count("USD") == 1);
    CHECK(seen["CNY"] == doctest::Approx(110.0));
    CHECK(seen["USD"] == doctest::Approx(15.25));

    creditwatch::storage::SqliteStore store(dir.file("db.sqlite"));
    auto cny = store.samples("ds", creditwatch::TimePoint{}, "CNY");
    auto usd = store.samples("ds", creditwatch::TimePoint{}, "USD");
    REQUIRE(cny.size() == 1);
    REQUIRE(usd.size() == 1);
    CHECK(cny[0].balance == dec("110.00"));
    CHECK(usd[0].balance == dec("15.25"));
    CHECK(store.samples("ds", creditwatch::TimePoint{}).size() == 2);
  }

  TEST_CASE("is_available:false means the account is dry: CRITICAL") {
    FakeHttpServer server;
    serve(server, "/zero", 200, k_empty_account);
    // Balance left but the API says it cannot serve (CodexBar's "Balance unavailable").
    serve(server, "/blocked", 200,
          R"({"is_available":false,"balance_infos":[{"currency":"CNY","total_balance":"5.00","granted_balance":"5.00","topped_up_balance":"0.00"}]})");
    // No entries at all, and unavailable.
    serve(server, "/nothing", 200, R"({"is_available":false,"balance_infos":[]})");
    // Available but zero: the balance itself says dry.
    serve(server, "/drained", 200, balance_body("CNY", "0.00"));
    server.start();
    TempDir dir;
    auto config = write_config(dir, {{"zero", server.url() + "/zero"},
                                     {"blocked", server.url() + "/blocked"},
                                     {"nothing", server.url() + "/nothing"},
                                     {"drained", server.url() + "/drained"}});

    auto run = check_json(config);
    CHECK(run.process.exit_code == 2);
    for (const char* name : {"zero", "blocked", "nothing", "drained"}) {
      CAPTURE(name);
      auto a = run.entry(name);
      REQUIRE(a.is_object());
      CHECK(a["state"] == "CRITICAL");
      bool exhausted = false;
      for (const auto& f : a["firing"]) exhausted = exhausted || f["rule"] == "exhausted";
      CHECK_MESSAGE(exhausted, a.dump());
    }
    CHECK(run.entry("zero")["balance"].get<double>() == doctest::Approx(0.0));

    creditwatch::storage::SqliteStore store(dir.file("db.sqlite"));
    auto rows = store.samples("zero", creditwatch::TimePoint{});
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].balance == Decimal());
    CHECK(rows[0].currency == "CNY");
  }

  TEST_CASE("HTTP 401 authentication_error is key_invalid, CRITICAL, and the key stays secret") {
    FakeHttpServer server;
    serve(server, "", 401, k_auth_failed);
    server.start();
    TempDir dir;
    auto config = write_config(dir, {{"ds", server.url()}});

    auto table = run_creditwatch({"check", "-c", config}, k_env);
    CHECK(table.exit_code == 2);
    check_no_key(table);

    auto run = check_json(config);
    CHECK(run.process.exit_code == 2);
    auto ds = run.entry("ds");
    CHECK(ds["state"] == "CRITICAL");
    REQUIRE(ds["error"].is_object());
    CHECK(ds["error"]["kind"] == "key_invalid");
    CHECK(ds["error"]["http_status"] == 401);
    CHECK(ds["error"]["message"].get<std::string>().find("Authentication Fails") != std::string::npos);

    creditwatch::storage::SqliteStore store(dir.file("db.sqlite"));
    auto probe = store.latest_probe("ds");
    REQUIRE(probe.has_value());
    CHECK(probe->outcome == "key_invalid");
    CHECK(probe->http_status == 401);
    CHECK(probe->message.find(k_key) == std::string::npos);
    CHECK(store.samples("ds", creditwatch::TimePoint{}).empty());
  }

  TEST_CASE("an error body that echoes the whole key is redacted") {
    FakeHttpServer server;
    serve(server, "", 401,
          std::string(R"({"error":{"message":"Authentication Fails, Your api key: )") + k_key +
              R"( is invalid","type":"authentication_error","param":null,"code":"invalid_request_error"}})");
    serve(server, "/html", 200, std::string("<html><body>bad key ") + k_key + "</body></html>", "text/html");
    server.start();
    TempDir dir;
    auto config = write_config(dir, {{"ds", server.url()}, {"html", server.url() + "/html"}});
    auto table = run_creditwatch({"check", "-c", config}, k_env);
    check_no_key(table);
    auto run = check_json(config);  // asserts no leak
    CHECK(run.process.exit_code == 2);
    CHECK(run.entry("ds")["error"]["kind"] == "key_invalid");
    creditwatch::storage::SqliteStore store(dir.file("db.sqlite"));
    for (const char* name : {"ds", "html"}) {
      auto probe = store.latest_probe(name);
      REQUIRE(probe.has_value());
      CHECK(probe->message.find(k_key) == std::string::npos);
    }
  }

  TEST_CASE("HTTP 402 Insufficient Balance is exhausted and CRITICAL, without retries") {
    FakeHttpServer server;
    serve(server, "", 402, k_insufficient);
    server.start();
    TempDir dir;
    auto config = write_config(dir, {{"ds", server.url()}});
    auto run = check_json(config);
    CHECK(run.process.exit_code == 2);
    auto ds = run.entry("ds");
    CHECK(ds["state"] == "CRITICAL");
    CHECK(ds["error"]["kind"] == "exhausted");
    CHECK(ds["error"]["http_status"] == 402);
    CHECK(ds["error"]["message"].get<std::string>().find("Insufficient Balance") != std::string::npos);
    CHECK(server.request_count() == 1);  // never retry-loop on a balance error
  }

  TEST_CASE("HTTP 429 with Retry-After is rate_limited: UNKNOWN") {
    FakeHttpServer server;
    serve(server, "", 429, R"({"error":{"message":"Rate Limit Reached","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}})",
          "application/json", {{"Retry-After", "30"}});
    server.start();
    TempDir dir;
    auto config = write_config(dir, {{"ds", server.url()}});
    auto run = check_json(config);
    CHECK(run.process.exit_code == 3);
    auto ds = run.entry("ds");
    CHECK(ds["state"] == "UNKNOWN");
    CHECK(ds["error"]["kind"] == "rate_limited");
    CHECK(ds["error"]["http_status"] == 429);
    CHECK(run.seconds < 10);  // a one-shot check does not sleep out a 30 s Retry-After
    creditwatch::storage::SqliteStore store(dir.file("db.sqlite"));
    auto probe = store.latest_probe("ds");
    REQUIRE(probe.has_value());
    CHECK(probe->outcome == "rate_limited");
  }

  TEST_CASE("HTTP 500 and 503 are server errors: UNKNOWN") {
    FakeHttpServer server;
    serve(server, "/e500", 500, R"({"error":{"message":"Server Error","type":"server_error","param":null,"code":null}})");
    serve(server, "/e503", 503, "Service Unavailable", "text/plain");
    server.start();
    TempDir dir;
    auto config = write_config(dir, {{"e500", server.url() + "/e500"}, {"e503", server.url() + "/e503"}});
    for (const char* name : {"e500", "e503"}) {
      CAPTURE(name);
      auto run = check_json(config, {"--account", name});
      CHECK(run.process.exit_code == 3);
      REQUIRE(run.accounts.size() == 1);
      auto a = run.entry(name);
      CHECK(a["state"] == "UNKNOWN");
      CHECK(a["error"]["kind"] == "server_error");
      CHECK(a["error"]["http_status"] == (std::string(name) == "e500" ? 500 : 503));
    }
  }

  TEST_CASE("an HTML page with status 200 is a bad_response with a clear message") {
    FakeHttpServer server;
    serve(server, "", 200,
          "<!DOCTYPE html>\n<html><head><title>New API</title></head><body><div id=\"root\"></div></body></html>\n",
          "text/html");
    server.start();
    TempDir dir;
    auto config = write_config(dir, {{"ds", server.url()}});
    auto run = check_json(config);
    CHECK(run.process.exit_code == 3);
    auto ds = run.entry("ds");
    CHECK(ds["state"] == "UNKNOWN");
    CHECK(ds["error"]["kind"] == "bad_response");
    const auto message = ds["error"]["message"].get<std::string>();
    CHECK_MESSAGE(message.find("HTML") != std::string::npos, message);
    CHECK_MESSAGE(message.find("JSON") != std::string::npos, message);

    auto table = run_creditwatch({"check", "-c", config}, k_env);
    CHECK(table.exit_code == 3);
    CHECK(table.out.find("HTML") != std::string::npos);
  }

  TEST_CASE("wrong JSON types are a bad_response naming the field") {
    struct Case {
      const char* what;
      std::string body;
      std::string field;
    };
    const std::vector<Case> cases = {
        {"total_balance is a boolean",
         R"({"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":true,"granted_balance":"0.00","topped_up_balance":"0.00"}]})",
         "total_balance"},
        {"total_balance is not numeric",
         R"({"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"lots","granted_balance":"0.00","topped_up_balance":"0.00"}]})",
         "total_balance"},
        {"total_balance is missing", R"({"is_available":true,"balance_infos":[{"currency":"CNY"}]})", "total_balance"},
        {"balance_infos is an object",
         R"({"is_available":true,"balance_infos":{"currency":"CNY","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"}})",
         "balance_infos"},
        {"is_available is a string",
         R"({"is_available":"yes","balance_infos":[{"currency":"CNY","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"}]})",
         "is_available"},
        {"is_available is missing",
         R"({"balance_infos":[{"currency":"CNY","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"}]})",
         "is_available"},
        {"a balance_infos entry is a string", R"({"is_available":true,"balance_infos":["CNY 110.00"]})", "balance_infos[0]"},
        {"currency is a number",
         R"({"is_available":true,"balance_infos":[{"currency":156,"total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"}]})",
         "currency: expected a string"},
        {"currency is missing", R"({"is_available":true,"balance_infos":[{"total_balance":"110.00"}]})",
         "currency is missing"},
        {"balance_infos is empty", R"({"is_available":true,"balance_infos":[]})", "balance_infos"},
    };
    // Bodies that are not JSON objects at all.
    const std::vector<std::pair<const char*, std::string>> not_objects = {
        {"a bare string", R"("Api key is invalid")"},
        {"truncated JSON", R"({"is_available":true,"balance_infos":[{"currency":"CNY","total_bal)"},
        {"an empty body", ""},
        {"a JSON array", R"([{"currency":"CNY","total_balance":"110.00"}])"},
    };

    FakeHttpServer server;
    std::vector<AccountSpec> accounts;
    for (std::size_t i = 0; i < cases.size(); ++i) {
      serve(server, "/t" + std::to_string(i), 200, cases[i].body);
      accounts.push_back({"t" + std::to_string(i), ""});
    }
    for (std::size_t i = 0; i < not_objects.size(); ++i) {
      serve(server, "/n" + std::to_string(i), 200, not_objects[i].second);
      accounts.push_back({"n" + std::to_string(i), ""});
    }
    server.start();
    for (auto& a : accounts) a.base_url = server.url() + "/" + a.name;
    TempDir dir;
    // One run probes them all in parallel: each must fail on its own.
    auto run = check_json(write_config(dir, accounts));
    CHECK(run.process.exit_code == 3);
    REQUIRE(run.accounts.size() == accounts.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
      CAPTURE(cases[i].what);
      auto a = run.entry("t" + std::to_string(i));
      REQUIRE(a.is_object());
      CHECK(a["state"] == "UNKNOWN");
      REQUIRE(a["error"].is_object());
      CHECK(a["error"]["kind"] == "bad_response");
      const auto message = a["error"]["message"].get<std::string>();
      CHECK_MESSAGE(message.find(cases[i].field) != std::string::npos, message);
    }
    for (std::size_t i = 0; i < not_objects.size(); ++i) {
      CAPTURE(not_objects[i].first);
      auto a = run.entry("n" + std::to_string(i));
      REQUIRE(a.is_object());
      CHECK(a["state"] == "UNKNOWN");
      REQUIRE(a["error"].is_object());
      CHECK(a["error"]["kind"] == "bad_response");
      CHECK_FALSE(a["error"]["message"].get<std::string>().empty());
    }
  }

  TEST_CASE("amounts sent as JSON numbers are accepted (older docs)") {
    FakeHttpServer server;
    serve(server, "", 200,
          R"({"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":110.5,"granted_balance":10,"topped_up_balance":100.5},{"currency":"USD","total_balance":7,"granted_balance":0,"topped_up_balance":7}]})");
    server.start();
    TempDir dir;
    auto config = write_config(dir, {{"ds", server.url()}});
    auto run = check_json(config);
    CHECK(run.process.exit_code == 0);
    auto ds = run.entry("ds");
    CHECK(ds["state"] == "OK");
    CHECK(ds["balance"].get<double>() == doctest::Approx(110.5));
    creditwatch::storage::SqliteStore store(dir.file("db.sqlite"));
    auto cny = store.samples("ds", creditwatch::TimePoint{}, "CNY");
    auto usd = store.samples("ds", creditwatch::TimePoint{}, "USD");
    REQUIRE(cny.size() == 1);
    REQUIRE(usd.size() == 1);
    CHECK(cny[0].balance == dec("110.5"));
    CHECK(usd[0].balance == dec("7"));
  }

  TEST_CASE("leading blank lines before the JSON (DeepSeek keep-alive) are accepted") {
    FakeHttpServer server;
    serve(server, "/buffered", 200, std::string("\n\n\r\n\n") + k_doc_body);
    // Realistic: blank lines trickle out while the server is busy, then the JSON.
    server.get("/streamed/user/balance", [](const httplib::Request&, httplib::Response& res) {
      auto step = std::make_shared<int>(0);
      res.set_chunked_content_provider("application/json", [step](std::size_t, httplib::DataSink& sink) {
        if (*step < 4) {
          ++*step;
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          return sink.write("\n", 1);
        }
        std::string body = k_doc_body;
        sink.write(body.data(), body.size());
        sink.done();
        return true;
      });
    });
    server.start();
    TempDir dir;
    auto config =
        write_config(dir, {{"buffered", server.url() + "/buffered"}, {"streamed", server.url() + "/streamed"}});
    auto run = check_json(config);
    CHECK(run.process.exit_code == 0);
    for (const char* name : {"buffered", "streamed"}) {
      CAPTURE(name);
      auto a = run.entry(name);
      CHECK(a["state"] == "OK");
      CHECK(a["error"].is_null());
      CHECK(a["balance"].get<double>() == doctest::Approx(110.0));
    }
  }

  TEST_CASE("a body over the 1 MiB cap is body_too_large") {
    // A JSON body of ~1.5 MiB: valid JSON, just too big.
    std::string big = R"({"is_available":true,"padding":")" + std::string(1536 * 1024, 'x') +
                      R"(","balance_infos":[{"currency":"CNY","total_balance":"1.00"}]})";
    FakeHttpServer server;
    // httplib brotli-compresses JSON for curl (which sends Accept-Encoding), and that is slow
    // on megabytes; octet-stream goes out as is, with a Content-Length over the cap.
    serve(server, "/sized", 200, big, "application/octet-stream");
    // Exactly 1 MiB is still accepted: the cap is inclusive.
    const std::string head = R"({"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"1.00"}],"padding":")";
    const std::string tail = R"("})";
    const std::string exact = head + std::string((1u << 20) - head.size() - tail.size(), 'x') + tail;
    REQUIRE(exact.size() == (1u << 20));
    serve(server, "/exact", 200, exact, "application/octet-stream");
    server.get("/chunked/user/balance", [big](const httplib::Request&, httplib::Response& res) {
      // No Content-Length, and compressed on the wire: the cap must hold on the decoded
      // stream too (a small compressed body can inflate past it).
      res.set_chunked_content_provider("application/json", [big](std::size_t offset, httplib::DataSink& sink) {
        if (offset >= big.size()) {
          sink.done();
          return true;
        }
        std::size_t n = std::min<std::size_t>(64 * 1024, big.size() - offset);
        return sink.write(big.data() + offset, n);
      });
    });
    server.start();
    TempDir dir;
    auto config = write_config(dir, {{"sized", server.url() + "/sized"},
                                     {"chunked", server.url() + "/chunked"},
                                     {"exact", server.url() + "/exact"}});
    auto run = check_json(config);
    CHECK(run.process.exit_code == 3);
    CHECK(run.entry("exact")["state"] == "OK");
    CHECK(run.entry("exact")["balance"].get<double>() == doctest::Approx(1.0));
    for (const char* name : {"sized", "chunked"}) {
      CAPTURE(name);
      auto a = run.entry(name);
      CHECK(a["state"] == "UNKNOWN");
      REQUIRE(a["error"].is_object());
      CHECK(a["error"]["kind"] == "body_too_large");
    }
  }

  TEST_CASE("a server that never answers times out after the account's timeout") {
    SilentListener silent;
    Gate gate;
    FakeHttpServer server;
    // Headers sent, then blank keep-alive lines forever: the total timeout still applies.
    server.get("/dribble/user/balance", [&gate](const httplib::Request&, httplib::Response& res) {
      auto started = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
      res.set_chunked_content_provider("application/json", [&gate, started](std::size_t, httplib::DataSink& sink) {
        if (gate.open() || std::chrono::steady_clock::now() - *started > std::chrono::seconds(8)) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        return sink.write("\n", 1);
      });
    });
    // Accepts the request and sits on it without sending a byte.
    server.get("/stall/user/balance", [&gate](const httplib::Request&, httplib::Response& res) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
      while (!gate.open() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      reply_json(res, 200, k_doc_body);
    });
    serve(server, "/fine", 200, k_doc_body);
    server.start();
    GateRelease release{gate};
    TempDir dir;
    const std::string timeout = "    timeout: 1s\n";
    auto config = write_config(dir, {{"silent", silent.url(), timeout},
                                     {"dribble", server.url() + "/dribble", timeout},
                                     {"stall", server.url() + "/stall", timeout},
                                     {"fine", server.url() + "/fine", timeout}});

    auto run = check_json(config, {}, std::chrono::seconds(15));
    CHECK(run.process.exit_code == 3);
    // Probes run in parallel and each gives up after 1 s.
    CHECK_MESSAGE(run.seconds < 4.0, "check took " << run.seconds << " s");
    for (const char* name : {"silent", "dribble", "stall"}) {
      CAPTURE(name);
      auto a = run.entry(name);
      CHECK(a["state"] == "UNKNOWN");
      REQUIRE(a["error"].is_object());
      CHECK(a["error"]["kind"] == "timeout");
    }
    CHECK(run.entry("fine")["state"] == "OK");
    gate.release();
  }

  TEST_CASE("connection refused is UNKNOWN") {
    TempDir dir;
    auto config = write_config(dir, {{"ds", "http://127.0.0.1:" + std::to_string(closed_port())}});
    auto run = check_json(config);
    CHECK(run.process.exit_code == 3);
    auto ds = run.entry("ds");
    CHECK(ds["state"] == "UNKNOWN");
    REQUIRE(ds["error"].is_object());
    CHECK(ds["error"]["kind"] == "connect");
    CHECK(run.seconds < 5.0);
    creditwatch::storage::SqliteStore store(dir.file("db.sqlite"));
    auto probe = store.latest_probe("ds");
    REQUIRE(probe.has_value());
    CHECK(probe->outcome == "connect");
  }

  TEST_CASE("a falling balance turns CRITICAL on the second run - the worst account decides") {
    // Balances move with wall time: `fast` loses 0.5 per second (runway minutes),
    // `slow` about 170 per day out of 1000 (runway ~6 days: WARNING), `calm` never moves.
    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [t0] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    FakeHttpServer server;
    server.get("/fast/user/balance", [elapsed](const httplib::Request&, httplib::Response& res) {
      reply_json(res, 200, balance_body("CNY", fixed2(100.0 - 0.5 * elapsed())));
    });
    server.get("/slow/user/balance", [elapsed](const httplib::Request&, httplib::Response& res) {
      char text[64];
      std::snprintf(text, sizeof text, "%.6f", 1000.0 - 0.002 * elapsed());
      reply_json(res, 200, balance_body("USD", text));
    });
    serve(server, "/calm", 200, balance_body("CNY", "50.00"));
    serve(server, "/broken", 500, R"({"error":{"message":"Server Error","type":"server_error","param":null,"code":null}})");
    server.start();
    TempDir dir;
    const AccountSpec fast{"fast", server.url() + "/fast"};
    const AccountSpec slow{"slow", server.url() + "/slow"};
    const AccountSpec calm{"calm", server.url() + "/calm"};
    const AccountSpec broken{"broken", server.url() + "/broken"};
    auto all = write_config(dir, {fast, slow, calm}, "all.yaml");

    // First run: one sample each, no spend seen yet.
    auto first = check_json(all);
    CHECK(first.process.exit_code == 0);
    for (const auto& a : first.accounts) CHECK(a["state"] == "OK");

    std::this_thread::sleep_for(std::chrono::milliseconds(2500));

    auto fast_run = check_json(all, {"--account", "fast"});
    CHECK(fast_run.process.exit_code == 2);
    REQUIRE(fast_run.accounts.size() == 1);
    auto f = fast_run.entry("fast");
    CHECK(f["state"] == "CRITICAL");
    REQUIRE(f["runway_days"].is_number());
    CHECK(f["runway_days"].get<double>() < 0.01);
    REQUIRE(f["burn_per_day"].is_number());
    CHECK(f["burn_per_day"].get<double>() == doctest::Approx(43200).epsilon(0.2));

    auto calm_run = check_json(all, {"--account", "calm"});
    CHECK(calm_run.process.exit_code == 0);
    REQUIRE(calm_run.accounts.size() == 1);
    CHECK(calm_run.entry("calm")["state"] == "OK");
    CHECK(calm_run.entry("calm")["burn_per_day"].is_null());

    auto slow_run = check_json(all, {"--account", "slow"});
    CHECK(slow_run.process.exit_code == 1);
    auto s = slow_run.entry("slow");
    CHECK(s["state"] == "WARNING");
    REQUIRE(s["runway_days"].is_number());
    CHECK(s["runway_days"].get<double>() > 3);
    CHECK(s["runway_days"].get<double>() < 14);

    // The worst account decides: CRITICAL > UNKNOWN > WARNING > OK.
    auto calm_slow = check_json(write_config(dir, {calm, slow}, "calm_slow.yaml"));
    CHECK(calm_slow.process.exit_code == 1);
    auto calm_slow_broken = check_json(write_config(dir, {calm, slow, broken}, "calm_slow_broken.yaml"));
    CHECK(calm_slow_broken.process.exit_code == 3);
    auto everything = check_json(write_config(dir, {calm, slow, broken, fast}, "everything.yaml"));
    CHECK(everything.process.exit_code == 2);
    CHECK(everything.entry("fast")["state"] == "CRITICAL");
    CHECK(everything.entry("broken")["state"] == "UNKNOWN");
    CHECK(everything.entry("slow")["state"] == "WARNING");
    CHECK(everything.entry("calm")["state"] == "OK");

    // Every successful probe was stored: a changed balance as a run of its own, an unchanged
    // one extending its run (and counted).
    creditwatch::storage::SqliteStore store(dir.file("db.sqlite"));
    auto fast_rows = store.samples("fast", creditwatch::TimePoint{});
    REQUIRE(fast_rows.size() == 3);
    CHECK(fast_rows[0].balance > fast_rows[1].balance);
    CHECK(fast_rows[1].balance > fast_rows[2].balance);
    auto calm_rows = store.samples("calm", creditwatch::TimePoint{});
    REQUIRE(calm_rows.size() == 1);
    CHECK(calm_rows[0].balance == dec("50.00"));
    CHECK(calm_rows[0].currency == "CNY");
    CHECK(calm_rows[0].seen_until > calm_rows[0].at);
    CHECK(store.probe_counts("calm").ok == 5);
    auto slow_rows = store.samples("slow", creditwatch::TimePoint{});
    REQUIRE_FALSE(slow_rows.empty());
    CHECK(slow_rows[0].currency == "USD");
    CHECK(store.samples("broken", creditwatch::TimePoint{}).empty());
  }

  TEST_CASE("--account probes only that account") {
    FakeHttpServer server;
    serve(server, "/a", 200, balance_body("CNY", "10.00"));
    serve(server, "/b", 200, balance_body("USD", "20.00"));
    server.start();
    TempDir dir;
    auto config = write_config(dir, {{"acct-a", server.url() + "/a"}, {"acct-b", server.url() + "/b"}});

    auto run = check_json(config, {"--account", "acct-b"});
    CHECK(run.process.exit_code == 0);
    REQUIRE(run.accounts.size() == 1);
    CHECK(run.accounts[0]["account"] == "acct-b");
    CHECK(run.accounts[0]["balance"].get<double>() == doctest::Approx(20.0));
    auto requests = server.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].path == "/b/user/balance");

    creditwatch::storage::SqliteStore store(dir.file("db.sqlite"));
    CHECK(store.samples("acct-a", creditwatch::TimePoint{}).empty());
    CHECK(store.samples("acct-b", creditwatch::TimePoint{}).size() == 1);

    // Without --account both are probed.
    auto both = check_json(config);
    CHECK(both.process.exit_code == 0);
    CHECK(both.accounts.size() == 2);
    CHECK(server.request_count() == 3);

    // An unknown account is UNKNOWN and probes nothing.
    auto missing = run_creditwatch({"check", "-c", config, "--account", "nope"}, k_env);
    CHECK(missing.exit_code == 3);
    CHECK(missing.err.find("nope") != std::string::npos);
    CHECK(server.request_count() == 3);
  }
}
