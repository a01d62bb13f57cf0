# Warnings as errors for our own code only; linked as an INTERFACE target so third-party
# headers and the test framework are not held to them.
add_library(creditwatch_warnings INTERFACE)
target_compile_options(creditwatch_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor
  # GCC 12 at -O3 reports false positives inside std::string (GCC bugs 105329, 105651):
  # keep them visible as warnings but do not fail the build on them.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-error=maybe-uninitialized -Wno-error=restrict>)
