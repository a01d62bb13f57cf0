#pragma once

#include <string>
#include <string_view>

namespace creditwatch {

// `text` as HTML element content or a quoted attribute value: & < > " ' as entities. One
// place for the sign-in page, the e-mail and digest bodies and Telegram's HTML mode.
std::string html_escape(std::string_view text);

}  // namespace creditwatch
