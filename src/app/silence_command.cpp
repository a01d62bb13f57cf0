// `creditwatch silence add|list|expire` and `creditwatch ack`: operator controls, sent to the
// running daemon's API (see daemon_api.hpp for why not to the database).
#include "creditwatch/app/commands.hpp"
#include "creditwatch/common/text.hpp"
#include "creditwatch/config/config.hpp"

#include "daemon_api.hpp"
#include "table.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

namespace creditwatch::app {
namespace {

// The daemon's address and token: from the config when it loads; with --url the config may
// be left out or fail to load (its ${ENV} secrets are not set in an operator's shell), and
// --token-file gives the token.
std::optional<DaemonApi> connect(const OperatorOptions& options) {
  config::Config config;
  try {
    config = config::load_config(options.config_path);
  } catch (const config::ConfigErrors& e) {
    if (options.url.empty()) {
      for (const auto& error : e.errors()) std::cerr << error.to_string() << "\n";
      std::cerr << "creditwatch: the config does not load; give the daemon's address with --url (and --token-file)\n";
      return std::nullopt;
    }
  }
  if (!options.token_file.empty()) {
    std::ifstream in(options.token_file);
    if (!in) {
      std::cerr << "creditwatch: cannot read the token file " << options.token_file << "\n";
      return std::nullopt;
    }
    std::stringstream text;
    text << in.rdbuf();
    config.http.auth_token = trim(text.str());
  }
  return DaemonApi(config, options.url);
}

std::string who(const std::string& given) {
  if (!given.empty()) return given;
  const char* user = std::getenv("USER");
  return user && *user ? user : "creditwatch-cli";
}

int failed(const ApiError& error) {
  std::cerr << "creditwatch: " << error.message << "\n";
  return 1;
}

std::string matchers_text(const nlohmann::json& matchers) {
  std::string out;
  if (!matchers.is_object()) return out;
  for (const auto& [name, value] : matchers.items()) {
    if (!out.empty()) out += ",";
    out += name + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return out;
}

std::string text_at(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "-";
  return safe_text(it->is_string() ? it->get<std::string>() : it->dump(), LineBreaks::fold);
}

}  // namespace

int silence_add_command(const SilenceAddOptions& options) {
  nlohmann::json matchers = nlohmann::json::object();
  for (const auto& matcher : options.matchers) {
    const auto equals = matcher.find('=');
    if (equals == std::string::npos || equals == 0) {
      std::cerr << "creditwatch: a matcher is NAME=VALUE (e.g. account=ds-* or team=bots), got \"" << matcher << "\"\n";
      return 1;
    }
    matchers[matcher.substr(0, equals)] = matcher.substr(equals + 1);
  }
  nlohmann::json body{{"matchers", matchers}, {"comment", options.comment}, {"created_by", who(options.author)}};
  if (!options.until.empty()) {
    body["ends_at"] = options.until;
  } else {
    body["duration"] = options.duration;
  }
  if (!options.start.empty()) body["starts_at"] = options.start;
  auto api = connect(options.target);
  if (!api) return 1;
  auto answer = api->call("POST", "/api/v1/silences", body);
  if (!answer) return failed(answer.error());
  std::cout << text_at(*answer, "id") << "\n";
  return 0;
}

int silence_list_command(const SilenceListOptions& options) {
  auto api = connect(options.target);
  if (!api) return 1;
  auto answer = api->call("GET", options.all ? "/api/v1/silences?all=1" : "/api/v1/silences");
  if (!answer) return failed(answer.error());
  const nlohmann::json& silences = answer->is_object() && answer->contains("silences") ? (*answer)["silences"] : *answer;
  if (options.json) {
    std::cout << silences.dump(2) << "\n";
    return 0;
  }
  Table table({"ID", "MATCHERS", "STATE", "STARTS", "ENDS", "CREATED BY", "COMMENT"});
  if (silences.is_array()) {
    for (const auto& s : silences) {
      table.add({text_at(s, "id"), matchers_text(s.value("matchers", nlohmann::json::object())), text_at(s, "state"),
                 text_at(s, "starts_at"), text_at(s, "ends_at"), text_at(s, "created_by"), text_at(s, "comment")});
    }
  }
  table.print(std::cout);
  return 0;
}

int silence_expire_command(const SilenceExpireOptions& options) {
  auto api = connect(options.target);
  if (!api) return 1;
  int code = 0;
  for (const auto& id : options.ids) {
    auto answer = api->call("DELETE", "/api/v1/silences/" + id);
    if (!answer) {
      std::cerr << "creditwatch: " << id << ": " << answer.error().message << "\n";
      code = 1;
      continue;
    }
    std::cout << "expired " << id << "\n";
  }
  return code;
}

int ack_command(const AckOptions& options) {
  auto api = connect(options.target);
  if (!api) return 1;
  nlohmann::json body{{"by", who(options.by)}, {"comment", options.comment}};
  const std::string path = "/api/v1/alerts/" + options.account + "/" + options.rule + "/ack";
  auto answer = api->call(options.undo ? "DELETE" : "POST", path, options.undo ? nlohmann::json() : body);
  if (!answer) return failed(answer.error());
  std::cout << (options.undo ? "acknowledgement taken back: " : "acknowledged: ") << options.account << " "
            << options.rule << "\n";
  return 0;
}

}  // namespace creditwatch::app
