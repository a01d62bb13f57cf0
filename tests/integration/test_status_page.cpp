// The status UI (web/, embedded) in a real headless Chromium against the real daemon with
// 5,000 simulated accounts: the fleet view at / lists them within seconds, filters (?q=),
// sorts (?sort=), and the account page /accounts/NAME draws its uPlot charts with the
// forecast band; no console errors. Screenshots are kept as artefacts (BUILD/tests/artifacts,
// or $CREDITWATCH_ARTIFACTS_DIR): fleet-view.png, account-page.png and their phone versions.
#include "http_daemon.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

constexpr int k_fleet = 5000;

// acct-00000 .. acct-04999: USD balances from 1,000 to 10,000 spending 50 to 5,050 a day
// (runways of hours to months, so every state shows), teams bots, payments, search, infra
// in turn; and ds-prod, a DeepSeek account whose key must never reach the page.
std::string fleet_yaml(const TempDir& dir, const DeepSeekBalanceFake& deepseek) {
  std::ostringstream y;
  y << "storage:\n  path: " << dir.file("creditwatch.db") << "\n";
  y << "http:\n  listen: 127.0.0.1:0\n";
  y << "defaults:\n  interval: 10s\n  timeout: 5s\n  burn_window: 1h\n";
  y << "logging:\n  level: info\n  format: text\n";
  y << "accounts:\n";
  const char* teams[] = {"bots", "payments", "search", "infra"};
  for (int i = 0; i < k_fleet; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "acct-%05d", i);
    y << simulated_account(name, std::to_string(1000 + (i * 7919) % 9000), std::to_string(50 + (i * 104729) % 5000),
                           std::string("    labels: { team: ") + teams[i % 4] + " }\n");
  }
  y << deepseek_account("ds-prod", deepseek.url(), "    labels: { team: bots }\n");
  return y.str();
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

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

bool is_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, sizeof magic);
  return in && std::string(magic, 8) == std::string("\x89PNG\r\n\x1a\n", 8);
}

// The DOM of `path` after its script ran, with no complaint from the page.
struct Rendered {
  std::string dom;
  double wall_seconds = 0;
};
Rendered render(const HttpDaemon& daemon, const std::string& path) {
  CAPTURE(path);
  const auto started = std::chrono::steady_clock::now();
  auto r = run_chromium(daemon.url(path), {"--dump-dom"});
  Rendered out{r.out, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()};
  const auto complaints = page_complaints(r.err, daemon.url(""));
  CHECK_MESSAGE(complaints.empty(), "the page complained:\n" << joined(complaints));
  CHECK_MESSAGE(out.dom.find("update failed") == std::string::npos, out.dom);
  return out;
}

// The accounts of the table's rows, in order.
std::vector<std::string> rows_of(const std::string& dom) {
  static const std::regex row(R"re(<tr data-account="([^"]+)")re");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), row); it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

// When the page had drawn (data-rendered-ms on <body>, from navigation start), in ms.
long rendered_ms(const std::string& dom) {
  static const std::regex stamp(R"re(data-rendered-ms="(\d+)")re");
  std::smatch m;
  return std::regex_search(dom, m, stamp) ? std::stol(m[1].str()) : -1;
}

void screenshot(const HttpDaemon& daemon, const std::string& path, const std::string& name, const std::string& size) {
  const auto file = artifacts_dir() + "/" + name;
  std::filesystem::remove(file);
  auto r = run_chromium(daemon.url(path), {"--screenshot=" + file, "--window-size=" + size, "--hide-scrollbars"});
  CHECK_MESSAGE(page_complaints(r.err, daemon.url("")).empty(), "console:\n" << r.err);
  REQUIRE_MESSAGE(std::filesystem::exists(file), "no screenshot at " << file << "; stderr:\n" << r.err);
  CHECK(is_png(file));
  CHECK(std::filesystem::file_size(file) > 10'000);  // more than a blank page
  MESSAGE("screenshot: " << file);
}

}  // namespace

TEST_SUITE("status_page") {
  TEST_CASE("headless Chromium: the fleet view lists, filters and sorts 5,000 accounts, the account page draws its charts") {
    static_cast<void>(chromium_program());  // fail early and clearly when it is missing
    TempDir dir;
    DeepSeekBalanceFake deepseek({""}, 0.01);
    dir.write("creditwatch.yaml", fleet_yaml(dir, deepseek));
    HttpDaemon daemon(dir);
    daemon.start();
    INFO("daemon log (tail):\n" << daemon.log().substr(daemon.log().size() > 4000 ? daemon.log().size() - 4000 : 0));
    // Two readings of the first and last accounts (a burn rate, so runways and the forecast
    // exist); the rest are probed in between.
    const auto has_burn = [&](const std::string& name) {
      auto res = daemon.get("/api/v1/accounts/" + name);
      return res && res->status == 200 && nlohmann::json::parse(res->body)["burn_per_day"].is_number();
    };
    REQUIRE(eventually([&] { return has_burn("acct-00000") && has_burn("acct-04999") && has_burn("acct-00042"); }, 60s));

    // The fleet view: the first page, shortest runway first, within seconds.
    const auto shortest_before = daemon.get_json("/api/v1/accounts?sort=runway&limit=1")["accounts"][0]["account"];
    const auto fleet = render(daemon, "/");
    const auto shortest_after = daemon.get_json("/api/v1/accounts?sort=runway&limit=1")["accounts"][0]["account"];
    const auto rows = rows_of(fleet.dom);
    MESSAGE("fleet view of " << k_fleet + 1 << " accounts: drawn " << rendered_ms(fleet.dom)
                             << " ms after navigation; chromium start to DOM dump " << fleet.wall_seconds << " s");
    CHECK(fleet.wall_seconds < 10);
    CHECK(rendered_ms(fleet.dom) > 0);
    CHECK(rendered_ms(fleet.dom) < 10'000);
    REQUIRE(rows.size() == 100);
    CHECK((rows[0] == shortest_before || rows[0] == shortest_after));
    CHECK(fleet.dom.find(R"(aria-sort="ascending"><button type="button" title="Sort by runway p50">)") != std::string::npos);
    CHECK(fleet.dom.find("100 of 5,001 accounts") != std::string::npos);
    CHECK(fleet.dom.find(R"(<span class="state CRITICAL">CRITICAL</span>)") != std::string::npos);  // colour and word
    CHECK(fleet.dom.find(" USD</b> in 5,000 accounts") != std::string::npos);                       // totals per currency

    // ?q= shows that account and no other.
    const auto one = render(daemon, "/?q=acct-04242");
    CHECK(rows_of(one.dom) == std::vector<std::string>{"acct-04242"});
    CHECK(one.dom.find(R"(href="accounts/acct-04242")") != std::string::npos);
    // A label's text, a label filter and a state filter.
    const auto bots = render(daemon, "/?q=bots&limit=50");
    CHECK(rows_of(bots.dom).size() == 50);
    CHECK(bots.dom.find("50 of 1,251 accounts") != std::string::npos);
    const auto critical = rows_of(render(daemon, "/?state=critical&label=team:infra&sort=name").dom);
    REQUIRE(!critical.empty());
    for (const auto& name : critical) {
      CAPTURE(name);
      CHECK(std::stoi(name.substr(5)) % 4 == 3);
    }
    // Grouped by the team label: a header per team with its count on this page, every row
    // under its own team's header, the sort (by name) kept inside each group; ds-prod's team
    // is bots, and no row lacks the label, so there is no "(none)" group.
    const auto grouped = render(daemon, "/?group=team&sort=name&limit=50");
    INFO("grouped DOM:\n" << grouped.dom);
    static const std::regex group_or_row(R"re(<tr (?:class="group" data-group="([^"]+)"|data-account="([^"]+)"))re");
    std::map<std::string, std::vector<std::string>> under;
    std::vector<std::string> order;
    std::string current;
    for (auto it = std::sregex_iterator(grouped.dom.begin(), grouped.dom.end(), group_or_row);
         it != std::sregex_iterator(); ++it) {
      if ((*it)[1].matched) {
        current = (*it)[1].str();
        order.push_back(current);
        continue;
      }
      REQUIRE_MESSAGE(!current.empty(), "a row before any group header");
      under[current].push_back((*it)[2].str());
    }
    CHECK(order == std::vector<std::string>{"bots", "payments", "search", "infra"});
    const std::map<int, std::string> team_of = {{0, "bots"}, {1, "payments"}, {2, "search"}, {3, "infra"}};
    std::size_t grouped_rows = 0;
    for (const auto& [team, names] : under) {
      CAPTURE(team);
      CHECK(names.size() == 13 - (team == "search" || team == "infra"));  // acct-00000..49, 50 in turn
      CHECK(std::is_sorted(names.begin(), names.end()));
      CHECK(grouped.dom.find("team: </span>" + team + "<span class=\"group-count\"> · " + std::to_string(names.size()) +
                             " accounts on this page</span>") != std::string::npos);
      for (const auto& name : names) {
        CAPTURE(name);
        CHECK(team_of.at(std::stoi(name.substr(5)) % 4) == team);
      }
      grouped_rows += names.size();
    }
    CHECK(grouped_rows == 50);
    CHECK(grouped.dom.find(R"(id="group" placeholder="team")") != std::string::npos);
    // A key no account has: one "(none)" group holding the whole page.
    const auto ungrouped = render(daemon, "/?group=region&sort=name&limit=50");
    CHECK(count_occurrences(ungrouped.dom, R"(<tr class="group")") == 1);
    CHECK(ungrouped.dom.find(R"re(data-group="(none)")re") != std::string::npos);
    CHECK(rows_of(ungrouped.dom).size() == 50);

    // Sorting by name both ways, and the next page from the cursor the API gives.
    CHECK(rows_of(render(daemon, "/?sort=name&limit=50").dom).front() == "acct-00000");
    CHECK(rows_of(render(daemon, "/?sort=-name&limit=50").dom).front() == "ds-prod");
    const auto second_page = daemon.get_json("/api/v1/accounts?sort=name&limit=50")["next_cursor"].get<std::string>();
    CHECK(rows_of(render(daemon, "/?sort=name&limit=50&cursor=" + second_page).dom).front() == "acct-00050");

    // The account page: its name, both uPlot charts, and the forecast band to zero.
    const auto page = render(daemon, "/accounts/acct-00042");
    MESSAGE("account page drawn " << rendered_ms(page.dom) << " ms after navigation");
    INFO("account page DOM:\n" << page.dom);
    CHECK(page.dom.find(R"(<span id="name">acct-00042</span>)") != std::string::npos);
    CHECK(page.dom.find(R"(id="balance-chart")") != std::string::npos);
    CHECK(page.dom.find(R"(data-band="p10-p50")") != std::string::npos);
    CHECK(page.dom.find("Forecast band P10 to P50: zero between") != std::string::npos);
    CHECK(page.dom.find("class=\"uplot") != std::string::npos);
    CHECK(count_occurrences(page.dom, "<canvas") == 2);
    CHECK(page.dom.find("Recommended top-up") != std::string::npos);
    // How its own forecasts fared: minutes of history judge none yet, and the page says so
    // (the API's forecast_record is null; its filled form is tested with the summary).
    CHECK(daemon.get_json("/api/v1/accounts/acct-00042")["forecast_record"].is_null());
    CHECK(page.dom.find(R"(data-record="none"><dt>Forecast record</dt><dd>not enough history yet</dd>)") !=
          std::string::npos);
    CHECK(page.dom.find(R"(id="problem" class="error" role="alert" hidden="")") != std::string::npos);
    // Its runway alert fires, so it carries the operator's controls.
    REQUIRE_FALSE(daemon.get_json("/api/v1/accounts/acct-00042")["alerts"].empty());
    CHECK(page.dom.find(">Silence</button>") != std::string::npos);
    CHECK(page.dom.find(">Acknowledge</button>") != std::string::npos);

    // A silence made through the API is listed on the fleet view with who, why and Expire.
    httplib::Client api("127.0.0.1", daemon.port());
    const auto made = api.Post("/api/v1/silences",
                               R"({"matchers": {"account": "acct-0004*"}, "duration": "2h", "comment": "top-up ordered",
                                   "created_by": "ops"})",
                               "application/json");
    REQUIRE(made);
    REQUIRE_MESSAGE(made->status == 201, made->body);
    const auto with_silence = render(daemon, "/?sort=name&limit=50");
    CHECK(with_silence.dom.find(R"(id="silences" aria-labelledby="silences-title" hidden)") == std::string::npos);
    CHECK(with_silence.dom.find("acct-0004*") != std::string::npos);
    CHECK(with_silence.dom.find("ops: top-up ordered") != std::string::npos);
    CHECK(with_silence.dom.find(">Expire</button>") != std::string::npos);
    const auto silenced_page = render(daemon, "/accounts/acct-00042");
    CHECK(silenced_page.dom.find("End silence") != std::string::npos);
    // The DeepSeek account: settings shown, its key never.
    REQUIRE(eventually([&] { return has_burn("ds-prod"); }, 30s));
    const auto ds = render(daemon, "/accounts/ds-prod");
    CHECK(ds.dom.find("set (redacted)") != std::string::npos);
    CHECK(ds.dom.find(k_ops_deepseek_key) == std::string::npos);
    CHECK(ds.dom.find("CNY") != std::string::npos);
    auto details = daemon.get("/api/v1/accounts/ds-prod");
    REQUIRE(details);
    CHECK(details->body.find(k_ops_deepseek_key) == std::string::npos);
    CHECK(daemon.get("/accounts/nobody")->status == 200);  // the page, which then says so
    CHECK(daemon.get("/api/v1/accounts/nobody")->status == 404);

    screenshot(daemon, "/", "fleet-view.png", "1280,900");
    screenshot(daemon, "/", "fleet-view-phone.png", "390,844");
    screenshot(daemon, "/accounts/acct-00042?range=1d", "account-page.png", "1280,1100");
    screenshot(daemon, "/accounts/acct-00042", "account-page-phone.png", "390,1400");
    CHECK(daemon.terminate() == 0);
  }
}
