# Writes creditwatch.1 from the built binary's --help and each subcommand's --help, so the
# man page cannot disagree with the CLI. Run at build time (see Packaging.cmake):
#   cmake -DBINARY=path/to/creditwatch -DTEMPLATE=cmake/creditwatch.1.in -DOUTPUT=creditwatch.1
#         -DVERSION=x.y.z -P cmake/GenerateManPage.cmake

foreach(var BINARY TEMPLATE OUTPUT VERSION)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "GenerateManPage.cmake needs -D${var}=...")
  endif()
endforeach()

# --help of `creditwatch ARGS...`, with the build path replaced by the command name.
function(help_of out)
  execute_process(COMMAND "${BINARY}" ${ARGN} --help OUTPUT_VARIABLE text RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${BINARY} ${ARGN} --help failed (${rc}): ${err}")
  endif()
  string(REPLACE "${BINARY}" "creditwatch" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# Help text as a roff no-fill block: backslashes and hyphens escaped, control characters
# at line starts neutralised.
function(roff_block out text)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  string(STRIP "${text}" text)
  set(${out} ".nf\n${text}\n.fi" PARENT_SCOPE)
endfunction()

help_of(main_help)
roff_block(MAN_OPTIONS "${main_help}")

# Subcommands are the indented names after "Subcommands:" in the main help.
string(FIND "${main_help}" "Subcommands:" at)
if(at EQUAL -1)
  message(FATAL_ERROR "no Subcommands: section in `creditwatch --help`")
endif()
string(SUBSTRING "${main_help}" ${at} -1 subcommand_text)
string(REGEX MATCHALL "\n  [a-z][a-z0-9-]*" names "${subcommand_text}")
set(MAN_COMMANDS "")
foreach(name IN LISTS names)
  string(STRIP "${name}" name)
  help_of(sub_help ${name})
  roff_block(block "${sub_help}")
  string(APPEND MAN_COMMANDS ".SS creditwatch ${name}\n${block}\n")
endforeach()

set(MAN_VERSION "${VERSION}")
configure_file("${TEMPLATE}" "${OUTPUT}" @ONLY)
