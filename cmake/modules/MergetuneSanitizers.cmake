# -DMERGETUNE_SANITIZE="address;undefined" builds everything with those sanitizers (C++ tests, harness).
set(MERGETUNE_SANITIZE "" CACHE STRING "Sanitizers to enable, e.g. address;undefined")
if(MERGETUNE_SANITIZE)
  list(JOIN MERGETUNE_SANITIZE "," _mt_san)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${_mt_san}> $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>)
  add_link_options(-fsanitize=${_mt_san})
endif()
