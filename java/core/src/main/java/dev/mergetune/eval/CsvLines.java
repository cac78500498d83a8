package dev.mergetune.eval;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The small CSV dialect of the metrics files: UTF-8 (a byte-order mark is ignored), comma-separated, cells trimmed,
 * blank lines and lines starting with {@code #} skipped, a cell may be double-quoted ({@code ""} inside for a quote)
 * and a quoted cell is always text, never a number. Numbers are plain decimals ({@code 24.3}, {@code -1}, {@code 5e-3});
 * NaN, Infinity and hexadecimal are not numbers here.
 */
final class CsvLines {
  /** One cell: its text and whether it was quoted. */
  record Cell(String text, boolean quoted) {
    boolean isNumber() {
      return !quoted && NUMBER.matcher(text).matches();
    }
  }

  /** A non-blank, non-comment line: its 1-based number in the file and its cells. */
  record Line(int number, List<Cell> cells) {}

  private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");

  private CsvLines() {}

  static List<Line> read(Path file) throws IOException {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(
          dev.mergetune.io.InputFiles.readAllBytes(file, 64L << 20, "CSV file"))).toString();
    } catch (CharacterCodingException e) {
      throw new CsvFormatException(file.toString(), 0, "not UTF-8 text");
    }
    return parse(file.toString(), text);
  }

  static List<Line> parse(String source, String text) {
    if (text.startsWith("\uFEFF")) text = text.substring(1);
    String[] raw = text.split("\r\n|\n|\r", -1);
    List<Line> lines = new ArrayList<>();
    for (int i = 0; i < raw.length; i++) {
      String s = raw[i].strip();
      if (s.isEmpty() || s.startsWith("#")) continue;
      lines.add(new Line(i + 1, split(source, i + 1, s)));
    }
    return lines;
  }

  static double number(String source, Line line, int index) {
    Cell c = line.cells().get(index);
    if (!c.isNumber()) {
      throw new CsvFormatException(source, line.number(), "column " + (index + 1) + ": "
          + (c.text().isEmpty() ? "an empty cell" : "'" + c.text() + "'") + " is not a number");
    }
    return Double.parseDouble(c.text());
  }

  /** A cell as written: quoted when it holds a comma or quote, starts with #, or would read back as a number. */
  static String quote(String text) {
    boolean needs = text.contains(",") || text.contains("\"") || text.startsWith("#")
        || NUMBER.matcher(text).matches() || !text.equals(text.strip()) || text.isEmpty();
    return needs ? "\"" + text.replace("\"", "\"\"") + "\"" : text;
  }

  private static List<Cell> split(String source, int lineNumber, String s) {
    List<Cell> cells = new ArrayList<>();
    int i = 0;
    int n = s.length();
    while (true) {
      while (i < n && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) i++;
      if (i < n && s.charAt(i) == '"') {
        StringBuilder b = new StringBuilder();
        i++;
        while (true) {
          if (i >= n) throw new CsvFormatException(source, lineNumber, "a quoted cell is not closed");
          char ch = s.charAt(i++);
          if (ch == '"') {
            if (i < n && s.charAt(i) == '"') {
              b.append('"');
              i++;
            } else {
              break;
            }
          } else {
            b.append(ch);
          }
        }
        while (i < n && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) i++;
        if (i < n && s.charAt(i) != ',') {
          throw new CsvFormatException(source, lineNumber, "text after a closing quote in column " + (cells.size() + 1));
        }
        cells.add(new Cell(b.toString(), true));
      } else {
        int end = s.indexOf(',', i);
        if (end < 0) end = n;
        cells.add(new Cell(s.substring(i, end).strip(), false));
        i = end;
      }
      if (i >= n) break;
      i++; // the comma
      if (i == n) {
        cells.add(new Cell("", false)); // a trailing comma: an empty last cell
        break;
      }
    }
    return List.copyOf(cells);
  }
}
