#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

using namespace creditwatch::testing;

TEST_SUITE("check_smoke") {
  TEST_CASE("check reads a DeepSeek balance from a loopback fake") {
    FakeHttpServer server;
    server.get("/user/balance", [](const httplib::Request&, httplib::Response& res) {
      reply_json(res, 200,
                 R"({"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"110.00","granted_balance":"10.00","topped_up_balance":"100.00"}]})");
    });
    server.start();
    TempDir dir;
    auto config = dir.write("c.yaml", "storage:\n  path: " + dir.file("db.sqlite") +
                                          "\naccounts:\n  - name: ds\n    provider: deepseek\n    api_key: ${KEY}\n    base_url: " +
                                          server.url() + "\n");
    auto r = run_creditwatch({"check", "-c", config}, {{"KEY", "sk-test-key-1234"}});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("110.00") != std::string::npos);
    REQUIRE(server.request_count() == 1);
    CHECK(server.requests()[0].header("Authorization") == "Bearer sk-test-key-1234");
    CHECK(r.out.find("sk-test-key-1234") == std::string::npos);
  }
}
