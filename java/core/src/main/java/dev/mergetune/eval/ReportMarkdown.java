package dev.mergetune.eval;

import java.util.List;
import java.util.TreeSet;

/**
 * {@code report.md}: the report's tables in the papers' shapes, accuracies to one decimal.
 * <ul>
 *   <li>base-to-novel: {@code Dataset | Base | Novel | HM}, one row per dataset, the Average row last;</li>
 *   <li>MTIL: the T × T matrix (sessions down, datasets across), then the per-dataset Transfer / Average / Last rows
 *       with their mean in the last column (the papers' layout), then the line
 *       {@code Transfer / Average / Last: 69.4 / 65.3 / 65.3};</li>
 *   <li>accuracy: {@code Dataset | Top-1} (a Role column when there are source rows), the targets' Average last;</li>
 *   <li>path: one row per α, one column per curve (losses to four significant digits).</li>
 * </ul>
 */
final class ReportMarkdown {
  private ReportMarkdown() {}

  static String render(Report report, boolean plots) {
    StringBuilder b = new StringBuilder();
    b.append("# ").append(report.title()).append("\n");
    for (ReportSection section : report.sections()) {
      b.append("\n## ").append(section.title()).append("\n\n");
      if (section instanceof ReportSection.Text s) {
        b.append(s.markdown()).append('\n');
        continue;
      }
      if (section instanceof ReportSection.BaseToNovel s) {
        if (s.byMethod()) methods(b, s.table());
        else baseToNovel(b, s.table());
      } else if (section instanceof ReportSection.Mtil s) {
        mtil(b, s.matrix(), s.description());
      } else if (section instanceof ReportSection.Accuracies s) {
        accuracies(b, s.table());
      } else if (section instanceof ReportSection.Grid s) {
        grid(b, s.grid());
      } else {
        path(b, ((ReportSection.Path) section).curves());
      }
      if (plots) b.append("\n![").append(section.title()).append("](").append(section.plot()).append(")\n");
    }
    return b.toString();
  }

  /** The base-to-novel table; also printed by {@code mergetune metrics b2n}. */
  static void baseToNovel(StringBuilder b, BaseToNovelTable table) {
    b.append("| Dataset | Base | Novel | HM |\n|---|---:|---:|---:|\n");
    for (BaseToNovelRow r : table.rowsWithAverage()) {
      b.append("| ").append(cell(r.dataset())).append(" | ").append(Decimals.one(r.base())).append(" | ")
          .append(Decimals.one(r.novel())).append(" | ").append(Decimals.one(r.hm())).append(" |\n");
    }
    b.append("\nHM = 2·Base·Novel / (Base + Novel); the Average row's HM is the HM of the average Base and Novel.\n");
  }

  private static void methods(StringBuilder b, BaseToNovelTable table) {
    b.append("| Method | Base | Novel | HM |\n|---|---:|---:|---:|\n");
    for (BaseToNovelRow r : table.rows()) {
      b.append("| ").append(cell(r.dataset())).append(" | ").append(Decimals.one(r.base())).append(" | ")
          .append(Decimals.one(r.novel())).append(" | ").append(Decimals.one(r.hm())).append(" |\n");
    }
    b.append("\nHM = 2·Base·Novel / (Base + Novel).\n");
  }

  private static void mtil(StringBuilder b, AccuracyMatrix m, String description) {
    int t = m.size();
    if (description != null) {
      b.append(description).append("\n\n");
    } else if (m.taskAgnostic()) {
      b.append("Task-agnostic MTIL: every entry predicted through aggregation, without the task identity.\n\n");
    }
    b.append("Accuracy (%) after each training session (rows) on each dataset (columns), T = ").append(t)
        .append(".\n\n");
    b.append("| Session \\ Dataset |");
    for (String d : m.datasets()) b.append(' ').append(cell(d)).append(" |");
    b.append("\n|---|");
    b.append("---:|".repeat(t));
    b.append('\n');
    for (int s = 0; s < t; s++) {
      b.append("| ").append(s + 1).append(". ").append(cell(m.datasets().get(s))).append(" |");
      for (int d = 0; d < t; d++) b.append(' ').append(Decimals.one(m.get(s, d))).append(" |");
      b.append('\n');
    }
    b.append("\n| Metric |");
    for (String d : m.datasets()) b.append(' ').append(cell(d)).append(" |");
    b.append(" Mean |\n|---|").append("---:|".repeat(t + 1)).append('\n');
    b.append("| Transfer | – |");
    for (int d = 1; d < t; d++) b.append(' ').append(Decimals.one(m.transferOf(d))).append(" |");
    b.append(' ').append(Decimals.one(m.transfer())).append(" |\n");
    b.append("| Average |");
    for (int d = 0; d < t; d++) b.append(' ').append(Decimals.one(m.averageOf(d))).append(" |");
    b.append(' ').append(Decimals.one(m.average())).append(" |\n");
    b.append("| Last |");
    for (int d = 0; d < t; d++) b.append(' ').append(Decimals.one(m.get(t - 1, d))).append(" |");
    b.append(' ').append(Decimals.one(m.last())).append(" |\n");
    MtilMetrics x = m.metrics();
    b.append("\n**Transfer / Average / Last: ").append(Decimals.one(x.transfer())).append(" / ")
        .append(Decimals.one(x.average())).append(" / ").append(Decimals.one(x.last())).append("**")
        .append(m.taskAgnostic() ? " (task-agnostic)" : "").append('\n');
  }

  private static void accuracies(StringBuilder b, AccuracyTable table) {
    boolean sources = table.rows().stream().anyMatch(AccuracyTable.Row::source);
    b.append(sources ? "| Dataset | Role | Top-1 |\n|---|---|---:|\n" : "| Dataset | Top-1 |\n|---|---:|\n");
    for (AccuracyTable.Row r : table.rows()) {
      b.append("| ").append(cell(r.dataset())).append(" | ");
      if (sources) b.append(r.source() ? "source" : "target").append(" | ");
      b.append(Decimals.one(r.top1())).append(" |\n");
    }
    b.append("| **").append(AccuracyTable.AVERAGE).append("** | ").append(sources ? "targets | " : "")
        .append(Decimals.one(table.average())).append(" |\n");
    b.append("\nTop-1 accuracy (%); the Average is over the target datasets").append(sources ? " (sources excluded)" : "")
        .append(".\n");
  }

  private static void grid(StringBuilder b, AccuracyGrid g) {
    b.append("| Dataset |");
    for (String m : g.methods()) b.append(' ').append(cell(m)).append(" |");
    b.append("\n|---|").append("---:|".repeat(g.methods().size())).append('\n');
    for (AccuracyGrid.Row r : g.rows()) {
      b.append("| ").append(cell(r.dataset())).append(r.source() ? " (source)" : "").append(" |");
      for (double v : r.top1()) b.append(' ').append(Decimals.one(v)).append(" |");
      b.append('\n');
    }
    b.append("| **Average** (targets) |");
    for (double v : g.targetAverages()) b.append(' ').append(Decimals.one(v)).append(" |");
    b.append("\n\nTop-1 accuracy (%); source rows are not averaged.\n");
  }

  private static void path(StringBuilder b, List<PathCurve> curves) {
    TreeSet<Double> alphas = new TreeSet<>();
    for (PathCurve c : curves) {
      for (double a : c.alphas()) alphas.add(a);
    }
    b.append("| α |");
    for (PathCurve c : curves) {
      b.append(' ').append(cell(c.name())).append(c.quantity() == PathCurve.Quantity.ACCURACY ? " (%)" : "")
          .append(" |");
    }
    b.append("\n|---:|").append("---:|".repeat(curves.size())).append('\n');
    for (double a : alphas) {
      b.append("| ").append(Decimals.alpha(a)).append(" |");
      for (PathCurve c : curves) {
        b.append(' ').append(valueAt(c, a)).append(" |");
      }
      b.append('\n');
    }
  }

  private static String valueAt(PathCurve c, double alpha) {
    double[] alphas = c.alphas();
    int i = java.util.Arrays.binarySearch(alphas, alpha);
    if (i < 0) return "";
    double v = c.values()[i];
    return c.quantity() == PathCurve.Quantity.ACCURACY ? Decimals.one(v) : Decimals.loss(v);
  }

  /** Text safe inside a table cell. */
  private static String cell(String s) {
    return s.replace("|", "\\|").replace("\n", " ");
  }
}
