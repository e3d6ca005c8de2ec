# Warnings are errors for the project's own code only; consumers never see
# them. Built as a subproject (add_subdirectory, FetchContent) chatwire keeps
# the warnings but not -Werror, so a newer compiler's new warning does not
# break someone else's build.
add_library(chatwire_warnings INTERFACE)
target_compile_options(chatwire_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra $<$<BOOL:${PROJECT_IS_TOP_LEVEL}>:-Werror>>)
