# Warnings are errors for the project's own code only; consumers never see
# them. Built as a subproject (add_subdirectory, FetchContent) chatwire keeps
# the warnings but not -Werror, so a newer compiler's new warning does not
# break someone else's build.
add_library(chatwire_warnings INTERFACE)
target_compile_options(chatwire_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra $<$<BOOL:${PROJECT_IS_TOP_LEVEL}>:-Werror>>)

# Sanitizer builds (CHATWIRE_SANITIZE=address,undefined or thread): every
# target, tests and the emulator the interop tests start included, is
# instrumented. UB stops the program instead of printing and going on.
if(CHATWIRE_SANITIZE)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # Clang 14 with ASan fails to assemble some of the coroutine code.
    message(FATAL_ERROR "CHATWIRE_SANITIZE needs GCC (got ${CMAKE_CXX_COMPILER_ID})")
  endif()
  set(sanitize_flags -fsanitize=${CHATWIRE_SANITIZE} -fno-omit-frame-pointer)
  if(CHATWIRE_SANITIZE MATCHES "undefined")
    list(APPEND sanitize_flags -fno-sanitize-recover=undefined)
  endif()
  if(CHATWIRE_SANITIZE MATCHES "thread")
    # TSan does not model atomic_thread_fence (GCC 12 warns, -Werror=tsan).
    # Asio's fenced blocks only duplicate what its scheduler's mutex already
    # orders, so they go; its reference counts keep the one remaining fence.
    add_compile_definitions(BOOST_ASIO_DISABLE_FENCED_BLOCK)
    list(APPEND sanitize_flags -Wno-tsan)
  endif()
  add_compile_options(${sanitize_flags})
  add_link_options(${sanitize_flags})
  # GCC 12 reports mismatched new/delete and maybe-uninitialized in Asio's
  # coroutine frames once instrumented; both are false there, so this build only
  # turns them off.
  target_compile_options(chatwire_warnings INTERFACE
    -Wno-mismatched-new-delete -Wno-maybe-uninitialized)
endif()

# How many times slower the sanitizers make the test suite: the bounds that
# stop a hung test (ctest's timeouts, the test coroutines' limit) and the load
# the examples' smoke tests put on one process follow it. No check of a
# result depends on it.
set(CHATWIRE_TEST_TIME_SCALE 1)
if(CHATWIRE_SANITIZE MATCHES "thread")
  set(CHATWIRE_TEST_TIME_SCALE 4)
elseif(CHATWIRE_SANITIZE)
  set(CHATWIRE_TEST_TIME_SCALE 2)
endif()
