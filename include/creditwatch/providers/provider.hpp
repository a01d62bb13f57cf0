#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/common/decimal.hpp"
#include "creditwatch/common/result.hpp"
#include "creditwatch/http/http_client.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace creditwatch::providers {

// One currency's balance as the provider reported it.
struct BalanceEntry {
  std::string currency;
  Decimal balance;
  std::optional<Decimal> spend_total;  // cumulative spend counter, where the API has one
  nlohmann::json details = nlohmann::json::object();  // provider breakdown (granted, topped-up, ...)
};

struct Reading {
  std::vector<BalanceEntry> balances;
  bool available = true;  // false: the provider says the account cannot serve requests
  std::string unavailable_reason;  // why, when known ("liveness probe: HTTP 402 out of credit")
};

// Why a probe produced no reading. Each kind is a metric label and decides the check state:
// key_invalid and exhausted are CRITICAL, everything else is UNKNOWN.
enum class ErrorKind {
  dns,
  connect,
  tls,
  timeout,
  body_too_large,
  rate_limited,
  server_error,
  http_status,
  bad_response,
  key_invalid,
  exhausted,
  internal,
};

const char* to_string(ErrorKind kind);

struct ProbeError {
  ErrorKind kind = ErrorKind::internal;
  std::string message;  // human-readable, free of credentials
  long http_status = 0;
  std::optional<Duration> retry_after;
};

using ProbeResult = Result<Reading, ProbeError>;

// One account's reader. Implementations hold their config and credentials; probe() may be
// called from any single thread at a time, with a client owned by that thread.
class Provider {
public:
  virtual ~Provider() = default;
  virtual ProbeResult probe(http::Client& client) = 0;
};

}  // namespace creditwatch::providers
