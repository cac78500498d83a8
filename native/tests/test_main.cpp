// Runs every MT_TEST and prints "N passed, M failed".
#include "test_main.h"

namespace mt::test {

namespace {
int g_failures_in_case = 0;
}

std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

void record_failure(const char* file, int line, const std::string& what) {
  ++g_failures_in_case;
  std::fprintf(stderr, "  %s:%d: %s\n", file, line, what.c_str());
}

}  // namespace mt::test

int main() {
  int passed = 0, failed = 0;
  for (const auto& c : mt::test::registry()) {
    mt::test::g_failures_in_case = 0;
    c.body();
    const bool ok = mt::test::g_failures_in_case == 0;
    std::printf("%s %s\n", ok ? "PASS" : "FAIL", c.name);
    (ok ? passed : failed)++;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
