# Included by ctest (a directory's TEST_INCLUDE_FILES, written by
# chatwire_test_each_case in test/CMakeLists.txt): one test per case of the
# Boost.Test executable `exe`, listed by the executable itself when ctest
# starts. Set before: exe, name, labels, timeout, h2_cases, cmake (ctest
# defines no CMAKE_COMMAND of its own).
cmake_policy(VERSION 3.21)
set(common --log_level=test_suite --report_level=short)

# A test that fails with `message`, in place of the cases, so that a broken
# listing never passes as zero tests (it carries the suite's labels: -L finds it).
function(listing_failed test message)
  add_test("${test}" "${cmake}" -E echo "${message}")
  set_tests_properties("${test}" PROPERTIES WILL_FAIL TRUE)
  set_tests_properties("${test}" PROPERTIES LABELS "${labels}")
endfunction()

execute_process(COMMAND "${exe}" --list_content TIMEOUT 60
                OUTPUT_VARIABLE listed ERROR_VARIABLE listed RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  listing_failed("${name}.list_content" "${exe} --list_content failed (${rc}): not built?")
  return()
endif()
string(REPLACE "\n" ";" lines "${listed}")
set(cases)
foreach(line IN LISTS lines)
  if(line STREQUAL "")
    continue()
  endif()
  # A flat module lists its cases one per line: '*' marks an enabled one (a
  # disabled one ends in a space), ": ..." follows a case's description.
  # Suites would list their cases indented below them: not supported here.
  if(NOT line MATCHES "^([A-Za-z0-9_]+)[* ]?(: .*)?$")
    listing_failed("${name}.list_content" "unexpected case line: ${line}")
    return()
  endif()
  list(APPEND cases "${CMAKE_MATCH_1}")
endforeach()

# One set_tests_properties per property: several in one call would pair a
# list-valued one's items with the wrong names.
function(register test protocol case)
  add_test("${test}" "${exe}" "--run_test=${case}" ${common})
  if(protocol STREQUAL "h2")
    set_tests_properties("${test}" PROPERTIES LABELS "${labels};http2")
    set_tests_properties("${test}" PROPERTIES ENVIRONMENT "CHATWIRE_TEST_PROTOCOL=h2")
  else()
    set_tests_properties("${test}" PROPERTIES LABELS "${labels}")
  endif()
  if(timeout)
    set_tests_properties("${test}" PROPERTIES TIMEOUT "${timeout}")
  endif()
endfunction()

foreach(case IN LISTS cases)
  register("${name}.${case}" h1 "${case}")
endforeach()
foreach(case IN LISTS h2_cases)
  list(FIND cases "${case}" at)
  if(at EQUAL -1)
    listing_failed("${name}_h2.${case}" "no case ${case} in ${name}")
    continue()
  endif()
  register("${name}_h2.${case}" h2 "${case}")
endforeach()
