#pragma once

// Checks of values whose rules come from outside the config: URL, Prometheus label name and
// HTTP header syntax. Private to the config layer.
#include "config_reader.hpp"

#include <string>
#include <string_view>

namespace creditwatch::config {

// "http://host..." or "https://host...": curl would reject anything else only when used.
bool is_http_url(const std::string& url);

// `name` as a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*): every other byte becomes '_',
// and a leading digit gets a '_' in front. The rule server/metrics.cpp applies to user
// labels (mirrored here: config cannot use the server layer).
std::string metric_label_name(std::string_view name);

// Reports each key of the `labels` mapping that is reserved as a metric label (account,
// provider, currency, or any name starting with "__") or that becomes the same metric
// label as an earlier key once sanitised ("team-name" and "team_name").
void check_labels(ConfigReader& r, const YAML::Node& labels);

// Reports each entry of a `headers` mapping whose name is not an HTTP token (RFC 9110:
// letters, digits and !#$%&'*+-.^_`|~) or whose value holds CR, LF or NUL, which would
// end the header early and let the rest be read as another header. `values` are the
// entries after ${VAR} substitution; a value is never printed (it may be a credential).
void check_headers(ConfigReader& r, const YAML::Node& headers, const std::map<std::string, std::string>& values);

}  // namespace creditwatch::config
