#include <chatwire/retry/store.hpp>

namespace chatwire {

void local_retry_store::note_window(std::string_view key, const rate_window& window) {
    std::lock_guard lock(mutex_);
    auto it = windows_.find(key);
    if (it == windows_.end()) windows_.emplace(std::string(key), window);
    else it->second = window;
}

std::optional<rate_window> local_retry_store::window(std::string_view key) const {
    std::lock_guard lock(mutex_);
    auto it = windows_.find(key);
    if (it == windows_.end()) return std::nullopt;
    return it->second;
}

} // namespace chatwire
