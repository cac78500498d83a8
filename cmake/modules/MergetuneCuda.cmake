# CUDA detection. MERGETUNE_CUDA=AUTO (default) builds the CUDA kernels when nvcc is found, ON requires them,
# OFF never builds them. The CUDA runtime is linked statically so one .so serves GPU and CPU-only machines: it
# has no libcudart/libcuda dependency and reports "no CUDA" at run time where there is no driver.
set(MERGETUNE_CUDA "AUTO" CACHE STRING "Build the CUDA kernels: AUTO, ON or OFF")
set_property(CACHE MERGETUNE_CUDA PROPERTY STRINGS AUTO ON OFF)
set(MERGETUNE_CUDA_ARCHITECTURES "80;90" CACHE STRING "CUDA architectures to compile for")
set(MERGETUNE_WITH_CUDA OFF)

if(NOT MERGETUNE_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    set(MERGETUNE_WITH_CUDA ON)
  elseif(MERGETUNE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "MERGETUNE_CUDA=ON but no CUDA compiler was found (set CUDACXX or put nvcc on PATH)")
  else()
    message(STATUS "mergetune: nvcc not found, building the CPU kernels only")
  endif()
endif()

function(mergetune_enable_cuda target)
  set_target_properties(${target} PROPERTIES
    CUDA_STANDARD 17
    CUDA_RUNTIME_LIBRARY Static
    CUDA_ARCHITECTURES "${MERGETUNE_CUDA_ARCHITECTURES}"
    CUDA_SEPARABLE_COMPILATION OFF)
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-lineinfo>)
  # "80;90" would split into two definitions (and break the shell line): pass "80,90".
  string(REPLACE ";" "," _mt_archs "${MERGETUNE_CUDA_ARCHITECTURES}")
  target_compile_definitions(${target} PRIVATE MERGETUNE_CUDA_ARCHS="${_mt_archs}")
  message(STATUS "mergetune: CUDA kernels for sm_${MERGETUNE_CUDA_ARCHITECTURES} with ${CMAKE_CUDA_COMPILER}")
endfunction()
