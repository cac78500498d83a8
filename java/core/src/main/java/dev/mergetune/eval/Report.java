package dev.mergetune.eval;

import dev.mergetune.tensors.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * An evaluation report: a folder with
 * <ul>
 *   <li>{@code report.json} — every number with its name (see {@link ReportJson});</li>
 *   <li>{@code report.md} — the tables in the papers' shapes, numbers to one decimal (see {@link ReportMarkdown});</li>
 *   <li>one PNG per section: grouped Base / Novel / HM bars, the MTIL heat map, the loss/accuracy path plot, the
 *       top-1 bars of an accuracy table — when XChart ({@code org.knowm.xchart:xchart}, an optional dependency of
 *       mergetune-core) is on the class path; without it the report is Markdown and JSON only, and neither names a
 *       plot ({@link #plotsAvailable()}).</li>
 * </ul>
 * All heat maps of a report share one colour scale (the range of all its MTIL matrices), so maps shown side by side
 * compare by colour. Sections appear in the order added. A section's plot is named after its title ({@code "MTIL"} → {@code mtil.png};
 * a repeated name gets {@code -2}, {@code -3}). Every file is written atomically (temporary file, then rename), the
 * plots first and {@code report.json} last; other files already in the folder are left alone.
 *
 * <pre>{@code
 * Report.titled("ConDU, MTIL order I")
 *     .mtil("MTIL", AccuracyMatrixCsv.read(Path.of("condu.csv")))
 *     .baseToNovel("Base-to-novel", table)
 *     .path("WiSE-FT path", List.of(trainLoss, testAccuracy))
 *     .writeTo(Path.of("report"));
 * }</pre>
 */
public final class Report {
  public static final String JSON = "report.json";
  public static final String MARKDOWN = "report.md";

  private final String title;
  private final List<ReportSection> sections = new ArrayList<>();
  private final Set<String> plots = new HashSet<>();

  private Report(String title) {
    this.title = title;
  }

  public static Report titled(String title) {
    if (title == null || title.isBlank()) throw new IllegalArgumentException("a report needs a title");
    return new Report(title.strip());
  }

  public String title() {
    return title;
  }

  /** A base-to-novel table (Dataset | Base | Novel | HM, the Average row last) and its grouped bar plot. */
  public Report baseToNovel(String sectionTitle, BaseToNovelTable table) {
    String t = checkTitle(sectionTitle);
    sections.add(new ReportSection.BaseToNovel(t, plotName(t, "base-to-novel"), table, false));
    return this;
  }

  /**
   * Methods compared on one dataset's base and novel classes: {@code Method | Base | Novel | HM}, one row per method
   * (each row's name is the method), no Average row, and the grouped bar plot.
   */
  public Report methods(String sectionTitle, List<BaseToNovelRow> rows) {
    String t = checkTitle(sectionTitle);
    sections.add(new ReportSection.BaseToNovel(t, plotName(t, "base-to-novel"), BaseToNovelTable.of(rows), true));
    return this;
  }

  /**
   * An MTIL accuracy matrix with Transfer / Average / Last, and its heat map. The text says only what every such
   * matrix is (a task-agnostic one: every entry through aggregation); use {@link #mtil(String, AccuracyMatrix,
   * String)} to say how the entries were obtained.
   */
  public Report mtil(String sectionTitle, AccuracyMatrix matrix) {
    return mtil(sectionTitle, matrix, null);
  }

  /** {@link #mtil(String, AccuracyMatrix)} with one sentence on how the entries were obtained, printed above it. */
  public Report mtil(String sectionTitle, AccuracyMatrix matrix, String description) {
    String t = checkTitle(sectionTitle);
    sections.add(new ReportSection.Mtil(t, plotName(t, "mtil"), matrix,
        description == null || description.isBlank() ? null : description.strip()));
    return this;
  }

  /** Top-1 per dataset (source rows apart) with the targets' average, and its bar plot. */
  public Report accuracies(String sectionTitle, AccuracyTable table) {
    String t = checkTitle(sectionTitle);
    sections.add(new ReportSection.Accuracies(t, plotName(t, "accuracy"), table));
    return this;
  }

  /** Curves (distinct names) along a straight path between two parameter sets, and their line plot. */
  public Report path(String sectionTitle, List<PathCurve> curves) {
    String t = checkTitle(sectionTitle);
    if (curves.isEmpty()) throw new IllegalArgumentException(t + ": no curves");
    Set<String> names = new HashSet<>();
    for (PathCurve c : curves) {
      if (!names.add(c.name())) throw new IllegalArgumentException(t + ": two curves are named " + c.name());
    }
    sections.add(new ReportSection.Path(t, plotName(t, "path"), List.copyOf(curves)));
    return this;
  }

  /** Several methods' top-1 per dataset with the targets' average per method, and grouped bars. */
  public Report accuracyGrid(String sectionTitle, AccuracyGrid grid) {
    String t = checkTitle(sectionTitle);
    sections.add(new ReportSection.Grid(t, plotName(t, "accuracy"), grid));
    return this;
  }

  /** A section of prose (Markdown), for what the tables do not say; no plot. */
  public Report text(String sectionTitle, String markdown) {
    String t = checkTitle(sectionTitle);
    if (markdown == null || markdown.isBlank()) throw new IllegalArgumentException(t + ": no text");
    sections.add(new ReportSection.Text(t, null, markdown.strip()));
    return this;
  }

  List<ReportSection> sections() {
    return List.copyOf(sections);
  }

  /** Whether {@link #writeTo} draws PNG plots: XChart is on the class path. */
  public static boolean plotsAvailable() {
    return ReportPlots.available();
  }

  /** Writes the folder (created if missing) and returns the files written, report.json last. */
  public List<Path> writeTo(Path dir) throws IOException {
    if (sections.isEmpty()) throw new IllegalArgumentException("the report has no sections");
    Files.createDirectories(dir);
    boolean plots = ReportPlots.available();
    List<Path> written = new ArrayList<>();
    if (plots) {
      List<AccuracyMatrix> matrices = new ArrayList<>();
      for (ReportSection section : sections) {
        if (section instanceof ReportSection.Mtil m) matrices.add(m.matrix());
      }
      double[] scale = matrices.isEmpty() ? null : HeatMapScale.covering(matrices);
      for (ReportSection section : sections) {
        if (section instanceof ReportSection.Text) continue;
        Path file = dir.resolve(section.plot());
        XChartPlots.write(section, section instanceof ReportSection.Mtil m ? mtilPlotTitle(m) : section.title(), file,
            scale);
        written.add(file);
      }
    }
    written.add(writeText(dir.resolve(MARKDOWN), ReportMarkdown.render(this, plots)));
    written.add(writeText(dir.resolve(JSON), ReportJson.render(this, plots)));
    return List.copyOf(written);
  }

  private static String mtilPlotTitle(ReportSection.Mtil m) {
    MtilMetrics x = m.matrix().metrics();
    return String.format(Locale.ROOT, "%s%s: accuracy (%%) — Transfer %s, Average %s, Last %s", m.title(),
        m.matrix().taskAgnostic() && !m.title().toLowerCase(Locale.ROOT).contains("task-agnostic")
            ? " (task-agnostic)" : "",
        Decimals.one(x.transfer()), Decimals.one(x.average()), Decimals.one(x.last()));
  }

  private static Path writeText(Path file, String text) throws IOException {
    AtomicFiles.writeString(file, text);
    return file;
  }

  private static String checkTitle(String t) {
    if (t == null || t.isBlank()) throw new IllegalArgumentException("a report section needs a title");
    return t.strip();
  }

  /** "Base-to-novel (CoOp)" → base-to-novel-coop.png, unique within the report. */
  private String plotName(String sectionTitle, String fallback) {
    String slug = sectionTitle.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
    if (slug.isEmpty()) slug = fallback;
    if (slug.length() > 60) slug = slug.substring(0, 60).replaceAll("-+$", "");
    String name = slug + ".png";
    for (int i = 2; plots.contains(name); i++) name = slug + "-" + i + ".png";
    plots.add(name);
    return name;
  }
}
