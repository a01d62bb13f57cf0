// Every provider's response parser on arbitrary bodies: each provider is built from a
// minimal valid account and probed through a client that answers every request with the
// fuzz input. The first byte picks the HTTP status (and whether Retry-After is sent); the
// rest is the body. A probe must return a reading or an error, never crash or loop, and
// what it says is text every consumer takes: an error message is one line of valid UTF-8
// within the 200-byte limit (plus the few words a provider adds), an unavailable reason
// valid UTF-8. A strict JSON dump of either used to throw and silence every alert.
#include "creditwatch/common/text.hpp"
#include "creditwatch/providers/factory.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cw = creditwatch;

namespace {

class FixedClock final : public cw::Clock {
public:
  cw::TimePoint now() const override { return cw::from_unix_ms(1'777'680'000'000); }  // 2026-05-02
};

// Answers every request with the same canned response; gives up after a bounded number of
// requests so a provider that pages forever shows up as a crash, not a hang.
class CannedClient final : public cw::http::Client {
public:
  explicit CannedClient(cw::http::Response response) : m_response(std::move(response)) {}
  cw::http::Outcome send(const cw::http::Request&) override {
    if (++m_requests > 1000) std::abort();
    return m_response;
  }

private:
  cw::http::Response m_response;
  int m_requests = 0;
};

cw::config::AccountConfig account(const std::string& provider, const std::map<std::string, std::string>& settings) {
  cw::config::AccountConfig a;
  a.name = "fuzz";
  a.provider = provider;
  a.api_key = cw::Secret("sk-fuzz-key-0123456789");
  a.base_url = "http://127.0.0.1:9";
  a.where = {"fuzz.yaml", 1, 1};
  for (const auto& [k, v] : settings) {
    cw::config::Setting s;
    s.value = v;
    s.where = {"fuzz.yaml", 2, 1};
    a.settings[k] = s;
  }
  return a;
}

std::vector<std::unique_ptr<cw::providers::Provider>> build_all(const cw::Clock& clock) {
  const std::map<std::string, std::map<std::string, std::string>> extra = {
      {"xai", {{"team_id", "team-1"}}},
      {"twilio", {{"account_sid", "AC0123"}}},
      {"vonage", {{"api_secret", "secret-1"}}},
      {"http_json",
       {{"url", "http://127.0.0.1:9/balance"}, {"balance_pointer", "/data/0/balance"},
        {"currency_pointer", "/data/0/currency"}, {"spend_pointer", "/spend"}, {"ok_pointer", "/ok"}, {"ok_value", "true"}}},
      {"openai_probe", {{"model", "m"}}},
      {"openai_costs", {{"credit", "100"}, {"budget_start", "2026-05-01"}}},
      {"anthropic_costs", {{"budget", "100"}, {"budget_start", "2026-05-01"}}},
      {"openrouter", {{"key_limit", "true"}}},
  };
  std::vector<std::unique_ptr<cw::providers::Provider>> out;
  for (const auto& info : cw::providers::provider_table()) {
    if (info.name == "simulated") continue;
    auto it = extra.find(info.name);
    std::vector<cw::config::ConfigError> errors;
    auto provider = cw::providers::make_provider(account(info.name, it == extra.end() ? std::map<std::string, std::string>{}
                                                                                      : it->second),
                                                 clock, errors);
    if (!provider) {  // the fuzz account of some provider is not valid: fix the table above
      for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
      std::abort();
    }
    out.push_back(std::move(provider));
  }
  return out;
}

[[noreturn]] void fail(const char* what, const std::string& text) {
  std::fprintf(stderr, "%s (%zu bytes): ", what, text.size());
  for (unsigned char c : text) std::fprintf(stderr, c >= 0x20 && c < 0x7F ? "%c" : "\\x%02X", c);
  std::fprintf(stderr, "\n");
  std::abort();
}

void check_text(const cw::providers::ProbeResult& result) {
  constexpr std::size_t k_max_message = 400;  // 200 bytes of outside text and our own words around it
  if (result) {
    const std::string& reason = result->unavailable_reason;
    if (!cw::valid_utf8(reason)) fail("unavailable_reason is not valid UTF-8", reason);
    return;
  }
  const std::string& message = result.error().message;
  if (!cw::valid_utf8(message)) fail("ProbeError message is not valid UTF-8", message);
  if (cw::safe_text(message, cw::LineBreaks::fold) != message) fail("ProbeError message is not one safe line", message);
  if (message.size() > k_max_message) fail("ProbeError message is too long", message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const FixedClock clock;
  static constexpr long k_statuses[] = {200, 200, 200, 200, 400, 401, 402, 403, 404, 429, 500, 503};
  if (size == 0) return 0;
  cw::http::Response response;
  response.status = k_statuses[data[0] % std::size(k_statuses)];
  if (data[0] & 0x80) response.headers["retry-after"] = "7";
  response.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  // Providers keep state between probes (cost caches), so each input gets fresh ones.
  for (auto& provider : build_all(clock)) {
    CannedClient client(response);
    check_text(provider->probe(client));
  }
  return 0;
}
