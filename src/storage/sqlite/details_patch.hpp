#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace creditwatch::storage {

// SQLite's readings.details come in three forms: NULL, "as the run before"; a patch,
// k_patch_mark then one comma-separated field per number of the run before's details (a
// DeepSeek balance that changes changes its topped_up figure, and the full text would be two
// thirds of the row); or the text in full. Numbers are maximal runs of [0-9.-], so never
// empty; the rest of the text is the skeleton, which a patch keeps. A field is
//   - a number: this run's number in its place;
//   - empty: the run before's number there, unchanged;
//   - `=`: balance_text() of this row's balance_micros (written only when the number's text
//     is exactly that, so "2827.3" stays a number when the balance reads "2827.30").
// Trailing empty fields are left out. Patches written before the empty and `=` fields (every
// field a number, one per number) resolve as they always did. SqliteStore writes and reads
// them; DatabaseCopy resolves them on the way into PostgreSQL, which stores details in full.
inline constexpr char k_patch_mark = '\x1f';  // never the first byte of JSON text
inline constexpr char k_patch_balance = '=';  // not a number character

inline bool is_number_char(char c) { return (c >= '0' && c <= '9') || c == '.' || c == '-'; }

// The text a `=` field stands for: the balance with at least two decimals and no other
// trailing zeros ("2827.30", "0.000001", "-3.00"), the form Decimal::to_string gives and
// providers' details use. Part of the stored format: stored `=` fields resolve through it,
// so it must never change (it is kept here rather than borrowed from Decimal for that).
inline std::string balance_text(std::int64_t micros) {
  const bool negative = micros < 0;
  const std::uint64_t magnitude =
      negative ? std::uint64_t{0} - static_cast<std::uint64_t>(micros) : static_cast<std::uint64_t>(micros);
  std::string fraction = std::to_string(magnitude % 1'000'000);
  fraction.insert(0, 6 - fraction.size(), '0');
  while (fraction.size() > 2 && fraction.back() == '0') fraction.pop_back();
  return (negative ? "-" : "") + std::to_string(magnitude / 1'000'000) + "." + fraction;
}

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

// The patch that turns `before` into `after` for a row whose balance is `balance_micros`,
// when they share a skeleton and it is shorter.
inline std::optional<std::string> details_patch(std::string_view before, std::string_view after,
                                                std::int64_t balance_micros) {
  std::vector<std::string_view> numbers;
  std::vector<std::string_view> old_numbers;
  if (skeleton_of(after, &numbers) != skeleton_of(before, &old_numbers)) return std::nullopt;
  const std::string balance = balance_text(balance_micros);
  std::string patch(1, k_patch_mark);
  std::size_t kept = patch.size();  // up to the last field that is not empty
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    if (i > 0) patch.push_back(',');
    if (numbers[i] == old_numbers[i]) continue;
    if (numbers[i] == balance) {
      patch.push_back(k_patch_balance);
    } else {
      patch.append(numbers[i]);
    }
    kept = patch.size();
  }
  patch.resize(kept);
  if (patch.size() >= after.size()) return std::nullopt;
  return patch;
}

inline bool is_patch(std::string_view stored) { return !stored.empty() && stored[0] == k_patch_mark; }

// The details a run stored as `stored` (nullopt: NULL) stands for, given the run before's and
// the run's own balance_micros.
inline std::string resolve_details(const std::string& before, const std::optional<std::string>& stored,
                                   std::int64_t balance_micros) {
  if (!stored) return before;
  if (!is_patch(*stored)) return *stored;
  std::vector<std::string_view> old_numbers;
  const std::string skeleton = skeleton_of(before, &old_numbers);
  const std::string_view fields = std::string_view(*stored).substr(1);  // past the mark
  std::string out;
  out.reserve(before.size() + fields.size());
  std::size_t from = 0;  // the next field's start; past the end: the fields left out
  std::size_t n = 0;
  for (const char c : skeleton) {
    if (c != '\0') {
      out.push_back(c);
      continue;
    }
    std::string_view field;
    if (from <= fields.size()) {
      const std::size_t comma = fields.find(',', from);
      const std::size_t end = comma == std::string_view::npos ? fields.size() : comma;
      field = fields.substr(from, end - from);
      from = comma == std::string_view::npos ? fields.size() + 1 : end + 1;
    }
    if (field.empty()) {
      out.append(old_numbers[n]);
    } else if (field.size() == 1 && field[0] == k_patch_balance) {
      out.append(balance_text(balance_micros));
    } else {
      out.append(field);
    }
    ++n;
  }
  return out;
}

}  // namespace creditwatch::storage
