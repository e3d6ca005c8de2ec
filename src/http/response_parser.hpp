#pragma once
// Beast's response parser, as every part of the library includes it: all of
// them share the one instantiation of basic_parser<false> that
// response_parser.cpp compiles without Boost's assertions. Beast before 1.86
// asserts (n >= 5) when a chunked body's final chunk "0\r\n" comes back to the
// parser with a single further byte, a split any server may make; the code
// after the assertion handles it, but a build with assertions on (Debug)
// would abort on it. The linker keeps one copy of the instantiation: a
// program that also parses responses with Beast itself, built with
// assertions on, may keep its own copy, and with it the assertion.
#include <boost/beast/http/parser.hpp>
#include <boost/version.hpp>

#if BOOST_VERSION < 108600
extern template class boost::beast::http::basic_parser<false>;
#endif
