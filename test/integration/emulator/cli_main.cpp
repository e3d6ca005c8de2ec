#define BOOST_TEST_MODULE integration_emulator_cli
#include <boost/test/unit_test.hpp>
