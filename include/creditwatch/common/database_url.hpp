#pragma once

// PostgreSQL connection URIs (storage.url): "postgresql://user:password@host:5432/db?sslmode=require".
// The URL may hold a password, so what is logged or shown is its redacted form.
#include <string>
#include <string_view>
#include <vector>

namespace creditwatch {

// Whether `url` starts with one of the schemes libpq takes: postgresql:// or postgres://.
bool is_database_url(std::string_view url);

// `url` with each password replaced by "***": the one in the user info ("user:pass@") and
// the values of `password=` and `sslpassword=` parameters. Conservative: when in doubt
// (an '@' in the path), more is hidden rather than less. For logs, errors and the API.
std::string redact_database_url(std::string_view url);

// The passwords `url` holds, as written and percent-decoded, for log redaction.
std::vector<std::string> database_url_passwords(std::string_view url);

}  // namespace creditwatch
