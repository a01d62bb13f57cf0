#pragma once

#include <chrono>
#include <string>

namespace creditwatch::app {

// sd_notify(3) when built with libsystemd and started by systemd; a no-op otherwise.
void notify_systemd(const std::string& state);
// The watchdog period systemd asked for (WatchdogSec), or zero.
std::chrono::microseconds systemd_watchdog_period();

}  // namespace creditwatch::app
