# Runs one libFuzzer target for SECONDS on a fresh copy of its corpus; fails if the fuzzer finds anything.
file(REMOVE_RECURSE ${WORK})
file(COPY ${CORPUS}/ DESTINATION ${WORK})
execute_process(COMMAND ${FUZZER} -max_total_time=${SECONDS} -timeout=20 -rss_limit_mb=4096
                        -artifact_prefix=${WORK}/ ${WORK}
                RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${FUZZER} found a failure (exit ${result}); the input is in ${WORK}")
endif()
