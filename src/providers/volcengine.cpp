// Volcengine (Ark / Doubao bill here): the account balance from the billing OpenAPI,
// GET {base}/?Action=QueryBalanceAcct&Version=2022-01-01, signed with Volcengine's HMAC-SHA256
// signature (signing_volcengine.cpp; region cn-beijing, service billing) under an AccessKey
// pair: `access_key_id` in the settings, the Secret Access Key in api_key / api_key_file.
//
// Confirmed against Volcengine's docs:
// - QueryBalanceAcct, https://www.volcengine.com/docs/6269/1223898: Action and Version only;
//   200 {"ResponseMetadata":{"RequestId","Action":"QueryBalanceAcct","Version":"2022-01-01",
//   "Service":"billing"},"Result":{"AccountID":...,"ArrearsBalance":"1.01","AvailableBalance":"77.01",
//   "CashBalance":"83.01","CreditLimit":"0.01","FreezeAmount":"5.01"}}, amounts as strings (yuan,
//   no currency field); its own errors 400 RecordNoFound / InvalidParam, 500 InternalError.
// - The signature, https://www.volcengine.com/docs/6369/67269: headers Host and X-Date
//   (YYYYMMDD'T'HHMMSS'Z', UTC) must be signed; X-Content-Sha256 is the body's SHA-256.
// - Common errors (BytePlus, the same platform, https://docs.byteplus.com/byteplus-platform/reference/common-error-codes):
//   ResponseMetadata.Error {Code, CodeN, Message}; InvalidAccessKey 401, SignatureDoesNotMatch
//   401, MissingSignature 401, InvalidTimestamp 400, AccessDenied / LackPolicy 403,
//   FlowLimitExceeded 429. [UNCONFIRMED: the region the billing service signs with is not on
//   the QueryBalanceAcct page; cn-beijing is what shared/reference/providers-2.md and the
//   vendor's SDK defaults give.]
//
// The balance is AvailableBalance (what can still be spent); cash, arrears, credit line and
// frozen amounts go into the details. Volcengine China bills in CNY.
#include "builders.hpp"

#include "creditwatch/common/time_format.hpp"
#include "creditwatch/providers/cloud_signing.hpp"
#include "creditwatch/providers/support.hpp"

#include <algorithm>
#include <cctype>

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://open.volcengineapi.com";
constexpr const char* k_region = "cn-beijing";
constexpr const char* k_service = "billing";

using Json = nlohmann::json;

bool valid_access_key_id(const std::string& id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c); });
}

// "20260501T000000Z" for 2026-05-01T00:00:00Z.
std::string x_date_of(TimePoint t) {
  std::string text = format_rfc3339(t);
  std::erase_if(text, [](char c) { return c == '-' || c == ':'; });
  return text;
}

std::optional<ErrorKind> kind_of_code(const std::string& code) {
  for (const char* name : {"InvalidAccessKey", "SignatureDoesNotMatch", "MissingSignature", "MissingAuthenticationToken",
                           "AccessDenied", "LackPolicy", "InvalidAuthorization"}) {
    if (code == name) return ErrorKind::key_invalid;
  }
  if (code == "FlowLimitExceeded" || code.starts_with("Throttling")) return ErrorKind::rate_limited;
  return std::nullopt;
}

// ResponseMetadata.Error of a Volcengine answer, or nullptr.
const Json* error_of(const Json& body) {
  if (!body.is_object()) return nullptr;
  auto meta = body.find("ResponseMetadata");
  if (meta == body.end() || !meta->is_object()) return nullptr;
  auto error = meta->find("Error");
  return error != meta->end() && error->is_object() ? &*error : nullptr;
}

std::string text_at(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// The error a Volcengine Error object stands for; `e` holds what the status alone says.
ProbeError with_volcengine_error(ProbeError e, const Json& error, std::optional<Duration> retry_after) {
  const std::string code = text_at(error, "Code");
  if (auto kind = kind_of_code(code)) {
    e.kind = *kind;
    e.retry_after = *kind == ErrorKind::rate_limited ? retry_after : std::nullopt;
  } else if (code == "InvalidTimestamp") {
    e.message += " (check the system clock)";
  }
  std::string said = code;
  if (const std::string message = text_at(error, "Message"); !message.empty())
    said += (said.empty() ? "" : ": ") + message;
  if (!said.empty()) e.message = message_text(e.message + ": " + said);
  return e;
}

ProbeError from_volcengine_status(const http::Response& response) {
  ProbeError e = from_status(response);
  const auto body = Json::parse(response.body, nullptr, false);
  const Json* error = error_of(body);
  if (!error) return e;
  e.message = "HTTP " + std::to_string(response.status);
  return with_volcengine_error(e, *error, response.retry_after());
}

class Volcengine final : public Provider {
public:
  Volcengine(config::AccountConfig account, std::string access_key_id, const Clock& clock)
      : m_account(std::move(account)), m_access_key_id(std::move(access_key_id)), m_clock(clock) {}

  ProbeResult probe(http::Client& client) override {
    const signing::Params query = {{"Action", "QueryBalanceAcct"}, {"Version", "2022-01-01"}};
    const std::string url = join_url(base(), "/");
    signing::RequestToSign to_sign{"GET", signing::path_of(url), query,
                                   {{"Host", signing::authority_of(url)},
                                    {"X-Date", x_date_of(m_clock.now())},
                                    {"X-Content-Sha256", signing::hex(signing::sha256(""))}},
                                   ""};
    const auto signature = signing::volcengine_sign(to_sign, {to_sign.headers[1].second, k_region, k_service},
                                                    m_access_key_id, m_account.api_key.reveal());
    auto request = make_request(m_account, url + "?" + signing::sorted_query(query));
    for (const auto& [name, value] : to_sign.headers) request.headers.push_back({name, value});
    request.headers.push_back({"Authorization", signature.authorization});
    auto body = fetch_object(client, request, from_volcengine_status);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  ProbeResult parse(const Json& body) const {
    if (const Json* error = error_of(body)) {
      return with_volcengine_error(ProbeError{ErrorKind::http_status, "QueryBalanceAcct refused", 200, std::nullopt},
                                   *error, std::nullopt);
    }
    auto found = required_object(body, "Result");
    if (!found) return found.error();
    const Json* result = *found;
    auto available = required_amount(*result, "AvailableBalance", "Result.AvailableBalance");
    if (!available) return available.error();
    BalanceEntry entry{m_account.currency.value_or("CNY"), *available, std::nullopt, Json::object()};
    copy_amounts(*result, {"CashBalance", "ArrearsBalance", "CreditLimit", "FreezeAmount"}, entry.details);
    Reading reading;
    // Volcengine suspends pay-as-you-go resources once nothing is left to spend.
    reading.available = *available > Decimal();
    if (!reading.available) reading.unavailable_reason = "no available balance left";
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  config::AccountConfig m_account;
  std::string m_access_key_id;
  const Clock& m_clock;
};

}  // namespace

std::unique_ptr<Provider> make_volcengine(const config::AccountConfig& account, const Clock& clock,
                                          SettingsReader& settings) {
  if (account.api_key.empty())
    settings.error("api_key", "provider volcengine needs the Secret Access Key in api_key or api_key_file");
  auto access_key_id = settings.required_string("access_key_id");
  if (access_key_id && !valid_access_key_id(*access_key_id))
    settings.error("access_key_id", "access_key_id: expected letters and digits (AKLT...)");
  if (!settings.finish()) return nullptr;
  return std::make_unique<Volcengine>(account, *access_key_id, clock);
}

}  // namespace creditwatch::providers
