#define BOOST_TEST_MODULE unit_retry
#include <boost/test/unit_test.hpp>
