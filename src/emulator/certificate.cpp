#include <chatwire/emulator/certificate.hpp>

#include <boost/asio/ip/address.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace chatwire::emulator {
namespace {

template <auto Free>
struct deleter {
    template <class T>
    void operator()(T* p) const noexcept { Free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO_free>>;
using ext_ptr = std::unique_ptr<X509_EXTENSION, deleter<X509_EXTENSION_free>>;

[[noreturn]] void fail(const char* what) {
    throw std::runtime_error(std::string("self-signed certificate: ") + what);
}

void check(int ok, const char* what) {
    if (ok <= 0) fail(what);
}

std::string to_pem(auto write) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio) fail("BIO_new");
    check(write(bio.get()), "PEM write");
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

void add_extension(X509* cert, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    ext_ptr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext) fail("extension");
    check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

std::string subject_alt_names(const std::vector<std::string>& hosts) {
    std::string san;
    for (const auto& h : hosts) {
        boost::system::error_code ec;
        boost::asio::ip::make_address(h, ec);
        if (!san.empty()) san += ',';
        san += (ec ? "DNS:" : "IP:") + h;
    }
    return san;
}

} // namespace

self_signed_certificate make_self_signed(const std::vector<std::string>& hosts, std::chrono::hours validity) {
    if (hosts.empty()) fail("at least one host name is required");

    pkey_ptr key(EVP_EC_gen("P-256"));
    if (!key) fail("EVP_EC_gen");

    x509_ptr cert(X509_new());
    if (!cert) fail("X509_new");
    check(X509_set_version(cert.get(), 2), "X509_set_version");

    unsigned char serial[16];
    check(RAND_bytes(serial, sizeof serial), "RAND_bytes");
    serial[0] &= 0x7f;  // keep the serial positive
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    if (!bn) fail("BN_bin2bn");
    ASN1_INTEGER* sn = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    if (!sn) fail("serial");

    // Back-date a little so a client clock slightly behind still accepts it.
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                    static_cast<long>(std::chrono::seconds(validity).count()));
    check(X509_set_pubkey(cert.get(), key.get()), "X509_set_pubkey");

    X509_NAME* name = X509_get_subject_name(cert.get());
    const auto& cn = hosts.front();
    check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("chatwire test"), -1, -1, 0),
          "subject O");
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0),
          "subject CN");
    check(X509_set_issuer_name(cert.get(), name), "X509_set_issuer_name");

    add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign");
    add_extension(cert.get(), NID_ext_key_usage, "serverAuth");
    add_extension(cert.get(), NID_subject_key_identifier, "hash");
    add_extension(cert.get(), NID_subject_alt_name, subject_alt_names(hosts));

    check(X509_sign(cert.get(), key.get(), EVP_sha256()), "X509_sign");

    self_signed_certificate out;
    out.cert_pem = to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); });
    out.key_pem = to_pem([&](BIO* b) {
        return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    return out;
}

} // namespace chatwire::emulator
