add_library(creditwatch_sanitizers INTERFACE)
if(CREDITWATCH_SANITIZE)
  target_compile_options(creditwatch_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(creditwatch_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
