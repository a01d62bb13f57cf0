# Warnings as errors for our own code only; linked as an INTERFACE target so third-party
# headers and the test framework are not held to them.
add_library(creditwatch_warnings INTERFACE)
target_compile_options(creditwatch_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor)
