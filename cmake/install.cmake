include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS chatwire chatwire_emulator_lib EXPORT chatwireTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/chatwire DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT chatwireTargets NAMESPACE chatwire::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/chatwire)

configure_package_config_file(cmake/chatwireConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/chatwireConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/chatwire)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/chatwireConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/chatwireConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/chatwireConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/chatwire-cares.cmake
              ${PROJECT_SOURCE_DIR}/cmake/chatwire-nghttp2.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/chatwire)
if(TARGET chatwire_cli)
  install(TARGETS chatwire_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# pkg-config files (chatwire.pc, chatwire-emulator.pc) for builds without
# CMake. They locate the prefix from their own place (${pcfiledir}), so they
# stay right for `cmake --install --prefix` and when the tree is moved. Boost
# ships no .pc files: its headers and libraries are named by the directories
# CMake found them in; OpenSSL comes through its own openssl.pc.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  message(WARNING "chatwire.pc: CMAKE_INSTALL_LIBDIR is absolute; the .pc files assume it is relative")
endif()
file(RELATIVE_PATH CHATWIRE_PC_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
string(REGEX REPLACE "/$" "" CHATWIRE_PC_PREFIX "${CHATWIRE_PC_PREFIX}")
set(CHATWIRE_PC_BOOST_CFLAGS "$<$<BOOL:$<TARGET_PROPERTY:Boost::headers,INTERFACE_INCLUDE_DIRECTORIES>>:-I$<JOIN:$<TARGET_PROPERTY:Boost::headers,INTERFACE_INCLUDE_DIRECTORIES>, -I>>")
set(json_dir "$<TARGET_LINKER_FILE_DIR:Boost::json>")
set(url_dir "$<TARGET_LINKER_FILE_DIR:Boost::url>")
set(CHATWIRE_PC_BOOST_LIBS "-L${json_dir}$<$<NOT:$<STREQUAL:${json_dir},${url_dir}>>: -L${url_dir}> -lboost_json -lboost_url")
foreach(pc IN ITEMS chatwire chatwire-emulator)
  configure_file(cmake/${pc}.pc.in ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc.in @ONLY)
  file(GENERATE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc INPUT ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc.in)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
