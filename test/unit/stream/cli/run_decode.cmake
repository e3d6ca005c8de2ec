# Runs `chatwire decode` on one captured body and checks its stdout, exit code
# and (optionally) a pattern in stderr.
#   -DCLI=<chatwire> -DINPUT=<file> -DEXPECTED=<file> -DARGS=<args separated by |>
#   -DEXPECTED_RC=<n> [-DSTDERR_MATCH=<regex>]
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND ${CLI} decode ${args}
                INPUT_FILE ${INPUT} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
file(READ ${EXPECTED} expected)
if(NOT rc EQUAL EXPECTED_RC)
  message(FATAL_ERROR "exit code ${rc}, expected ${EXPECTED_RC}\nstderr: ${err}")
endif()
if(NOT out STREQUAL expected)
  message(FATAL_ERROR "stdout differs\n--- got\n${out}--- expected\n${expected}")
endif()
if(DEFINED STDERR_MATCH AND NOT err MATCHES "${STDERR_MATCH}")
  message(FATAL_ERROR "stderr does not match '${STDERR_MATCH}': ${err}")
endif()
