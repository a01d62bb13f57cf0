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

// What safe_text does with line breaks: keep them (multi-line text; CR LF and a lone CR
// become LF), or fold CR, LF and tab to a space each (a title, a log line, a header).
enum class LineBreaks { keep, fold };

// Any bytes as text that every consumer accepts (JSON serialisers, SQLite, HTTP headers,
// terminals): valid UTF-8, each ill-formed sequence (a stray byte, a cut character, an
// overlong form, a surrogate, a value past U+10FFFF) one U+FFFD as Unicode recommends; NUL
// dropped; other control characters (C0 but tab and LF, DEL, C1) U+FFFD. Linear in the input.
// Text that comes from outside (provider answers, sink answers, labels) passes here once,
// where it enters.
std::string safe_text(std::string_view bytes, LineBreaks breaks = LineBreaks::keep);

// `text` cut to at most `max_bytes` bytes, never inside a UTF-8 sequence. A cut text ends in
// `ellipsis` ("…" by default), whose bytes count within the limit (left out when the limit is
// smaller than the ellipsis). Text that fits is returned unchanged.
std::string cut_text(std::string_view text, std::size_t max_bytes, std::string_view ellipsis = "\xE2\x80\xA6");

// Whether `text` is well-formed UTF-8 (what safe_text returns always is).
bool valid_utf8(std::string_view text);

}  // namespace creditwatch
