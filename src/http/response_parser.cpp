// This file's instantiation of Beast's response parser carries no assertion
// (see response_parser.hpp): its build sets BOOST_DISABLE_ASSERTS and keeps it
// out of unity batches (CMakeLists.txt); the definition here stands for a
// build made without that file.
#ifndef BOOST_DISABLE_ASSERTS
#define BOOST_DISABLE_ASSERTS
#endif
#include "response_parser.hpp"

#if BOOST_VERSION < 108600
template class boost::beast::http::basic_parser<false>;
#endif
