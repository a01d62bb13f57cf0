#pragma once

#include <string>

namespace creditwatch::app {

// Sends `state` (e.g. "READY=1\nSTATUS=...") to systemd when started with $NOTIFY_SOCKET,
// as sd_notify(3) does; returns whether it was sent (false outside systemd).
bool notify_systemd(const std::string& state);

}  // namespace creditwatch::app
