// Baidu AI Cloud's BCE auth v1 (HMAC-SHA256 under a signing key derived from the secret and
// the auth string prefix), as "生成认证字符串", https://cloud.baidu.com/doc/Reference/s/njwvz1yfu,
// describes it; the worked example of https://cloud.baidu.com/doc/Reference/s/wjwvz1xt2 is
// tests/unit/test_providers_signing_baidu.cpp.
#include "creditwatch/providers/cloud_signing.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace creditwatch::providers::signing {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// Every "name=value" encoded, sorted as whole strings (so "text10=" sorts before "text1="),
// the authorization parameter left out.
std::string canonical_query(const Params& query) {
  std::vector<std::string> pairs;
  for (const auto& [name, value] : query) {
    if (lower(name) == "authorization") continue;
    pairs.push_back(uri_encode(name) + "=" + uri_encode(value));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& pair : pairs) out += (out.empty() ? "" : "&") + pair;
  return out;
}

// Lines "name:encoded value", names lower-cased, sorted, joined by "\n"; and the names by ";".
std::pair<std::string, std::string> canonical_headers(const Params& headers) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& [name, value] : headers) entries.emplace_back(lower(trimmed(name)), uri_encode(trimmed(value)));
  std::sort(entries.begin(), entries.end());
  std::string lines;
  std::string names;
  for (const auto& [name, value] : entries) {
    lines += (lines.empty() ? "" : "\n") + name + ":" + value;
    names += (names.empty() ? "" : ";") + name;
  }
  return {lines, names};
}

}  // namespace

BaiduSignature baidu_sign(const RequestToSign& request, std::string_view access_key_id, std::string_view secret,
                          std::string_view timestamp, int expiration_seconds, bool list_signed_headers) {
  const std::string prefix = "bce-auth-v1/" + std::string(access_key_id) + "/" + std::string(timestamp) + "/" +
                             std::to_string(expiration_seconds);
  const auto [header_lines, signed_headers] = canonical_headers(request.headers);
  const std::string path = request.path.empty() ? "/" : uri_encode(request.path, true);
  BaiduSignature out;
  out.canonical_request = request.method + "\n" + path + "\n" + canonical_query(request.query) + "\n" + header_lines;
  out.signing_key = hex(hmac_sha256(secret, prefix));
  out.signature = hex(hmac_sha256(out.signing_key, out.canonical_request));
  out.authorization = prefix + "/" + (list_signed_headers ? signed_headers : "") + "/" + out.signature;
  return out;
}

}  // namespace creditwatch::providers::signing
