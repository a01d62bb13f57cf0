// End-to-end: `creditwatch validate`, `--version`, `providers` and `--help` as a user runs them.
#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include "creditwatch/version.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

using namespace creditwatch::testing;

namespace {

constexpr const char* k_key = "sk-SECRET-abc123xyz";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// True when some line of stdout or stderr is exactly `line`.
bool printed_line(const ProcessResult& r, const std::string& line) {
  for (const auto* stream : {&r.out, &r.err}) {
    for (const auto& l : lines_of(*stream)) {
      if (l == line) return true;
    }
  }
  return false;
}

bool printed_match(const ProcessResult& r, const std::string& pattern) {
  const std::regex re(pattern);
  for (const auto* stream : {&r.out, &r.err}) {
    for (const auto& l : lines_of(*stream)) {
      if (std::regex_search(l, re)) return true;
    }
  }
  return false;
}

std::string regex_escape(const std::string& text) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(text, special, R"(\$&)");
}

void check_no_key(const ProcessResult& r) {
  CHECK_MESSAGE(r.out.find(k_key) == std::string::npos, "stdout leaks the key: " << r.out);
  CHECK_MESSAGE(r.err.find(k_key) == std::string::npos, "stderr leaks the key: " << r.err);
}

}  // namespace

TEST_SUITE("validate_cli") {
  TEST_CASE("a misspelt key is reported at its line and column with a hint") {
    TempDir dir;
    SUBCASE("two-space indentation") {
      auto config = dir.write("creditwatch.yaml",
                              "storage:\n"
                              "  path: " + dir.file("db.sqlite") + "\n"
                              "defaults:\n"
                              "  intervall: 5m\n"
                              "  timeout: 15s\n"
                              "accounts:\n"
                              "  - name: ds\n"
                              "    provider: deepseek\n"
                              "    api_key: ${DEEPSEEK_KEY}\n");
      auto r = run_creditwatch({"validate", "-c", config}, {{"DEEPSEEK_KEY", k_key}});
      INFO("stdout: " << r.out << "\nstderr: " << r.err);
      CHECK(r.exit_code == 1);
      CHECK(printed_line(r, config + ":4:3: unknown key \"intervall\" (did you mean \"interval\"?)"));
      CHECK(r.out.find("OK") == std::string::npos);
      check_no_key(r);
    }
    SUBCASE("four-space indentation, further down") {
      auto config = dir.write("deep.yaml",
                              "# comment line\n"
                              "\n"
                              "storage:\n"
                              "    path: " + dir.file("db.sqlite") + "\n"
                              "defaults:\n"
                              "    timeout: 15s\n"
                              "    intervall: 5m\n"
                              "accounts:\n"
                              "    - name: ds\n"
                              "      provider: deepseek\n"
                              "      api_key: k\n");
      auto r = run_creditwatch({"validate", "-c", config});
      INFO("stdout: " << r.out << "\nstderr: " << r.err);
      CHECK(r.exit_code == 1);
      CHECK(printed_line(r, config + ":7:5: unknown key \"intervall\" (did you mean \"interval\"?)"));
    }
    // validate reads the file only: no database appears.
    CHECK_FALSE(std::filesystem::exists(dir.file("db.sqlite")));
  }

  TEST_CASE("every problem of a file is reported, each with FILE:LINE:COL") {
    TempDir dir;
    auto config = dir.write("many.yaml",
                            "storage:\n"                                       // 1
                            "  path: " + dir.file("db.sqlite") + "\n"          // 2
                            "accounts:\n"                                      // 3
                            "  - name: ds\n"                                   // 4
                            "    provider: deepseek\n"                         // 5
                            "    api_key: ${CREDITWATCH_TEST_SURELY_UNSET}\n"  // 6
                            "    timeout: 1x\n"                                // 7
                            "  - name: Bad Name\n"                             // 8
                            "    provider: deepseek\n"                         // 9
                            "    api_key: k\n"                                 // 10
                            "bogus: 1\n");                                     // 11
    auto r = run_creditwatch({"validate", "-c", config});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 1);
    const std::string f = regex_escape(config);
    CHECK(printed_match(r, "^" + f + R"(:6:14: .*CREDITWATCH_TEST_SURELY_UNSET)"));
    CHECK(printed_match(r, "^" + f + R"(:7:14: .*timeout.*"1x")"));
    CHECK(printed_match(r, "^" + f + R"(:8:11: .*"Bad Name")"));
    CHECK(printed_line(r, config + ":11:1: unknown key \"bogus\""));
  }

  TEST_CASE("a provider setting nobody knows is reported with a hint") {
    TempDir dir;
    auto config = dir.write("acct.yaml",
                            "storage:\n"
                            "  path: " + dir.file("db.sqlite") + "\n"
                            "accounts:\n"
                            "  - name: ds\n"
                            "    provider: deepseek\n"
                            "    api_key: k\n"
                            "    min_balanse: 2\n");
    auto r = run_creditwatch({"validate", "-c", config});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(printed_match(r, "^" + regex_escape(config) +
                               R"(:7:5: unknown key "min_balanse".*\(did you mean "min_balance"\?\))"));
  }

  TEST_CASE("an unknown provider is reported with a hint") {
    TempDir dir;
    auto config = dir.write("prov.yaml",
                            "storage:\n"
                            "  path: " + dir.file("db.sqlite") + "\n"
                            "accounts:\n"
                            "  - name: ds\n"
                            "    provider: deepsek\n"
                            "    api_key: k\n");
    auto r = run_creditwatch({"validate", "-c", config});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(printed_match(r, "^" + regex_escape(config) +
                               R"(:[45]:[0-9]+: unknown provider "deepsek" \(did you mean "deepseek"\?\))"));
  }

  TEST_CASE("a YAML syntax error and a missing file are invalid, with a location") {
    TempDir dir;
    auto broken = dir.write("broken.yaml", "storage:\n  path: [unclosed\naccounts: {\n");
    auto r = run_creditwatch({"validate", "-c", broken});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(printed_match(r, "^" + regex_escape(broken) + R"(:[0-9]+:[0-9]+: .*YAML)"));

    const std::string missing = dir.file("nope.yaml");
    auto m = run_creditwatch({"validate", "-c", missing});
    CHECK(m.exit_code == 1);
    CHECK(printed_match(m, "^" + regex_escape(missing) + R"(:[0-9]+:[0-9]+: )"));
  }

  TEST_CASE("a valid file exits 0 without touching the network or printing the key") {
    FakeHttpServer server;
    server.get("/user/balance", [](const httplib::Request&, httplib::Response& res) {
      reply_json(res, 200, R"({"is_available":true,"balance_infos":[]})");
    });
    server.start();
    TempDir dir;
    std::ofstream(dir.file("keyfile")) << k_key << "\n";
    auto config = dir.write("good.yaml",
                            "storage:\n"
                            "  path: " + dir.file("db.sqlite") + "\n"
                            "defaults:\n"
                            "  interval: 5m\n"
                            "  timeout: 15s\n"
                            "  warn_days: 14\n"
                            "  critical_days: 3\n"
                            "accounts:\n"
                            "  - name: deepseek-prod\n"
                            "    provider: deepseek\n"
                            "    api_key: ${DEEPSEEK_KEY}\n"
                            "    base_url: " + server.url() + "\n"
                            "    min_balance: 2.00\n"
                            "    timeout: 1s\n"
                            "  - name: from-default\n"
                            "    provider: deepseek\n"
                            "    api_key: ${CREDITWATCH_TEST_SURELY_UNSET:-sk-default-value}\n"
                            "    base_url: " + server.url() + "\n"
                            "  - name: from-file\n"
                            "    provider: deepseek\n"
                            "    api_key_file: " + dir.file("keyfile") + "\n"
                            "    base_url: " + server.url() + "\n");
    auto r = run_creditwatch({"validate", "-c", config}, {{"DEEPSEEK_KEY", k_key}});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find(config) != std::string::npos);
    check_no_key(r);
    CHECK(r.out.find("sk-default-value") == std::string::npos);
    CHECK(server.request_count() == 0);
    CHECK_FALSE(std::filesystem::exists(dir.file("db.sqlite")));

    // The same file through $CREDITWATCH_CONFIG when -c is absent.
    auto env = run_creditwatch({"validate"}, {{"DEEPSEEK_KEY", k_key}, {"CREDITWATCH_CONFIG", config}});
    CHECK(env.exit_code == 0);
    check_no_key(env);
  }

  TEST_CASE("check with an invalid config is UNKNOWN and prints the same located errors") {
    TempDir dir;
    auto config = dir.write("creditwatch.yaml",
                            "storage:\n"
                            "  path: " + dir.file("db.sqlite") + "\n"
                            "defaults:\n"
                            "  intervall: 5m\n"
                            "accounts:\n"
                            "  - name: ds\n"
                            "    provider: deepseek\n"
                            "    api_key: k\n");
    auto r = run_creditwatch({"check", "-c", config});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 3);
    CHECK(printed_line(r, config + ":4:3: unknown key \"intervall\" (did you mean \"interval\"?)"));
  }

  TEST_CASE("--version prints creditwatch, libcurl and SQLite versions") {
    auto r = run_creditwatch({"--version"});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(printed_line(r, std::string("creditwatch ") + creditwatch::k_version));
    CHECK(printed_match(r, R"(^libcurl .*libcurl/[0-9]+\.[0-9]+)"));
    CHECK(printed_match(r, R"(^SQLite 3\.[0-9]+\.[0-9]+)"));
  }

  TEST_CASE("providers lists the second wave by the SPEC's names and says which are not built in and why") {
    auto p = run_creditwatch({"providers"});
    INFO("stdout: " << p.out << "\nstderr: " << p.err);
    CHECK(p.exit_code == 0);
    // SPEC "More providers and non-money units"; aiproxy and hyperbolic document no balance
    // endpoint, so they are named as left out, not guessed at.
    for (const char* name : {"oneapi", "zenmux", "litellm", "stepfun", "aimlapi", "vercel_gateway", "fal",
                             "cloudflare_gateway", "stability", "elevenlabs", "deepgram", "zhipu_plan", "minimax_plan",
                             "alibaba", "volcengine", "baidu", "telnyx", "plivo", "messagebird", "clicksend",
                             "textmagic", "serpapi", "scraperapi", "brightdata", "digitalocean"}) {
      CAPTURE(name);
      CHECK(printed_match(p, std::string("^") + name + " +(balance|balance\\+spend|quota) +"));
    }
    CHECK(printed_match(p, R"(^  aiproxy: .*documents no balance endpoint)"));
    CHECK(printed_match(p, R"(^  hyperbolic: .*documents no balance endpoint)"));

    TempDir dir;
    auto config = dir.write("creditwatch.yaml", "storage:\n  path: " + dir.file("db.sqlite") +
                                                    "\naccounts:\n  - name: gpu\n    provider: hyperbolic\n"
                                                    "    api_key: ${DEEPSEEK_KEY}\n");
    auto r = run_creditwatch({"validate", "-c", config}, {{"DEEPSEEK_KEY", k_key}});
    INFO("validate: " << r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(printed_match(r, "^" + config + R"(:4:5: provider "hyperbolic" is not built in: .*; read its balance with provider http_json$)"));
  }

  TEST_CASE("providers lists deepseek and its endpoint - --help lists the commands") {
    auto p = run_creditwatch({"providers"});
    INFO("stdout: " << p.out << "\nstderr: " << p.err);
    CHECK(p.exit_code == 0);
    CHECK(printed_match(p, R"(^deepseek +balance +.*/user/balance)"));

    auto h = run_creditwatch({"--help"});
    CHECK(h.exit_code == 0);
    for (const char* command : {"check", "validate", "providers"}) {
      CAPTURE(command);
      CHECK(h.out.find(command) != std::string::npos);
    }
    auto v = run_creditwatch({"validate", "--help"});
    CHECK(v.exit_code == 0);
    CHECK(v.out.find("-c") != std::string::npos);
  }
}
