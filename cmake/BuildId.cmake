# The build id names the exact plugin/ and patches/ sources a binary was
# built from; contrib/build-id defines it, and contrib/graft.sh and the
# functional tests use the same script. Configuring again follows every
# change below plugin/ and patches/: a new, removed or edited file.
function(giftcode_build_id out_var)
  file(GLOB_RECURSE files CONFIGURE_DEPENDS
       "${PROJECT_SOURCE_DIR}/plugin/*" "${PROJECT_SOURCE_DIR}/patches/*")
  set_property(DIRECTORY "${PROJECT_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${files})
  execute_process(COMMAND "${PROJECT_SOURCE_DIR}/contrib/build-id"
                  OUTPUT_VARIABLE id OUTPUT_STRIP_TRAILING_WHITESPACE
                  COMMAND_ERROR_IS_FATAL ANY)
  set(${out_var} "${id}" PARENT_SCOPE)
endfunction()
