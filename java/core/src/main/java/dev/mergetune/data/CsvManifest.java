package dev.mergetune.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A CSV manifest {@code path,label} with a class-names file ({@link ClassNamesFile}).
 *
 * <ul>
 *   <li>UTF-8, one sample per line, two fields; a field may be double-quoted (with {@code ""} for a quote) to hold
 *       commas; unquoted fields are stripped of surrounding blanks; blank lines are skipped.
 *   <li>An optional header: a first row {@code path,label} (any case) is skipped.
 *   <li>A relative path is resolved against the folder holding the CSV file.
 *   <li>A label is a class name or an integer index into the class names. A label that is both the name of one class
 *       and the index of another (names "1", "2", ... given as indices) is an error, since either reading could be
 *       meant; names "0", "1", ... in that order are not ambiguous.
 * </ul>
 * Samples keep the order of the file; every class needs a sample.
 */
public final class CsvManifest {
  private CsvManifest() {}

  public static Dataset read(Path csv, Path classNamesFile) {
    String file = csv.getFileName().toString();
    return read(csv, classNamesFile, file.replaceFirst("\\.[^.]*$", ""), FileCheck.EAGER);
  }

  public static Dataset read(Path csv, Path classNamesFile, String name, FileCheck check) {
    return read(csv, ClassNamesFile.read(classNamesFile), name, check);
  }

  public static Dataset read(Path csv, List<String> classNames, String name, FileCheck check) {
    Listing.requireFile(csv, "CSV manifest");
    Map<String, Integer> byName = new HashMap<>();
    for (int i = 0; i < classNames.size(); i++) byName.put(classNames.get(i), i);
    Path dir = csv.toAbsolutePath().getParent();
    List<Sample> samples = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(csv, StandardCharsets.UTF_8)) {
      String line;
      long n = 0;
      boolean first = true;
      while ((line = r.readLine()) != null) {
        n++;
        if (n == 1 && line.startsWith("\uFEFF")) line = line.substring(1);
        if (line.isBlank()) continue;
        List<String> fields = fields(csv, n, line);
        if (fields.size() != 2) {
          throw DatasetException.at(csv, n, "expected 2 fields (path,label), found " + fields.size());
        }
        if (first && fields.get(0).equalsIgnoreCase("path") && fields.get(1).equalsIgnoreCase("label")) {
          first = false;
          continue;
        }
        first = false;
        String path = fields.get(0);
        if (path.isEmpty()) throw DatasetException.at(csv, n, "empty path");
        int label = label(csv, n, fields.get(1), byName, classNames.size());
        Path p = Path.of(path);
        samples.add(new Sample(p.isAbsolute() ? p : dir.resolve(p).normalize(), label));
      }
    } catch (IOException e) {
      throw new DatasetException(csv + ": cannot read: " + e.getMessage(), e);
    }
    if (samples.isEmpty()) throw DatasetException.at(csv, "no samples");
    Dataset d;
    try {
      d = Dataset.of(name, classNames, samples);
    } catch (DatasetException e) {
      throw DatasetException.at(csv, e.getMessage());
    }
    return check.apply(d);
  }

  private static int label(Path csv, long line, String s, Map<String, Integer> byName, int classes) {
    Integer named = byName.get(s);
    Integer index = null;
    if (s.matches("[0-9]+")) {
      try {
        index = Integer.valueOf(s);
      } catch (NumberFormatException e) {
        index = Integer.MAX_VALUE;
      }
    }
    if (named != null && index != null && !named.equals(index)) {
      throw DatasetException.at(csv, line, "ambiguous label '" + s + "': the name of class " + named
          + " and the index of class " + index);
    }
    if (named != null) return named;
    if (index == null) throw DatasetException.at(csv, line, "unknown label '" + s + "' (not a class name)");
    if (index >= classes) {
      throw DatasetException.at(csv, line, "label " + s + " is out of range (" + classes + " classes)");
    }
    return index;
  }

  /** Splits one CSV line; quoted fields may hold commas and doubled quotes. */
  static List<String> fields(Path csv, long line, String s) {
    List<String> out = new ArrayList<>();
    int i = 0;
    while (true) {
      while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) i++;
      if (i < s.length() && s.charAt(i) == '"') {
        StringBuilder sb = new StringBuilder();
        i++;
        while (true) {
          if (i >= s.length()) throw DatasetException.at(csv, line, "unterminated quoted field");
          char c = s.charAt(i++);
          if (c == '"') {
            if (i < s.length() && s.charAt(i) == '"') {
              sb.append('"');
              i++;
            } else {
              break;
            }
          } else {
            sb.append(c);
          }
        }
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) i++;
        out.add(sb.toString());
        if (i == s.length()) return out;
        if (s.charAt(i) != ',') throw DatasetException.at(csv, line, "text after a quoted field");
        i++;
      } else {
        int comma = s.indexOf(',', i);
        String f = comma < 0 ? s.substring(i) : s.substring(i, comma);
        if (f.indexOf('"') >= 0) throw DatasetException.at(csv, line, "a quote inside an unquoted field");
        out.add(f.strip());
        if (comma < 0) return out;
        i = comma + 1;
      }
    }
  }
}
