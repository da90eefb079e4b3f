# Turn policy text files into a C source with one string per policy.
#   cmake -DOUT=file.c -DNAMES=a,b -DDIR=dir -DEXTRA=file-or-empty -P embed.cmake
# EXTRA is appended to every policy (sanitizer runtimes need a few more syscalls). A line
# "@include NAME" is replaced by the policy NAME.policy of the same directory (recursively),
# so that shared parts are written once and the launcher's policy can be the union of its
# children's (a seccomp filter is inherited across exec).
set(content "/* Generated from the seccomp policy files by seccomp/embed.cmake. Do not edit. */\n")
set(extra "")
if(EXTRA)
  file(READ ${EXTRA} extra)
endif()

function(read_policy name depth out)
  if(depth GREATER 8)
    message(FATAL_ERROR "seccomp policy includes nest too deep at ${name}")
  endif()
  file(STRINGS ${DIR}/${name}.policy lines)
  set(text "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^@include[ \t]+([A-Za-z0-9_.-]+)[ \t]*$")
      math(EXPR next "${depth} + 1")
      read_policy(${CMAKE_MATCH_1} ${next} included)
      string(APPEND text "# from ${CMAKE_MATCH_1}.policy\n${included}# end of ${CMAKE_MATCH_1}.policy\n")
    else()
      string(APPEND text "${line}\n")
    endif()
  endforeach()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

string(REPLACE "," ";" NAMES "${NAMES}")
foreach(name ${NAMES})
  read_policy(${name} 0 text)
  string(APPEND text "\n${extra}")
  string(REPLACE "\\" "\\\\" text "${text}")
  string(REPLACE "\"" "\\\"" text "${text}")
  string(REPLACE "\n" "\\n\"\n\"" text "${text}")
  string(REPLACE "-" "_" cname ${name})
  string(APPEND content "const char seccomp_policy_${cname}[] =\n\"${text}\";\n")
endforeach()
file(WRITE ${OUT}.tmp "${content}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})
file(REMOVE ${OUT}.tmp)
