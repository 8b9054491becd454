# The build id names the exact plugin/ and patches/ sources a binary was
# built from: the first 16 hex digits of the SHA-256 of the listing that
# `sha256sum` prints for every file below plugin/ and patches/, in C-locale
# path order. contrib/graft.sh and the functional test runner compute the
# same value, so a stale node binary is recognised.
function(giftcode_build_id out_var)
  file(GLOB_RECURSE files RELATIVE "${PROJECT_SOURCE_DIR}" CONFIGURE_DEPENDS
       "${PROJECT_SOURCE_DIR}/plugin/*" "${PROJECT_SOURCE_DIR}/patches/*")
  list(SORT files)
  set(listing "")
  foreach(f IN LISTS files)
    file(SHA256 "${PROJECT_SOURCE_DIR}/${f}" h)
    string(APPEND listing "${h}  ${f}\n")
  endforeach()
  string(SHA256 digest "${listing}")
  string(SUBSTRING "${digest}" 0 16 id)
  set(${out_var} "${id}" PARENT_SCOPE)
endfunction()
