#include "exchange_machine.hpp"
#include "client_state.hpp"

#include <boost/asio/error.hpp>

namespace chatwire::http::detail {

namespace {

// 100 Continue, 103 Early Hints and the like precede the real answer: they
// have no body, and the real answer follows on the same connection.
bool is_interim(unsigned status) { return status >= 100 && status < 200 && status != 101; }

// A pooled connection the server closed as it was taken (its idle timeout
// raced the request) fails before any byte of an answer. Sent again, once, on
// a new connection, when the server certainly did not act on it: the request
// never fully left, or the connection ended with a clean close (the server's
// FIN came before the request). A reset after the request went out may follow
// a server that read it and acted: only an idempotent request is resent then;
// for others the error is the caller's (or its retry policy's) to judge.
// The same holds for an HTTP/2 stream reset before its answer.
bool safe_to_resend(const error_code& ec, bool written, verb method) {
    namespace asio = boost::asio;
    const bool clean_close = is_clean_close(ec);
    // An HTTP/2 stream reset before its answer is this connection's reset for one request.
    const bool broken = clean_close || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
                        ec == errc::stream_reset;
    if (!broken) return false;
    return !written || clean_close || is_idempotent(method);
}

} // namespace

deadline::clock::time_point exchange_machine::io_end() {
    if (step_ == step::read_head) return dl_.arm_until(first_byte_end_, errc::first_byte_timeout);
    return dl_.arm(limits_.idle, errc::idle_timeout);
}

void exchange_machine::connected(bool reused) noexcept {
    info_.connection_reused = reused;
    step_ = step::send_request;
}

void exchange_machine::no_connection(error_code ec) noexcept {
    error_ = ec;
    error_final_ = true;
    step_ = step::fail;
}

void exchange_machine::sent() {
    info_.request_written = true;
    first_byte_end_ = deadline::after(deadline::clock::now(), limits_.first_byte);
    step_ = step::read_head;
}

bool exchange_machine::head(unsigned status) noexcept {
    info_.response_started = true;
    if (!is_interim(status)) {
        step_ = whole_ ? step::read_body : step::deliver;
        return false;
    }
    // A server sending interim answers for ever must not hold the call.
    if (++interim_ > max_interim_answers) {
        no_connection(errc::bad_response);
        return false;
    }
    return true;
}

void exchange_machine::refuse(error_code why, bool cancelled) noexcept {
    info_.response_started = true;
    if (cancelled) fail_with(errc::cancelled, true);
    else no_connection(why);
}

void exchange_machine::body_done() noexcept { step_ = step::deliver; }

void exchange_machine::failed(error_code ec, bool answer_began, bool cancelled) noexcept {
    if (answer_began) info_.response_started = true;
    if (info_.connection_reused && attempt_ == 0 && !cancelled && !info_.response_started &&
        safe_to_resend(ec, info_.request_written, method_)) {
        ++attempt_;
        interim_ = 0;
        info_ = {};
        info_.stale_resend = ec;
        step_ = step::take_connection;
        return;
    }
    fail_with(ec, cancelled);
}

void exchange_machine::cancelled() noexcept { fail_with(errc::cancelled, true); }

void exchange_machine::unprocessed(error_code ec) noexcept {
    if (unprocessed_resent_) {
        fail_with(ec, false);
        return;
    }
    unprocessed_resent_ = true;
    ++attempt_;
    interim_ = 0;
    const error_code stale = info_.stale_resend;
    info_ = {};
    info_.stale_resend = stale ? stale : ec;
    step_ = step::take_connection;
}

void exchange_machine::fail_with(error_code ec, bool cancelled) noexcept {
    error_ = ec;
    cancelled_ = cancelled;
    step_ = step::fail;
}

error_code exchange_machine::error() const {
    if (step_ != step::fail) return {};
    if (error_final_) return error_;
    return map_transport_error(error_, dl_, cancelled_);
}

bool exchange_machine::framed_body(unsigned status) const noexcept {
    return method_ != verb::head && status != 204 && status != 304 && !(status >= 100 && status < 200);
}

} // namespace chatwire::http::detail
