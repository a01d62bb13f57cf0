#include "creditwatch/scheduler/escalation.hpp"

#include "creditwatch/common/duration.hpp"

namespace creditwatch::scheduler {

void note_severity(EscalationState& state, alerts::Severity severity, TimePoint now) {
  for (auto s : {alerts::Severity::info, alerts::Severity::warning, alerts::Severity::critical}) {
    if (s <= severity) state.reached.try_emplace(s, now);
  }
}

std::vector<const config::EscalationStep*> due_steps(const std::vector<config::EscalationStep>& steps,
                                                     const EscalationState& state, alerts::Severity severity,
                                                     TimePoint now) {
  std::vector<const config::EscalationStep*> out;
  for (const auto& step : steps) {
    if (severity < step.min_severity || state.steps_done.count(step_id(step))) continue;
    auto reached = state.reached.find(step.min_severity);
    if (reached != state.reached.end() && now - reached->second >= step.after) out.push_back(&step);
  }
  return out;
}

std::string step_id(const config::EscalationStep& step) {
  std::string id = format_duration(step.after) + " " + alerts::to_string(step.min_severity);
  for (const auto& name : step.notify) id += " " + name;
  return id;
}

nlohmann::json to_json(const EscalationState& state) {
  nlohmann::json reached = nlohmann::json::object();
  for (const auto& [severity, at] : state.reached) reached[alerts::to_string(severity)] = to_unix_ms(at);
  return {{"reached_ms", reached}, {"steps_done", state.steps_done}, {"escalated_to", state.escalated_to}};
}

EscalationState escalation_from_json(const nlohmann::json& json) {
  EscalationState state;
  if (!json.is_object()) return state;
  if (auto reached = json.find("reached_ms"); reached != json.end() && reached->is_object()) {
    for (const auto& [name, ms] : reached->items()) {
      auto severity = alerts::parse_severity(name);
      if (severity && ms.is_number_integer()) state.reached[*severity] = from_unix_ms(ms.get<std::int64_t>());
    }
  }
  for (auto [key, out] : {std::pair{"steps_done", &state.steps_done}, std::pair{"escalated_to", &state.escalated_to}}) {
    auto list = json.find(key);
    if (list == json.end() || !list->is_array()) continue;
    for (const auto& item : *list) {
      if (item.is_string()) out->insert(item.get<std::string>());
    }
  }
  return state;
}

}  // namespace creditwatch::scheduler
