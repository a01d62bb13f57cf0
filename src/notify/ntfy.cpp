// ntfy simple publish (shared/reference/sinks.md section 1.9): POST the message text to
// {url}/{topic} with Title, Priority and Tags headers. 200 delivered; 429 (ntfy's request
// and daily quotas) and 5xx retried; other 4xx (401/403 auth) permanent.
#include "builders.hpp"
#include "sink_support.hpp"

#include "creditwatch/common/text.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace creditwatch::notify {
namespace {

constexpr const char* k_default_url = "https://ntfy.sh";
constexpr std::size_t k_max_message_bytes = 4096;  // longer messages become attachments
constexpr std::size_t k_max_title = 250;
constexpr std::size_t k_max_topic = 64;

// ntfy priorities: 5 max/urgent, 4 high, 3 default, 2 low. A resolution is good news and
// need not wake anyone.
int priority(const Notification& n) {
  if (n.event == alerts::Event::resolved) return 2;
  switch (n.severity) {
    case alerts::Severity::critical: return 5;
    case alerts::Severity::warning: return 4;
    case alerts::Severity::info: return 3;
  }
  return 3;
}

// The first tag is an emoji short code, which ntfy shows in front of the title.
std::string tags(const Notification& n) {
  std::string emoji = n.event == alerts::Event::resolved         ? "white_check_mark"
                      : n.severity == alerts::Severity::critical ? "rotating_light"
                      : n.severity == alerts::Severity::warning  ? "warning"
                                                                 : "information_source";
  std::string out = emoji + ",creditwatch," + alerts::to_string(n.rule);
  if (n.test) out += ",test";
  return out;
}

// Header values must be one line of ASCII; anything else goes RFC 2047-encoded, which ntfy
// decodes (one word of any length: an HTTP header has no 75-character rule).
std::string header_value(const std::string& text) {
  const std::string line = safe_text(text, LineBreaks::fold);
  const bool ascii = std::all_of(line.begin(), line.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) return line;
  std::string base64(4 * ((line.size() + 2) / 3) + 1, '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64.data()),
                      reinterpret_cast<const unsigned char*>(line.data()), static_cast<int>(line.size()));
  base64.resize(static_cast<std::size_t>(std::max(written, 0)));
  return "=?UTF-8?B?" + base64 + "?=";
}

bool valid_topic(const std::string& topic) {
  return !topic.empty() && topic.size() <= k_max_topic && std::all_of(topic.begin(), topic.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

struct Credentials {
  Secret token;      // access token: Authorization: Bearer tk_...
  std::string user;  // or basic auth
  Secret password;
};

class Ntfy final : public Notifier {
public:
  Ntfy(std::string topic_url, std::string topic, Credentials credentials)
      : m_topic_url(std::move(topic_url)), m_topic(std::move(topic)), m_credentials(std::move(credentials)) {}

  DeliveryResult deliver(const Notification& n, http::Client& client) override {
    return post(n.title(), n.summary + "\n\n" + n.body_text(), std::to_string(priority(n)), tags(n), client);
  }

  // A digest is news, not an emergency: low priority, so it does not ring.
  DeliveryResult deliver_text(const std::string& title, const std::string& text, http::Client& client) override {
    return post(title, text, "2", "bar_chart,creditwatch,digest", client);
  }

  // ntfy's default visitor limit refills one request every 5 s (after a burst of 60).
  Duration min_interval() const override { return std::chrono::seconds(5); }

private:
  DeliveryResult post(const std::string& title, const std::string& text, const std::string& priority_level,
                      const std::string& tag_list, http::Client& client) {
    auto request = sink_request(m_topic_url);
    request.headers.clear();  // the body is the message text, not JSON
    request.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
    request.headers.push_back({"Title", header_value(truncate_text(title, k_max_title))});
    request.headers.push_back({"Priority", priority_level});
    request.headers.push_back({"Tags", tag_list});
    request.headers.push_back({"Markdown", "no"});
    if (!m_credentials.token.empty()) {
      request.headers.push_back({"Authorization", "Bearer " + m_credentials.token.reveal()});
    } else if (!m_credentials.user.empty()) {
      request.basic_auth = m_credentials.user + ":" + m_credentials.password.reveal();
    }
    request.body = truncate_text(text, k_max_message_bytes, TextUnit::bytes);
    auto result = classify_http(client.send(request), {m_credentials.token.reveal(), m_credentials.password.reveal(), m_topic});
    // On ntfy.sh the topic name is the only thing between a stranger and the messages.
    result.message =
        redact(std::move(result.message), {m_credentials.token.reveal(), m_credentials.password.reveal(), m_topic});
    return result;
  }

  std::string m_topic_url;
  std::string m_topic;
  Credentials m_credentials;
};

}  // namespace

std::unique_ptr<Notifier> make_ntfy(const config::NotifierConfig&, config::SettingsReader& settings) {
  auto url = read_http_url(settings, "url", std::string(k_default_url));
  auto topic = settings.required_string("topic");
  if (topic && !valid_topic(*topic)) settings.error("topic", "topic must be 1 to 64 letters, digits, - or _");
  auto token = settings.string("token");
  auto user = settings.string("username");
  auto password = settings.string("password");
  if (token && (user || password)) settings.error("token", "give either token or username and password, not both");
  if (user.has_value() != password.has_value()) {
    settings.error(user ? "username" : "password", "username and password go together");
  }
  if (!settings.finish() || !url || !topic) return nullptr;
  Credentials credentials{Secret(token.value_or("")), user.value_or(""), Secret(password.value_or(""))};
  return std::make_unique<Ntfy>(strip_trailing_slashes(*url) + "/" + *topic, *topic, std::move(credentials));
}

}  // namespace creditwatch::notify
