package dev.mergetune.eval;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a base-to-novel table from CSV: one row per dataset, {@code dataset,base,novel} (accuracies in percent), in
 * the {@link CsvLines} dialect. The first line is a header, and skipped, when its second and third cells are both
 * not numbers (e.g. {@code Dataset,Base,Novel}). An "Average" row is refused: it is computed (see
 * {@link BaseToNovelTable}). Errors name the file and line.
 */
public final class BaseToNovelCsv {
  private BaseToNovelCsv() {}

  public static BaseToNovelTable read(Path file) throws IOException {
    return parse(file.toString(), CsvLines.read(file));
  }

  /** Parses CSV text; {@code source} names it in error messages. */
  public static BaseToNovelTable parse(String source, String text) {
    return parse(source, CsvLines.parse(source, text));
  }

  private static BaseToNovelTable parse(String source, List<CsvLines.Line> lines) {
    if (lines.isEmpty()) throw new CsvFormatException(source, 0, "no rows: expected dataset,base,novel lines");
    List<CsvLines.Cell> first = lines.get(0).cells();
    boolean header = first.size() == 3 && !first.get(1).isNumber() && !first.get(2).isNumber();
    List<CsvLines.Line> data = header ? lines.subList(1, lines.size()) : lines;
    if (data.isEmpty()) throw new CsvFormatException(source, 0, "a header row but no datasets");
    List<BaseToNovelRow> rows = new ArrayList<>();
    List<String> seen = new ArrayList<>();
    for (CsvLines.Line line : data) {
      if (line.cells().size() != 3) {
        throw new CsvFormatException(source, line.number(), line.cells().size()
            + " cells; each row is dataset,base,novel");
      }
      String name = line.cells().get(0).text();
      if (name.isBlank()) throw new CsvFormatException(source, line.number(), "the dataset name is empty");
      if (name.strip().equalsIgnoreCase(BaseToNovelTable.AVERAGE)) {
        throw new CsvFormatException(source, line.number(), "an \"" + BaseToNovelTable.AVERAGE
            + "\" row: it is computed from the datasets (the HM of the mean base and mean novel), remove it");
      }
      if (seen.contains(name.strip())) {
        throw new CsvFormatException(source, line.number(), "dataset " + name.strip() + " appears twice");
      }
      seen.add(name.strip());
      double base = CsvLines.number(source, line, 1);
      double novel = CsvLines.number(source, line, 2);
      try {
        rows.add(new BaseToNovelRow(name, base, novel));
      } catch (IllegalArgumentException e) {
        throw new CsvFormatException(source, line.number(), e.getMessage());
      }
    }
    return BaseToNovelTable.of(rows);
  }
}
