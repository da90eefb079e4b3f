# cmake -DBINARY=patchpaneld -DHEAD=patchpaneld.conf.head -DOUTPUT=patchpaneld.conf
#       [-DIGNORE=option;...] -P conf-example.cmake
#
# The installed example of a configuration file, from the binary's own --help (its option
# table), so that every option is in it the moment it is in the table: HEAD, then each
# option but --help, --config and IGNORE as a commented-out line, under its help text.
cmake_minimum_required(VERSION 3.18)
execute_process(COMMAND ${BINARY} --help OUTPUT_VARIABLE help RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "${BINARY} --help failed: ${failed}")
endif()
file(READ ${HEAD} out)

# One entry per option: "  [-x, ]--name[=ARG]  help", help continued on lines indented
# to column 26.
# CMake's lists are ';'-separated: the help's own ';' travel as a character no help has.
string(ASCII 31 unit_separator)
string(REPLACE ";" "${unit_separator}" help "${help}")
string(REPLACE "\n" ";" lines "${help}")
# if(VALUE) would be false for names and arguments CMake takes for false ("N", "NO", "OFF",
# "IGNORE", ...: --adb-max-connections=N): every test of them compares strings.
set(name "")
macro(flush)
  if(NOT name STREQUAL "" AND NOT name STREQUAL "help" AND NOT name STREQUAL "config"
     AND NOT name IN_LIST IGNORE)
    string(APPEND out "\n")
    foreach(h IN LISTS text)
      string(APPEND out "# ${h}\n")
    endforeach()
    if(NOT arg STREQUAL "")
      string(APPEND out "#${name} = ${arg}\n")
    else()
      string(APPEND out "#${name}\n")
    endif()
  endif()
  set(name "")
endmacro()
foreach(line IN LISTS lines)
  if(line MATCHES "^  (-., )?--([a-z0-9-]+)(=([^ ]+))? *(.*)$")
    flush()
    set(name ${CMAKE_MATCH_2})
    set(arg "${CMAKE_MATCH_4}")
    set(text)
    if(NOT CMAKE_MATCH_5 STREQUAL "")
      list(APPEND text "${CMAKE_MATCH_5}")
    endif()
  elseif(NOT name STREQUAL "" AND line MATCHES "^                          (.*)$")
    list(APPEND text "${CMAKE_MATCH_1}")
  else()
    flush()
  endif()
endforeach()
flush()
string(REPLACE "${unit_separator}" ";" out "${out}")
file(WRITE ${OUTPUT}.tmp "${out}")
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
