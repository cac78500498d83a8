package dev.mergetune.eval;

import dev.mergetune.tensors.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes an MTIL accuracy matrix as CSV: T rows (one per session, in training order) of T numbers (one per
 * dataset), in the {@link CsvLines} dialect. Two optional extras are recognised:
 * <ul>
 *   <li>a <b>header row</b>: the first line is a header when every cell after its first is not a number; it names
 *       the datasets, either T names or a corner cell followed by T names (the corner is ignored). Dataset names
 *       therefore must not be bare numbers (quote them: {@code "2019"});</li>
 *   <li>a <b>label column</b>: the rows are labelled when the first cell of the first data row is not a number; every
 *       row's first cell is then its label. Without a header the labels name the datasets (session s trains dataset
 *       s); with a header they are ignored.</li>
 * </ul>
 * Without either, the datasets are named D1..DT. Ragged rows, a cell that is not a number, a matrix that is not
 * square, and T &lt; 2 are errors naming the file and line. {@link #write} produces the labelled form with a header
 * ({@code session,<names>} then {@code <name>,<numbers>}), which reads back to the same matrix.
 */
public final class AccuracyMatrixCsv {
  private AccuracyMatrixCsv() {}

  public static AccuracyMatrix read(Path file) throws IOException {
    return parse(file.toString(), CsvLines.read(file));
  }

  /** Parses CSV text; {@code source} names it in error messages. */
  public static AccuracyMatrix parse(String source, String text) {
    return parse(source, CsvLines.parse(source, text));
  }

  private static AccuracyMatrix parse(String source, List<CsvLines.Line> lines) {
    if (lines.isEmpty()) throw new CsvFormatException(source, 0, "no rows: expected a T x T accuracy matrix");
    CsvLines.Line first = lines.get(0);
    boolean header = first.cells().size() >= 2
        && first.cells().subList(1, first.cells().size()).stream().noneMatch(CsvLines.Cell::isNumber);
    List<CsvLines.Line> data = header ? lines.subList(1, lines.size()) : lines;
    if (data.isEmpty()) throw new CsvFormatException(source, 0, "a header row but no rows of numbers");
    boolean labelled = !data.get(0).cells().get(0).isNumber();

    int offset = labelled ? 1 : 0;
    int width = data.get(0).cells().size() - offset;
    double[][] rows = new double[data.size()][];
    List<String> labels = new ArrayList<>();
    for (int r = 0; r < data.size(); r++) {
      CsvLines.Line line = data.get(r);
      int count = line.cells().size() - offset;
      if (count != width) {
        throw new CsvFormatException(source, line.number(), count + " numbers, but the first row has " + width
            + " (ragged rows)");
      }
      if (labelled) labels.add(line.cells().get(0).text());
      rows[r] = new double[width];
      for (int c = 0; c < width; c++) rows[r][c] = CsvLines.number(source, line, c + offset);
    }
    int t = rows.length;
    if (width != t) {
      throw new CsvFormatException(source, 0, t + " row(s) of " + width + " numbers: an accuracy matrix is T x T "
          + "(one row per session, one column per dataset)");
    }
    if (t < 2) throw new CsvFormatException(source, 0, "a 1 x 1 matrix: MTIL needs T >= 2 datasets");

    List<String> names = AccuracyMatrix.defaultNames(t);
    if (header) {
      List<String> cells = first.cells().stream().map(CsvLines.Cell::text).toList();
      if (cells.size() == t + 1) {
        names = cells.subList(1, t + 1);
      } else if (cells.size() == t) {
        names = cells;
      } else {
        throw new CsvFormatException(source, first.number(), "the header has " + cells.size() + " cells for " + t
            + " columns (expected " + t + " names, or a corner cell and " + t + " names)");
      }
    } else if (labelled) {
      names = labels;
    }
    try {
      return AccuracyMatrix.of(rows, names, false);
    } catch (CsvFormatException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new CsvFormatException(source, header ? first.number() : 0, e.getMessage());
    }
  }

  /** The CSV text of a matrix: a header {@code session,<names>}, then one labelled row per session. */
  public static String format(AccuracyMatrix m) {
    StringBuilder b = new StringBuilder("session");
    for (String name : m.datasets()) b.append(',').append(CsvLines.quote(name));
    b.append('\n');
    for (int s = 0; s < m.size(); s++) {
      b.append(CsvLines.quote(m.datasets().get(s)));
      for (int d = 0; d < m.size(); d++) b.append(',').append(m.get(s, d));
      b.append('\n');
    }
    return b.toString();
  }

  /** Writes {@link #format} atomically (temporary file, then rename). */
  public static void write(Path file, AccuracyMatrix m) throws IOException {
    AtomicFiles.writeString(file, format(m));
  }
}
