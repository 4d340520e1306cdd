# cmake -DCOMMAND="prog;args" -DEXPECT_EXIT=N [-DEXPECT_REGEX=re] [-DREJECT_REGEX=re] -P expect_run.cmake
# Runs COMMAND and fails unless it exits with EXPECT_EXIT and its output
# (stdout and stderr together) matches EXPECT_REGEX and not REJECT_REGEX.
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
set(all "${out}${err}")
message("${all}")
if(NOT status STREQUAL "${EXPECT_EXIT}")
  message(FATAL_ERROR "expected exit status ${EXPECT_EXIT}, got '${status}'")
endif()
if(DEFINED EXPECT_REGEX AND NOT all MATCHES "${EXPECT_REGEX}")
  message(FATAL_ERROR "output does not match '${EXPECT_REGEX}'")
endif()
if(DEFINED REJECT_REGEX AND all MATCHES "${REJECT_REGEX}")
  message(FATAL_ERROR "output matches '${REJECT_REGEX}'")
endif()
