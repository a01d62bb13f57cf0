// The status page at / rendered by a real headless Chromium against the real daemon: a
// card per account, a balance chart (svg polyline of class "history") with the projection
// to zero, no console errors; screenshots are kept as artefacts (BUILD/tests/artifacts, or
// $CREDITWATCH_ARTIFACTS_DIR).
#include "http_daemon.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> k_accounts = {"sim-burner", "sim-calm", "ds-prod"};

// Four states on one page: CRITICAL (minutes left), OK (two days left against small
// thresholds), WARNING (a few hours left) and an account whose probes fail (the fake has
// nothing at its path), which has no samples to draw.
std::string page_accounts(const DeepSeekBalanceFake& deepseek) {
  return simulated_account("sim-burner", "500", "86400", "    labels: { team: bots }\n") +
         simulated_account("sim-calm", "2000", "1000", "    warn_days: 0.5\n    critical_days: 0.1\n") +
         deepseek_account("ds-prod", deepseek.url(), "    warn_days: 0.2\n    critical_days: 0.05\n") +
         deepseek_account("ds-broken", deepseek.url("/nothing-here"));
}

std::string chromium_program() {
  for (const char* name : {"chromium", "chromium-browser"}) {
    if (auto found = find_program(name)) return *found;
  }
  FAIL("headless Chromium not found on PATH: install the Debian package `chromium` (scripts/install-deps does)");
  return "";
}

// Runs headless Chromium on `url` with a fresh profile; `extra` selects --dump-dom or
// --screenshot. Console messages go to stderr through --enable-logging.
ProcessResult run_chromium(const std::string& url, const std::vector<std::string>& extra) {
  TempDir profile;
  std::vector<std::string> argv = {chromium_program(),
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--user-data-dir=" + profile.path(),
                                   "--enable-logging=stderr",
                                   "--v=0",
                                   "--virtual-time-budget=5000"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(url);
  auto r = run_process(argv, {{"HOME", profile.path()}}, 120s);
  REQUIRE_MESSAGE(!r.timed_out, "chromium timed out; stderr:\n" << r.err);
  REQUIRE_MESSAGE(r.exit_code == 0, "chromium failed (" << r.exit_code << "); stderr:\n" << r.err);
  return r;
}

// Lines of Chromium's log that come from the page: console messages (the page logs nothing
// on success), uncaught exceptions, failed loads and CSP refusals.
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

// The part of the DOM that belongs to the card of `account`.
std::string card_of(const std::string& dom, const std::string& account) {
  const auto attribute = dom.find("data-account=\"" + account + "\"");
  if (attribute == std::string::npos) return "";
  const auto start = dom.rfind("<section", attribute);
  const auto end = dom.find("<section", attribute);
  return dom.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// A card with figures and a chart: the history polyline and no error.
void check_card(const std::string& dom, const std::string& account) {
  CAPTURE(account);
  const auto card = card_of(dom, account);
  REQUIRE_MESSAGE(!card.empty(), "no card for " << account);
  CHECK(card.find("<h2>" + account + "</h2>") != std::string::npos);
  CHECK(card.find("Runway (P50)") != std::string::npos);
  CHECK(card.find("Recommended top-up") != std::string::npos);
  CHECK(card.find("Exhaustion") != std::string::npos);
  CHECK(card.find("<svg class=\"chart\"") != std::string::npos);
  const auto history = card.find("<polyline");
  REQUIRE(history != std::string::npos);
  CHECK(card.find("class=\"history\"", history) != std::string::npos);
  CHECK(card.find("class=\"error\"") == std::string::npos);
}

bool is_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, sizeof magic);
  return in && std::string(magic, 8) == std::string("\x89PNG\r\n\x1a\n", 8);
}

void screenshot(const HttpDaemon& daemon, const std::string& name, const std::string& size) {
  const auto path = artifacts_dir() + "/" + name;
  std::filesystem::remove(path);
  auto r = run_chromium(daemon.url("/"), {"--screenshot=" + path, "--window-size=" + size, "--hide-scrollbars"});
  CHECK_MESSAGE(page_complaints(r.err, daemon.url("")).empty(), "console:\n" << r.err);
  REQUIRE_MESSAGE(std::filesystem::exists(path), "no screenshot at " << path << "; stderr:\n" << r.err);
  CHECK(is_png(path));
  CHECK(std::filesystem::file_size(path) > 10'000);  // more than a blank page
  MESSAGE("status page screenshot: " << path);
}

}  // namespace

TEST_SUITE("status_page") {
  TEST_CASE("headless Chromium renders a card and a balance chart per account, without console errors") {
    static_cast<void>(chromium_program());  // fail early and clearly when it is missing
    TempDir dir;
    DeepSeekBalanceFake deepseek({""}, 0.01);  // 864 CNY a day: a few hours left, WARNING
    dir.write("creditwatch.yaml", daemon_yaml(dir, page_accounts(deepseek)));
    HttpDaemon daemon(dir);
    daemon.start();
    INFO("daemon log:\n" << daemon.log());
    REQUIRE(daemon.wait_for_burn(k_accounts, 20s));
    REQUIRE(eventually(
        [&] { return daemon.account("ds-broken") && !(*daemon.account("ds-broken"))["error"].is_null(); }, 20s));
    // A few more samples, so every chart has a line to draw.
    REQUIRE(eventually(
        [&] {
          for (const auto& a : k_accounts) {
            if (daemon.get_json("/api/v1/accounts/" + a + "/samples")["samples"].size() < 4) return false;
          }
          return true;
        },
        20s));

    auto r = run_chromium(daemon.url("/"), {"--dump-dom"});
    const auto& dom = r.out;
    INFO("DOM:\n" << dom);
    INFO("chromium stderr:\n" << r.err);
    const auto complaints = page_complaints(r.err, daemon.url(""));
    CHECK_MESSAGE(complaints.empty(), "the page complained:\n" << joined(complaints));
    CHECK(dom.find("id=\"updated\">update failed") == std::string::npos);
    CHECK(dom.find("class=\"empty\"") == std::string::npos);
    CHECK(dom.find("id=\"updated\">updated ") != std::string::npos);

    for (const auto& account : k_accounts) check_card(dom, account);
    // The burning account shows its state, its firing alert and the projection to zero.
    const auto burner = card_of(dom, "sim-burner");
    CHECK(burner.find("card CRITICAL") != std::string::npos);
    CHECK(burner.find("class=\"projection\"") != std::string::npos);
    CHECK(burner.find("critical · runway") != std::string::npos);
    CHECK(burner.find("USD") != std::string::npos);
    CHECK(card_of(dom, "sim-calm").find("card OK") != std::string::npos);
    CHECK(card_of(dom, "ds-prod").find("CNY") != std::string::npos);
    // The failing account still has its card: state, error and an empty chart.
    const auto broken = card_of(dom, "ds-broken");
    REQUIRE_MESSAGE(!broken.empty(), "no card for ds-broken");
    CHECK(broken.find("card UNKNOWN") != std::string::npos);
    CHECK(broken.find("class=\"error\"") != std::string::npos);
    CHECK(broken.find("no samples yet") != std::string::npos);

    screenshot(daemon, "status-page.png", "1200,900");
    screenshot(daemon, "status-page-phone.png", "390,844");
    CHECK(daemon.terminate() == 0);
  }
}
