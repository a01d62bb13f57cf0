#include "config_reader.hpp"
#include "value_checks.hpp"

#include "creditwatch/common/duration.hpp"
#include "creditwatch/common/text.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <system_error>
#include <variant>

namespace creditwatch::config {
namespace {

// Setting keys that hold credentials: redacted everywhere, readable from KEY_file.
const std::set<std::string> k_secret_keys = {"api_key",   "password",    "secret",   "routing_key", "webhook_url",
                                             "token",     "bot_token",   "auth_token", "admin_key", "management_key",
                                             "api_secret", "headers",   "url_token"};

bool is_secret_key(const std::string& key) { return k_secret_keys.count(key) > 0; }

// Owns one file descriptor.
struct FileDescriptor {
  explicit FileDescriptor(int descriptor) : fd(descriptor) {}
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  const int fd;
};

const char* file_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a plain file";
}

// A secret others may read deserves a warning, but the config is read again on every
// reload and by every CLI command: once per path per process is enough to be seen without
// flooding the log. The path and mode are logged, never the content.
void warn_readable_once(const std::string& path, mode_t mode) {
  static std::mutex mutex;
  static std::set<std::string> warned;
  {
    std::lock_guard lock(mutex);
    if (!warned.insert(path).second) return;
  }
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & 07777));
  const char* who = (mode & S_IROTH) != 0 ? "everyone" : "its group";
  spdlog::warn("secret file \"{}\" is readable by {} (mode {}); chmod 600 it", path, who, octal);
}

std::string describe(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "empty";
  return "\"" + node.Scalar() + "\"";
}

std::optional<std::uint64_t> parse_size(const std::string& text) {
  static const std::vector<std::pair<std::string, std::uint64_t>> k_units = {
      {"", 1},          {"B", 1},         {"KB", 1000},       {"MB", 1000'000}, {"GB", 1000'000'000},
      {"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1ull << 30}};
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 10) return std::nullopt;  // 10 digits times 2^30 fits in 64 bits
  const std::uint64_t amount = std::stoull(text.substr(0, digits));
  for (const auto& [unit, factor] : k_units) {
    if (text.compare(digits, std::string::npos, unit) == 0) return amount * factor;
  }
  return std::nullopt;
}

constexpr off_t k_max_config_bytes = 16 << 20;

std::string unreadable_file_reason(int reason) {
  if (reason == EINVAL) return "cannot read the config file: not a regular file";
  if (reason == EFBIG) return "cannot read the config file: larger than 16 MiB";
  std::string text = std::generic_category().message(reason);  // thread-safe, unlike strerror
  if (!text.empty()) text.front() = static_cast<char>(std::tolower(static_cast<unsigned char>(text.front())));
  std::string message = "cannot read the config file: " + text;
  if (reason == EACCES) {
    // The usual case in a container (uid 10001) or under DynamicUser=: name the user and what
    // to change.
    message += " (the daemon runs as uid " + std::to_string(::geteuid()) +
               ", which needs read access to the file and search access to its directories)";
  }
  return message;
}

// The config is read here rather than by YAML::LoadFile: yaml-cpp 0.7 says only "bad file"
// when it cannot open one, and a directory makes its stream's constructor throw and leak its
// read buffer. Returns the text, or the errno that stopped the read. Like a secret file,
// only a regular file of sane size: a FIFO would block a reload (and the SIGTERM after it)
// for ever, /dev/zero would fill memory.
std::variant<std::string, int> read_config_text(const std::string& path) {
  const FileDescriptor file{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
  if (file.fd < 0) return errno;
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) return errno;
  if (S_ISDIR(info.st_mode)) return EISDIR;
  if (!S_ISREG(info.st_mode)) return EINVAL;
  if (info.st_size > k_max_config_bytes) return EFBIG;
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t got = ::read(file.fd, buffer, sizeof buffer);
    if (got == 0) return text;
    if (got < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    text.append(buffer, static_cast<std::size_t>(got));
    if (text.size() > static_cast<std::size_t>(k_max_config_bytes)) return EFBIG;
  }
}

}  // namespace

// yaml-cpp reports a tab in indentation as e.g. "illegal block entry"; say what it is.
std::string ConfigReader::tab_hint(int line) const {
  std::ifstream in(m_file);
  std::string text;
  for (int i = 0; i <= line && std::getline(in, text);) ++i;
  const auto indent = text.substr(0, text.find_first_not_of(" \t"));
  return indent.find('\t') == std::string::npos ? "" : " (tabs are not allowed in indentation; use spaces)";
}

YAML::Node ConfigReader::load() {
  auto text = read_config_text(m_file);
  if (const int* reason = std::get_if<int>(&text)) {
    m_errors.push_back({{m_file, 1, 1}, unreadable_file_reason(*reason)});
    throw_if_errors();
  }
  try {
    return YAML::Load(std::get<std::string>(text));
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp 0.7 gives this one the message "bad file".
    m_errors.push_back({{m_file, e.mark.line + 1, e.mark.column + 1}, "YAML syntax error: nested too deeply"});
  } catch (const YAML::ParserException& e) {
    m_errors.push_back(
        {{m_file, e.mark.line + 1, e.mark.column + 1}, "YAML syntax error: " + e.msg + tab_hint(e.mark.line)});
  }
  throw_if_errors();
  return {};
}

SourceLocation ConfigReader::location(const YAML::Node& node) const {
  if (!node.IsDefined() || node.Mark().is_null()) return {m_file, 1, 1};
  return {m_file, node.Mark().line + 1, node.Mark().column + 1};
}

void ConfigReader::error(const YAML::Node& node, std::string message) {
  m_errors.push_back({location(node), std::move(message)});
}

void ConfigReader::throw_if_errors() const {
  if (!m_errors.empty()) throw ConfigErrors(m_errors);
}

YAML::Node ConfigReader::at(const YAML::Node& map, const std::string& key) const {
  if (map.IsMap()) {
    if (const YAML::Node value = map[key]; value.IsDefined()) return value;
  }
  return map;
}

bool ConfigReader::expect_map(const YAML::Node& node, const std::string& what) {
  if (node.IsMap()) return true;
  if (node.IsNull()) return false;
  error(node, what + " must be a mapping, not " + describe(node));
  return false;
}

void ConfigReader::check_keys(const YAML::Node& map, const std::vector<std::string>& allowed) {
  std::set<std::string> seen;
  for (const auto& entry : map) {
    const std::string key = entry.first.Scalar();
    if (!seen.insert(key).second) {
      error(entry.first, "duplicate key \"" + key + "\"");
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string message = "unknown key \"" + key + "\"";
    if (auto hint = closest_match(key, allowed)) message += " (did you mean \"" + *hint + "\"?)";
    error(entry.first, message);
  }
}

std::optional<std::string> ConfigReader::substitute(const YAML::Node& node, const std::string& raw) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    std::size_t start = raw.find("${", pos);
    if (start == std::string::npos) break;
    std::size_t end = raw.find('}', start);
    if (end == std::string::npos) {
      error(node, "unterminated ${ in \"" + raw + "\"");
      return std::nullopt;
    }
    out += raw.substr(pos, start - pos);
    std::string expression = raw.substr(start + 2, end - start - 2);
    std::string name = expression;
    std::optional<std::string> fallback;
    if (auto sep = expression.find(":-"); sep != std::string::npos) {
      name = expression.substr(0, sep);
      fallback = expression.substr(sep + 2);
    }
    const char* value = std::getenv(name.c_str());
    if (value && *value) {
      out += value;
    } else if (fallback) {
      out += *fallback;
    } else {
      error(node, "environment variable " + name + " is not set (use ${" + name + ":-default} for a default)");
      return std::nullopt;
    }
    pos = end + 1;
  }
  return out + raw.substr(pos);
}

std::optional<std::string> ConfigReader::scalar(const YAML::Node& map, const std::string& key) {
  const YAML::Node node = map[key];
  if (!node.IsDefined() || node.IsNull()) return std::nullopt;
  if (!node.IsScalar()) {
    error(node, key + " must be a single value, not " + describe(node));
    return std::nullopt;
  }
  return substitute(node, node.Scalar());
}

bool ConfigReader::string(const YAML::Node& map, const std::string& key, std::string& out) {
  auto value = scalar(map, key);
  if (value) out = *value;
  return value.has_value();
}

bool ConfigReader::duration(const YAML::Node& map, const std::string& key, Duration& out) {
  auto value = scalar(map, key);
  if (!value) return false;
  auto parsed = parse_duration(*value);
  if (!parsed) {
    error(map[key], key + ": invalid duration \"" + *value + "\" (use e.g. 500ms, 30s, 5m, 2h, 7d)");
    return false;
  }
  out = *parsed;
  return true;
}

bool ConfigReader::number(const YAML::Node& map, const std::string& key, double& out) {
  auto value = scalar(map, key);
  if (!value) return false;
  auto parsed = Decimal::parse(*value);
  if (!parsed || *parsed < Decimal()) {
    error(map[key], key + ": expected a non-negative number, got \"" + *value + "\"");
    return false;
  }
  out = parsed->to_double();
  return true;
}

bool ConfigReader::size(const YAML::Node& map, const std::string& key, std::uint64_t& out) {
  auto value = scalar(map, key);
  if (!value) return false;
  auto parsed = parse_size(*value);
  if (!parsed) {
    error(map[key], key + ": invalid size \"" + *value + "\" (use e.g. 512MiB, 2GB or a number of bytes)");
    return false;
  }
  out = *parsed;
  return true;
}

bool ConfigReader::decimal(const YAML::Node& map, const std::string& key, Decimal& out) {
  auto value = scalar(map, key);
  if (!value) return false;
  auto parsed = Decimal::parse(*value);
  if (!parsed) {
    error(map[key], key + ": expected an amount, got \"" + *value + "\"");
    return false;
  }
  out = *parsed;
  return true;
}

bool ConfigReader::boolean(const YAML::Node& map, const std::string& key, bool& out) {
  auto value = scalar(map, key);
  if (!value) return false;
  if (*value == "true" || *value == "yes" || *value == "on") {
    out = true;
  } else if (*value == "false" || *value == "no" || *value == "off") {
    out = false;
  } else {
    error(map[key], key + ": expected true or false, got \"" + *value + "\"");
    return false;
  }
  return true;
}

bool ConfigReader::one_of(const YAML::Node& map, const std::string& key, const std::vector<std::string>& choices,
                          std::string& out) {
  auto value = scalar(map, key);
  if (!value) return false;
  if (std::find(choices.begin(), choices.end(), *value) == choices.end()) {
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
    std::string message = key + ": \"" + *value + "\" is not one of " + list;
    if (auto hint = closest_match(*value, choices)) message += " (did you mean \"" + *hint + "\"?)";
    error(map[key], message);
    return false;
  }
  out = *value;
  return true;
}

bool ConfigReader::string_list(const YAML::Node& map, const std::string& key, std::vector<std::string>& out) {
  const YAML::Node node = map[key];
  if (!node.IsDefined() || node.IsNull()) return false;
  if (node.IsScalar()) {  // a single value is a one-element list
    if (auto v = substitute(node, node.Scalar())) out = {*v};
    return true;
  }
  if (!node.IsSequence()) {
    error(node, key + " must be a list");
    return false;
  }
  out.clear();
  for (const auto& item : node) {
    if (!item.IsScalar()) {
      error(item, key + " entries must be single values");
      continue;
    }
    if (auto v = substitute(item, item.Scalar())) out.push_back(*v);
  }
  return true;
}

bool ConfigReader::string_map(const YAML::Node& map, const std::string& key, std::map<std::string, std::string>& out) {
  const YAML::Node node = map[key];
  if (!node.IsDefined() || node.IsNull()) return false;
  if (!node.IsMap()) {
    error(node, key + " must be a mapping");
    return false;
  }
  for (const auto& entry : node) {
    if (!entry.second.IsScalar()) {
      error(entry.second, key + "." + entry.first.Scalar() + " must be a single value");
      continue;
    }
    if (auto v = substitute(entry.second, entry.second.Scalar())) out[entry.first.Scalar()] = *v;
  }
  return true;
}

std::optional<std::string> ConfigReader::read_secret_file(const YAML::Node& node, const std::string& path) {
  const std::string quoted = "\"" + path + "\"";
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  const FileDescriptor file{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
  if (file.fd < 0) {
    error(node, "cannot read secret file " + quoted + ": " + std::strerror(errno));
    return std::nullopt;
  }
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) {
    error(node, "cannot read secret file " + quoted + ": " + std::strerror(errno));
    return std::nullopt;
  }
  // Checked on what was opened, not on the name, so a swap between the two cannot slip by.
  if (!S_ISREG(info.st_mode)) {
    error(node, "secret file " + quoted + " is not a regular file (it is " + file_type(info.st_mode) + ")");
    return std::nullopt;
  }
  constexpr std::size_t k_max_secret_bytes = 64 << 10;
  std::string raw(k_max_secret_bytes + 1, '\0');
  std::size_t filled = 0;
  while (filled < raw.size()) {
    const ssize_t got = ::read(file.fd, raw.data() + filled, raw.size() - filled);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      error(node, "cannot read secret file " + quoted + ": " + std::strerror(errno));
      return std::nullopt;
    }
    if (got == 0) break;
    filled += static_cast<std::size_t>(got);
  }
  raw.resize(filled);
  if (raw.size() > k_max_secret_bytes) {
    error(node, "secret file " + quoted + " is larger than 64KiB");
    return std::nullopt;
  }
  std::string value = trim(raw);
  if (value.empty()) {
    error(node, "secret file " + quoted + " is empty");
    return std::nullopt;
  }
  if ((info.st_mode & (S_IRGRP | S_IROTH)) != 0) warn_readable_once(path, info.st_mode);
  return value;
}

bool ConfigReader::secret(const YAML::Node& map, const std::string& key, Setting& out) {
  const std::string file_key = key + "_file";
  const bool inline_given = map[key].IsDefined() && !map[key].IsNull();
  const bool file_given = map[file_key].IsDefined() && !map[file_key].IsNull();
  if (inline_given && file_given) {
    error(map[file_key], "give either " + key + " or " + file_key + ", not both");
    return false;
  }
  out.is_secret = true;
  if (inline_given) {
    out.where = location(map[key]);
    return string(map, key, out.value);
  }
  if (file_given) {
    out.where = location(map[file_key]);
    std::string path;
    if (!string(map, file_key, path)) return false;
    auto value = read_secret_file(map[file_key], path);
    if (value) out.value = *value;
    return value.has_value();
  }
  return false;
}

void ConfigReader::collect_settings(const YAML::Node& map, const std::vector<std::string>& known, Settings& out) {
  std::set<std::string> seen;
  for (const auto& entry : map) {
    std::string key = entry.first.Scalar();
    if (!seen.insert(key).second) {
      error(entry.first, "duplicate key \"" + key + "\"");
      continue;
    }
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    const bool from_file = key.size() > 5 && key.ends_with("_file");
    if (from_file) key = key.substr(0, key.size() - 5);
    if (out.count(key)) {
      error(entry.first, "give either " + key + " or " + key + "_file, not both");
      continue;
    }
    Setting s;
    s.where = location(entry.first);
    s.is_secret = from_file || is_secret_key(key);
    const YAML::Node value = entry.second;
    if (from_file) {
      secret(map, key, s);
    } else if (value.IsSequence()) {
      string_list(map, key, s.items);
    } else if (value.IsMap()) {
      string_map(map, key, s.entries);
      if (key == "headers") check_headers(*this, value, s.entries);
    } else if (!value.IsNull()) {
      string(map, key, s.value);
    }
    out[key] = std::move(s);
  }
}

}  // namespace creditwatch::config
