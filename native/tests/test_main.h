// A minimal test registry for the native tests (no external framework needed on GPU machines).
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace mt::test {

struct Case {
  const char* name;
  std::function<void()> body;
};
std::vector<Case>& registry();
void record_failure(const char* file, int line, const std::string& what);

struct Registrar {
  Registrar(const char* name, std::function<void()> body) { registry().push_back({name, std::move(body)}); }
};

}  // namespace mt::test

#define MT_TEST(name)                                                     \
  static void name();                                                     \
  static ::mt::test::Registrar name##_registrar(#name, name);             \
  static void name()

#define MT_CHECK(cond)                                                                   \
  do {                                                                                   \
    if (!(cond)) ::mt::test::record_failure(__FILE__, __LINE__, "check failed: " #cond); \
  } while (0)

#define MT_CHECK_MSG(cond, msg)                                                          \
  do {                                                                                   \
    if (!(cond)) ::mt::test::record_failure(__FILE__, __LINE__, std::string(#cond) + ": " + (msg)); \
  } while (0)
