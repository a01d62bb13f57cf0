// Alibaba Cloud's RPC signature against the worked example the vendor publishes on its
// "Request signature" / "Signature mechanism" pages (ECS DescribeRegions, AccessKeyId testid,
// AccessKeySecret testsecret), e.g. https://www.alibabacloud.com/help/doc-detail/28139.htm and
// https://help.aliyun.com/en/document_detail/145075.html:
//   unsigned URL  http://ecs.aliyuncs.com/?Timestamp=2016-02-23T12:46:24Z&Format=XML&AccessKeyId=testid
//                 &Action=DescribeRegions&SignatureMethod=HMAC-SHA1
//                 &SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&Version=2014-05-26&SignatureVersion=1.0
//   HMAC key      testsecret&
//   signature     OLeaidS1JvxuMvnyHOwuJ+uX5qY=
// (The "CT9X0VtwR86fNWSnsc6v8YGOjuE=" in the pages' overview URL is an illustration of the
// format, not the signature of any request the pages show.)
#include "creditwatch/providers/cloud_signing.hpp"

#include <doctest/doctest.h>

namespace signing = creditwatch::providers::signing;

namespace {

// The example's parameters, in the order of its unsigned URL (not sorted).
const signing::Params k_example = {
    {"Timestamp", "2016-02-23T12:46:24Z"},
    {"Format", "XML"},
    {"AccessKeyId", "testid"},
    {"Action", "DescribeRegions"},
    {"SignatureMethod", "HMAC-SHA1"},
    {"SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
    {"Version", "2014-05-26"},
    {"SignatureVersion", "1.0"},
};

}  // namespace

TEST_SUITE("providers_signing_alibaba") {
  TEST_CASE("the canonical query of the documented example is sorted and percent-encoded") {
    CHECK(signing::alibaba_canonical_query(k_example) ==
          "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1"
          "&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0"
          "&Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26");
  }

  TEST_CASE("the string to sign of the documented example encodes the query a second time") {
    CHECK(signing::alibaba_string_to_sign("GET", k_example) ==
          "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"
          "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
          "%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26");
  }

  TEST_CASE("the documented example signs to the vendor's published signature") {
    CHECK(signing::alibaba_signature("GET", k_example, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
  }

  TEST_CASE("the method, the secret and every parameter change the signature") {
    const auto documented = signing::alibaba_signature("GET", k_example, "testsecret");
    CHECK(signing::alibaba_signature("POST", k_example, "testsecret") != documented);
    CHECK(signing::alibaba_signature("GET", k_example, "testsecreT") != documented);
    auto other_nonce = k_example;
    other_nonce[5].second = "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6d0";
    CHECK(signing::alibaba_signature("GET", other_nonce, "testsecret") != documented);
  }

  TEST_CASE("spaces, stars and non-ASCII text are encoded as RFC 3986 says, not as a form would") {
    // Independently computed: python3 urllib.parse.quote(v, safe='-_.~') of each value.
    CHECK(signing::alibaba_canonical_query({{"b", "a b*c~d"}, {"a", "账单"}}) ==
          "a=%E8%B4%A6%E5%8D%95&b=a%20b%2Ac~d");
  }
}
