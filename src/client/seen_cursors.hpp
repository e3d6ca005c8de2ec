#pragma once
// The cursors one list walk has followed, to notice a list that comes back
// to one (A -> B -> A ...) instead of asking for it for ever. Digests, not
// strings: 64 bits a cursor, and at most `exact_limit` of them. Past that,
// Brent's cycle finding goes on in constant memory: it remembers one cursor
// at steps 1, 2, 4, 8 ... and any list that loops comes back to it within
// twice its period.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_set>

namespace chatwire::detail {

class seen_cursors {
public:
    /// Digests kept exactly (about 32 bytes each): a loop among the first
    /// this many cursors of a walk is caught at its first repeat.
    static constexpr std::size_t exact_limit = 1 << 16;

    /// Whether `cursor` was noted before in this walk.
    bool contains(std::string_view cursor) const {
        const auto d = digest(cursor);
        return exact_.count(d) > 0 || (anchored_ && d == anchor_);
    }

    /// Notes a cursor the walk followed.
    void note(std::string_view cursor) {
        const auto d = digest(cursor);
        if (exact_.size() < exact_limit) exact_.insert(d);
        if (++steps_ >= power_) {
            anchor_ = d;
            anchored_ = true;
            power_ *= 2;
            steps_ = 0;
        }
    }

private:
    static std::uint64_t digest(std::string_view s) { return std::hash<std::string_view>{}(s); }

    std::unordered_set<std::uint64_t> exact_;
    std::uint64_t anchor_ = 0;
    bool anchored_ = false;
    std::uint64_t power_ = 1, steps_ = 0;
};

} // namespace chatwire::detail
