#define BOOST_TEST_MODULE integration_emulator
#include <boost/test/unit_test.hpp>
