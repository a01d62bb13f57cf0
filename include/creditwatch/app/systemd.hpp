#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace creditwatch::app {

// Sends `state` (e.g. "READY=1\nSTATUS=...") to systemd when started with $NOTIFY_SOCKET,
// as sd_notify(3) does; returns whether it was sent (false outside systemd).
bool notify_systemd(const std::string& state);
// The watchdog period systemd asked for (WatchdogSec, via $WATCHDOG_USEC and $WATCHDOG_PID),
// or zero.
std::chrono::microseconds systemd_watchdog_period();

}  // namespace creditwatch::app
