package dev.mergetune.cli;

import dev.mergetune.eval.BaseToNovelCsv;
import dev.mergetune.eval.BaseToNovelRow;
import dev.mergetune.eval.BaseToNovelTable;
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
 * {@code mergetune metrics b2n --table FILE.csv [--report DIR]}: the base-to-novel table with each dataset's HM and
 * the average row (HM of the averaged Base and Novel), to one decimal.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "b2n", description = "Base-to-novel table: HM per dataset and the Average row (the HM of the "
    + "average Base and Novel) from CSV rows dataset,base,novel (optional header).")
final class MetricsB2nCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--table", required = true, paramLabel = "FILE.csv",
      description = "Rows dataset,base,novel (accuracies in percent)")
  Path table;

  @Option(names = "--report", paramLabel = "DIR", description = "Also write a report folder: report.json, "
      + "report.md and a grouped bar PNG")
  Path report;

  @Option(names = "--title", description = "The report's title (default: the table file's name)")
  String title;

  @Override
  public Integer call() throws IOException {
    BaseToNovelTable t = MetricsCommand.read(table, BaseToNovelCsv::read);
    PrintWriter out = spec.commandLine().getOut();
    int width = "Dataset".length();
    for (BaseToNovelRow r : t.rowsWithAverage()) width = Math.max(width, r.dataset().length());
    String format = "%-" + width + "s  %6s  %6s  %6s%n";
    out.printf(format, "Dataset", "Base", "Novel", "HM");
    for (BaseToNovelRow r : t.rowsWithAverage()) {
      out.printf(Locale.ROOT, format, r.dataset(), one(r.base()), one(r.novel()), one(r.hm()));
    }
    if (report != null) {
      List<Path> files = Report.titled(title != null ? title : table.getFileName().toString())
          .baseToNovel("Base-to-novel", t).writeTo(report);
      out.printf("report: %s (%s)%n", report, String.join(", ",
          files.stream().map(f -> f.getFileName().toString()).toList()));
    }
    out.flush();
    return 0;
  }

  private static String one(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }
}
