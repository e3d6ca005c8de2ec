#pragma once
// The HTTP/2 driver of an exchange: the steps of one attempt on a stream.
#include "exchange.hpp"
#include "exchange_machine.hpp"
#include "h2_stream.hpp"

#include <boost/asio/awaitable.hpp>

#include <memory>

namespace chatwire::http::detail {

struct client_state;

/// Performs the steps exchange_machine names, from send_request, on the
/// stream `s` (its link taken, connected() told): until the machine asks
/// for a connection again (a resend), delivers or fails. A stream left
/// behind by a resend or a failure is reset when `s` goes.
boost::asio::awaitable<void> run_h2_attempt(std::shared_ptr<h2_stream> s, exchange_machine& m, const endpoint& to,
                                            const outgoing& req, const client_state& st, diagnostics& diag);

} // namespace chatwire::http::detail
