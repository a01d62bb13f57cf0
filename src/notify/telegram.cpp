// Telegram Bot API sendMessage (shared/reference/sinks.md section 1.10). The bot token is
// part of the URL path, so every message this sink reports is scrubbed of it. The text is
// HTML (the least fragile parse mode) with everything we did not write escaped.
// 200 {"ok":true} delivered; 429 retried after `parameters.retry_after`; 5xx retried;
// 400/401/403 permanent.
#include "builders.hpp"
#include "sink_support.hpp"

#include "creditwatch/common/html.hpp"
#include "creditwatch/common/text.hpp"

#include <algorithm>

namespace creditwatch::notify {
namespace {

constexpr const char* k_default_api_url = "https://api.telegram.org";
constexpr std::size_t k_max_text = 4096;  // UTF-16 code units after entity parsing

// Bold title, then the figures. The limit counts the text after entity parsing, so the
// plain parts are cut to fit before they are escaped.
std::string html_text(const std::string& full_title, const std::string& text) {
  const std::string title = truncate_text(full_title, k_max_text / 4, TextUnit::utf16);
  const std::size_t room = k_max_text - text_length(title, TextUnit::utf16) - 1;
  const std::string body = truncate_text(text, room, TextUnit::utf16);
  return "<b>" + html_escape(title) + "</b>\n" + html_escape(body);
}

std::string plain_text(const std::string& title, const std::string& text) {
  return truncate_text(title + "\n" + text, k_max_text, TextUnit::utf16);
}

// Private chats are numeric and positive; groups and channels are negative or "@name".
nlohmann::json chat_id_json(const std::string& chat_id) {
  const std::string_view digits = std::string_view(chat_id).substr(chat_id.rfind('-', 0) == 0 ? 1 : 0);
  const bool numeric =
      !digits.empty() && digits.size() <= 18 && digits.find_first_not_of("0123456789") == std::string::npos;
  if (numeric) return std::stoll(chat_id);
  return chat_id;
}

bool is_private_chat(const std::string& chat_id) { return chat_id_json(chat_id).is_number() && chat_id[0] != '-'; }

class Telegram final : public Notifier {
public:
  Telegram(std::string api_url, Secret bot_token, std::string chat_id, std::optional<long long> thread_id)
      : m_api_url(std::move(api_url)),
        m_bot_token(std::move(bot_token)),
        m_chat_id(std::move(chat_id)),
        m_thread_id(thread_id) {}

  DeliveryResult deliver(const Notification& n, http::Client& client) override {
    return deliver_text(n.title(), n.body_text(), client);
  }

  DeliveryResult deliver_text(const std::string& title, const std::string& text, http::Client& client) override {
    auto answer = send(client, html_text(title, text), true);
    if (answer.rejected_markup) {
      // Escaping should make this impossible; if Telegram still cannot parse it, the figures
      // matter more than the bold title.
      answer = send(client, plain_text(title, text), false);
    }
    answer.result.message = redact(std::move(answer.result.message), {m_bot_token.reveal()});
    return answer.result;
  }

  // About one message per second in a private chat, 20 per minute in a group or channel.
  Duration min_interval() const override {
    return is_private_chat(m_chat_id) ? Duration(std::chrono::seconds(1)) : Duration(std::chrono::seconds(3));
  }

private:
  struct Answer {
    DeliveryResult result;
    bool rejected_markup = false;
  };

  Answer send(http::Client& client, const std::string& text, bool html) const {
    auto request = sink_request(m_api_url + "/bot" + m_bot_token.reveal() + "/sendMessage");
    nlohmann::json body = {
        {"chat_id", chat_id_json(m_chat_id)}, {"text", text}, {"link_preview_options", {{"is_disabled", true}}}};
    if (html) body["parse_mode"] = "HTML";
    if (m_thread_id) body["message_thread_id"] = *m_thread_id;
    request.body = json_text(body);
    auto outcome = client.send(request);
    Answer answer{classify_http(outcome, {m_bot_token.reveal()})};
    if (!outcome) return answer;
    auto reply = nlohmann::json::parse(outcome->body, nullptr, false);
    const bool ok = reply.is_object() && reply.value("ok", false) == true;
    if (answer.result.outcome == DeliveryResult::Outcome::delivered && !ok) {
      answer.result.outcome = DeliveryResult::Outcome::permanent;  // a 200 without "ok":true is no delivery
    }
    if (outcome->status == 429) {
      auto wait = json_seconds(outcome->body, nlohmann::json::json_pointer("/parameters/retry_after"));
      if (wait) answer.result.retry_after = wait;
    }
    answer.rejected_markup = html && outcome->status == 400 && reply.is_object() &&
                             reply.value("description", "").find("can't parse entities") != std::string::npos;
    return answer;
  }

  std::string m_api_url;
  Secret m_bot_token;
  std::string m_chat_id;
  std::optional<long long> m_thread_id;
};

// "123456789:AA..." — checked so a pasted chat id or URL fails at startup, not at 3 am.
bool looks_like_bot_token(const std::string& token) {
  const auto colon = token.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == token.size()) return false;
  const bool digits = std::all_of(token.begin(), token.begin() + static_cast<long>(colon),
                                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  const bool rest = std::all_of(token.begin() + static_cast<long>(colon) + 1, token.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  return digits && rest;
}

std::optional<long long> read_thread_id(config::SettingsReader& settings) {
  auto text = settings.string("message_thread_id");
  if (!text) return std::nullopt;
  if (text->empty() || text->size() > 18 || text->find_first_not_of("0123456789") != std::string::npos) {
    settings.error("message_thread_id", "message_thread_id must be a positive whole number");
    return std::nullopt;
  }
  return std::stoll(*text);
}

}  // namespace

std::unique_ptr<Notifier> make_telegram(const config::NotifierConfig&, config::SettingsReader& settings) {
  auto token = settings.required_string("bot_token");
  if (token && !looks_like_bot_token(*token)) {
    settings.error("bot_token", "bot_token must look like 123456789:AAE... (the token @BotFather gave)");
  }
  auto chat_id = settings.required_string("chat_id");
  if (chat_id && !chat_id_json(*chat_id).is_number() && chat_id->front() != '@') {
    settings.error("chat_id", "chat_id must be a numeric chat id or @channelusername");
  }
  auto thread_id = read_thread_id(settings);
  auto api_url = read_http_url(settings, "api_url", std::string(k_default_api_url));
  if (!settings.finish() || !token || !chat_id || !api_url) return nullptr;
  return std::make_unique<Telegram>(strip_trailing_slashes(*api_url), Secret(*token), *chat_id, thread_id);
}

}  // namespace creditwatch::notify
