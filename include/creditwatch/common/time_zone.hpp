#pragma once

#include "creditwatch/common/civil_time.hpp"
#include "creditwatch/common/clock.hpp"
#include "creditwatch/common/result.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace creditwatch {

// A time zone from the system's tz database (/usr/share/zoneinfo, or $TZDIR): its
// transitions, and for instants after the last one the POSIX rule at the file's end.
// GCC 12's libstdc++ has no std::chrono::tzdb, and TZ + localtime_r would change the whole
// process's zone under threads that format times; this reads the files itself. Immutable
// once loaded: copies share the data and every member is safe from any thread.
class TimeZone {
public:
  // UTC, also what "UTC" and "Etc/UTC" load without a file.
  TimeZone();

  // "Europe/Berlin": reads TZif data (version 1, 2 or 3; the 64-bit part when there is one).
  // The error says why not: a name that is not a zone name (absolute, or with ".."), an
  // unknown zone, a file that is not TZif.
  static Result<TimeZone, std::string> load(std::string_view name);
  // TZif `data` under `name`, as load() reads a file.
  static Result<TimeZone, std::string> from_tzif(std::string_view name, std::string_view data);
  // A zone made of a POSIX TZ rule alone ("EST5EDT,M3.2.0,M11.1.0").
  static Result<TimeZone, std::string> from_posix_rule(std::string_view rule);

  const std::string& name() const;

  // Seconds east of UTC in effect at `t` (Berlin in summer: +7200).
  std::chrono::seconds offset_at(TimePoint t) const;
  // "CEST", "EST", "+0530": the abbreviation in effect at `t`.
  std::string abbreviation_at(TimePoint t) const;
  bool is_dst_at(TimePoint t) const;
  // What a wall clock in this zone shows at `t` (to the second).
  CivilTime to_local(TimePoint t) const;

  // Every instant at which a wall clock here shows `local`, earliest first: one as a rule,
  // none in a gap (clocks jumped over it: 02:30 on a spring-forward night), two in an
  // overlap (clocks went back and showed it twice: 02:30 on a fall-back night).
  std::vector<TimePoint> instants_of(const CivilTime& local) const;
  // The one instant we take for `local`, as RFC 5545 and JavaScript's Temporal
  // ("compatible") do: in an overlap the earlier; in a gap the time read with the offset
  // from before the gap, i.e. moved forward by the gap's length (02:30 in Berlin on the
  // spring-forward night is 03:30 CEST). So a window of local times keeps its length.
  TimePoint resolve(const CivilTime& local) const;

  // Two zones are the same when they have the same name (one name, one file).
  bool operator==(const TimeZone& other) const { return name() == other.name(); }

  struct Data;

private:
  explicit TimeZone(std::shared_ptr<const Data> data) : m_data(std::move(data)) {}

  std::shared_ptr<const Data> m_data;
};

}  // namespace creditwatch
