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
# Leaflet-Geoman draws the shapes of draw-and-assign (draw-assign.js loads it by its versioned path).
set(geoman ${SRC}/node_modules/@geoman-io/leaflet-geoman-free)
file(READ ${geoman}/package.json json)
string(JSON geoman_version GET ${json} version)
if(NOT geoman_version STREQUAL "2.20.2")
  message(FATAL_ERROR "draw-assign.js loads leaflet-geoman-2.20.2; node_modules has ${geoman_version}: update them together")
endif()
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
file(COPY ${SRC}/index.html ${SRC}/style.css ${SRC}/favicon.svg ${SRC}/src ${SRC}/field DESTINATION ${OUT})
set(leaflet ${OUT}/vendor/leaflet-${leaflet_version})
file(COPY ${SRC}/node_modules/leaflet/dist/leaflet-src.esm.js ${SRC}/node_modules/leaflet/dist/leaflet.css
          ${SRC}/node_modules/leaflet/dist/images DESTINATION ${leaflet})
file(COPY ${SRC}/node_modules/echarts/dist/echarts.esm.min.mjs DESTINATION ${OUT}/vendor/echarts-${echarts_version})
file(COPY ${geoman}/dist/leaflet-geoman.min.js ${geoman}/dist/leaflet-geoman.css DESTINATION ${OUT}/vendor/leaflet-geoman-${geoman_version})
file(MAKE_DIRECTORY ${OUT}/vendor/licenses)
file(COPY_FILE ${SRC}/node_modules/leaflet/LICENSE ${OUT}/vendor/licenses/leaflet.txt)
file(COPY_FILE ${SRC}/node_modules/echarts/LICENSE ${OUT}/vendor/licenses/echarts.txt)
# Geoman's script bundles its dependencies: their notices follow its own (npm ls --all under
# @geoman-io/leaflet-geoman-free lists them; @types/geojson and tslib add no code to it).
file(READ ${geoman}/LICENSE notices)
foreach(dep @turf/bbox @turf/boolean-contains @turf/boolean-point-in-polygon @turf/boolean-point-on-line @turf/distance
            @turf/geojson-rbush @turf/helpers @turf/invariant @turf/kinks @turf/line-intersect @turf/line-segment
            @turf/line-split @turf/meta @turf/nearest-point-on-line @turf/truncate bignumber.js lodash point-in-polygon-hao
            polyclip-ts quickselect rbush robust-predicates splaytree-ts tinyqueue)
  file(GLOB license ${SRC}/node_modules/${dep}/LICEN[CS]E*)
  if(NOT license)
    message(FATAL_ERROR "no license file in node_modules/${dep}")
  endif()
  list(GET license 0 license)
  file(READ ${license} text)
  string(APPEND notices "\n---------------------------------------------------------------------\n${dep}\n\n${text}")
endforeach()
file(WRITE ${OUT}/vendor/licenses/leaflet-geoman.txt "${notices}")
