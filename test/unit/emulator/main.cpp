#define BOOST_TEST_MODULE unit_emulator
#include <boost/test/unit_test.hpp>
