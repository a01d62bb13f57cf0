#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace creditwatch {

// The candidate closest to `word` by edit distance, if it is close enough to be a
// plausible typo (used for "did you mean" hints).
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

std::string trim(std::string_view text);

// Replaces every occurrence of each non-empty needle with "***". Used on text that came
// from outside (error bodies, URLs) before it is logged.
std::string redact(std::string text, const std::vector<std::string>& needles);

}  // namespace creditwatch
