// The sign-in form in a real headless Chromium against the daemon with `http.auth_token`:
// opening / lands on the form (a password field, no account named), with no console error
// or CSP refusal; a screenshot is kept as an artefact (BUILD/tests/artifacts).
#include "http_daemon.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

const std::string k_token = "tok-BR0WSER-5ecret-c3";

std::string chromium_program() {
  for (const char* name : {"chromium", "chromium-browser"}) {
    if (auto found = find_program(name)) return *found;
  }
  FAIL("headless Chromium not found on PATH: install the Debian package `chromium` (scripts/install-deps does)");
  return "";
}

ProcessResult run_chromium(const std::string& url, const std::vector<std::string>& extra) {
  TempDir profile;
  std::vector<std::string> argv = {chromium_program(),       "--headless",
                                   "--no-sandbox",           "--disable-gpu",
                                   "--no-first-run",         "--disable-background-networking",
                                   "--disable-component-update", "--disable-sync",
                                   "--user-data-dir=" + profile.path(), "--enable-logging=stderr",
                                   "--v=0",                  "--virtual-time-budget=3000"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(url);
  auto r = run_process(argv, {{"HOME", profile.path()}}, 120s);
  REQUIRE_MESSAGE(!r.timed_out, "chromium timed out; stderr:\n" << r.err);
  REQUIRE_MESSAGE(r.exit_code == 0, "chromium failed (" << r.exit_code << "); stderr:\n" << r.err);
  return r;
}

// Console messages, uncaught exceptions and CSP refusals in Chromium's log.
std::vector<std::string> page_complaints(const std::string& stderr_text, const std::string& origin) {
  std::vector<std::string> out;
  std::istringstream lines(stderr_text);
  std::string line;
  while (std::getline(lines, line)) {
    const bool console = line.find(":CONSOLE") != std::string::npos && line.find(origin) != std::string::npos;
    if (console || line.find("Uncaught") != std::string::npos || line.find("Refused to") != std::string::npos) {
      out.push_back(line);
    }
  }
  return out;
}

}  // namespace

TEST_SUITE("sign_in_browser") {
  TEST_CASE("headless Chromium opening / with a token set shows the sign-in form and no account") {
    static_cast<void>(chromium_program());
    TempDir dir;
    const auto token_file = dir.write("http-token", k_token + "\n");
    dir.write("creditwatch.yaml",
              daemon_yaml(dir, simulated_account("sim-secretive", "500", "1000"), "  auth_token_file: " + token_file + "\n"));
    HttpDaemon daemon(dir);
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    REQUIRE(daemon.wait_for_burn({"sim-secretive"}, 20s, k_token));

    auto r = run_chromium(daemon.url("/"), {"--dump-dom"});
    const auto& dom = r.out;
    INFO("DOM:\n" << dom);
    INFO("chromium stderr:\n" << r.err);
    CHECK(dom.find("<form method=\"post\" action=\"/sign-in\"") != std::string::npos);
    CHECK(dom.find("type=\"password\"") != std::string::npos);
    CHECK(dom.find("sim-secretive") == std::string::npos);
    const auto complaints = page_complaints(r.err, daemon.url(""));
    CHECK_MESSAGE(complaints.empty(), "the page complained");

    const auto shot = artifacts_dir() + "/sign-in.png";
    std::filesystem::remove(shot);
    auto s = run_chromium(daemon.url("/"), {"--screenshot=" + shot, "--window-size=900,700", "--hide-scrollbars"});
    CHECK_MESSAGE(page_complaints(s.err, daemon.url("")).empty(), "console:\n" << s.err);
    CHECK(std::filesystem::exists(shot));
    CHECK(daemon.terminate() == 0);
  }
}
