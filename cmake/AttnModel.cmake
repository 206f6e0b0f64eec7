# attn_add_model(<target> <model.attn>
#                [TARGET <host | host-cuda | Halide target string>]
#                [DEFINES NAME=VALUE ...] [IMPORT_DIRS <dir> ...] [NO_FUSE]
#                [NAME <identifier>] [TRUNCATE_BPTT <steps>])
#
# Compiles a .attn model with attnc at build time and makes <target> a library
# to link: it carries lib<model>.a, the include folder of <model>.h, the
# runtime attnrt, and the Halide runtime for the chosen target (one per target
# in the whole project, so several models link together).
#
#   attn_add_model(encoder_model encoder.attn DEFINES H=8)
#   add_executable(app main.cpp)
#   target_link_libraries(app PRIVATE encoder_model)   # then #include "<model>.h"
#
# The model name is the one after `model` in the file, unless NAME renames it
# (to link two builds of one model, e.g. with and without fusion).
# TRUNCATE_BPTT N truncates backpropagation through time in the gradient entry
# to chunks of N steps (attnc --truncate-bptt).

if(TARGET attnc)
  set(ATTNC_COMMAND $<TARGET_FILE:attnc>)
  set(ATTNC_DEPENDS attnc)
else()
  find_program(ATTNC_EXECUTABLE attnc REQUIRED)
  set(ATTNC_COMMAND ${ATTNC_EXECUTABLE})
  set(ATTNC_DEPENDS)
endif()

# The Halide runtime for one target string: <name> is an INTERFACE library.
function(attn_halide_runtime out_var halide_target)
  string(MAKE_C_IDENTIFIER "attn_halide_runtime_${halide_target}" name)
  if(NOT TARGET ${name})
    set(dir ${CMAKE_BINARY_DIR}/attn_runtime/${name})
    add_custom_command(
      OUTPUT ${dir}/libattn_halide_runtime.a
      COMMAND ${ATTNC_COMMAND} --emit=runtime --target=${halide_target} -o ${dir}
      DEPENDS ${ATTNC_DEPENDS}
      COMMENT "attnc: Halide runtime for ${halide_target}"
      VERBATIM)
    add_custom_target(${name}_gen DEPENDS ${dir}/libattn_halide_runtime.a)
    add_library(${name} INTERFACE)
    add_dependencies(${name} ${name}_gen)
    target_link_libraries(${name} INTERFACE ${dir}/libattn_halide_runtime.a
                          Threads::Threads ${CMAKE_DL_LIBS})
  endif()
  set(${out_var} ${name} PARENT_SCOPE)
endfunction()

function(attn_add_model target source)
  cmake_parse_arguments(ARG "NO_FUSE" "TARGET;NAME;TRUNCATE_BPTT" "DEFINES;IMPORT_DIRS" ${ARGN})
  if(NOT ARG_TARGET)
    set(ARG_TARGET host)
  endif()
  get_filename_component(source ${source} ABSOLUTE)
  if(source MATCHES "\\.mlir$")
    # A module of the attn dialect: its name is the attn.model attribute.
    file(STRINGS ${source} header REGEX "attn\\.model = \"[A-Za-z_][A-Za-z0-9_]*\"")
    string(REGEX REPLACE ".*attn\\.model = \"([A-Za-z_][A-Za-z0-9_]*)\".*" "\\1" model "${header}")
  else()
    file(STRINGS ${source} header REGEX "^[ \t]*model[ \t]+[A-Za-z_][A-Za-z0-9_]*")
    if(header)
      list(GET header 0 header)
      string(REGEX REPLACE "^[ \t]*model[ \t]+([A-Za-z_][A-Za-z0-9_]*).*" "\\1" model "${header}")
    endif()
  endif()
  if(NOT model AND NOT ARG_NAME)
    message(FATAL_ERROR "attn_add_model: ${source} names no model (`model NAME`, or attn.model in a .mlir file)")
  endif()
  if(ARG_NAME)
    set(model ${ARG_NAME})
  endif()

  set(dir ${CMAKE_CURRENT_BINARY_DIR}/${target}_attnc)
  set(args ${source} -o ${dir} --target=${ARG_TARGET})
  foreach(d ${ARG_DEFINES})
    list(APPEND args -D${d})
  endforeach()
  foreach(i ${ARG_IMPORT_DIRS})
    list(APPEND args -I${i})
  endforeach()
  if(ARG_NO_FUSE)
    list(APPEND args --no-fuse)
  endif()
  if(ARG_NAME)
    list(APPEND args --name=${ARG_NAME})
  endif()
  if(ARG_TRUNCATE_BPTT)
    list(APPEND args --truncate-bptt=${ARG_TRUNCATE_BPTT})
  endif()
  # Imports resolve in the model's folder, the -I folders and the standard
  # library: a change to any .attn file there recompiles the model.
  get_filename_component(source_dir ${source} DIRECTORY)
  set(import_globs ${ATTNC_STDLIB_DIR}/*.attn ${source_dir}/*.attn)
  foreach(i ${ARG_IMPORT_DIRS})
    list(APPEND import_globs ${i}/*.attn)
  endforeach()
  file(GLOB import_files CONFIGURE_DEPENDS ${import_globs})
  add_custom_command(
    OUTPUT ${dir}/lib${model}.a ${dir}/${model}.h
    COMMAND ${ATTNC_COMMAND} ${args}
    DEPENDS ${ATTNC_DEPENDS} ${source} ${import_files}
    COMMENT "attnc: ${model} (${ARG_TARGET})"
    VERBATIM)
  add_custom_target(${target}_gen DEPENDS ${dir}/lib${model}.a ${dir}/${model}.h)

  attn_halide_runtime(runtime ${ARG_TARGET})
  add_library(${target} INTERFACE)
  add_dependencies(${target} ${target}_gen)
  target_include_directories(${target} INTERFACE ${dir})
  target_link_libraries(${target} INTERFACE ${dir}/lib${model}.a attnrt ${runtime})
endfunction()
