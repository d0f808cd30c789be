# All dependencies are Debian packages; see scripts/deps.sh for the list.
find_package(PkgConfig REQUIRED)

find_package(MPI REQUIRED COMPONENTS C)

set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "scorr needs parallel HDF5 (apt-get install libhdf5-openmpi-dev); found a serial build at ${HDF5_INCLUDE_DIRS}")
endif()

pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
pkg_check_modules(YAML REQUIRED IMPORTED_TARGET yaml-0.1)
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
pkg_check_modules(MATIO REQUIRED IMPORTED_TARGET matio)
pkg_check_modules(PNG REQUIRED IMPORTED_TARGET libpng)
pkg_check_modules(JPEG REQUIRED IMPORTED_TARGET libjpeg)
find_package(dnnl REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS C)

add_library(scorr_deps INTERFACE)
target_include_directories(scorr_deps INTERFACE ${HDF5_INCLUDE_DIRS})
target_compile_definitions(scorr_deps INTERFACE ${HDF5_DEFINITIONS})
target_link_libraries(scorr_deps INTERFACE
  MPI::MPI_C ${HDF5_LIBRARIES} PkgConfig::OPENBLAS PkgConfig::YAML PkgConfig::CJSON
  PkgConfig::MATIO PkgConfig::PNG PkgConfig::JPEG DNNL::dnnl OpenMP::OpenMP_C m)
