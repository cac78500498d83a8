package dev.mergetune.reproduce;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One table's reproduction: its cells planned from the options, what is missing on disk, and the run — cell by cell,
 * each cell's result file written atomically once complete and reused when its settings match, so a killed
 * reproduction continues where it stopped (inside a cell the commands resume their own runs) — then the summary
 * beside the published numbers and the report.
 */
public final class Reproduction {
  private final ReproOptions o;
  private final DataCheck check;
  private final List<Cell> cells;

  public Reproduction(ReproOptions o) {
    this.o = o;
    this.check = new DataCheck(o.data(), o.table().protocol() == ReproTable.Protocol.MTIL);
    this.cells = o.table().protocol() == ReproTable.Protocol.MTIL ? MtilCells.plan(o, check)
        : PromptCells.plan(o, check);
  }

  /** The table's datasets that read under {@code data} ({@code --datasets on-disk}). */
  public static List<String> onDisk(ReproTable t, Path data) {
    DataCheck c = new DataCheck(data, t.protocol() == ReproTable.Protocol.MTIL);
    return t.datasets().stream().filter(d -> c.problem(d) == null).toList();
  }

  public List<Cell> cells() {
    return cells;
  }

  /** What is missing on disk, one line per dataset (empty: everything reads). */
  public List<String> missing() {
    List<String> out = new ArrayList<>();
    for (String d : o.datasets()) {
      String p = check.problem(d);
      if (p != null) out.add(d + ": " + p);
    }
    return out;
  }

  /** Lists the runs, their estimated cost and what is missing on disk; runs nothing but the probe. */
  public void dryRun(CostProbe probe, PrintWriter w) throws IOException {
    CellStore store = new CellStore(o.out());
    w.printf("%s: %s%n", o.table().key(), o.table().description());
    w.printf("preset: %s; seeds %s; datasets %s%n", o.table().protocol() == ReproTable.Protocol.MTIL
        ? "ConDU's recipe (condu mtil defaults, lr 5e-5 for Aircraft and MNIST)" : o.table().preset()
            + " after " + o.table().baselineName() + " (the released recipe; baselines: 100 epochs as released)",
        o.seeds(), String.join(", ", o.datasets()));
    for (String d : o.departures()) w.printf("departure from the published protocol: %s%n", d);
    double total = 0;
    for (Cell c : cells) {
      boolean done = store.reusable(c).isPresent();
      double s = probe == null ? Double.NaN : probe.seconds(c.workload());
      if (!done && !Double.isNaN(s)) total += s;
      w.printf(Locale.ROOT, "cell %s: %s%s%n", c.id(), done ? "finished earlier (reused)"
          : probe == null ? "to run" : "to run, estimated " + duration(s) + " here, "
              + duration(s * probe.h100Ratio()) + " on an H100 (derived)",
          c.workload().assumed() == null ? "" : " [not on disk, counted with the standard sizes: "
              + c.workload().assumed() + "]");
      for (String cmd : c.commands()) w.printf("    %s%n", cmd);
    }
    if (probe != null) {
      w.println(probe.describe());
      w.printf(Locale.ROOT, "estimated total: %s on this machine, %s on an NVIDIA H100 (derived from the probe, not"
          + " measured)%n", duration(total), duration(total * probe.h100Ratio()));
    }
    List<String> missing = missing();
    if (missing.isEmpty()) {
      w.println("on disk: every dataset and split file of these cells reads");
    } else {
      for (String m : missing) w.printf("missing on disk: %s%n", m);
    }
    w.flush();
  }

  /**
   * Runs every cell not finished earlier and writes the report.
   *
   * @param invocation the command line of this reproduction, for the report
   */
  public Path run(StepContext.CommandRunner runner, PrintWriter log, List<String> invocation, String version)
      throws IOException {
    List<String> missing = missing();
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("missing on disk: " + String.join("; ", missing) + " (--dry-run lists"
          + " everything; --datasets picks fewer)");
    }
    StepContext ctx = new StepContext(o, log, runner);
    CellStore store = new CellStore(o.out());
    List<JsonNode> done = new ArrayList<>();
    int i = 0;
    for (Cell c : cells) {
      i++;
      Optional<JsonNode> reused = store.reusable(c);
      if (reused.isPresent()) {
        log.printf("[%d/%d] %s: finished earlier, reused (%s)%n", i, cells.size(), c.id(), store.file(c));
        done.add(reused.get());
        continue;
      }
      log.printf("[%d/%d] %s%n", i, cells.size(), c.id());
      log.flush();
      long t0 = System.nanoTime();
      for (Step s : c.steps()) s.run(ctx);
      JsonNode written = store.write(c, c.evaluation().evaluate(ctx), (System.nanoTime() - t0) / 1e9);
      done.add(written);
      log.printf("[%d/%d] %s: done, %s%n", i, cells.size(), c.id(), store.file(c));
      log.flush();
    }
    PublishedNumbers published = PublishedNumbers.load();
    TableSummary summary = TableSummary.of(o.table(), done, o.datasets(), o.seeds(), published);
    Path dir = ReproReport.write(o, summary, done, published, invocation, version);
    ReproReport.print(summary, log);
    for (String d : o.departures()) log.printf("not the published protocol: %s%n", d);
    log.printf("report: %s%n", dir.resolve(dev.mergetune.eval.Report.MARKDOWN));
    log.flush();
    return dir;
  }

  static String duration(double s) {
    if (s < 1) return String.format(Locale.ROOT, "%.2f s", s);
    if (s < 120) return String.format(Locale.ROOT, "%.0f s", s);
    if (s < 7200) return String.format(Locale.ROOT, "%.0f min", s / 60);
    return String.format(Locale.ROOT, "%.1f h", s / 3600);
  }
}
