// An opt-in liveness probe beside an account's balance provider (issue 4): some balance
// endpoints lag behind the inference API, so a dry or revoked account can look fine there for
// a while. With `liveness_model` set, every probe also sends one chat completion of one token
// to the provider's OpenAI-compatible API, read by the openai_probe classifier.
#include "liveness.hpp"

#include "builders.hpp"

#include "creditwatch/common/duration.hpp"
#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers {
namespace {

// The OpenAI-compatible root of providers whose balance host also serves inference, so that
// `liveness_base_url` is needed only for the others.
std::optional<std::string> default_inference_base(const config::AccountConfig& account) {
  auto base = [&](const char* fallback) { return account.base_url.empty() ? std::string(fallback) : account.base_url; };
  if (account.provider == "deepseek") return base("https://api.deepseek.com");
  if (account.provider == "openrouter") return join_url(base("https://openrouter.ai"), "/api/v1");
  if (account.provider == "moonshot") return join_url(base("https://api.moonshot.ai"), "/v1");
  if (account.provider == "siliconflow") return join_url(base("https://api.siliconflow.cn"), "/v1");
  return std::nullopt;
}

class WithLiveness final : public Provider {
public:
  WithLiveness(std::unique_ptr<Provider> balance, std::unique_ptr<Provider> liveness, const Clock& clock,
               Duration interval)
      : m_balance(std::move(balance)), m_liveness(std::move(liveness)), m_clock(clock), m_interval(interval) {}

  ProbeResult probe(http::Client& client) override {
    auto reading = m_balance->probe(client);
    const auto verdict = liveness(client);
    if (!verdict) return reading;
    ProbeError error = *verdict;
    error.message = "liveness probe: " + error.message;
    if (error.kind == ErrorKind::exhausted && reading) {
      // Keep the balance sample (the forecast needs it) and say the account cannot serve.
      reading->available = false;
      reading->unavailable_reason = error.message;
      return reading;
    }
    if (reading && error.kind != ErrorKind::key_invalid) return reading;
    if (!reading && reading.error().kind == ErrorKind::key_invalid) return reading;
    return error;
  }

private:
  // The liveness verdict that matters: exhausted or key_invalid, else nothing. A good answer
  // is trusted for `interval` (each probe costs a token); a bad one is asked again at every
  // probe, so a top-up clears the alert at the next probe. Other failures (a timeout, a rate
  // limit) say nothing about the money and are left to the balance endpoint.
  std::optional<ProbeError> liveness(http::Client& client) {
    const auto now = m_clock.now();
    if (m_alive_until && now < *m_alive_until) return std::nullopt;
    auto result = m_liveness->probe(client);
    if (result) {
      m_alive_until = now + m_interval;
      return std::nullopt;
    }
    m_alive_until.reset();
    const auto kind = result.error().kind;
    if (kind == ErrorKind::exhausted || kind == ErrorKind::key_invalid) return result.error();
    return std::nullopt;
  }

  std::unique_ptr<Provider> m_balance;
  std::unique_ptr<Provider> m_liveness;
  const Clock& m_clock;
  Duration m_interval;
  std::optional<TimePoint> m_alive_until;
};

}  // namespace

LivenessSplit split_liveness_settings(const config::AccountConfig& account) {
  // Every `liveness_*` key goes to the liveness reader, so a misspelt one is reported there,
  // with the right suggestions.
  LivenessSplit split{account, std::nullopt};
  auto& settings = split.balance_account.settings;
  for (auto it = settings.begin(); it != settings.end();) {
    if (it->first.rfind("liveness_", 0) != 0) {
      ++it;
      continue;
    }
    if (!split.liveness_settings) split.liveness_settings.emplace();
    (*split.liveness_settings)[it->first] = it->second;
    it = settings.erase(it);
  }
  return split;
}

std::unique_ptr<Provider> add_liveness(std::unique_ptr<Provider> balance, const config::AccountConfig& account,
                                       const config::Settings& liveness_settings, const Clock& clock,
                                       std::vector<config::ConfigError>& errors) {
  config::SettingsReader settings(liveness_settings, account.where, "the liveness probe of account " + account.name,
                                  {}, errors);
  auto model = settings.required_string("liveness_model");
  auto base = settings.string("liveness_base_url");
  auto interval = settings.duration("liveness_interval").value_or(std::chrono::hours(1));
  auto field = settings.string("liveness_max_tokens_field");
  if (!base) base = default_inference_base(account);
  if (account.provider == "openai_probe") {
    settings.error("liveness_model", "liveness_model: provider openai_probe is itself a liveness probe");
  } else if (!base) {
    settings.error("liveness_model", "liveness_base_url is needed for provider " + account.provider +
                                         ": the API root before /chat/completions");
  }
  if (!settings.finish() || !model || !base) return nullptr;
  config::AccountConfig probe_account = account;
  probe_account.provider = "openai_probe";
  probe_account.base_url = *base;
  probe_account.settings.clear();
  probe_account.settings["model"] = liveness_settings.at("liveness_model");
  if (field) probe_account.settings["max_tokens_field"] = liveness_settings.at("liveness_max_tokens_field");
  SettingsReader probe_settings(probe_account, errors);
  auto probe = make_openai_probe(probe_account, clock, probe_settings);
  if (!probe || !balance) return nullptr;
  return std::make_unique<WithLiveness>(std::move(balance), std::move(probe), clock, interval);
}

}  // namespace creditwatch::providers
