// Volcengine's request signature (HMAC-SHA256, the shape of AWS SigV4 with its own algorithm
// name, scope terminator "request" and no "AWS4" key prefix), as "签名方法",
// https://www.volcengine.com/docs/6369/67269, describes it; the worked example of
// https://www.volcengine.com/docs/6369/67270 is tests/unit/test_providers_signing_volcengine.cpp.
#include "creditwatch/providers/cloud_signing.hpp"

#include <algorithm>
#include <cctype>

namespace creditwatch::providers::signing {
namespace {

constexpr const char* k_algorithm = "HMAC-SHA256";

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// "name:value\n" per header, names lower-cased and sorted; and the names joined by ";".
std::pair<std::string, std::string> canonical_headers(const Params& headers) {
  Params entries;
  for (const auto& [name, value] : headers) entries.emplace_back(lower(name), trimmed(value));
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string lines;
  std::string names;
  for (const auto& [name, value] : entries) {
    lines += name + ":" + value + "\n";
    names += (names.empty() ? "" : ";") + name;
  }
  return {lines, names};
}

}  // namespace

VolcengineSignature volcengine_sign(const RequestToSign& request, const VolcengineScope& scope,
                                    std::string_view access_key_id, std::string_view secret) {
  const auto [header_lines, signed_headers] = canonical_headers(request.headers);
  const std::string path = request.path.empty() ? "/" : uri_encode(request.path, true);
  VolcengineSignature out;
  out.canonical_request = request.method + "\n" + path + "\n" + sorted_query(request.query) + "\n" + header_lines +
                          "\n" + signed_headers + "\n" + hex(sha256(request.body));
  const std::string date = scope.x_date.substr(0, 8);
  const std::string credential_scope = date + "/" + scope.region + "/" + scope.service + "/request";
  out.string_to_sign = std::string(k_algorithm) + "\n" + scope.x_date + "\n" + credential_scope + "\n" +
                       hex(sha256(out.canonical_request));
  std::string key = hmac_sha256(secret, date);
  for (const std::string& part : {scope.region, scope.service, std::string("request")}) key = hmac_sha256(key, part);
  out.signature = hex(hmac_sha256(key, out.string_to_sign));
  out.authorization = std::string(k_algorithm) + " Credential=" + std::string(access_key_id) + "/" + credential_scope +
                      ", SignedHeaders=" + signed_headers + ", Signature=" + out.signature;
  return out;
}

}  // namespace creditwatch::providers::signing
