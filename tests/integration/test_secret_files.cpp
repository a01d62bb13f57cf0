// Secret files (*_file keys) as a user may get them wrong: a FIFO or a directory instead of
// a file, or a file others can read. The loader never blocks, names the key's FILE:LINE:COL,
// and warns once per path about loose permissions without printing the secret.
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>

using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_secret = "sk-SECRET-from-a-file-9f8e7d";

// A config whose one account reads its key from `key_file` (line 4, column 19) and whose
// HTTP token comes from `token_file`, when given.
std::string config_with(const TempDir& dir, const std::string& key_file, const std::string& token_file = "") {
  std::string yaml = "accounts:\n"                              // 1
                     "  - name: a\n"                            // 2
                     "    provider: deepseek\n"                 // 3
                     "    api_key_file: " + key_file + "\n"     // 4
                     "    base_url: http://127.0.0.1:9\n"      // nothing listens: no probe leaves the host
                     "storage:\n  path: " + dir.file("db.sqlite") + "\n";
  if (!token_file.empty()) yaml += "http:\n  listen: \"off\"\n  auth_token_file: " + token_file + "\n";
  return dir.write("creditwatch.yaml", yaml);
}

std::string secret_file(const TempDir& dir, const std::string& name, mode_t mode) {
  const auto path = dir.write(name, std::string(k_secret) + "\n");
  REQUIRE(::chmod(path.c_str(), mode) == 0);
  return path;
}

void check_no_secret(const ProcessResult& r) {
  CHECK_MESSAGE(r.out.find("SECRET") == std::string::npos, "stdout shows the secret: " << r.out);
  CHECK_MESSAGE(r.err.find("SECRET") == std::string::npos, "stderr shows the secret: " << r.err);
}

}  // namespace

TEST_SUITE("secret_files") {
  TEST_CASE("a FIFO as a secret file fails validation at once, with its location") {
    TempDir dir;
    const auto fifo = dir.file("key.fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto config = config_with(dir, fifo);
    const auto started = std::chrono::steady_clock::now();
    auto r = run_creditwatch({"validate", "-c", config}, {}, 10s);
    const auto took = std::chrono::steady_clock::now() - started;
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE_FALSE(r.timed_out);
    CHECK(took < 5s);
    CHECK(r.exit_code == 1);
    CHECK((r.out + r.err).find(config + ":4:19: secret file \"" + fifo + "\" is not a regular file (it is a FIFO)") !=
          std::string::npos);
  }

  TEST_CASE("a secret file others can read is used, with a warning that names it but not its content") {
    TempDir dir;
    SUBCASE("world-readable") {
      const auto key = secret_file(dir, "key", 0644);
      auto r = run_creditwatch({"validate", "-c", config_with(dir, key)});
      INFO("stdout: " << r.out << "\nstderr: " << r.err);
      CHECK(r.exit_code == 0);
      CHECK(r.err.find("secret file \"" + key + "\" is readable by everyone (mode 0644); chmod 600 it") !=
            std::string::npos);
      check_no_secret(r);
    }
    SUBCASE("group-readable") {
      const auto key = secret_file(dir, "key", 0640);
      auto r = run_creditwatch({"validate", "-c", config_with(dir, key)});
      INFO("stdout: " << r.out << "\nstderr: " << r.err);
      CHECK(r.exit_code == 0);
      CHECK(r.err.find("secret file \"" + key + "\" is readable by its group (mode 0640)") != std::string::npos);
      check_no_secret(r);
    }
    SUBCASE("private: no warning") {
      const auto key = secret_file(dir, "key", 0600);
      auto r = run_creditwatch({"validate", "-c", config_with(dir, key)});
      INFO("stdout: " << r.out << "\nstderr: " << r.err);
      CHECK(r.exit_code == 0);
      CHECK(r.err.find("readable by") == std::string::npos);
    }
  }

  TEST_CASE("the daemon warns about a readable secret file once, not on every reload") {
    TempDir dir;
    const auto key = secret_file(dir, "key", 0644);
    const auto token = secret_file(dir, "token", 0604);
    const auto config = config_with(dir, key, token);
    const auto log = dir.file("daemon.log");
    BackgroundProcess daemon({CREDITWATCH_BINARY, "run", "-c", config}, {}, log);
    REQUIRE_MESSAGE(eventually([&] { return read_file(log).find(" watching ") != std::string::npos; }, 15s),
                    read_file(log));
    for (std::size_t reloads = 1; reloads <= 2; ++reloads) {
      daemon.signal(SIGHUP);
      REQUIRE_MESSAGE(eventually([&] { return count_occurrences(read_file(log), "reloaded") >= reloads; }, 15s),
                      read_file(log));
    }
    const auto text = read_file(log);
    INFO("daemon log:\n" << text);
    CHECK(count_occurrences(text, "secret file \"" + key + "\" is readable by everyone") == 1);
    CHECK(count_occurrences(text, "secret file \"" + token + "\" is readable by everyone") == 1);
    CHECK(text.find("SECRET") == std::string::npos);
    daemon.signal(SIGTERM);
    CHECK(daemon.wait(10s) == 0);
  }
}
