#pragma once
#include <string_view>

namespace chatwire {

/// The library's version, "MAJOR.MINOR.PATCH".
std::string_view version() noexcept;

} // namespace chatwire
