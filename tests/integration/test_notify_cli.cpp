// End-to-end: `creditwatch test-notify -c FILE NOTIFIER` through the email sink to a real
// SMTP server (aiosmtpd) and through the alertmanager sink to a real Alertmanager, both on
// loopback. Exit 0 when the sink took it, 1 when it did not; the sink's answer is printed.
#include "fakes/process.hpp"
#include "fakes/real_peers.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace creditwatch::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_password = "smtp-SECRET-c0ffee";

std::string base_yaml(const TempDir& dir) {
  return "storage:\n  path: " + dir.file("creditwatch.db") +
         "\nhttp:\n  listen: \"off\"\naccounts:\n  - name: demo-acct\n    provider: simulated\n"
         "    currency: USD\n    start: 100\n    spend_per_day: 10\nnotifiers:\n";
}

std::string email_yaml(const TempDir& dir, const std::string& url) {
  return base_yaml(dir) + "  - name: ops-mail\n    type: email\n    smtp_url: " + url +
         "\n    starttls: off\n    username: alerts\n    password_file: " + dir.write("smtp-password", k_password) +
         "\n    from: creditwatch@example.com\n    to: [oncall@example.com]\n";
}

}  // namespace

TEST_SUITE("cli_test_notify") {
  TEST_CASE("test-notify through email delivers a marked message and prints the server's answer") {
    TempDir dir;
    SmtpServer smtp({"alerts", k_password, {}, {}});
    const auto config = dir.write("creditwatch.yaml", email_yaml(dir, smtp.url()));
    const auto r = run_creditwatch({"test-notify", "-c", config, "ops-mail"});
    INFO("stdout: " << r.out << "\nstderr: " << r.err << "\nsmtp log:\n" << smtp.log());
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("ops-mail: delivered (SMTP 250 2.0.0 OK queued as cw1)") != std::string::npos);
    CHECK(r.out.find(k_password) == std::string::npos);
    const auto messages = smtp.messages();
    REQUIRE(messages.size() == 1);
    CHECK(messages[0]["login"] == "alerts");
    CHECK(messages[0]["rcpt_tos"] == nlohmann::json::array({"oncall@example.com"}));
    const std::string subject = messages[0]["headers"]["Subject"];
    CHECK(subject.starts_with("[TEST] [WARNING] demo-acct: test notification"));
    const std::string text = messages[0]["parts"]["text/plain"];
    CHECK(text.find("this is a test notification") != std::string::npos);
    CHECK(text.find("42.00 USD") != std::string::npos);
  }

  TEST_CASE("test-notify exits 1 and prints the 550 when the server rejects the recipient") {
    TempDir dir;
    SmtpServer smtp({"alerts", k_password, {"oncall@example.com"}, {}});
    const auto config = dir.write("creditwatch.yaml", email_yaml(dir, smtp.url()));
    const auto r = run_creditwatch({"test-notify", "-c", config, "ops-mail"});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("ops-mail: permanent (SMTP rejected: ") != std::string::npos);
    CHECK(r.out.find("550 5.1.1 <oncall@example.com>: Recipient address rejected") != std::string::npos);
    CHECK(smtp.messages().empty());
  }

  TEST_CASE("test-notify through alertmanager creates a CreditwatchTest alert") {
    TempDir dir;
    AlertmanagerServer am;
    const auto config = dir.write("creditwatch.yaml", base_yaml(dir) + "  - name: am\n    type: alertmanager\n"
                                                                       "    urls: [" + am.url() + "]\n");
    const auto r = run_creditwatch({"test-notify", "-c", config, "am"});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("am: delivered (HTTP 200)") != std::string::npos);
    const bool seen = eventually(
        [&] {
          const auto alerts = am.alerts();
          if (!alerts.is_array()) return false;
          for (const auto& a : alerts) {
            if (a["labels"].value("alertname", "") == "CreditwatchTest" &&
                a["labels"].value("account", "") == "demo-acct") {
              return true;
            }
          }
          return false;
        },
        10s);
    CHECK(seen);
  }

  TEST_CASE("test-notify exits 1 when no Alertmanager answers") {
    TempDir dir;
    const auto config = dir.write("creditwatch.yaml", base_yaml(dir) + "  - name: am\n    type: alertmanager\n"
                                                                       "    urls: [http://127.0.0.1:" +
                                                                       std::to_string(free_port()) + "]\n");
    const auto r = run_creditwatch({"test-notify", "-c", config, "am"});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("am: retry (connect: ") != std::string::npos);
  }
}
