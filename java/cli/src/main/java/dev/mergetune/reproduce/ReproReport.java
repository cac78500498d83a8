package dev.mergetune.reproduce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.eval.AccuracyGrid;
import dev.mergetune.eval.AccuracyMatrix;
import dev.mergetune.eval.AccuracyTable;
import dev.mergetune.eval.BaseToNovelRow;
import dev.mergetune.eval.BaseToNovelTable;
import dev.mergetune.eval.Report;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.tensors.AtomicFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The report of a reproduction, {@code OUT/report/<table>/}: through the project's {@link Report} (report.md,
 * report.json and the plots: base-to-novel bars, accuracy bars, MTIL heat maps) the comparison with the published
 * numbers, the per-dataset tables, the departures from the published protocol, every cell's exact commands and the
 * versions; and {@code reproduction.json} with all of it at full precision.
 */
final class ReproReport {
  static final String JSON_FILE = "reproduction.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private ReproReport() {}

  static Path write(ReproOptions o, TableSummary s, List<JsonNode> cells, PublishedNumbers published,
      List<String> invocation, String version) throws IOException {
    ReproTable t = o.table();
    Path dir = o.out().resolve("report").resolve(t.key());
    Report r = Report.titled("Reproduction of " + t.key() + ": " + t.description());
    List<String> departures = o.departures();
    r.text("Compared with the published numbers", comparison(s, published)
        + (departures.isEmpty() ? "" : "\n\n**Not the published protocol**: " + String.join("; ", departures) + "."));
    switch (t.protocol()) {
      case BASE_TO_NOVEL -> {
        List<BaseToNovelRow> avg = new ArrayList<>();
        for (String m : s.methods()) {
          avg.add(new BaseToNovelRow(m, mean(s.averages(), m, "Base"), mean(s.averages(), m, "Novel")));
        }
        r.methods("Average over the datasets, mean over seeds", avg);
        for (String m : s.methods()) {
          List<BaseToNovelRow> rows = new ArrayList<>();
          for (String d : s.datasets()) rows.add(new BaseToNovelRow(d, s.mean(m, d, "Base"), s.mean(m, d, "Novel")));
          r.baseToNovel(m + ", per dataset (mean over seeds)", BaseToNovelTable.of(rows));
        }
      }
      case CROSS_DATASET, DOMAIN_GENERALISATION -> {
        List<AccuracyGrid.Row> rows = new ArrayList<>();
        for (String d : s.datasets()) {
          double[] top1 = new double[s.methods().size()];
          for (int m = 0; m < top1.length; m++) top1[m] = s.mean(s.methods().get(m), d, "top-1");
          rows.add(new AccuracyGrid.Row(d, top1, d.equals(ReproTable.SOURCE)));
        }
        r.accuracyGrid("Top-1 per dataset (mean over seeds); the average is over the targets", new AccuracyGrid(
            s.methods(), rows));
      }
      case MTIL -> {
        List<AccuracyTable.Row> zs = new ArrayList<>();
        for (String d : s.datasets()) zs.add(AccuracyTable.Row.target(d, s.mean("zero-shot", d, "top-1")));
        r.accuracies("Zero-shot θ0 (mean over seeds)", AccuracyTable.of(zs));
        for (String m : List.of("ConDU (FT)", "ConDU (FT), task-agnostic")) {
          r.mtil(m + " (mean over seeds)", meanMatrix(cells, m, s.datasets(), m.endsWith("agnostic")));
        }
      }
    }
    if (!departures.isEmpty()) r.text("Departures from the published protocol", "- " + String.join("\n- ", departures));
    r.text("Commands", commands(cells, invocation));
    r.text("Versions", versions(version));
    r.writeTo(dir);
    AtomicFiles.writeString(dir.resolve(JSON_FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(
        json(o, s, cells, published, invocation, version)) + "\n");
    return dir;
  }

  /** The comparison as a Markdown table: ours (mean ± spread over seeds), published, ours − published, source. */
  static String comparison(TableSummary s, PublishedNumbers published) {
    StringBuilder b = new StringBuilder();
    b.append("Ours: mean ± sample standard deviation over seeds ").append(s.seeds()).append(". Published: ")
        .append("the paper's number where it gives one.\n\n");
    b.append("| Method | Metric | Ours | Published | Ours − published |\n|---|---|---|---|---|\n");
    Set<String> sources = new LinkedHashSet<>();
    for (TableSummary.Line l : s.averages()) {
      b.append("| ").append(l.method()).append(" | ").append(l.metric()).append(" | ").append(l.ours().format())
          .append(" | ");
      if (l.published() != null) {
        sources.add(l.published().source());
        b.append(String.format(Locale.ROOT, "%.2f [%s] | %+.2f |", l.published().value(), l.published().source(),
            l.difference()));
      } else {
        b.append("— | — |");
      }
      b.append('\n');
    }
    for (TableSummary.Line l : s.perDataset()) {
      if (l.published() == null) continue;
      sources.add(l.published().source());
      b.append(String.format(Locale.ROOT, "| %s, %s | %s | %s | %.2f [%s] | %+.2f |%n", l.method(), l.dataset(),
          l.metric(), l.ours().format(), l.published().value(), l.published().source(), l.difference()));
    }
    if (!sources.isEmpty()) {
      b.append("\nSources:\n");
      for (String k : sources) b.append("- [").append(k).append("] ").append(published.source(k)).append('\n');
    }
    return b.toString();
  }

  /** The lines as printed on the terminal. */
  static void print(TableSummary s, PrintWriter w) {
    w.printf("%-30s %-9s %16s %10s %10s%n", "method", "metric", "ours", "published", "difference");
    for (TableSummary.Line l : s.averages()) {
      w.printf(Locale.ROOT, "%-30s %-9s %16s %10s %10s%n", l.method(), l.metric(), l.ours().format(),
          l.published() == null ? "-" : String.format(Locale.ROOT, "%.2f", l.published().value()),
          l.published() == null ? "-" : String.format(Locale.ROOT, "%+.2f", l.difference()));
    }
    w.flush();
  }

  private static String commands(List<JsonNode> cells, List<String> invocation) {
    StringBuilder b = new StringBuilder("This reproduction: `").append(String.join(" ", invocation)).append("`\n\n");
    for (JsonNode c : cells) {
      b.append("**").append(c.get("id").asText()).append("** (").append(String.format(Locale.ROOT, "%.1f s",
          c.get("seconds").asDouble())).append(")\n\n```\n");
      c.get("commands").forEach(x -> b.append(x.asText()).append('\n'));
      b.append("```\n\n");
    }
    return b.toString();
  }

  private static String versions(String version) {
    return "- mergetune " + version + "\n- LibTorch (JavaCPP preset) " + NativeRuntime.torchPresetVersion() + ", "
        + NativeRuntime.torchNativeFlavour() + " natives\n- JVM " + System.getProperty("java.vm.name") + " "
        + Runtime.version() + "\n- OS " + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", "
        + Runtime.getRuntime().availableProcessors() + " processors";
  }

  private static double mean(List<TableSummary.Line> lines, String method, String metric) {
    for (TableSummary.Line l : lines) if (l.method().equals(method) && l.metric().equals(metric)) return l.ours().mean();
    return Double.NaN;
  }

  /** The element-wise mean over seeds of a method's MTIL matrix. */
  private static AccuracyMatrix meanMatrix(List<JsonNode> cells, String method, List<String> names, boolean agnostic) {
    double[][] sum = null;
    for (JsonNode c : cells) {
      JsonNode m = c.get("results").get("methods").get(method).get("matrix");
      if (sum == null) sum = new double[m.size()][m.size()];
      for (int i = 0; i < m.size(); i++) for (int j = 0; j < m.size(); j++) sum[i][j] += m.get(i).get(j).asDouble();
    }
    for (double[] row : sum) for (int j = 0; j < row.length; j++) row[j] /= cells.size();
    return AccuracyMatrix.of(sum, names, agnostic);
  }

  private static ObjectNode json(ReproOptions o, TableSummary s, List<JsonNode> cells, PublishedNumbers published,
      List<String> invocation, String version) {
    ObjectNode j = JSON.createObjectNode();
    j.put("format", "mergetune-reproduction/1");
    j.put("table", o.table().key());
    j.put("description", o.table().description());
    j.put("invocation", String.join(" ", invocation));
    j.put("mergetune", version);
    j.put("libtorch_preset", NativeRuntime.torchPresetVersion());
    j.put("jvm", Runtime.version().toString());
    var seeds = j.putArray("seeds");
    o.seeds().forEach(seeds::add);
    var ds = j.putArray("datasets");
    o.datasets().forEach(ds::add);
    var dep = j.putArray("departures");
    o.departures().forEach(dep::add);
    j.set("averages", lines(s.averages(), published));
    j.set("per_dataset", lines(s.perDataset(), published));
    ArrayNode cs = j.putArray("cells");
    cells.forEach(cs::add);
    return j;
  }

  private static ArrayNode lines(List<TableSummary.Line> lines, PublishedNumbers published) {
    ArrayNode a = JSON.createArrayNode();
    for (TableSummary.Line l : lines) {
      ObjectNode n = a.addObject();
      n.put("method", l.method());
      if (l.dataset() != null) n.put("dataset", l.dataset());
      n.put("metric", l.metric());
      n.put("mean", l.ours().mean());
      if (!Double.isNaN(l.ours().sd())) n.put("sd", l.ours().sd());
      n.put("seeds", l.ours().n());
      if (l.published() != null) {
        n.put("published", l.published().value());
        n.put("difference", l.difference());
        n.put("source", published.source(l.published().source()));
      }
    }
    return a;
  }
}
