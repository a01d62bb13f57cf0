#pragma once
// Request signing for the clouds whose billing APIs take an access key pair (an id and a
// secret) instead of a bearer token. Every function here is pure: the caller passes the time
// and the nonce (from its injected Clock and nonce source), so the same request always signs
// the same way and each vendor's published worked example is a unit test
// (tests/unit/test_providers_signing_*.cpp). One file per algorithm in src/providers/.

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace creditwatch::providers::signing {

// Query parameters as name/value pairs, not yet encoded, in any order.
using Params = std::vector<std::pair<std::string, std::string>>;

// ---- Digests (signing_digest.cpp, OpenSSL) ----

// Raw digest bytes.
std::string hmac_sha1(std::string_view key, std::string_view message);
std::string hmac_sha256(std::string_view key, std::string_view message);
std::string sha256(std::string_view message);
// Lower-case hexadecimal and standard (padded) Base64 of raw bytes.
std::string hex(std::string_view bytes);
std::string base64(std::string_view bytes);
// 32 hex digits from OpenSSL's CSPRNG: the default nonce source of the providers that send
// one. Tests give the providers their own source instead.
std::string random_nonce();
// Where a provider takes its nonces from: random_nonce in the daemon, a fixed sequence in tests.
using NonceSource = std::function<std::string()>;

// `text` percent-encoded as RFC 3986 says (A-Z a-z 0-9 - _ . ~ kept, every other byte %XX in
// upper-case hex); with keep_slash, "/" stays too (for a path).
std::string uri_encode(std::string_view text, bool keep_slash = false);
// The parameters sorted by encoded name (a repeated name keeps its order), each name and value
// uri_encode'd, joined as name=value&name=value.
std::string sorted_query(const Params& params);
// The authority of an absolute URL ("open.volcengineapi.com", "127.0.0.1:8080"): what the
// request's Host header carries, and so what a signature over "host" covers.
std::string authority_of(std::string_view url);
// The path of an absolute URL without its query ("/" when it has none): what a signature over
// the canonical URI covers.
std::string path_of(std::string_view url);

// A request as the header-signing schemes (Volcengine, Baidu) see it.
struct RequestToSign {
  std::string method;  // "GET", "POST"
  std::string path;    // "/", "/v1/finance/cash/balance" (not yet encoded)
  Params query;
  Params headers;      // exactly the headers to sign, names in any case
  std::string body;
};

// ---- Alibaba Cloud RPC signature 1.0, HMAC-SHA1 (signing_alibaba.cpp) ----
// The "Signature mechanism" page every RPC product carries, e.g.
// https://help.aliyun.com/en/document_detail/145075.html.

// The parameters sorted by name, each name and value percent-encoded (RFC 3986: only
// A-Z a-z 0-9 - _ . ~ kept, a space is %20), joined as name=value&name=value.
std::string alibaba_canonical_query(const Params& params);
// METHOD & %2F & percent-encode(canonical query).
std::string alibaba_string_to_sign(std::string_view method, const Params& params);
// Base64(HMAC-SHA1(secret + "&", string to sign)).
std::string alibaba_signature(std::string_view method, const Params& params, std::string_view secret);


// ---- Volcengine signature, HMAC-SHA256 in the manner of AWS SigV4 (signing_volcengine.cpp) ----
// https://www.volcengine.com/docs/6369/67269 (method) and /67270 (worked example).

struct VolcengineScope {
  std::string x_date;   // the X-Date header, UTC "20201230T081805Z"
  std::string region;   // "cn-beijing"
  std::string service;  // "billing"
};

struct VolcengineSignature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // the Authorization header's value
};

VolcengineSignature volcengine_sign(const RequestToSign& request, const VolcengineScope& scope,
                                    std::string_view access_key_id, std::string_view secret);


// ---- Baidu AI Cloud BCE auth v1, HMAC-SHA256 (signing_baidu.cpp) ----
// "生成认证字符串", https://cloud.baidu.com/doc/Reference/s/njwvz1yfu; worked example on
// "Sample-Code", https://cloud.baidu.com/doc/Reference/s/wjwvz1xt2.

struct BaiduSignature {
  std::string canonical_request;
  std::string signing_key;    // lower-case hex, itself the HMAC key of the signature
  std::string signature;      // lower-case hex
  std::string authorization;  // bce-auth-v1/{ak}/{timestamp}/{expiration}/{signedHeaders}/{signature}
};

// `timestamp` is UTC "2015-04-27T08:23:49Z". With list_signed_headers false the signed headers
// are left out of the authorization string, which tells Baidu the default set was signed
// (host, content-length, content-type, content-md5 and the x-bce-* headers).
BaiduSignature baidu_sign(const RequestToSign& request, std::string_view access_key_id, std::string_view secret,
                          std::string_view timestamp, int expiration_seconds, bool list_signed_headers = true);

}  // namespace creditwatch::providers::signing
