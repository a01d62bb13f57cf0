#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace creditwatch::storage {

// SQLite's readings.details come in three forms: NULL, "as the run before"; a patch,
// k_patch_mark then the numbers of the run before's details replaced, comma-separated (a
// DeepSeek balance that changes changes its topped_up figure, and the full text would be
// two thirds of the row); or the text in full. Numbers are maximal runs of [0-9.-]; the rest
// of the text is the skeleton, which a patch keeps. SqliteStore writes and reads them;
// DatabaseCopy resolves them on the way into PostgreSQL, which stores details in full.
inline constexpr char k_patch_mark = '\x1f';  // never the first byte of JSON text

inline bool is_number_char(char c) { return (c >= '0' && c <= '9') || c == '.' || c == '-'; }

// The skeleton (each number replaced by a NUL, which JSON text cannot hold raw) and the numbers.
inline std::string skeleton_of(std::string_view text, std::vector<std::string_view>* numbers) {
  std::string skeleton;
  skeleton.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (!is_number_char(text[i])) {
      skeleton.push_back(text[i++]);
      continue;
    }
    const std::size_t start = i;
    while (i < text.size() && is_number_char(text[i])) ++i;
    skeleton.push_back('\0');
    if (numbers) numbers->push_back(text.substr(start, i - start));
  }
  return skeleton;
}

// The patch that turns `before` into `after`, when they share a skeleton and it is shorter.
inline std::optional<std::string> details_patch(std::string_view before, std::string_view after) {
  std::vector<std::string_view> numbers;
  if (skeleton_of(after, &numbers) != skeleton_of(before, nullptr)) return std::nullopt;
  std::string patch(1, k_patch_mark);
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    if (i > 0) patch.push_back(',');
    patch.append(numbers[i]);
  }
  if (patch.size() >= after.size()) return std::nullopt;
  return patch;
}

inline bool is_patch(std::string_view stored) { return !stored.empty() && stored[0] == k_patch_mark; }

// The details a run stored as `stored` (nullopt: NULL) stands for, given the run before's.
inline std::string resolve_details(const std::string& before, const std::optional<std::string>& stored) {
  if (!stored) return before;
  if (!is_patch(*stored)) return *stored;
  std::string out;
  std::size_t from = 1;  // past the mark
  for (const char c : skeleton_of(before, nullptr)) {
    if (c != '\0') {
      out.push_back(c);
      continue;
    }
    const std::size_t comma = stored->find(',', from);
    const std::size_t end = comma == std::string::npos ? stored->size() : comma;
    out.append(*stored, std::min(from, stored->size()), end - std::min(from, end));
    from = end + 1;
  }
  return out;
}

}  // namespace creditwatch::storage
