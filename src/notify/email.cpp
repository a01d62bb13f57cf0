// Email over SMTP (shared/reference/sinks.md section 1.3): one multipart/alternative message
// per notification, text/plain then text/html (the preferred part last, RFC 2046), both
// quoted-printable so every line stays short and 7-bit. The transport is http::send_mail.
#include "builders.hpp"
#include "sink_support.hpp"

#include "creditwatch/common/duration.hpp"
#include "creditwatch/common/html.hpp"
#include "creditwatch/common/text.hpp"
#include "creditwatch/common/time_format.hpp"
#include "creditwatch/http/smtp_client.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <random>
#include <string_view>

namespace creditwatch::notify {
namespace {

constexpr std::size_t k_max_subject = 150;  // characters
// An RFC 2047 encoded-word is at most 75 characters: "=?UTF-8?B?" and "?=" leave 63, so 60
// characters of base64, which carry 45 bytes.
constexpr std::size_t k_encoded_word_bytes = 45;

struct EmailSettings {
  std::string url;
  http::StartTls starttls = http::StartTls::required;
  std::string username;
  Secret password;
  std::string from;
  std::vector<std::string> to;
};

std::string random_hex() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(random()));
  return buffer;
}

// RFC 5322 date in UTC, with fixed English names whatever the locale: "Fri, 01 May 2026 00:00:00 +0000".
std::string rfc5322_date(TimePoint t) {
  static constexpr std::array<const char*, 7> days = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[static_cast<std::size_t>(tm.tm_wday)],
                tm.tm_mday, months[static_cast<std::size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buffer;
}

std::string base64(std::string_view bytes) {
  static constexpr char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += k_alphabet[(n >> 18) & 63];
    out += k_alphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? k_alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? k_alphabet[n & 63] : '=';
  }
  return out;
}

// Header values come partly from outside (provider error messages): one line of safe text,
// and RFC 2047 base64 encoded-words when anything is not plain ASCII. Each word holds whole
// characters (RFC 2047 section 5) and stays within 75 characters, so a long subject is
// several words on folded lines, which a mail client joins back into one.
std::string header_value(const std::string& text) {
  const std::string flat = safe_text(text, LineBreaks::fold);
  const bool ascii = std::all_of(flat.begin(), flat.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) return flat;
  std::string out;
  for (std::string_view rest = flat; !rest.empty();) {
    const std::string word = cut_text(rest, k_encoded_word_bytes, "");
    if (word.empty()) break;  // cannot happen on safe text: no character is longer than a word
    out += (out.empty() ? "" : "\r\n ") + ("=?UTF-8?B?" + base64(word) + "?=");
    rest.remove_prefix(word.size());
  }
  return out;
}

// Quoted-printable (RFC 2045 section 6.7) with CRLF line ends and soft breaks before 76 columns.
std::string quoted_printable(const std::string& text) {
  std::string out;
  std::size_t column = 0;
  auto emit = [&](const std::string& piece) {
    if (column + piece.size() > 75) {
      out += "=\r\n";
      column = 0;
    }
    out += piece;
    column += piece.size();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\r\n";
      column = 0;
      continue;
    }
    const bool line_end = i + 1 == text.size() || text[i + 1] == '\n';
    const bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !line_end);
    char hex[4];
    std::snprintf(hex, sizeof hex, "=%02X", c);
    emit(literal ? std::string(1, static_cast<char>(c)) : std::string(hex));
  }
  return out;
}

std::string upper(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// "[CRITICAL] deepseek-prod: runway 2.1 days"; the runway is added when the summary is about
// something else, because it is what the reader wants to know first.
std::string subject(const Notification& n) {
  std::string out = n.test ? "[TEST] " : "";
  out += n.event == alerts::Event::resolved ? "[RESOLVED] " : "[" + upper(alerts::to_string(n.severity)) + "] ";
  out += n.account + ": " + n.summary;
  if (n.runway_days && n.summary.find("runway") == std::string::npos) {
    out += " (runway " + describe_days(*n.runway_days) + ")";
  }
  return truncate_text(out, k_max_subject);
}

std::string html_body(const Notification& n) {
  std::string rows;
  const std::string text = n.body_text();
  for (std::size_t start = 0; start < text.size();) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    const auto colon = line.find(": ");
    if (colon != std::string::npos) {
      rows += "<tr><th align=\"left\">" + html_escape(line.substr(0, colon)) + "</th><td>" +
              html_escape(line.substr(colon + 2)) + "</td></tr>\n";
    }
    start = end + 1;
  }
  return "<!DOCTYPE html>\n<html><body>\n<h2>" + html_escape(n.title()) + "</h2>\n<p>" +
         html_escape(safe_text(n.summary, LineBreaks::fold)) + "</p>\n<table cellpadding=\"4\">\n" + rows +
         "</table>\n<p><small>creditwatch &middot; " + html_escape(safe_text(n.dedup_key, LineBreaks::fold)) +
         "</small></p>\n</body></html>\n";
}

std::string domain_of(const std::string& address) {
  const auto at = address.rfind('@');
  return at == std::string::npos ? "localhost" : address.substr(at + 1);
}

// The parts of one message: what an alert and a digest each fill in.
struct MailContent {
  std::string subject;
  std::string dedup_key;
  std::string text;
  std::string html;
};

MailContent alert_mail(const Notification& n) { return {subject(n), n.dedup_key, n.title() + "\n\n" + n.body_text(), html_body(n)}; }

MailContent digest_mail(const Digest& d) {
  return {truncate_text(digest_title(d), k_max_subject), d.dedup_key(), digest_text(d), digest_html(d)};
}

std::string compose(const MailContent& content, const EmailSettings& s, TimePoint now) {
  const std::string boundary = "creditwatch-" + random_hex() + random_hex();
  std::string to;
  for (const auto& address : s.to) to += (to.empty() ? "" : ", ") + address;
  std::string m;
  m += "Date: " + rfc5322_date(now) + "\r\n";
  m += "From: " + s.from + "\r\n";
  m += "To: " + to + "\r\n";
  m += "Subject: " + header_value(content.subject) + "\r\n";
  m += "Message-ID: <" + std::to_string(to_unix_ms(now)) + "." + random_hex() + "@" + domain_of(s.from) + ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
  m += "X-Creditwatch-Dedup-Key: " + header_value(content.dedup_key) + "\r\n";
  m += "\r\n";
  auto part = [&](const char* type, const std::string& body) {
    m += "--" + boundary + "\r\n";
    m += std::string("Content-Type: ") + type + "; charset=UTF-8\r\n";
    m += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    m += quoted_printable(body) + "\r\n";
  };
  part("text/plain", content.text);
  part("text/html", content.html);
  m += "--" + boundary + "--\r\n";
  return m;
}

class Email final : public Notifier {
public:
  explicit Email(EmailSettings settings) : m_settings(std::move(settings)) {}

  DeliveryResult deliver(const Notification& n, http::Client& client) override { return send(alert_mail(n), client); }

  // A text part and an HTML part with a table per group.
  DeliveryResult send_digest(const Digest& d, http::Client& client) override { return send(digest_mail(d), client); }

private:
  DeliveryResult send(const MailContent& content, http::Client& client) {
    http::MailRequest request;
    request.url = m_settings.url;
    request.starttls = m_settings.starttls;
    request.username = m_settings.username;
    request.password = m_settings.password.reveal();
    request.from = m_settings.from;
    request.to = m_settings.to;
    request.message = compose(content, m_settings, m_clock.now());
    auto outcome = http::send_mail(request, client.cancel_flag());
    using Outcome = DeliveryResult::Outcome;
    if (outcome) {
      return {Outcome::delivered, "SMTP " + std::to_string(outcome->code) + " " + answer_text(outcome->text), 0, {}};
    }
    const auto& failure = outcome.error();
    std::string message = answer_text(redact(failure.message, {m_settings.password.reveal()}));
    if (failure.reply.code >= 500) return {Outcome::permanent, "SMTP rejected: " + message, 0, {}};
    if (failure.reply.code >= 400) return {Outcome::retry, "SMTP deferred: " + message, 0, {}};
    return {Outcome::retry, std::string(http::to_string(failure.kind)) + ": " + message, 0, {}};
  }

  EmailSettings m_settings;
  SystemClock m_clock;
};

std::string host_of(const std::string& url) {
  const auto scheme = url.find("://");
  std::string rest = scheme == std::string::npos ? url : url.substr(scheme + 3);
  rest = rest.substr(0, rest.find('/'));
  if (const auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  if (rest.starts_with("[")) return rest.substr(1, rest.find(']') - 1);
  return rest.substr(0, rest.find(':'));
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

std::optional<http::StartTls> parse_starttls(const std::string& text) {
  if (text == "required") return http::StartTls::required;
  if (text == "opportunistic") return http::StartTls::opportunistic;
  if (text == "off") return http::StartTls::off;
  return std::nullopt;
}

bool plausible_address(const std::string& address) {
  return address.find('@') != std::string::npos && address.find_first_of("\r\n<>, ") == std::string::npos;
}

void read_addresses(config::SettingsReader& settings, EmailSettings& out) {
  if (auto from = settings.required_string("from")) {
    out.from = *from;
    if (!plausible_address(out.from)) settings.error("from", "from must be one bare address like alerts@example.com");
  }
  const auto* to = settings.raw("to");
  if (to) out.to = to->items.empty() && !to->value.empty() ? std::vector<std::string>{to->value} : to->items;
  if (out.to.empty()) settings.error("to", "notifier type email needs to: a list of recipient addresses");
  for (const auto& address : out.to) {
    if (!plausible_address(address)) settings.error("to", "to: \"" + address + "\" is not a bare email address");
  }
}

void read_transport(config::SettingsReader& settings, EmailSettings& out) {
  if (auto url = settings.required_string("smtp_url")) {
    out.url = *url;
    if (!url->starts_with("smtp://") && !url->starts_with("smtps://")) {
      settings.error("smtp_url", "smtp_url must start with smtp:// or smtps://");
    }
  }
  if (auto mode = settings.string("starttls")) {
    if (auto parsed = parse_starttls(*mode)) {
      out.starttls = *parsed;
    } else {
      settings.error("starttls", "starttls: expected required, opportunistic or off, got \"" + *mode + "\"");
    }
  }
  // Mail and passwords in clear text are fine to a relay on this machine, nowhere else.
  if (out.url.starts_with("smtp://") && out.starttls == http::StartTls::off && !is_loopback(host_of(out.url))) {
    settings.error("starttls", "starttls: off is only allowed for a relay on loopback (127.0.0.1, ::1, localhost)");
  }
  out.username = settings.string("username").value_or("");
  if (auto password = settings.string("password")) out.password = Secret(*password);
  if (!out.username.empty() && out.password.empty()) settings.error("username", "username needs password or password_file");
  if (out.username.empty() && !out.password.empty()) settings.error("password", "password needs username");
}

}  // namespace

std::unique_ptr<Notifier> make_email(const config::NotifierConfig&, config::SettingsReader& settings) {
  EmailSettings s;
  read_transport(settings, s);
  read_addresses(settings, s);
  if (!settings.finish()) return nullptr;
  return std::make_unique<Email>(std::move(s));
}

}  // namespace creditwatch::notify
