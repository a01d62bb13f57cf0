// The helpers every provider builds its errors with: whatever bytes a provider (or a gateway
// in front of it) answers, a ProbeError message is one line of valid UTF-8 of at most 200
// bytes, cut between characters. Error bodies follow shared/reference/providers.md section 1.
#include "creditwatch/common/text.hpp"
#include "creditwatch/providers/support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

using creditwatch::safe_text;
using creditwatch::valid_utf8;
using creditwatch::http::Failure;
using creditwatch::http::FailureKind;
using creditwatch::http::Response;
using creditwatch::providers::bad_response;
using creditwatch::providers::describe;
using creditwatch::providers::ErrorKind;
using creditwatch::providers::from_failure;
using creditwatch::providers::from_status;
using creditwatch::providers::message_text;
using creditwatch::providers::ProbeError;
using creditwatch::providers::provider_message;

namespace {

// Four sentences a Chinese gateway in front of DeepSeek answers with (over 200 bytes).
const std::string k_key_rejected =
    "API 密钥无效或已过期，请检查您的密钥是否正确。如果您刚刚创建了新的密钥，请等待几分钟后重试。"
    "您也可以在控制台重新生成一个新的密钥。如有疑问，请联系我们的客服团队获取帮助。";
const std::string k_out_of_balance =
    "您的账户余额不足，无法继续调用接口，所有请求都将被拒绝。请前往控制台充值后继续使用。赠送余额已经全部用完。"
    "如需开具发票，请联系我们的客服团队。";

// DeepSeek's error envelope (OpenAI style).
Response deepseek_error(long status, const std::string& message, const std::string& type) {
  Response r;
  r.status = status;
  r.body = R"({"error":{"message":")" + message + R"(","type":")" + type +
           R"(","param":null,"code":"invalid_request_error"}})";
  return r;
}

void check_message(const ProbeError& e) {
  INFO("message: " << e.message);
  CHECK(valid_utf8(e.message));
  CHECK(safe_text(e.message, creditwatch::LineBreaks::fold) == e.message);  // one line, no controls
  CHECK(e.message.size() <= 200);
  CHECK_NOTHROW((void)nlohmann::json(e.message).dump());  // the strict dump that used to throw
}

}  // namespace

TEST_SUITE("providers_support") {
  TEST_CASE("a 401 and a 402 with long Chinese messages keep whole characters") {
    REQUIRE(k_key_rejected.size() > 200);
    REQUIRE(k_out_of_balance.size() > 200);
    const auto rejected = from_status(deepseek_error(401, k_key_rejected, "authentication_error"));
    CHECK(rejected.kind == ErrorKind::key_invalid);
    check_message(rejected);
    CHECK(rejected.message.rfind("HTTP 401 key rejected: API 密钥无效或已过期", 0) == 0);
    CHECK(rejected.message.ends_with("..."));

    const auto empty = from_status(deepseek_error(402, k_out_of_balance, "unknown_error"));
    CHECK(empty.kind == ErrorKind::exhausted);
    check_message(empty);
    CHECK(empty.message.rfind("HTTP 402 out of balance: 您的账户余额不足", 0) == 0);
  }

  TEST_CASE("the 200-byte cut falls at every byte of 2- 3- and 4-byte characters") {
    for (const std::string character : {"é", "额", "💸"}) {
      std::string text;
      while (text.size() < 400) text += character;
      for (std::size_t pad = 0; pad < 4; ++pad) {
        INFO("character " << character << " after " << pad << " ASCII letters");
        const auto e = from_status(deepseek_error(401, std::string(pad, 'x') + text, "authentication_error"));
        check_message(e);
        // Nothing more fits: the next character would cross 200 bytes with the ellipsis.
        CHECK(e.message.size() + character.size() > 200);
      }
    }
  }

  TEST_CASE("invalid UTF-8 NULs and control characters in the body still give the provider's words") {
    Response r;
    r.status = 401;
    const char raw[] =
        "{\"error\":{\"message\":\"密钥\xE4\xB8 无效\x1B[31m\r\n\x01\0end\",\n\t\"type\":\"authentication_error\"}}";
    r.body.assign(raw, sizeof raw - 1);
    const auto e = from_status(r);
    CHECK(e.kind == ErrorKind::key_invalid);
    check_message(e);
    CHECK(e.message == "HTTP 401 key rejected: 密钥\xEF\xBF\xBD 无效\xEF\xBF\xBD[31m \xEF\xBF\xBD" "end");
  }

  TEST_CASE("a body that is not JSON at all gives the status alone") {
    Response r;
    r.status = 402;
    const char raw[] = "\xFF\xFE<html>\0余额不足";
    r.body.assign(raw, sizeof raw - 1);
    const auto e = from_status(r);
    CHECK(e.kind == ErrorKind::exhausted);
    CHECK(e.message == "HTTP 402 out of balance");
    CHECK(provider_message(r).empty());
  }

  TEST_CASE("a message escaped as \\u0000 in valid JSON loses its NULs") {
    const auto e = from_status(deepseek_error(401, R"(bad\u0000key\u001b[0m\nnext line)", "authentication_error"));
    check_message(e);
    CHECK(e.message == "HTTP 401 key rejected: badkey\xEF\xBF\xBD[0m next line");
  }

  TEST_CASE("one MiB of Chinese is cut quickly") {
    std::string huge;
    while (huge.size() < (1u << 20)) huge += k_key_rejected;
    const auto start = std::chrono::steady_clock::now();
    const auto e = from_status(deepseek_error(401, huge, "authentication_error"));
    const auto d = describe(nlohmann::json(huge));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
    check_message(e);
    CHECK(valid_utf8(d));
    CHECK(d.size() <= 200);
  }

  TEST_CASE("transport failures bad responses and descriptions are safe lines too") {
    check_message(from_failure(Failure{FailureKind::tls, "certificate for \xE4\xB8\0 failed\r\nX: y"}));
    check_message(bad_response("balance_infos[0].currency: expected USD, got " + std::string(300, '\xE4')));
    CHECK(message_text("a\r\nb\tc") == "a b c");
    CHECK(message_text(std::string(250, 'x')) == std::string(197, 'x') + "...");
  }

  TEST_CASE("host_of lower_ascii and percent_encode - the helpers shared by several providers") {
    using creditwatch::providers::host_of;
    using creditwatch::providers::lower_ascii;
    using creditwatch::providers::percent_encode;
    CHECK(host_of("https://API.Moonshot.CN./v1/users") == "api.moonshot.cn");
    CHECK(host_of("http://user:pw@relay.example.com:8443/v1?x=1") == "relay.example.com");
    CHECK(host_of("api.siliconflow.com") == "api.siliconflow.com");
    CHECK(host_of("") == "");
    CHECK(lower_ascii("Insufficient BALANCE 余额") == "insufficient balance 余额");
    CHECK(percent_encode("a-b_c.d~e") == "a-b_c.d~e");
    CHECK(percent_encode("k y/+=&") == "k%20y%2F%2B%3D%26");
    CHECK(percent_encode("\xE4") == "%E4");
  }

  TEST_CASE("required_object and copy_amounts - reading a data object and its breakdown") {
    using creditwatch::providers::copy_amounts;
    using creditwatch::providers::required_object;
    const auto body = nlohmann::json::parse(
        R"({"data":{"a":"1.5","b":2,"c":"x","d":null},"list":[1],"text":"no"})");
    auto data = required_object(body, "data");
    REQUIRE(data.ok());
    nlohmann::json details = nlohmann::json::object();
    copy_amounts(**data, {"a", "b", "c", "d", "missing"}, details);
    CHECK(details == nlohmann::json::parse(R"({"a":"1.50","b":"2.00"})"));
    CHECK(required_object(body, "absent").error().message == "absent is missing");
    CHECK(required_object(body, "list").error().message == "list: expected an object, got a list");
    CHECK(required_object(body, "text").error().kind == ErrorKind::bad_response);
  }
}
