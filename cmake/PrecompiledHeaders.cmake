# Precompiled headers for the heavy third-party headers. nlohmann/json and spdlog cost about
# 2.7 s and 1.5 s of CPU in every translation unit that includes them (measured with g++ 12
# -O2 -g on one header each), httplib 2.1 s and doctest 0.9 s; most of our files include two
# or three of them, so parsing them once per target roughly halves a cold build (CI builds
# twice: normal and sanitised). Headers are only precompiled for targets that already depend
# on the library, so a layer still cannot use what its link line does not allow.
option(CREDITWATCH_PRECOMPILE_HEADERS "Precompile the heavy third-party headers" ON)

set(creditwatch_std_headers <algorithm> <chrono> <functional> <map> <memory> <mutex> <optional> <string>
  <string_view> <vector>)

function(creditwatch_precompile target)
  if(CREDITWATCH_PRECOMPILE_HEADERS)
    target_precompile_headers(${target} PRIVATE ${creditwatch_std_headers} ${ARGN})
  endif()
endfunction()
