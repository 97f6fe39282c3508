# FindMapnik: Debian's libmapnik-dev ships no CMake package, only mapnik-config.
# Defines the imported target Mapnik::Mapnik and MAPNIK_INPUT_PLUGINS / MAPNIK_FONTS_DIR.
find_program(MAPNIK_CONFIG mapnik-config)

if(MAPNIK_CONFIG)
  execute_process(COMMAND ${MAPNIK_CONFIG} --includes OUTPUT_VARIABLE _mapnik_includes OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${MAPNIK_CONFIG} --defines OUTPUT_VARIABLE _mapnik_defines OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${MAPNIK_CONFIG} --dep-includes OUTPUT_VARIABLE _mapnik_dep_includes OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${MAPNIK_CONFIG} --libs OUTPUT_VARIABLE _mapnik_libs OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${MAPNIK_CONFIG} --dep-libs OUTPUT_VARIABLE _mapnik_dep_libs OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${MAPNIK_CONFIG} --input-plugins OUTPUT_VARIABLE MAPNIK_INPUT_PLUGINS OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${MAPNIK_CONFIG} --fonts OUTPUT_VARIABLE MAPNIK_FONTS_DIR OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${MAPNIK_CONFIG} --version OUTPUT_VARIABLE Mapnik_VERSION OUTPUT_STRIP_TRAILING_WHITESPACE)

  # Include folders: strip -I; defines: keep -D only (mapnik-config's cflags force -std=c++14,
  # which must not leak into a C++17 build).
  separate_arguments(_inc UNIX_COMMAND "${_mapnik_includes} ${_mapnik_dep_includes}")
  set(_mapnik_include_dirs "")
  foreach(flag IN LISTS _inc)
    if(flag MATCHES "^-I(.+)")
      list(APPEND _mapnik_include_dirs "${CMAKE_MATCH_1}")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES _mapnik_include_dirs)
  # /usr/include as an explicit -I breaks #include_next in libstdc++.
  list(REMOVE_ITEM _mapnik_include_dirs "/usr/include")
  separate_arguments(_defs UNIX_COMMAND "${_mapnik_defines}")
  set(_mapnik_definitions "")
  foreach(flag IN LISTS _defs)
    if(flag MATCHES "^-D(.+)" AND NOT flag STREQUAL "-DNDEBUG")
      list(APPEND _mapnik_definitions "${CMAKE_MATCH_1}")
    endif()
  endforeach()
  separate_arguments(_links UNIX_COMMAND "${_mapnik_libs} ${_mapnik_dep_libs} -licuuc")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Mapnik REQUIRED_VARS MAPNIK_CONFIG MAPNIK_INPUT_PLUGINS VERSION_VAR Mapnik_VERSION)

if(Mapnik_FOUND AND NOT TARGET Mapnik::Mapnik)
  add_library(Mapnik::Mapnik INTERFACE IMPORTED)
  set_target_properties(Mapnik::Mapnik PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_mapnik_include_dirs}"
    INTERFACE_COMPILE_DEFINITIONS "${_mapnik_definitions}"
    INTERFACE_LINK_LIBRARIES "${_links}")
endif()
