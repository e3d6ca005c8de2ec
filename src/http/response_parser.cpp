// Defined before any Boost header: this file's instantiation of Beast's
// response parser carries no assertion (see response_parser.hpp).
#define BOOST_DISABLE_ASSERTS
#include "response_parser.hpp"

#if BOOST_VERSION < 108600
template class boost::beast::http::basic_parser<false>;
#endif
