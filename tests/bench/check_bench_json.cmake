# Smoke test for one benchmark program: runs it briefly, then checks its JSON file has a row
# with a number in real_time for every benchmark and no row that reports an error (a benchmark
# that needs two CPUs is let off on a one-CPU runner: it says so and is skipped).
# Usage: cmake -DPROGRAM=<exe> -DOUT=<json file> -P check_bench_json.cmake
file(REMOVE ${OUT})
execute_process(COMMAND ${PROGRAM} --benchmark_min_time=0.01 --benchmark_out=${OUT}
                        --benchmark_out_format=json
                RESULT_VARIABLE rc OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${rc}:\n${output}")
endif()
file(READ ${OUT} json)
string(JSON rows ERROR_VARIABLE error LENGTH "${json}" benchmarks)
if(error OR rows EQUAL 0)
  message(FATAL_ERROR "${OUT}: no benchmarks array (${error})")
endif()
math(EXPR last "${rows} - 1")
foreach(i RANGE ${last})
  string(JSON name GET "${json}" benchmarks ${i} name)
  string(JSON failed ERROR_VARIABLE none GET "${json}" benchmarks ${i} error_occurred)
  if(failed)
    string(JSON why GET "${json}" benchmarks ${i} error_message)
    if(why MATCHES "^needs two allowed CPUs")
      message(STATUS "${name}: skipped: ${why}")
      continue()
    endif()
    message(FATAL_ERROR "${name}: ${why}")
  endif()
  string(JSON real_time GET "${json}" benchmarks ${i} real_time)
  if(NOT real_time MATCHES "^[0-9.eE+-]+$" OR real_time EQUAL 0)
    message(FATAL_ERROR "${name}: real_time is '${real_time}'")
  endif()
endforeach()
message(STATUS "${rows} benchmarks with figures in ${OUT}")
