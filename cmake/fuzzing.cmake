# libFuzzer builds (CHATWIRE_FUZZ=ON, Clang): every target is instrumented for
# coverage, ASan and UBSan, so the components the harnesses link are too
# (test/fuzz/CMakeLists.txt). Only scripts/fuzz.sh configures such a build.
if(CHATWIRE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "CHATWIRE_FUZZ needs Clang (libFuzzer); configure with CMAKE_CXX_COMPILER=clang++")
  endif()
  set(fuzz_flags -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
      -fno-omit-frame-pointer)
  add_compile_options(${fuzz_flags})
  add_link_options(-fsanitize=address,undefined)
  # Clang 14 cannot emit -fsanitize=function checks for coroutines ("Cannot
  # represent a difference across sections"): that one check is left out.
  add_compile_options(-fno-sanitize=function)
endif()
