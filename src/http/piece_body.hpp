#pragma once
// A Beast body whose reader does not copy: each put() records views of the
// parser's input, which the caller owns and keeps unchanged until it has
// handed every piece on. This is how streamed bodies reach the decoders in place.
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <string_view>
#include <vector>

namespace chatwire::http::detail {

struct piece_body {
    struct value_type {
        std::vector<std::string_view>* pieces = nullptr;
    };

    class reader {
    public:
        template <bool IsRequest, class Fields>
        // The parser builds its reader before the caller sets `pieces`: look it up on use.
        reader(boost::beast::http::header<IsRequest, Fields>&, value_type& v) : body_(v) {}

        void init(const boost::optional<std::uint64_t>&, boost::system::error_code& ec) { ec = {}; }

        template <class ConstBufferSequence>
        std::size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
            std::size_t n = 0;
            for (auto b : boost::beast::buffers_range_ref(buffers)) {
                if (b.size() == 0) continue;
                body_.pieces->emplace_back(static_cast<const char*>(b.data()), b.size());
                n += b.size();
            }
            ec = {};
            return n;
        }

        void finish(boost::system::error_code& ec) { ec = {}; }

    private:
        value_type& body_;
    };
};

} // namespace chatwire::http::detail
