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
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/chatwire)
if(TARGET chatwire_cli)
  install(TARGETS chatwire_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
