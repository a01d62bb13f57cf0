// `cpack -G DEB` through scripts/package-check on the build tree these tests belong to
// (the parent of the test binary's directory, or $CREDITWATCH_BUILD_DIR): the .deb must hold
// the binary, the systemd unit, the example configs and the man page, and depend on the
// runtime libraries. A few seconds: cpack strips and packs a single binary.
#include "http_daemon.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

std::string build_dir() {
  if (const char* env = std::getenv("CREDITWATCH_BUILD_DIR"); env && *env) return env;
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path().string();
}

}  // namespace

TEST_SUITE("packaging") {
  TEST_CASE("cpack -G DEB packages the binary, the unit, the example configs and the man page") {
    const auto build = build_dir();
    REQUIRE_MESSAGE(std::filesystem::exists(build + "/CPackConfig.cmake"),
                    build << " is not the build tree (no CPackConfig.cmake); set CREDITWATCH_BUILD_DIR");
    const auto r = run_process({std::string(CREDITWATCH_SOURCE_DIR) + "/scripts/package-check", "--no-build", build},
                               {}, std::chrono::minutes(5));
    INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("ok   ./usr/bin/creditwatch\n") != std::string::npos);
    CHECK(r.out.find("ok   ./usr/lib/systemd/system/creditwatch.service\n") != std::string::npos);
    CHECK(r.out.find("ok   ./usr/share/man/man1/creditwatch.1.gz\n") != std::string::npos);
    CHECK(r.out.find("package-check: creditwatch_") != std::string::npos);
  }
}
