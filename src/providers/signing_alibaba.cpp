// Alibaba Cloud's RPC signature, version 1.0 (HMAC-SHA1 over the canonical query), as its
// "Signature mechanism" pages describe it, e.g.
// https://help.aliyun.com/en/document_detail/145075.html and the ECS "Request signature" page
// with the DescribeRegions worked example (tests/unit/test_providers_signing_alibaba.cpp).
#include "creditwatch/providers/cloud_signing.hpp"

#include "creditwatch/providers/support.hpp"

namespace creditwatch::providers::signing {

std::string alibaba_canonical_query(const Params& params) { return sorted_query(params); }

std::string alibaba_string_to_sign(std::string_view method, const Params& params) {
  return std::string(method) + "&" + percent_encode("/") + "&" + percent_encode(alibaba_canonical_query(params));
}

std::string alibaba_signature(std::string_view method, const Params& params, std::string_view secret) {
  // The key is the secret followed by "&" (the place of a token secret RPC never uses).
  return base64(hmac_sha1(std::string(secret) + "&", alibaba_string_to_sign(method, params)));
}

}  // namespace creditwatch::providers::signing
