#pragma once
// Self-signed certificates made at run time, for the emulator and for tests:
// no private key is ever committed or written anywhere the caller did not ask.
#include <chrono>
#include <string>
#include <vector>

namespace chatwire::emulator {

/// A certificate and its key, both PEM.
struct self_signed_certificate {
    std::string cert_pem;  ///< the certificate a client must trust
    std::string key_pem;   ///< its private key (PKCS#8 PEM)
};

/// A fresh P-256 key and a self-signed certificate whose subjectAltName lists
/// `hosts` (IP literals become IP entries, the rest DNS names). It is marked as
/// a CA so that it can be given to a client as its trust anchor.
/// Throws std::runtime_error when OpenSSL fails.
self_signed_certificate make_self_signed(const std::vector<std::string>& hosts,
                             std::chrono::hours validity = std::chrono::hours(24 * 30));

} // namespace chatwire::emulator
