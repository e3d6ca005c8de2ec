# c-ares, the name resolver that runs on the caller's executor: the target
# chatwire::cares, from c-ares' own CMake package when there is one, else
# from its pkg-config file (Debian's libc-ares-dev ships only that).
# Used by the build and by the installed chatwireConfig.cmake alike.
if(NOT TARGET chatwire::cares)
  find_package(c-ares CONFIG QUIET)
  add_library(chatwire::cares INTERFACE IMPORTED GLOBAL)
  if(TARGET c-ares::cares)
    target_link_libraries(chatwire::cares INTERFACE c-ares::cares)
  elseif(TARGET c-ares::cares_static)
    target_link_libraries(chatwire::cares INTERFACE c-ares::cares_static)
  else()
    find_package(PkgConfig REQUIRED)
    pkg_check_modules(CHATWIRE_CARES REQUIRED IMPORTED_TARGET GLOBAL libcares>=1.16)
    target_link_libraries(chatwire::cares INTERFACE PkgConfig::CHATWIRE_CARES)
  endif()
endif()
