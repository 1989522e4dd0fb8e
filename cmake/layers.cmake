# Layers the linker enforces (server/domain/README.md).
#
# habilis_layer(name SOURCES ... DEPS ...) makes the static library `name`, which may call only its DEPS
# (and theirs). Its layer check is an executable that links every object of `name` with nothing but those
# DEPS: a call into a library that is not below it (a wrong-way include used for more than a type) leaves
# a symbol undefined, and the build fails. Nothing links the check; it exists to be linked.
set(HABILIS_LAYER_CHECK_MAIN ${CMAKE_CURRENT_LIST_DIR}/layer_check_main.cc)

function(habilis_layer name)
  cmake_parse_arguments(LAYER "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${LAYER_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${LAYER_DEPS} PRIVATE habilis_warnings)
  add_executable(${name}_layer_check ${HABILIS_LAYER_CHECK_MAIN})
  target_link_libraries(${name}_layer_check PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,${name}>")
endfunction()
