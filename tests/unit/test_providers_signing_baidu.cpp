// Baidu AI Cloud's BCE auth v1 against the worked example Baidu publishes with its signing
// code, "Sample-Code", https://cloud.baidu.com/doc/Reference/s/wjwvz1xt2 (BOS UploadPart, AK
// 32 x "a", SK 32 x "b", 2015-04-27T08:23:49Z, the default signed headers, expiration 1800).
// The expected strings are the ones public BCE clients pin for that example (with the path
// /v1/test/myfolder/readme.txt) and were recomputed here with python3's hmac and hashlib:
//   signing key    1d5ce5f464064cbee060330d973218821825ac6952368a482a592e6615aef479
//   authorization  bce-auth-v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/2015-04-27T08:23:49Z/1800//d74a0436...2999e
// [The Sample-Code page as stored shows the inputs but not the output string.] The canonical
// query and path examples are those of the method page, https://cloud.baidu.com/doc/Reference/s/njwvz1yfu
// and its V2 sibling https://cloud.baidu.com/doc/Reference/s/hjwvz1y4f.
#include "creditwatch/providers/cloud_signing.hpp"

#include <doctest/doctest.h>

namespace signing = creditwatch::providers::signing;

namespace {

const std::string k_ak(32, 'a');
const std::string k_sk(32, 'b');
constexpr const char* k_timestamp = "2015-04-27T08:23:49Z";

signing::RequestToSign documented_request() {
  return {"PUT",
          "/v1/test/myfolder/readme.txt",
          {{"partNumber", "9"}, {"uploadId", "a44cc9bab11cbd156984767aad637851"}},
          {{"Host", "bj.bcebos.com"},
           {"Content-Type", "text/plain"},
           {"Content-Length", "8"},
           {"Content-Md5", "NFzcPqhviddjRNnSOGo4rw=="},
           {"x-bce-date", k_timestamp}},
          "Example"};
}

}  // namespace

TEST_SUITE("providers_signing_baidu") {
  TEST_CASE("the documented example's canonical request encodes the header values") {
    const auto s = signing::baidu_sign(documented_request(), k_ak, k_sk, k_timestamp, 1800, false);
    CHECK(s.canonical_request ==
          "PUT\n/v1/test/myfolder/readme.txt\npartNumber=9&uploadId=a44cc9bab11cbd156984767aad637851\n"
          "content-length:8\ncontent-md5:NFzcPqhviddjRNnSOGo4rw%3D%3D\ncontent-type:text%2Fplain\n"
          "host:bj.bcebos.com\nx-bce-date:2015-04-27T08%3A23%3A49Z");
  }

  TEST_CASE("the documented example's signing key and authorization string") {
    const auto s = signing::baidu_sign(documented_request(), k_ak, k_sk, k_timestamp, 1800, false);
    CHECK(s.signing_key == "1d5ce5f464064cbee060330d973218821825ac6952368a482a592e6615aef479");
    CHECK(s.signature == "d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e");
    CHECK(s.authorization ==
          "bce-auth-v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/2015-04-27T08:23:49Z/1800//"
          "d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e");
  }

  TEST_CASE("signing only host and x-bce-date names them in the authorization string") {
    // Independently computed for the same request with python3's hmac and hashlib:
    // hmac(signing_key, "PUT\n/v1/test/myfolder/readme.txt\npartNumber=9&uploadId=...\n"
    //                   "host:bj.bcebos.com\nx-bce-date:2015-04-27T08%3A23%3A49Z", sha256).hexdigest()
    auto request = documented_request();
    request.headers = {{"Host", "bj.bcebos.com"}, {"x-bce-date", k_timestamp}};
    const auto s = signing::baidu_sign(request, k_ak, k_sk, k_timestamp, 1800);
    CHECK(s.authorization ==
          "bce-auth-v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/2015-04-27T08:23:49Z/1800/host;x-bce-date/"
          "1b8de5a23a56eef657c69f94c621e7acd227d049a4ba577f537d5e5cebf0cf32");
  }

  TEST_CASE("the query sorts as whole name=value strings, as the method page's example shows") {
    auto request = documented_request();
    request.query = {{"text", ""}, {"text1", "测试"}, {"text10", "test"}};
    request.headers = {{"Host", "bj.bcebos.com"}};
    const auto s = signing::baidu_sign(request, k_ak, k_sk, k_timestamp, 1800);
    CHECK(s.canonical_request.find("\ntext10=test&text1=%E6%B5%8B%E8%AF%95&text=\n") != std::string::npos);
  }

  TEST_CASE("the path keeps its slashes and encodes the rest") {
    auto request = documented_request();
    request.path = "/example/测试";
    request.query = {};
    request.headers = {{"Host", "bj.bcebos.com"}};
    const auto s = signing::baidu_sign(request, k_ak, k_sk, k_timestamp, 1800);
    CHECK(s.canonical_request.starts_with("PUT\n/example/%E6%B5%8B%E8%AF%95\n\n"));
  }
}
