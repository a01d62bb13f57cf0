#include "creditwatch/providers/factory.hpp"

#include "builders.hpp"
#include "liveness.hpp"

#include "creditwatch/common/text.hpp"

#include <functional>

namespace creditwatch::providers {
namespace {

using Builder = std::function<std::unique_ptr<Provider>(const config::AccountConfig&, const Clock&, SettingsReader&)>;

struct Entry {
  ProviderInfo info;
  Builder build;
};

// The one list of providers: add a row here and a file beside this one.
const std::vector<Entry>& entries() {
  static const std::vector<Entry> table = {
      {{"deepseek", "balance", "GET {base}/user/balance (base https://api.deepseek.com)", {}}, make_deepseek},
      {{"simulated", "balance", "nothing on the network: a synthetic declining balance",
        {"start", "spend_per_day", "noise", "weekly_pattern", "topup_every", "topup_amount"}},
       make_simulated},
      {{"openrouter", "balance+spend",
        "GET {base}/api/v1/credits (base https://openrouter.ai); GET {base}/api/v1/key on a 403 or with key_limit",
        {"key_limit"}},
       make_openrouter},
      {{"moonshot", "balance",
        "GET {base}/v1/users/me/balance (base https://api.moonshot.ai; a .cn host is CNY, else USD)", {}},
       make_moonshot},
      {{"siliconflow", "balance",
        "GET {base}/v1/user/info (base https://api.siliconflow.cn; a .com host is USD, else CNY)", {}},
       make_siliconflow},
      {{"novita", "balance",
        "GET {base}/openapi/v1/billing/balance/detail (base https://api.novita.ai; amounts in 1/10000 USD)", {}},
       make_novita},
      {{"xai", "balance",
        "GET {base}/v1/billing/teams/{team_id}/prepaid/balance (base https://management-api.x.ai; management key)",
        {"team_id"}},
       make_xai},
      {{"venice", "balance",
        "GET {base}/api/v1/billing/balance (base https://api.venice.ai; admin key; USD and DIEM)", {}},
       make_venice},
      {{"deepinfra", "balance",
        "GET {base}/payment/checklist?compute_owed=true (base https://api.deepinfra.com)", {}},
       make_deepinfra},
      {{"twilio", "balance",
        "GET {base}/2010-04-01/Accounts/{account_sid}/Balance.json (base https://api.twilio.com; basic auth)",
        {"account_sid", "key_sid"}},
       make_twilio},
      {{"vonage", "balance", "GET {base}/account/get-balance (base https://rest.nexmo.com; EUR; basic auth)",
        {"api_secret", "auth"}},
       make_vonage},
      {{"http_json", "balance", "{method} {url}: any JSON endpoint (base_url replaces the url's scheme and host)",
        {"url", "method", "headers", "body", "balance_pointer", "currency_pointer", "scale", "spend_pointer", "ok_pointer",
         "ok_value"}},
       make_http_json},
      {{"openai_probe", "liveness", "POST {base}/chat/completions with max_tokens 1 (base required; costs a token)",
        {"model", "max_tokens_field"}},
       make_openai_probe},
      {{"openai_costs", "spend", "GET {base}/v1/organization/costs (base https://api.openai.com; admin key)",
        {"credit", "budget", "budget_start"}},
       make_openai_costs},
      {{"anthropic_costs", "spend", "GET {base}/v1/organizations/cost_report (base https://api.anthropic.com; admin key)",
        {"credit", "budget", "budget_start"}},
       make_anthropic_costs},
      {{"oneapi", "balance+spend",
        "GET {base}/v1/dashboard/billing/subscription and /usage (one-api/new-api relays; base required, "
        "with or without /v1; an unlimited token has no balance)",
        {}},
       make_oneapi},
      {{"telnyx", "balance", "GET {base}/v2/balance (base https://api.telnyx.com; Bearer API key)", {}}, make_telnyx},
      {{"plivo", "balance", "GET {base}/v1/Account/{auth_id}/ (base https://api.plivo.com; basic auth; USD)", {"auth_id"}},
       make_plivo},
      {{"serpapi", "balance",
        "GET {base}/account.json?api_key=KEY (base https://serpapi.com; free call; unit: searches)", {}},
       make_serpapi},
      {{"stepfun", "balance", "GET {base}/v1/accounts (base https://api.stepfun.com; CNY)", {}}, make_stepfun},
      {{"zhipu_plan", "quota",
        "GET {base}/api/monitor/usage/quota/limit (base https://open.bigmodel.cn or https://api.z.ai; raw key; percent left)",
        {"window"}},
       make_zhipu_plan},
      {{"minimax_plan", "quota",
        "GET {base}/v1/api/openplatform/coding_plan/remains (base https://www.minimax.io or https://www.minimaxi.com; percent left)",
        {"window"}},
       make_minimax_plan},
      {{"zenmux", "balance",
        "GET {base}/api/v1/management/payg/balance (base https://zenmux.ai; management key; USD)", {}},
       make_zenmux},
      {{"litellm", "balance+spend",
        "GET {base}/key/info, then /user/info or /team/info by budget_scope (self-hosted proxy; base required; "
        "max_budget - spend in USD)",
        {"budget_scope", "budget"}},
       make_litellm},
      {{"aimlapi", "balance", "GET {base}/v2/billing (base https://api.aimlapi.com; USD)", {}}, make_aimlapi},
      {{"vercel_gateway", "balance+spend", "GET {base}/v1/credits (base https://ai-gateway.vercel.sh; USD; total_used as spend)",
        {}},
       make_vercel_gateway},
      {{"fal", "balance", "GET {base}/v1/account/billing?expand=credits (base https://api.fal.ai; Authorization: Key; admin key)",
        {}},
       make_fal},
      {{"cloudflare_gateway", "balance",
        "GET {base}/client/v4/accounts/{account_id}/ai-gateway/billing/credit-balance (base https://api.cloudflare.com; "
        "API token)",
        {"account_id"}},
       make_cloudflare_gateway},
      {{"stability", "balance", "GET {base}/v1/user/balance (base https://api.stability.ai; unit: credits)", {}},
       make_stability},
      {{"alibaba", "balance",
        "GET {base}/?Action=QueryAccountBalance (BSS OpenAPI 2017-12-14; base https://business.aliyuncs.com; "
        "AccessKey pair, RPC signature)",
        {"access_key_id"}},
       make_alibaba},
      {{"volcengine", "balance",
        "GET {base}/?Action=QueryBalanceAcct&Version=2022-01-01 (base https://open.volcengineapi.com; "
        "AccessKey pair, HMAC-SHA256 signature; CNY)",
        {"access_key_id"}},
       make_volcengine},
      {{"baidu", "balance",
        "POST {base}/v1/finance/cash/balance (base https://billing.baidubce.com; AccessKey pair, BCE auth v1; CNY)",
        {"access_key_id"}},
       make_baidu},
      {{"brightdata", "balance", "GET {base}/customer/balance (base https://api.brightdata.com; Bearer API key; USD)", {}},
       make_brightdata},
      {{"messagebird", "balance",
        "GET {base}/balance (base https://rest.messagebird.com; AccessKey; EUR or credits by type)", {}},
       make_messagebird},
      {{"textmagic", "balance",
        "GET {base}/api/v2/user (base https://rest.textmagic.com; X-TM-Username + X-TM-Key)", {"username"}},
       make_textmagic},
      {{"clicksend", "balance", "GET {base}/v3/account (base https://rest.clicksend.com; basic auth username:api_key)",
        {"username"}},
       make_clicksend},
      {{"scraperapi", "balance",
        "GET {base}/account?api_key=KEY (base https://api.scraperapi.com; requestLimit - requestCount; unit: requests)", {}},
       make_scraperapi},
      {{"digitalocean", "balance",
        "GET {base}/v2/customers/my/balance (base https://api.digitalocean.com; billing:read token; credit left = -month_to_date_balance)",
        {"postpaid"}},
       make_digitalocean},
      {{"elevenlabs", "quota",
        "GET {base}/v1/user/subscription (base https://api.elevenlabs.io; xi-api-key; characters left, resets monthly)", {}},
       make_elevenlabs},
      {{"deepgram", "balance",
        "GET {base}/v1/projects/{project_id}/balances (base https://api.deepgram.com; Token auth; first project when none given)",
        {"project_id"}},
       make_deepgram},
  };
  return table;
}

}  // namespace

const std::vector<ProviderInfo>& provider_table() {
  static const std::vector<ProviderInfo> infos = [] {
    std::vector<ProviderInfo> out;
    for (const auto& e : entries()) out.push_back(e.info);
    return out;
  }();
  return infos;
}

const std::vector<LeftOutProvider>& left_out_providers() {
  static const std::vector<LeftOutProvider> table = {
      {"aiproxy", "aiproxy.io documents no balance endpoint (only one-api's client calls /api/report/getUserOverview)"},
      {"hyperbolic", "Hyperbolic documents no balance endpoint (only public clients call /billing/get_current_balance)"},
  };
  return table;
}

std::unique_ptr<Provider> make_provider(const config::AccountConfig& account, const Clock& clock,
                                        std::vector<config::ConfigError>& errors) {
  for (const auto& e : entries()) {
    if (e.info.name != account.provider) continue;
    auto split = split_liveness_settings(account);
    SettingsReader settings(split.balance_account, errors);
    auto provider = e.build(split.balance_account, clock, settings);
    if (!split.liveness_settings) return provider;
    return add_liveness(std::move(provider), account, *split.liveness_settings, clock, errors);
  }
  for (const auto& left_out : left_out_providers()) {
    if (left_out.name != account.provider) continue;
    errors.push_back({account.where, "provider \"" + left_out.name + "\" is not built in: " + left_out.reason +
                                         "; read its balance with provider http_json"});
    return nullptr;
  }
  std::vector<std::string> names;
  for (const auto& e : entries()) names.push_back(e.info.name);
  std::string message = "unknown provider \"" + account.provider + "\"";
  if (auto hint = closest_match(account.provider, names)) message += " (did you mean \"" + *hint + "\"?)";
  errors.push_back({account.where, message});
  return nullptr;
}

}  // namespace creditwatch::providers
