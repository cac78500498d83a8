package dev.mergetune.cli;

import dev.mergetune.kernels.check.CheckResult;
import dev.mergetune.kernels.check.SelfCheck;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mergetune selfcheck}: every kernel, CPU and CUDA, against the double reference; exit 1 on any failure. */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "selfcheck",
    description = "Check every kernel (CPU, and CUDA where usable) against the double-precision reference on random"
        + " inputs; print errors and GB/s.")
final class SelfcheckCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--quick", description = "Skip the large timed cases.")
  boolean quick;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    List<CheckResult> results = SelfCheck.run(quick);
    String format = "%-18s %-5s %-32s %10s %8s %8s  %-4s %s%n";
    out.printf(format, "kernel", "dev", "case", "max err", "tol", "GB/s", "ok", "detail");
    int failed = 0;
    for (CheckResult r : results) {
      if (!r.passed()) failed++;
      out.printf(format, r.kernel(), r.device(), r.testCase(),
          Double.isNaN(r.maxError()) ? "-" : String.format("%.2e", r.maxError()),
          r.tolerance() > 0 ? String.format("%.0e", r.tolerance()) : "-",
          Double.isNaN(r.gbPerSecond()) ? "-" : String.format("%.1f", r.gbPerSecond()),
          r.passed() ? "PASS" : "FAIL", r.detail());
    }
    out.printf("%d passed, %d failed%n", results.size() - failed, failed);
    out.flush();
    return failed == 0 ? 0 : 1;
  }
}
