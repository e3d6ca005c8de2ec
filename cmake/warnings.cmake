# Warnings are errors for the project's own code only; consumers never see them.
add_library(chatwire_warnings INTERFACE)
target_compile_options(chatwire_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Werror>)
