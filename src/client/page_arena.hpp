#pragma once
// The memory one parsed page lives in: one arena (a monotonic resource, so a
// page of small items pays no allocator overhead per item and is freed at
// once), allowed to grow to `page_memory_factor` times the page's bytes. A
// page of many tiny items costs many times its bytes as a JSON tree; past the
// bound the page is refused rather than allowed to take what it likes.
#include <boost/json/memory_resource.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/storage_ptr.hpp>

#include <cstddef>

namespace chatwire::detail {

/// A parsed page may take at most this many times its body, plus page_memory_slack.
inline constexpr std::size_t page_memory_factor = 16;
inline constexpr std::size_t page_memory_slack = 64 * 1024;

/// Thrown by the arena's upstream when a page outgrows its bound.
struct page_too_large {};

/// Counts what the arena takes from the heap, and refuses past `limit`.
class page_budget final : public boost::json::memory_resource {
public:
    explicit page_budget(std::size_t limit) : limit_(limit) {}

private:
    void* do_allocate(std::size_t n, std::size_t align) override {
        if (n > limit_ - used_) throw page_too_large{};
        void* p = heap_->allocate(n, align);
        used_ += n;
        return p;
    }
    void do_deallocate(void* p, std::size_t n, std::size_t align) override {
        heap_->deallocate(p, n, align);
        used_ -= n;
    }
    bool do_is_equal(const boost::json::memory_resource& other) const noexcept override { return this == &other; }

    std::size_t limit_;
    std::size_t used_ = 0;
    boost::json::storage_ptr heap_;  // the default resource
};

/// An arena for a page of `body_bytes`: shared by the page's items, freed
/// with the last of them.
inline boost::json::storage_ptr page_arena(std::size_t body_bytes) {
    const std::size_t limit = body_bytes * page_memory_factor + page_memory_slack;
    auto upstream = boost::json::make_shared_resource<page_budget>(limit);
    // A first block near the tree's usual size: untouched pages of it cost no RSS.
    return boost::json::make_shared_resource<boost::json::monotonic_resource>(body_bytes * 4 + 4096,
                                                                              std::move(upstream));
}

} // namespace chatwire::detail
