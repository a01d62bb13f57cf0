// Alibaba Cloud (DashScope / Model Studio bill here): the account balance from the BSS OpenAPI,
// GET {base}/?Action=QueryAccountBalance&Version=2017-12-14&... signed with the RPC signature
// (HMAC-SHA1, signing_alibaba.cpp) under an AccessKey pair: `access_key_id` in the settings, the
// AccessKey secret in api_key / api_key_file.
//
// Confirmed against Alibaba Cloud's docs:
// - QueryAccountBalance, https://help.aliyun.com/en/user-center/developer-reference/api-queryaccountbalance:
//   only Action; 200 {"Code":"200","Message":"success","RequestId":...,"Success":true,"Data":
//   {"AvailableAmount":"1000.19","AvailableCashAmount":"0.00","CreditAmount":"1000.00",
//   "MybankCreditAmount":"0.00","Currency":"CNY"}}, amounts as strings, Currency CNY, USD or JPY;
//   its XML example shows an account in arrears (AvailableAmount -11.19).
// - The RPC common parameters and signature, "Signature mechanism",
//   https://help.aliyun.com/en/document_detail/145075.html: Format, Version, AccessKeyId,
//   SignatureMethod HMAC-SHA1, SignatureVersion 1.0, SignatureNonce (unique per request),
//   Timestamp in UTC as yyyy-MM-ddTHH:mm:ssZ, Signature.
// - Errors, https://www.alibabacloud.com/help/doc-detail/69008.htm: a 4xx/5xx with a JSON body
//   {"RequestId","HostId","Code","Message"}; InvalidAccessKeyId.NotFound is a 404 (not a 401),
//   InternalFailure 500. [UNCONFIRMED: SignatureDoesNotMatch and Throttling.User as 400s, as
//   the RPC products' common error lists are remembered; errors are read by Code, so their
//   status does not decide the kind.]
// Endpoint business.aliyuncs.com (China site); accounts of the international site use
// business.ap-southeast-1.aliyuncs.com as base_url. shared/reference/providers-2.md agrees.
//
// The balance is AvailableAmount (cash plus credit line, what can still be spent); the cash
// and credit parts go into the details.
#include "builders.hpp"

#include "creditwatch/common/time_format.hpp"
#include "creditwatch/providers/cloud_signing.hpp"
#include "creditwatch/providers/support.hpp"

#include <algorithm>
#include <cctype>

namespace creditwatch::providers {
namespace {

constexpr const char* k_default_base = "https://business.aliyuncs.com";

using Json = nlohmann::json;

bool valid_access_key_id(const std::string& id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c); });
}

// The kind an Alibaba error Code stands for, whatever the status it came with.
std::optional<ErrorKind> kind_of_code(const std::string& code) {
  for (const char* prefix : {"InvalidAccessKeyId", "SignatureDoesNotMatch", "IncompleteSignature", "Forbidden",
                             "NoPermission", "NotAuthorized", "InvalidSecurityToken"}) {
    if (code.starts_with(prefix)) return ErrorKind::key_invalid;
  }
  if (code.starts_with("Throttling")) return ErrorKind::rate_limited;
  return std::nullopt;
}

// "Code: Message" from Alibaba's error body, as message_text; "" when the body has neither.
std::string alibaba_said(const Json& body) {
  std::string text;
  for (const char* part : {"Code", "Message"}) {
    auto it = body.find(part);
    if (it == body.end() || !it->is_string() || it->get<std::string>().empty()) continue;
    text += (text.empty() ? "" : ": ") + it->get<std::string>();
  }
  return message_text(text);
}

ProbeError from_alibaba_status(const http::Response& response) {
  ProbeError e = from_status(response);
  const auto body = Json::parse(response.body, nullptr, false);
  if (!body.is_object()) return e;
  const std::string code = body.value("Code", Json()).is_string() ? body["Code"].get<std::string>() : "";
  const std::string status = "HTTP " + std::to_string(response.status);
  if (auto kind = kind_of_code(code)) {
    e.kind = *kind;
    e.message = *kind == ErrorKind::key_invalid ? status + " AccessKey rejected" : status + " rate limited";
    if (*kind == ErrorKind::rate_limited) e.retry_after = response.retry_after();
  } else if (code.starts_with("InvalidTimeStamp")) {
    e.message = status + " request time refused (check the system clock)";
  }
  if (auto said = alibaba_said(body); !said.empty()) e.message = message_text(e.message + ": " + said);
  return e;
}

class Alibaba final : public Provider {
public:
  Alibaba(config::AccountConfig account, std::string access_key_id, const Clock& clock, signing::NonceSource nonce)
      : m_account(std::move(account)), m_access_key_id(std::move(access_key_id)), m_clock(clock),
        m_nonce(std::move(nonce)) {}

  ProbeResult probe(http::Client& client) override {
    auto request = make_request(m_account, join_url(base(), "/") + "?" + signed_query());
    auto body = fetch_object(client, request, from_alibaba_status);
    if (!body) return body.error();
    return parse(*body);
  }

private:
  std::string base() const { return m_account.base_url.empty() ? k_default_base : m_account.base_url; }

  // The query with its common parameters and the Signature over all of them.
  std::string signed_query() const {
    const signing::Params params = {
        {"Action", "QueryAccountBalance"}, {"Version", "2017-12-14"},  {"Format", "JSON"},
        {"AccessKeyId", m_access_key_id},  {"SignatureMethod", "HMAC-SHA1"}, {"SignatureVersion", "1.0"},
        {"SignatureNonce", m_nonce()},     {"Timestamp", format_rfc3339(m_clock.now())},
    };
    const auto signature = signing::alibaba_signature("GET", params, m_account.api_key.reveal());
    return signing::alibaba_canonical_query(params) + "&Signature=" + percent_encode(signature);
  }

  ProbeResult parse(const Json& body) const {
    // A 200 can still carry a refusal: {"Success":false,"Code":"NotAuthorized",...}.
    if (auto it = body.find("Success"); it != body.end() && *it == false) return refusal(body);
    auto found = required_object(body, "Data");
    if (!found) return found.error();
    const Json* data = *found;
    auto available = required_amount(*data, "AvailableAmount", "Data.AvailableAmount");
    if (!available) return available.error();
    BalanceEntry entry{currency_of(*data), *available, std::nullopt, Json::object()};
    copy_amounts(*data, {"AvailableCashAmount", "CreditAmount", "MybankCreditAmount"}, entry.details);
    Reading reading;
    // Alibaba stops pay-as-you-go services once the available amount is used up.
    reading.available = *available > Decimal();
    if (!reading.available) reading.unavailable_reason = "no available amount left";
    reading.balances.push_back(std::move(entry));
    return reading;
  }

  static ProbeError refusal(const Json& body) {
    const std::string code = body.value("Code", Json()).is_string() ? body["Code"].get<std::string>() : "";
    ProbeError e{kind_of_code(code).value_or(ErrorKind::http_status), "", 200, std::nullopt};
    e.message = message_text("QueryAccountBalance refused: " + alibaba_said(body));
    return e;
  }

  std::string currency_of(const Json& data) const {
    auto it = data.find("Currency");
    if (it != data.end() && it->is_string() && !it->get<std::string>().empty())
      return message_text(it->get<std::string>());
    return m_account.currency.value_or("CNY");
  }

  config::AccountConfig m_account;
  std::string m_access_key_id;
  const Clock& m_clock;
  signing::NonceSource m_nonce;
};

}  // namespace

std::unique_ptr<Provider> make_alibaba(const config::AccountConfig& account, const Clock& clock,
                                       SettingsReader& settings) {
  if (account.api_key.empty())
    settings.error("api_key", "provider alibaba needs the AccessKey secret in api_key or api_key_file");
  auto access_key_id = settings.required_string("access_key_id");
  if (access_key_id && !valid_access_key_id(*access_key_id))
    settings.error("access_key_id", "access_key_id: expected letters and digits (LTAI...)");
  if (!settings.finish()) return nullptr;
  return std::make_unique<Alibaba>(account, *access_key_id, clock, signing::random_nonce);
}

}  // namespace creditwatch::providers
