// Volcengine's request signature against the worked example it publishes, "签名示例"
// https://www.volcengine.com/docs/6369/67270 (the same example, in English, on BytePlus's
// https://docs.byteplus.com/byteplus-platform/reference/example): IAM ListUsers, AK
// AKLTMjI2ODVlYzI3ZGY1NGU4ZjhjYWRjMTlmNTM5OTZkYzE, X-Date 20201230T081805Z, region
// cn-north-1, service iam; Authorization "HMAC-SHA256 Credential=AKLT.../20201230/cn-north-1/iam/request,
// SignedHeaders=content-type;host;x-content-sha256;x-date, Signature=28eeabbb...a6d8a7".
#include "creditwatch/providers/cloud_signing.hpp"

#include <doctest/doctest.h>

namespace signing = creditwatch::providers::signing;

namespace {

constexpr const char* k_ak = "AKLTMjI2ODVlYzI3ZGY1NGU4ZjhjYWRjMTlmNTM5OTZkYzE";
constexpr const char* k_sk = "TnpCak5XWXpZV1U0WkRaaE5ERmxaR0ZpTmpjeVkyUXlZek0wTWpJMU1qWQ==";
constexpr const char* k_empty_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

signing::RequestToSign documented_request() {
  return {"GET",
          "/",
          {{"Action", "ListUsers"}, {"Version", "2018-01-01"}, {"Limit", "10"}, {"Offset", "0"}},
          {{"Host", "iam.volcengineapi.com"},
           {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
           {"X-Date", "20201230T081805Z"},
           {"X-Content-Sha256", k_empty_sha256}},
          ""};
}

const signing::VolcengineScope k_scope{"20201230T081805Z", "cn-north-1", "iam"};

}  // namespace

TEST_SUITE("providers_signing_volcengine") {
  TEST_CASE("the documented example's canonical request sorts the query and the headers") {
    const auto signed_request = signing::volcengine_sign(documented_request(), k_scope, k_ak, k_sk);
    CHECK(signed_request.canonical_request ==
          "GET\n/\nAction=ListUsers&Limit=10&Offset=0&Version=2018-01-01\n"
          "content-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.volcengineapi.com\n"
          "x-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
          "x-date:20201230T081805Z\n\ncontent-type;host;x-content-sha256;x-date\n"
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }

  TEST_CASE("the documented example's string to sign") {
    const auto signed_request = signing::volcengine_sign(documented_request(), k_scope, k_ak, k_sk);
    CHECK(signed_request.string_to_sign ==
          "HMAC-SHA256\n20201230T081805Z\n20201230/cn-north-1/iam/request\n"
          "3a4d4dee07c3308a52da01bc12d7a83c3705bfa543f51648f46de880bb2a7447");
  }

  TEST_CASE("the documented example signs to the vendor's published Authorization") {
    const auto signed_request = signing::volcengine_sign(documented_request(), k_scope, k_ak, k_sk);
    CHECK(signed_request.signature == "28eeabbbd726b87002e0fe58ad8c1c768e619b06e2646f35b6ad7ed029a6d8a7");
    CHECK(signed_request.authorization ==
          "HMAC-SHA256 Credential=AKLTMjI2ODVlYzI3ZGY1NGU4ZjhjYWRjMTlmNTM5OTZkYzE/20201230/cn-north-1/iam/request, "
          "SignedHeaders=content-type;host;x-content-sha256;x-date, "
          "Signature=28eeabbbd726b87002e0fe58ad8c1c768e619b06e2646f35b6ad7ed029a6d8a7");
  }

  TEST_CASE("the secret, the region, the body and every signed header change the signature") {
    const auto documented = signing::volcengine_sign(documented_request(), k_scope, k_ak, k_sk).signature;
    CHECK(signing::volcengine_sign(documented_request(), k_scope, k_ak, "other").signature != documented);
    CHECK(signing::volcengine_sign(documented_request(), {"20201230T081805Z", "cn-beijing", "iam"}, k_ak, k_sk).signature !=
          documented);
    auto with_body = documented_request();
    with_body.body = "{}";
    CHECK(signing::volcengine_sign(with_body, k_scope, k_ak, k_sk).signature != documented);
    auto other_host = documented_request();
    other_host.headers[0].second = "open.volcengineapi.com";
    CHECK(signing::volcengine_sign(other_host, k_scope, k_ak, k_sk).signature != documented);
  }

  TEST_CASE("the Host and path a signature covers come from the URL, port included") {
    CHECK(signing::authority_of("https://open.volcengineapi.com/?Action=x") == "open.volcengineapi.com");
    CHECK(signing::authority_of("http://127.0.0.1:8080/case0") == "127.0.0.1:8080");
    CHECK(signing::authority_of("https://billing.baidubce.com") == "billing.baidubce.com");
    CHECK(signing::path_of("http://127.0.0.1:8080/case0/?Action=x") == "/case0/");
    CHECK(signing::path_of("https://billing.baidubce.com") == "/");
  }
}
