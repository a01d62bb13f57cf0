// Every provider's response parser on arbitrary bodies: each provider is built from a
// minimal valid account and probed through a client that answers every request with the
// fuzz input. The first byte picks the HTTP status (and whether Retry-After is sent); the
// rest is the body. A probe must return a reading or an error, never crash or loop, and
// what it says is text every consumer takes: an error message is one line of valid UTF-8
// within the 200-byte limit (plus the few words a provider adds), an unavailable reason
// valid UTF-8. A strict JSON dump of either used to throw and silence every alert.
#include "creditwatch/common/text.hpp"
#include "creditwatch/providers/factory.hpp"
#include "provider_accounts.hpp"

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

std::vector<std::unique_ptr<cw::providers::Provider>> build_all(const cw::Clock& clock) {
  std::vector<cw::config::ConfigError> errors;
  auto providers = cw::fuzz::build_every_provider(clock, errors);
  for (const auto& provider : providers) {
    if (provider) continue;
    // test_providers_fuzz_accounts catches this in the normal suite; fix provider_accounts.hpp.
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    std::abort();
  }
  return providers;
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
