#pragma once
// Shared by the test_provider_*.cpp files: build one provider from an AccountConfig whose
// base_url points at a loopback fake, probe it in-process with the real curl client, and
// run `creditwatch check --json` for the end-to-end cases.

#include "fakes/fake_clock.hpp"
#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include "creditwatch/http/curl_client.hpp"
#include "creditwatch/providers/factory.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace creditwatch::testing {

// An account of `provider` with `key` and provider-specific settings given as text.
inline config::AccountConfig provider_account(const std::string& provider, const std::string& base_url,
                                              const std::string& key,
                                              const std::map<std::string, std::string>& settings = {}) {
  config::AccountConfig account;
  account.name = "acct";
  account.provider = provider;
  account.api_key = Secret(key);
  account.base_url = base_url;
  account.tuning.timeout = std::chrono::seconds(5);
  account.where = {"test.yaml", 1, 1};
  for (const auto& [k, v] : settings) {
    config::Setting s;
    s.value = v;
    s.where = {"test.yaml", 2, 1};
    account.settings[k] = s;
  }
  return account;
}

// The config errors building the provider produced (empty when it was built).
inline std::vector<config::ConfigError> build_errors(const config::AccountConfig& account) {
  FakeClock clock;
  std::vector<config::ConfigError> errors;
  auto provider = providers::make_provider(account, clock, errors);
  if (provider) CHECK(errors.empty());
  if (!provider) CHECK_FALSE(errors.empty());
  return errors;
}

inline bool any_error_mentions(const std::vector<config::ConfigError>& errors, const std::string& text) {
  for (const auto& e : errors) {
    if (e.message.find(text) != std::string::npos) return true;
  }
  return false;
}

// One probe of a freshly built provider through the real libcurl client.
inline providers::ProbeResult probe_once(const config::AccountConfig& account) {
  FakeClock clock;
  std::vector<config::ConfigError> errors;
  auto provider = providers::make_provider(account, clock, errors);
  std::string why;
  for (const auto& e : errors) why += e.message + "\n";
  REQUIRE_MESSAGE(provider, why);
  http::CurlClient client;
  return provider->probe(client);
}

inline Decimal dec(const char* text) { return *Decimal::parse(text); }

// Serves one canned answer at `path`.
inline void serve(FakeHttpServer& server, const std::string& path, int status, std::string body,
                  std::string content_type = "application/json",
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
  server.get(path, [=](const httplib::Request&, httplib::Response& res) {
    res.status = status;
    for (const auto& [k, v] : headers) res.set_header(k, v);
    res.set_content(body, content_type);
  });
}

// What the fake recorded, once it has at least `count` requests: the server records a
// request after answering it, so the client can be a moment ahead.
inline std::vector<RecordedRequest> recorded(const FakeHttpServer& server, std::size_t count) {
  eventually([&] { return server.request_count() >= count; }, std::chrono::seconds(2));
  return server.requests();
}

// The probe failed with `kind`; returns the error for further checks.
inline providers::ProbeError expect_error(const providers::ProbeResult& result, providers::ErrorKind kind) {
  REQUIRE_MESSAGE(!result.ok(), "expected an error, got a reading");
  const auto& e = result.error();
  INFO("message: " << e.message);
  CHECK(std::string(providers::to_string(e.kind)) == providers::to_string(kind));
  return e;
}

// The `Authorization: Basic ...` value for "user:password".
inline std::string basic_header(const std::string& credentials) {
  static const char* k_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < credentials.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(credentials[i]) << 16) |
                       (static_cast<unsigned char>(credentials[i + 1]) << 8) |
                       static_cast<unsigned char>(credentials[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += k_alphabet[(n >> shift) & 63];
  }
  if (const std::size_t rest = credentials.size() - i; rest > 0) {
    unsigned n = static_cast<unsigned char>(credentials[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(credentials[i + 1]) << 8;
    out += k_alphabet[(n >> 18) & 63];
    out += k_alphabet[(n >> 12) & 63];
    out += rest == 2 ? k_alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return "Basic " + out;
}

// Runs `creditwatch check --json -c CONFIG` and returns its one account entry. The key
// (and any piece of it) must not reach stdout or stderr.
inline nlohmann::json check_one(const std::string& config, const std::map<std::string, std::string>& env,
                                const std::vector<std::string>& secrets, int expected_exit = 0) {
  auto r = run_creditwatch({"check", "--json", "-c", config}, env);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK(r.exit_code == expected_exit);
  for (const auto& secret : secrets) {
    CHECK_MESSAGE(r.out.find(secret) == std::string::npos, "stdout leaks a secret");
    CHECK_MESSAGE(r.err.find(secret) == std::string::npos, "stderr leaks a secret");
  }
  auto out = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE_MESSAGE(out.is_array(), r.out);
  REQUIRE(out.size() == 1);
  return out[0];
}

// The config for one account with `lines` (each "key: value") under it.
inline std::string one_account_config(const TempDir& dir, const std::vector<std::string>& lines) {
  std::string yaml = "storage:\n  path: " + dir.file("db.sqlite") + "\naccounts:\n  - name: acct\n";
  for (const auto& line : lines) yaml += "    " + line + "\n";
  return dir.write("creditwatch.yaml", yaml);
}

}  // namespace creditwatch::testing
