// systemd/creditwatch.service checked by the real systemd-analyze (SPEC "Files the
// repository ships"): `verify` accepts it, `security --offline=yes` scores 2.0 or lower,
// and it is a Type=notify service with a watchdog, a dynamic user, a state directory and
// credentials for keys. ExecStart points at /usr/bin/creditwatch, which need not exist
// here, so the checks run on a copy that points at the binary just built.
#include "http_daemon.hpp"

#include <doctest/doctest.h>

#include <regex>
#include <string>

using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

std::string unit_text() {
  const auto text = read_file(std::string(CREDITWATCH_SOURCE_DIR) + "/systemd/creditwatch.service");
  REQUIRE_MESSAGE(!text.empty(), "systemd/creditwatch.service is missing or empty");
  return text;
}

// The unit with /usr/bin/creditwatch replaced by the binary under test, as DIR/creditwatch.service.
std::string installable_copy(const TempDir& dir) {
  auto text = unit_text();
  REQUIRE(text.find("/usr/bin/creditwatch") != std::string::npos);
  text = std::regex_replace(text, std::regex("/usr/bin/creditwatch"), CREDITWATCH_BINARY);
  return dir.write("creditwatch.service", text);
}

std::string systemd_analyze() {
  auto found = find_program("systemd-analyze");
  REQUIRE_MESSAGE(found.has_value(), "systemd-analyze not found on PATH: install the Debian package `systemd`");
  return *found;
}

// Every `Key=` assignment of the unit, comments excluded.
bool has_setting(const std::string& unit, const std::string& assignment) {
  return std::regex_search(unit, std::regex("(^|\n)" + assignment + "(\n|$)"));
}

}  // namespace

TEST_SUITE("systemd_unit") {
  TEST_CASE("systemd-analyze verify accepts the unit") {
    TempDir dir;
    const auto unit = installable_copy(dir);
    const auto r = run_process({systemd_analyze(), "verify", "--man=no", unit}, {{"SYSTEMD_LOG_COLOR", "0"}}, 60s);
    INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
    CHECK(r.exit_code == 0);
    // Warnings (unknown keys, bad values) are printed without failing the exit code.
    CHECK(r.err.find("creditwatch.service") == std::string::npos);
    CHECK(r.out.find("creditwatch.service") == std::string::npos);
  }

  TEST_CASE("systemd-analyze security --offline=yes scores an exposure of 2.0 or lower") {
    TempDir dir;
    const auto unit = installable_copy(dir);
    const auto r = run_process({systemd_analyze(), "security", "--offline=yes", "--no-pager", unit},
                               {{"SYSTEMD_COLORS", "0"}}, 60s);
    INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
    REQUIRE(r.exit_code == 0);
    std::smatch match;
    REQUIRE(
        std::regex_search(r.out, match, std::regex(R"(Overall exposure level for creditwatch\.service: ([0-9.]+))")));
    const double exposure = std::stod(match[1].str());
    MESSAGE("systemd-analyze security exposure: " << exposure);
    CHECK(exposure <= 2.0);
  }

  TEST_CASE("the unit is Type=notify with a watchdog, reload by SIGHUP, a dynamic user and credentials") {
    const auto unit = unit_text();
    CHECK(has_setting(unit, "Type=notify"));
    CHECK(std::regex_search(unit, std::regex("(^|\n)WatchdogSec=[1-9][0-9]*s?\n")));
    CHECK(has_setting(unit, "ExecStart=/usr/bin/creditwatch run( -c [^\n]+)?"));
    CHECK(has_setting(unit, "ExecReload=/bin/kill -HUP \\$MAINPID"));
    CHECK(has_setting(unit, "DynamicUser=yes"));
    CHECK(has_setting(unit, "StateDirectory=creditwatch"));
    CHECK(has_setting(unit, "ConfigurationDirectory=creditwatch"));
    // Keys as credentials: documented in the unit (enabled per key in a drop-in).
    CHECK(std::regex_search(unit, std::regex("LoadCredential=[a-z_-]+:/")));
    CHECK(unit.find("/run/credentials/creditwatch.service/") != std::string::npos);
    CHECK(has_setting(unit, "WantedBy=multi-user.target"));
  }
}
