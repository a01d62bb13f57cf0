#pragma once

#include "creditwatch/storage/store.hpp"

#include <string>
#include <vector>

namespace creditwatch::app {

// A Unicode sparkline ("▇▇▆▅▅▃▂") of `samples` over [from, to] in `width` time buckets,
// each showing the last balance seen in it; empty buckets repeat the previous one.
std::string sparkline(const std::vector<storage::SampleRow>& samples, TimePoint from, TimePoint to, std::size_t width);

}  // namespace creditwatch::app
