// The broken-config corpus: every tests/data/bad-configs/NAME.yaml must make
// `creditwatch validate -c` exit 1 with the messages listed in NAME.expected (one
// "LINE:COL: message" fragment per line, printed after the file's path), and never crash.
#include "fakes/process.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

using namespace creditwatch::testing;
namespace fs = std::filesystem;

namespace {

const fs::path k_corpus = fs::path(CREDITWATCH_SOURCE_DIR) / "tests/data/bad-configs";

std::vector<fs::path> corpus_files() {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(k_corpus)) {
    if (entry.path().extension() == ".yaml") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> expected_lines(const fs::path& yaml) {
  auto sidecar = yaml;
  sidecar.replace_extension(".expected");
  std::istringstream in(read_file(sidecar.string()));
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_SUITE("bad_configs") {
  TEST_CASE("every broken config in the corpus is rejected with its located message") {
    const auto files = corpus_files();
    CHECK(files.size() >= 25);
    for (const auto& file : files) {
      CAPTURE(file.filename().string());
      const auto expected = expected_lines(file);
      REQUIRE_MESSAGE(!expected.empty(), "no " << file.stem().string() << ".expected beside it");
      // No CW_BADCONFIG_* variable is set, whatever the caller's environment holds.
      auto r = run_process({"/usr/bin/env", "-u", "CW_BADCONFIG_UNSET_VARIABLE", CREDITWATCH_BINARY, "validate", "-c",
                            file.string()},
                           {}, std::chrono::seconds(20));
      INFO("stdout: " << r.out << "\nstderr: " << r.err);
      REQUIRE_FALSE(r.timed_out);
      CHECK(r.signal == 0);
      CHECK(r.exit_code == 1);
      const std::string output = r.out + r.err;
      CHECK(output.find("Sanitizer") == std::string::npos);
      CHECK(output.find("terminate called") == std::string::npos);
      for (const auto& line : expected) {
        CHECK_MESSAGE(output.find(file.string() + ":" + line) != std::string::npos, "missing: " << line);
      }
    }
  }
}
