# Copies the web page into the served folder: its own files, and the vendored libraries from
# node_modules (installed by `npm ci` from the lockfile) under folders named by version, so the
# server can let browsers cache them for good. Run by the covermap_web target.
foreach(pkg leaflet echarts)
  file(READ ${SRC}/node_modules/${pkg}/package.json json)
  string(JSON version GET ${json} version)
  set(${pkg}_version ${version})
endforeach()
if(NOT leaflet_version STREQUAL "1.9.4" OR NOT echarts_version STREQUAL "6.1.0")
  message(FATAL_ERROR "index.html and the modules import leaflet-1.9.4 and echarts-6.1.0; "
                      "node_modules has ${leaflet_version} and ${echarts_version}: update them together")
endif()
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
file(COPY ${SRC}/index.html ${SRC}/style.css ${SRC}/favicon.svg ${SRC}/src ${SRC}/field DESTINATION ${OUT})
set(leaflet ${OUT}/vendor/leaflet-${leaflet_version})
file(COPY ${SRC}/node_modules/leaflet/dist/leaflet-src.esm.js ${SRC}/node_modules/leaflet/dist/leaflet.css
          ${SRC}/node_modules/leaflet/dist/images DESTINATION ${leaflet})
file(COPY ${SRC}/node_modules/echarts/dist/echarts.esm.min.mjs DESTINATION ${OUT}/vendor/echarts-${echarts_version})
file(MAKE_DIRECTORY ${OUT}/vendor/licenses)
file(COPY_FILE ${SRC}/node_modules/leaflet/LICENSE ${OUT}/vendor/licenses/leaflet.txt)
file(COPY_FILE ${SRC}/node_modules/echarts/LICENSE ${OUT}/vendor/licenses/echarts.txt)
