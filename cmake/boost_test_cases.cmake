# Included by ctest (a directory's TEST_INCLUDE_FILES, written by
# chatwire_test_each_case in test/CMakeLists.txt): one test per case of the
# Boost.Test executable `exe`, listed by the executable itself when ctest
# starts. Set before: exe, name, labels, timeout, h2_cases.
set(common --log_level=test_suite --report_level=short)
execute_process(COMMAND "${exe}" --list_content
                OUTPUT_VARIABLE listed ERROR_VARIABLE listed RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  # Not built (or broken): one test that fails and says so, rather than none.
  add_test("${name}.list_content" "${exe}" --list_content)
  return()
endif()
string(REPLACE "\n" ";" lines "${listed}")
set(cases)
foreach(line IN LISTS lines)
  if(line STREQUAL "")
    continue()
  endif()
  # A flat module lists its cases one per line, '*' marking the enabled ones.
  # Suites would list their cases indented below them: not supported here.
  if(NOT line MATCHES "^([A-Za-z0-9_]+)\\*?$")
    add_test("${name}.list_content" "${CMAKE_COMMAND}" -E echo "unexpected case line: ${line}")
    set_tests_properties("${name}.list_content" PROPERTIES WILL_FAIL TRUE)
    return()
  endif()
  list(APPEND cases "${CMAKE_MATCH_1}")
endforeach()

function(register test protocol case)
  add_test("${test}" "${exe}" "--run_test=${case}" ${common})
  set(props LABELS "${labels}")
  if(protocol STREQUAL "h2")
    set(props LABELS "${labels};http2" ENVIRONMENT CHATWIRE_TEST_PROTOCOL=h2)
  endif()
  if(timeout)
    list(APPEND props TIMEOUT "${timeout}")
  endif()
  set_tests_properties("${test}" PROPERTIES ${props})
endfunction()

foreach(case IN LISTS cases)
  register("${name}.${case}" h1 "${case}")
endforeach()
foreach(case IN LISTS h2_cases)
  list(FIND cases "${case}" at)
  if(at EQUAL -1)
    add_test("${name}_h2.${case}" "${CMAKE_COMMAND}" -E echo "no case ${case} in ${name}")
    set_tests_properties("${name}_h2.${case}" PROPERTIES WILL_FAIL TRUE)
    continue()
  endif()
  register("${name}_h2.${case}" h2 "${case}")
endforeach()
