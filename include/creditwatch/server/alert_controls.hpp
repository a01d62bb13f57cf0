#pragma once

#include "creditwatch/scheduler/alert_engine.hpp"
#include "creditwatch/scheduler/runtime.hpp"
#include "creditwatch/server/http_response.hpp"
#include "creditwatch/storage/store.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>

namespace creditwatch::server {

// Bounds on the bodies of the controls' requests (the server's own limit is larger).
inline constexpr std::size_t k_max_control_body = 16 * 1024;
inline constexpr std::size_t k_max_ack_text = 2000;

// The operator's controls over alerts, behind the API: silences (POST, GET and DELETE
// /api/v1/silences) and acknowledgements (POST and DELETE /api/v1/alerts/ACCOUNT/RULE/ack).
// Each write goes to the store, then the alert engine syncs at once, so this process acts on
// it without waiting for its next tick; `changed` then wakes the scheduler loop (a silence
// expired early releases what it held at the loop's next round, not a second later).
// Thread-safe.
class AlertControls {
public:
  using RuntimeSource = std::function<std::shared_ptr<const scheduler::Runtime>()>;
  AlertControls(storage::Store& store, scheduler::AlertEngine& engine, const Clock& clock, RuntimeSource runtime,
                std::function<void()> changed);

  HttpResponse add_silence(const std::string& body);
  // Active and pending silences; with `all` the expired ones too.
  HttpResponse silences(bool all);
  HttpResponse expire_silence(const std::string& id);
  HttpResponse acknowledge(const std::string& account, const std::string& rule, const std::string& body);
  HttpResponse unacknowledge(const std::string& account, const std::string& rule);

  // One firing alert as the API shows it: rule, severity, since, silenced, silenced_by,
  // acknowledged ({by, at, comment} or null).
  nlohmann::json alert_json(const config::AccountConfig& account, const storage::AlertRow& alert,
                            const scheduler::Runtime& runtime) const;
  // Whether a silence holds this firing alert now.
  bool silenced(const config::AccountConfig& account, const storage::AlertRow& alert,
                const scheduler::Runtime& runtime) const;

private:
  storage::Store& m_store;
  scheduler::AlertEngine& m_engine;
  const Clock& m_clock;
  RuntimeSource m_runtime;
  std::function<void()> m_changed;
};

// 128 random bits as 32 lower-case hex digits: a silence's id.
std::string new_silence_id();

}  // namespace creditwatch::server
