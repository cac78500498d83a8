package dev.mergetune.cli;

import dev.mergetune.eval.AccuracyMatrix;
import dev.mergetune.eval.AccuracyMatrixCsv;
import dev.mergetune.eval.MtilMetrics;
import dev.mergetune.eval.Report;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune metrics mtil --matrix A.csv [--names a,b,c] [--task-agnostic] [--report DIR]}: Transfer, Average
 * and Last of an MTIL accuracy matrix (see {@link AccuracyMatrixCsv} for the file), to one decimal.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "mtil", description = "MTIL Transfer / Average / Last of a T x T accuracy matrix A[session][dataset] "
    + "(CSV; optional header row of dataset names and optional label column).")
final class MetricsMtilCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--matrix", required = true, paramLabel = "FILE.csv",
      description = "T rows (sessions, in training order) of T numbers (datasets, in percent)")
  Path matrix;

  @Option(names = "--names", split = ",", paramLabel = "a,b,c",
      description = "Dataset names, in order (replace any names in the file)")
  List<String> names;

  @Option(names = "--task-agnostic", description = "Label the matrix as task-agnostic MTIL (every entry used "
      + "aggregation); the formulas are the same")
  boolean taskAgnostic;

  @Option(names = "--report", paramLabel = "DIR", description = "Also write a report folder: report.json, "
      + "report.md and a heat map PNG")
  Path report;

  @Option(names = "--title", description = "The report's title (default: the matrix file's name)")
  String title;

  @Override
  public Integer call() throws IOException {
    AccuracyMatrix m = MetricsCommand.read(matrix, AccuracyMatrixCsv::read);
    if (names != null) {
      if (names.size() != m.size()) {
        throw new IllegalArgumentException("--names gives " + names.size() + " names for a " + m.size() + " x "
            + m.size() + " matrix");
      }
      m = m.withNames(names);
    }
    m = m.withTaskAgnostic(taskAgnostic);
    MtilMetrics x = m.metrics();
    PrintWriter out = spec.commandLine().getOut();
    out.printf("%s: %d x %d accuracy matrix%s; datasets %s%n", matrix, m.size(), m.size(),
        taskAgnostic ? " (task-agnostic)" : "", String.join(", ", m.datasets()));
    out.printf(Locale.ROOT, "Transfer  %.1f%nAverage   %.1f%nLast      %.1f%n", x.transfer(), x.average(), x.last());
    if (report != null) {
      String section = taskAgnostic ? "Task-agnostic MTIL" : "MTIL";
      List<Path> files = Report.titled(title != null ? title : matrix.getFileName().toString())
          .mtil(section, m).writeTo(report);
      out.printf("report: %s (%s)%n", report, String.join(", ",
          files.stream().map(f -> f.getFileName().toString()).toList()));
    }
    out.flush();
    return 0;
  }
}
