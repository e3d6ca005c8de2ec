// The client's TLS context: trust, minimum version, session caching and
// per-connection buffers.
#include "client_state.hpp"

namespace chatwire::http::detail {

namespace asio = boost::asio;

void configure_tls(asio::ssl::context& ctx, const tls_options& tls, error_code& ec, std::string& detail) {
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    // Sessions are kept per origin by the pool, not in OpenSSL's internal cache.
    SSL_CTX_set_session_cache_mode(ctx.native_handle(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    // OpenSSL's read and write buffers (~34 KiB a connection) are freed while
    // idle: thousands of open streams spend most of their time waiting.
    SSL_CTX_set_mode(ctx.native_handle(), SSL_MODE_RELEASE_BUFFERS);
    error_code e;
    if (tls.use_system_ca) {
        ctx.set_default_verify_paths(e);
        if (e) {
            ec = errc::tls_setup_failed;
            detail = "cannot load the system CA store";
            return;
        }
    }
    if (!tls.extra_ca_file.empty()) {
        ctx.load_verify_file(tls.extra_ca_file, e);
        if (e) {
            ec = errc::tls_setup_failed;
            detail = "cannot load CA file " + tls.extra_ca_file;
            return;
        }
    }
    if (!tls.extra_ca_pem.empty()) {
        ctx.add_certificate_authority(asio::buffer(tls.extra_ca_pem), e);
        if (e) {
            ec = errc::tls_setup_failed;
            detail = "cannot parse the extra CA PEM";
            return;
        }
    }
    ctx.set_verify_mode(tls.insecure_skip_verification_do_not_use_in_production ? asio::ssl::verify_none
                                                                              : asio::ssl::verify_peer);
}

} // namespace chatwire::http::detail
