#pragma once
// Private to the library: the executor a client runs everything on. With
// client_options::thread_safe it is a strand over the caller's executor, so
// that an io_context run by several threads never runs two of one client's
// handlers at once; without it, the caller's executor as it is (no lock, no
// strand: the single-threaded default costs nothing).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>

namespace chatwire::detail {

using client_strand = boost::asio::strand<boost::asio::any_io_executor>;

/// `ex`, or a strand over it when `thread_safe`. A strand one layer made is
/// kept by the next (a chat_client and its transport share one).
inline boost::asio::any_io_executor serial_executor(boost::asio::any_io_executor ex, bool thread_safe) {
    if (!thread_safe || ex.target<client_strand>()) return ex;
    return boost::asio::make_strand(std::move(ex));
}

/// Whether work for a client on `ex` must first go to its strand: it has one
/// and the calling thread is not running it.
inline bool outside_strand(const boost::asio::any_io_executor& ex) {
    const auto* strand = ex.target<client_strand>();
    return strand && !strand->running_in_this_thread();
}

} // namespace chatwire::detail
