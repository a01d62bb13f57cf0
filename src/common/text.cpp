#include "creditwatch/common/text.hpp"

#include <algorithm>
#include <cctype>

namespace creditwatch {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

constexpr std::string_view k_replacement = "\xEF\xBF\xBD";  // U+FFFD

bool continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

// A UTF-8 sequence at the start of some bytes: how many bytes it spans and, when well formed,
// its code point. An ill-formed one spans its maximal subpart (the longest start of a valid
// sequence, at least one byte), which becomes one U+FFFD (Unicode 15, section 3.9, "U+FFFD
// Substitution of Maximal Subparts").
struct Sequence {
  std::size_t bytes = 1;
  bool valid = false;
  char32_t code_point = 0;
};

Sequence decode(std::string_view text, std::size_t at) {
  const auto lead = static_cast<unsigned char>(text[at]);
  if (lead < 0x80) return {1, true, lead};
  std::size_t length = 0;
  unsigned char low = 0x80;   // the range of the second byte (Unicode table 3-7): it excludes
  unsigned char high = 0xBF;  // overlong forms, surrogates and values past U+10FFFF
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return {};  // a continuation byte, C0, C1 or F5..FF: never a lead
  }
  char32_t code_point = lead & (0xFF >> (length + 1));
  for (std::size_t i = 1; i < length; ++i) {
    if (at + i >= text.size()) return {i, false, 0};
    const auto byte = static_cast<unsigned char>(text[at + i]);
    const bool in_range = i == 1 ? byte >= low && byte <= high : continuation(byte);
    if (!in_range) return {i, false, 0};
    code_point = (code_point << 6) | (byte & 0x3F);
  }
  return {length, true, code_point};
}

// Control characters that can break or fool what shows the text (terminal escapes, a
// backspace, C1 controls that some terminals obey).
bool control(char32_t c) { return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F); }

}  // namespace

std::string safe_text(std::string_view bytes, LineBreaks breaks) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t clean_from = 0;  // start of the run of bytes copied as they are
  auto flush = [&](std::size_t until) { out.append(bytes.substr(clean_from, until - clean_from)); };
  for (std::size_t i = 0; i < bytes.size();) {
    const auto lead = static_cast<unsigned char>(bytes[i]);
    if (lead >= 0x20 && lead < 0x7F) {  // the common case: printable ASCII, copied in one run
      ++i;
      continue;
    }
    const Sequence s = decode(bytes, i);
    const bool fine = s.valid && !control(s.code_point);
    const bool kept_break = s.valid && breaks == LineBreaks::keep && (s.code_point == '\n' || s.code_point == '\t');
    if (fine || kept_break) {
      i += s.bytes;
      continue;
    }
    flush(i);
    if (!s.valid) {
      out += k_replacement;
    } else if (s.code_point == '\r') {
      // CR LF is one line break; a lone CR (old Mac, or a header injection) is one too.
      const bool pair = i + 1 < bytes.size() && bytes[i + 1] == '\n';
      if (!pair) out += breaks == LineBreaks::keep ? '\n' : ' ';
    } else if (s.code_point == '\n' || s.code_point == '\t') {
      out += ' ';  // folded
    } else if (s.code_point != 0) {
      out += k_replacement;
    }
    i += s.bytes;
    clean_from = i;
  }
  flush(bytes.size());
  return out;
}

std::string cut_text(std::string_view text, std::size_t max_bytes, std::string_view ellipsis) {
  if (text.size() <= max_bytes) return std::string(text);
  if (ellipsis.size() > max_bytes) ellipsis = {};
  std::size_t end = max_bytes - ellipsis.size();
  // text[end] is the first byte left out: while it continues a sequence, that sequence
  // started inside the kept part, so leave it out whole (three steps at most: no sequence is
  // longer, and a longer run of continuation bytes is no character to keep whole).
  for (int step = 0; step < 3 && end > 0 && continuation(static_cast<unsigned char>(text[end])); ++step) --end;
  std::string out(text.substr(0, end));
  out += ellipsis;
  return out;
}

bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const Sequence s = decode(text, i);
    if (!s.valid) return false;
    i += s.bytes;
  }
  return true;
}

std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    std::size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string trim(std::string_view text) {
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return std::string(text);
}

std::string redact(std::string text, const std::vector<std::string>& needles) {
  for (const auto& needle : needles) {
    if (needle.size() < 4) continue;  // too short to be a credential; redacting would mangle text
    for (std::size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 3)) {
      text.replace(pos, needle.size(), "***");
    }
  }
  return text;
}

}  // namespace creditwatch
