# nghttp2, the HTTP/2 protocol engine (sans-io: the transport moves the
# bytes): the target chatwire::nghttp2, from its pkg-config file (Debian's
# libnghttp2-dev ships no CMake package). 1.52 is Debian 12's: the code names
# its old API in one place, src/http/h2/nghttp2_shim.hpp.
# Used by the build and by the installed chatwireConfig.cmake alike.
if(NOT TARGET chatwire::nghttp2)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(CHATWIRE_NGHTTP2 REQUIRED IMPORTED_TARGET GLOBAL libnghttp2>=1.52)
  add_library(chatwire::nghttp2 INTERFACE IMPORTED GLOBAL)
  target_link_libraries(chatwire::nghttp2 INTERFACE PkgConfig::CHATWIRE_NGHTTP2)
endif()
