// Liveness for any OpenAI-compatible API without a balance endpoint: one chat completion of
// one token, POST {base}/chat/completions (shared/reference/providers.md section 10). Opt-in:
// every probe costs a token. It reads no balance; it tells "alive", "out of credit" and "key
// rejected" apart, deciding from the body rather than the status alone, because the same 429
// means "wait" at one provider and "pay" at another.
#include "builders.hpp"

#include "creditwatch/providers/support.hpp"

#include <algorithm>
#include <cctype>

namespace creditwatch::providers {
namespace {

// Lower-case fragments of the out-of-credit answers in section 10: DeepSeek 402 "Insufficient
// Balance", OpenAI 429 insufficient_quota / credit_balance_exhausted / spend-limit codes,
// Moonshot 429 exceeded_current_quota_error, Baichuan 429 "Insufficient account balance",
// Anthropic 400 "credit balance is too low", xAI 403 "doesn't have any credits", new-api relays
// 403 insufficient_user_quota, SiliconFlow 403 "account balance insufficient", OpenRouter 402
// "Insufficient credits".
const std::vector<std::string> k_out_of_credit = {
    "insufficient balance",       "insufficient_quota",         "exceeded your current quota",
    "exceeded_current_quota",     "credit_balance_exhausted",   "insufficient account balance",
    "credit balance is too low",  "any credits",                "insufficient_user_quota",
    "balance insufficient",       "balance is insufficient",    "spend_limit_exceeded",
    "insufficient credit",
};

// The body's first 4 KiB in lower case: the message, code and type of every error shape in
// section 10 are there. Searched as raw text, never re-serialised: a hostile body nested
// 100,000 levels deep would overflow the stack of a recursive dump.
std::string error_text(const std::string& body) { return lower_ascii(body.substr(0, 4096)); }

bool out_of_credit(const http::Response& response) {
  const std::string text = error_text(response.body);
  return std::any_of(k_out_of_credit.begin(), k_out_of_credit.end(),
                     [&](const std::string& marker) { return text.find(marker) != std::string::npos; });
}

ProbeError classify(const http::Response& response) {
  ProbeError e = from_status(response);
  if (response.status == 402 || out_of_credit(response)) {
    e.kind = ErrorKind::exhausted;
    e.retry_after.reset();  // never retry-loop on a balance error
    std::string detail = provider_message(response);
    e.message = "HTTP " + std::to_string(response.status) + " out of credit" + (detail.empty() ? "" : ": " + detail);
  } else if (response.status == 400 && e.message.find("max_completion_tokens") != std::string::npos) {
    e.message += " (set max_tokens_field: max_completion_tokens)";
  }
  return e;
}

class OpenAIProbe final : public Provider {
public:
  OpenAIProbe(config::AccountConfig account, std::string model, std::string max_tokens_field)
      : m_account(std::move(account)) {
    nlohmann::json body = {{"model", std::move(model)},
                           {"messages", nlohmann::json::array({{{"role", "user"}, {"content", "ping"}}})},
                           {max_tokens_field, 1},
                           {"stream", false}};
    m_body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(m_account.base_url, "/chat/completions"));
    request.method = "POST";
    request.headers.push_back({"Authorization", "Bearer " + m_account.api_key.reveal()});
    request.headers.push_back({"Content-Type", "application/json"});
    request.body = m_body;
    auto outcome = client.send(request);
    if (!outcome) return from_failure(outcome.error());
    if (outcome->status != 200) return classify(*outcome);
    auto body = parse_object(*outcome);
    if (!body) return body.error();
    return alive(*body, *outcome);
  }

private:
  // A 200 is alive only if it is a completion: relays answer 200 with {"error":...} inside,
  // or with their web page when the route is missing.
  static ProbeResult alive(const nlohmann::json& body, const http::Response& response) {
    if (body.contains("error") && !body["error"].is_null()) {
      ProbeError e = classify(response);
      if (e.kind != ErrorKind::exhausted) {
        e = bad_response("HTTP 200 with an error inside: " + provider_message(body));
      }
      return e;
    }
    auto choices = body.find("choices");
    if (choices == body.end()) return bad_response("choices is missing: not a chat completion");
    if (!choices->is_array()) return bad_response("choices: expected a list, got " + describe(*choices));
    return Reading{};  // liveness only: no balance to report, available
  }

  config::AccountConfig m_account;
  std::string m_body;
};

}  // namespace

std::unique_ptr<Provider> make_openai_probe(const config::AccountConfig& account, const Clock&,
                                            SettingsReader& settings) {
  if (account.api_key.empty()) settings.error("api_key", "provider openai_probe needs api_key or api_key_file");
  if (account.base_url.empty()) {
    settings.error("base_url", "provider openai_probe needs base_url, the API root before /chat/completions "
                               "(e.g. https://api.openai.com/v1 or https://api.deepseek.com)");
  }
  auto model = settings.required_string("model");
  std::string field = settings.string("max_tokens_field").value_or("max_tokens");
  if (field != "max_tokens" && field != "max_completion_tokens") {
    settings.error("max_tokens_field", "max_tokens_field: expected max_tokens or max_completion_tokens, got \"" + field + "\"");
  }
  if (!settings.finish() || !model) return nullptr;
  return std::make_unique<OpenAIProbe>(account, *model, field);
}

}  // namespace creditwatch::providers
