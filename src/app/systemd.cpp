#include "creditwatch/app/systemd.hpp"

#ifdef CREDITWATCH_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace creditwatch::app {

void notify_systemd([[maybe_unused]] const std::string& state) {
#ifdef CREDITWATCH_HAVE_SYSTEMD
  sd_notify(0, state.c_str());
#endif
}

std::chrono::microseconds systemd_watchdog_period() {
#ifdef CREDITWATCH_HAVE_SYSTEMD
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) return std::chrono::microseconds(usec);
#endif
  return std::chrono::microseconds(0);
}

}  // namespace creditwatch::app
