# Builds a tiny consumer of chatwire one way (MODE) and runs it:
#   package       cmake --install into a scratch prefix, then find_package(chatwire CONFIG)
#   pkgconfig     cmake --install, then the compiler with `pkg-config --cflags --libs`
#   subdirectory  add_subdirectory(<this checkout>): configured, its core built
#   fetchcontent  FetchContent from a file:// archive of this checkout (no network)
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

# The two modes that compile chatwire again test how it is embedded, not how it
# is optimised: they build without optimisation (an empty build type), which
# takes a third of the time of Release and builds the sources in a second
# configuration besides.
set(embed_build_type -DCMAKE_BUILD_TYPE=)

if(MODE STREQUAL "package")
  run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --component Unspecified)
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/project -B ${build} -G ${GENERATOR}
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix})
  run(${CMAKE_COMMAND} --build ${build})
elseif(MODE STREQUAL "pkgconfig")
  run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --component Unspecified)
  file(GLOB_RECURSE pc_files ${prefix}/chatwire.pc)
  if(NOT pc_files MATCHES "/lib[^/]*/pkgconfig/chatwire.pc$")
    message(FATAL_ERROR "chatwire.pc not installed to <libdir>/pkgconfig: '${pc_files}'")
  endif()
  get_filename_component(pc_dir "${pc_files}" DIRECTORY)
  set(pkg_config ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${pc_dir} ${PKG_CONFIG})
  run(${pkg_config} --modversion chatwire)
  string(STRIP "${last_output}" pc_version)
  if(NOT pc_version STREQUAL EXPECTED_VERSION)
    message(FATAL_ERROR "pkg-config --modversion chatwire gave '${pc_version}', expected '${EXPECTED_VERSION}'")
  endif()
  file(MAKE_DIRECTORY ${build})
  foreach(program IN ITEMS consumer:chatwire:main.cpp emulator_consumer:chatwire-emulator:emulator_main.cpp)
    string(REPLACE ":" ";" program "${program}")
    list(GET program 0 exe)
    list(GET program 1 module)
    list(GET program 2 source)
    run(${pkg_config} --cflags --libs ${module})
    separate_arguments(flags UNIX_COMMAND "${last_output}")
    run(${CXX} -std=c++20 -O1 ${SOURCE_DIR}/project/${source} -o ${build}/${exe} ${flags})
  endforeach()
elseif(MODE STREQUAL "subdirectory")
  # The embedding's own checks run when it is configured (see embed/); the
  # sources then compile exactly as in fetchcontent mode, which builds and runs
  # the consumers, so here one component is built to show the build works.
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/embed -B ${build} -G ${GENERATOR} ${embed_build_type}
      -DCHATWIRE_EMBED=subdirectory -DCHATWIRE_SOURCE_DIR=${CHATWIRE_SOURCE_DIR})
  run(${CMAKE_COMMAND} --build ${build} --target chatwire_core)
  message(STATUS "consumer (${MODE}) configured and its core built")
  return()
elseif(MODE STREQUAL "fetchcontent")
  # What a release archive needs; tests, benchmarks and examples are left out
  # on purpose: a subproject must not need them.
  file(MAKE_DIRECTORY ${WORK_DIR})
  execute_process(COMMAND ${CMAKE_COMMAND} -E tar czf ${WORK_DIR}/chatwire.tar.gz
                          CMakeLists.txt LICENSE cmake include src
                  WORKING_DIRECTORY ${CHATWIRE_SOURCE_DIR} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cannot archive ${CHATWIRE_SOURCE_DIR}")
  endif()
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/embed -B ${build} -G ${GENERATOR} ${embed_build_type}
      -DCHATWIRE_EMBED=fetchcontent -DCHATWIRE_URL=file://${WORK_DIR}/chatwire.tar.gz)
  run(${CMAKE_COMMAND} --build ${build})
else()
  message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()

run(${build}/emulator_consumer)
run(${build}/consumer)
string(STRIP "${last_output}" printed)
if(NOT printed STREQUAL "chatwire ${EXPECTED_VERSION}")
  message(FATAL_ERROR "consumer printed '${printed}', expected 'chatwire ${EXPECTED_VERSION}'")
endif()
message(STATUS "consumer (${MODE}) built and printed: ${printed}")
