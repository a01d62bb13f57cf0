// storage.url, ha: and heartbeats: (src/config/high_availability.cpp).
#include "creditwatch/config/config.hpp"

#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

using creditwatch::config::ConfigErrors;
using creditwatch::config::load_config;
using creditwatch::testing::TempDir;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> load_errors(const std::string& path) {
  std::vector<std::string> out;
  try {
    load_config(path);
  } catch (const ConfigErrors& e) {
    for (const auto& error : e.errors()) out.push_back(error.to_string());
  }
  return out;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// Lines 1..3: a minimal account, so each test's own section starts at line 4.
const std::string k_one_account =
    "accounts:\n"
    "  - name: sim\n"
    "    provider: simulated\n";

}  // namespace

TEST_SUITE("config_high_availability") {
  TEST_CASE("storage.url selects PostgreSQL instead of a SQLite path") {
    TempDir dir;
    SUBCASE("inline") {
      const auto c = load_config(dir.write("c.yaml", k_one_account +
                                                         "storage:\n"
                                                         "  url: postgresql://cw:s3cret@db:5432/creditwatch\n"));
      REQUIRE(c.storage.url);
      CHECK(*c.storage.url == "postgresql://cw:s3cret@db:5432/creditwatch");
      CHECK(c.storage.path.empty());
      CHECK(contains(c.secrets(), "s3cret"));
      CHECK_FALSE(contains(c.secrets(), "postgresql://cw:s3cret@db:5432/creditwatch"));
    }
    SUBCASE("from url_file, read like other secret files") {
      const auto url_file = dir.write("pg", "  postgres://cw:filepass@db/cw?sslmode=require\n");
      const auto c = load_config(dir.write("c.yaml", k_one_account + "storage:\n  url_file: " + url_file + "\n"));
      REQUIRE(c.storage.url);
      CHECK(*c.storage.url == "postgres://cw:filepass@db/cw?sslmode=require");
      CHECK(contains(c.secrets(), "filepass"));
    }
    SUBCASE("neither: the SQLite path keeps its default") {
      const auto c = load_config(dir.write("c.yaml", k_one_account));
      CHECK_FALSE(c.storage.url);
      CHECK_FALSE(c.storage.path.empty());
    }
  }

  TEST_CASE("storage.url errors point at the key and never repeat the URL") {
    TempDir dir;
    SUBCASE("path and url together") {
      auto path = dir.write("c.yaml", k_one_account +                            // 1..3
                                          "storage:\n"                           // 4
                                          "  path: x.db\n"                       // 5
                                          "  url: postgresql://cw:pw@db/cw\n");  // 6
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":6:8: give either path (SQLite) or url (PostgreSQL), not both"});
    }
    SUBCASE("path and url_file together") {
      const auto url_file = dir.write("pg", "postgresql://db/cw\n");
      auto path = dir.write("c.yaml", k_one_account +                        // 1..3
                                          "storage:\n"                       // 4
                                          "  url_file: " + url_file + "\n"   // 5
                                          "  path: x.db\n");                 // 6
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":5:13: give either path (SQLite) or url_file (PostgreSQL), not both"});
    }
    SUBCASE("url and url_file together") {
      const auto url_file = dir.write("pg", "postgresql://db/cw\n");
      auto path = dir.write("c.yaml", k_one_account +                    // 1..3
                                          "storage:\n"                   // 4
                                          "  url: postgresql://db/cw\n"  // 5
                                          "  url_file: " + url_file + "\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":6:13: give either url or url_file, not both"});
    }
    SUBCASE("another scheme") {
      auto path = dir.write("c.yaml", k_one_account +                           // 1..3
                                          "storage:\n"                          // 4
                                          "  url: mysql://cw:hunter2@db/cw\n");  // 5
      const auto errors = load_errors(path);
      CHECK(errors == std::vector<std::string>{path + ":5:8: url must start with postgresql:// or postgres://"});
      for (const auto& e : errors) CHECK(e.find("hunter2") == std::string::npos);
    }
    SUBCASE("another scheme in url_file") {
      const auto url_file = dir.write("pg", "cw:hunter2@db/cw\n");
      auto path = dir.write("c.yaml", k_one_account + "storage:\n  url_file: " + url_file + "\n");
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":5:13: the URL in url_file must start with postgresql:// or postgres://"});
    }
    SUBCASE("an unreadable url_file") {
      const auto missing = dir.file("no-such-file");
      auto path = dir.write("c.yaml", k_one_account + "storage:\n  url_file: " + missing + "\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":5:13: cannot read secret file \"" + missing +
                                                          "\": No such file or directory"});
    }
    SUBCASE("a misspelt key gets a hint") {
      auto path = dir.write("c.yaml", k_one_account + "storage:\n  ulr: postgresql://db/cw\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":5:3: unknown key \"ulr\" (did you mean \"url\"?)"});
    }
  }

  TEST_CASE("ha: replica_id and lease") {
    TempDir dir;
    SUBCASE("defaults") {
      const auto c = load_config(dir.write("c.yaml", k_one_account));
      CHECK(c.ha.replica_id.empty());
      CHECK(c.ha.lease == 15s);
    }
    SUBCASE("set") {
      const auto c = load_config(dir.write("c.yaml", k_one_account +
                                                         "ha:\n"
                                                         "  replica_id: web-1.eu\n"
                                                         "  lease: 3s\n"));
      CHECK(c.ha.replica_id == "web-1.eu");
      CHECK(c.ha.lease == 3s);
      CHECK(creditwatch::config::replica_id(c.ha) == "web-1.eu");
    }
    SUBCASE("a lease under 3s") {
      auto path = dir.write("c.yaml", k_one_account +          // 1..3
                                          "ha:\n"              // 4
                                          "  lease: 2500ms\n");  // 5
      CHECK(load_errors(path) == std::vector<std::string>{path + ":5:10: lease must be at least 3s"});
    }
    SUBCASE("a lease that is not a duration") {
      auto path = dir.write("c.yaml", k_one_account + "ha:\n  lease: 15\n");
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":5:10: lease: invalid duration \"15\" (use e.g. 500ms, 30s, 5m, 2h, 7d)"});
    }
    SUBCASE("a replica_id with spaces") {
      auto path = dir.write("c.yaml", k_one_account + "ha:\n  replica_id: web 1\n");
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":5:15: replica_id \"web 1\" must be 1 to 128 letters, digits, '.', '_' or "
                                            "'-', starting with a letter or digit"});
    }
    SUBCASE("an unknown key") {
      auto path = dir.write("c.yaml", k_one_account + "ha:\n  leese: 10s\n");
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":5:3: unknown key \"leese\" (did you mean \"lease\"?)"});
    }
    SUBCASE("not a mapping") {
      auto path = dir.write("c.yaml", k_one_account + "ha: yes\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":4:5: ha must be a mapping, not \"yes\""});
    }
  }

  TEST_CASE("the default replica id is the hostname and the pid") {
    char host[256] = {};
    REQUIRE(::gethostname(host, sizeof host - 1) == 0);
    const auto id = creditwatch::config::default_replica_id();
    CHECK(id.ends_with("-" + std::to_string(::getpid())));
    CHECK(id.starts_with(std::string(host).substr(0, 8)));
    CHECK(id == creditwatch::config::default_replica_id());
    CHECK(creditwatch::config::replica_id({}) == id);
  }

  TEST_CASE("{replica} in a URL becomes the replica id, percent-encoded") {
    using creditwatch::config::with_replica;
    CHECK(with_replica("https://hc-ping.com/KEY/cw-{replica}", "web-1.eu") == "https://hc-ping.com/KEY/cw-web-1.eu");
    CHECK(with_replica("https://x.test/{replica}?r={replica}", "a b/c") == "https://x.test/a%20b%2Fc?r=a%20b%2Fc");
    CHECK(with_replica("https://x.test/plain", "web-1") == "https://x.test/plain");
  }

  TEST_CASE("heartbeats: name, url, fail_url, interval") {
    TempDir dir;
    SUBCASE("a complete list") {
      const auto url_file = dir.write("hc", "https://hc-ping.com/from-file\n");
      const auto c = load_config(dir.write("c.yaml", k_one_account +                                       // 1..3
                                                         "ha:\n  replica_id: web-1\n"                      // 4..5
                                                         "heartbeats:\n"                                   // 6
                                                         "  - name: hc\n"                                  // 7
                                                         "    url: https://hc-ping.com/UUID/{replica}\n"   // 8
                                                         "    fail_url: https://hc-ping.com/UUID/fail\n"   // 9
                                                         "    interval: 30s\n"                             // 10
                                                         "  - name: snitch\n"                              // 11
                                                         "    url_file: " + url_file + "\n"));
      REQUIRE(c.heartbeats.size() == 2);
      const auto& hc = c.heartbeats[0];
      CHECK(hc.name == "hc");
      CHECK(hc.url.reveal() == "https://hc-ping.com/UUID/{replica}");
      CHECK(hc.fail_url.reveal() == "https://hc-ping.com/UUID/fail");
      CHECK(hc.interval == 30s);
      CHECK(hc.where.line == 7);
      CHECK(hc.where.column == 5);
      const auto& snitch = c.heartbeats[1];
      CHECK(snitch.url.reveal() == "https://hc-ping.com/from-file");
      CHECK(snitch.fail_url.empty());
      CHECK(snitch.interval == 1min);
      const auto secrets = c.secrets();
      CHECK(contains(secrets, "https://hc-ping.com/UUID/{replica}"));
      CHECK(contains(secrets, "https://hc-ping.com/UUID/web-1"));
      CHECK(contains(secrets, "https://hc-ping.com/UUID/fail"));
      CHECK(contains(secrets, "https://hc-ping.com/from-file"));
    }
    SUBCASE("none") {
      CHECK(load_config(dir.write("c.yaml", k_one_account)).heartbeats.empty());
    }
  }

  TEST_CASE("heartbeat errors point at the value and never repeat a URL") {
    TempDir dir;
    const std::string head = k_one_account +      // 1..3
                             "heartbeats:\n"      // 4
                             "  - name: hc\n";    // 5
    SUBCASE("no url") {
      auto path = dir.write("c.yaml", head + "    interval: 1m\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":5:5: heartbeat needs a url (or url_file)"});
    }
    SUBCASE("not an http URL") {
      auto path = dir.write("c.yaml", head + "    url: ftp://hc-ping.com/SECRET-UUID\n");
      const auto errors = load_errors(path);
      CHECK(errors == std::vector<std::string>{path + ":6:10: url must be an http:// or https:// URL with a host"});
      for (const auto& e : errors) CHECK(e.find("SECRET-UUID") == std::string::npos);
    }
    SUBCASE("a bad fail_url") {
      auto path = dir.write("c.yaml", head +                                    // 1..5
                                          "    url: https://hc-ping.com/x\n"   // 6
                                          "    fail_url: hc-ping.com/x/fail\n");  // 7
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":7:15: fail_url must be an http:// or https:// URL with a host"});
    }
    SUBCASE("a bad URL in fail_url_file") {
      const auto file = dir.write("fail", "not a url\n");
      auto path = dir.write("c.yaml", head + "    url: https://hc-ping.com/x\n    fail_url_file: " + file + "\n");
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":7:20: the URL in fail_url_file must be an http:// or https:// URL with a host"});
    }
    SUBCASE("url and url_file together") {
      const auto file = dir.write("hc", "https://hc-ping.com/y\n");
      auto path = dir.write("c.yaml", head + "    url: https://hc-ping.com/x\n    url_file: " + file + "\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":7:15: give either url or url_file, not both"});
    }
    SUBCASE("an interval under 10s") {
      auto path = dir.write("c.yaml", head + "    url: https://hc-ping.com/x\n    interval: 5s\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":7:15: interval must be at least 10s"});
    }
    SUBCASE("a duplicate name") {
      auto path = dir.write("c.yaml", head +                                 // 1..5
                                          "    url: https://hc-ping.com/x\n"  // 6
                                          "  - name: hc\n"                     // 7
                                          "    url: https://hc-ping.com/y\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":7:11: duplicate heartbeat name \"hc\""});
    }
    SUBCASE("no name") {
      auto path = dir.write("c.yaml", k_one_account + "heartbeats:\n  - url: https://hc-ping.com/x\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":5:5: heartbeat needs a name"});
    }
    SUBCASE("an unknown key") {
      auto path = dir.write("c.yaml", head + "    url: https://hc-ping.com/x\n    fail_ulr: https://hc-ping.com/x/fail\n");
      CHECK(load_errors(path) ==
            std::vector<std::string>{path + ":7:5: unknown key \"fail_ulr\" (did you mean \"fail_url\"?)"});
    }
    SUBCASE("not a list") {
      auto path = dir.write("c.yaml", k_one_account + "heartbeats:\n  name: hc\n");
      CHECK(load_errors(path) == std::vector<std::string>{path + ":5:3: heartbeats must be a list"});
    }
  }
}
