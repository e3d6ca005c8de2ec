#include <chatwire/version.hpp>

namespace chatwire {
std::string_view version() noexcept { return CHATWIRE_VERSION_STRING; }
} // namespace chatwire
