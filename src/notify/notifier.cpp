#include "creditwatch/notify/notifier.hpp"

#include "sink_support.hpp"

#include "creditwatch/common/text.hpp"

namespace creditwatch::notify {

const char* to_string(DeliveryResult::Outcome outcome) {
  switch (outcome) {
    case DeliveryResult::Outcome::delivered: return "delivered";
    case DeliveryResult::Outcome::retry: return "retry";
    case DeliveryResult::Outcome::permanent: return "permanent";
  }
  return "retry";
}

DeliveryResult classify_http(const http::Outcome& outcome, const std::vector<std::string>& secrets) {
  using Outcome = DeliveryResult::Outcome;
  auto clip = [&secrets](const std::string& text) { return answer_text(redact(text, secrets)); };
  if (!outcome) {
    return {Outcome::retry, std::string(http::to_string(outcome.error().kind)) + ": " + clip(outcome.error().message), 0,
            std::nullopt};
  }
  const auto& r = *outcome;
  const std::string answer = "HTTP " + std::to_string(r.status) + (r.body.empty() ? "" : ": " + clip(r.body));
  if (r.status >= 200 && r.status < 300) return {Outcome::delivered, answer, r.status, std::nullopt};
  if (r.status == 429 || r.status == 408 || r.status >= 500) return {Outcome::retry, answer, r.status, r.retry_after()};
  return {Outcome::permanent, answer, r.status, std::nullopt};
}

}  // namespace creditwatch::notify
