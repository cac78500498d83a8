package dev.mergetune.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * CoOp's {@code split_zhou_<Name>.json}: {@code {"train": [[path, label, classname], ...], "val": [...], "test":
 * [...]}}, paths relative to the dataset's image folder (CoOp's {@code OxfordPets.read_split}, which joins them to it).
 *
 * <p>Class names come from the entries, as Dassl's {@code get_lab2cname} takes them: label {@code i}'s name is the
 * classname of its entries. Checked here, with the line of the offending entry: all three splits are present, every
 * entry is {@code [string, non-negative integer, string]}, a label has one class name everywhere, the labels of the
 * train split are {@code 0 .. C-1} without a gap (Dassl counts {@code max(label) + 1} classes but lists only the names
 * it saw, so a gap would shift every later name), and val and test use no other label.
 */
public final class CoopSplitFile {
  private CoopSplitFile() {}

  /** One entry as written in the file, with its line. */
  record Entry(String path, int label, String className, long line) {}

  public static DatasetSplits read(Path json, Path imageDir, String name, FileCheck check) {
    Map<Split, List<Entry>> raw = parse(json);
    Map<Integer, String> names = new TreeMap<>();
    Map<Integer, Long> nameLine = new TreeMap<>();
    for (Split s : Split.values()) {
      for (Entry e : raw.get(s)) {
        String prev = names.putIfAbsent(e.label, e.className);
        if (prev == null) {
          nameLine.put(e.label, e.line);
        } else if (!prev.equals(e.className)) {
          throw DatasetException.at(json, e.line, "label " + e.label + " is '" + e.className + "' here but '" + prev
              + "' on line " + nameLine.get(e.label));
        }
      }
    }
    int classes = 0;
    for (Entry e : raw.get(Split.TRAIN)) classes = Math.max(classes, e.label + 1);
    boolean[] inTrain = new boolean[classes];
    for (Entry e : raw.get(Split.TRAIN)) inTrain[e.label] = true;
    for (int c = 0; c < classes; c++) {
      if (!inTrain[c]) throw DatasetException.at(json, "label " + c + " has no train entry (labels must be 0 .. "
          + (classes - 1) + " without a gap)");
    }
    for (Split s : List.of(Split.VAL, Split.TEST)) {
      for (Entry e : raw.get(s)) {
        if (e.label >= classes) {
          throw DatasetException.at(json, e.line, "label " + e.label + " of the " + s.key()
              + " split does not occur in the train split (" + classes + " classes)");
        }
      }
    }
    List<String> classNames = new ArrayList<>(classes);
    for (int c = 0; c < classes; c++) classNames.add(names.get(c));
    Map<Split, Dataset> out = new EnumMap<>(Split.class);
    for (Split s : Split.values()) {
      List<Sample> samples = new ArrayList<>();
      for (Entry e : raw.get(s)) samples.add(new Sample(imageDir.resolve(e.path), e.label));
      try {
        out.put(s, check.apply(Dataset.of(name + "/" + s.key(), classNames, samples)));
      } catch (DatasetException e) {
        throw DatasetException.at(json, e.getMessage());
      }
    }
    return new DatasetSplits(name, out);
  }

  static Map<Split, List<Entry>> parse(Path json) {
    Listing.requireFile(json, "split file");
    Map<Split, List<Entry>> out = new EnumMap<>(Split.class);
    try (InputStream in = Files.newInputStream(json); JsonParser p = new JsonFactory().createParser(in)) {
      expect(json, p, p.nextToken(), JsonToken.START_OBJECT, "a JSON object with train, val and test");
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        long keyLine = p.currentTokenLocation().getLineNr();
        Split s;
        try {
          s = Split.parse(key);
        } catch (IllegalArgumentException e) {
          throw DatasetException.at(json, keyLine, "unknown key '" + key + "' (train, val and test are expected)");
        }
        if (!s.key().equals(key)) throw DatasetException.at(json, keyLine, "key '" + key + "' should be '" + s.key() + "'");
        if (out.containsKey(s)) throw DatasetException.at(json, keyLine, "a second '" + key + "' list");
        out.put(s, entries(json, p));
      }
      expect(json, p, t, JsonToken.END_OBJECT, "the end of the object");
      if (p.nextToken() != null) throw DatasetException.at(json, p.currentTokenLocation().getLineNr(), "text after the object");
    } catch (JsonProcessingException e) {
      throw DatasetException.at(json, e.getLocation() == null ? 0 : e.getLocation().getLineNr(),
          "malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new DatasetException(json + ": cannot read: " + e.getMessage(), e);
    }
    for (Split s : Split.values()) {
      if (!out.containsKey(s)) throw DatasetException.at(json, "the '" + s.key() + "' list is missing");
      if (out.get(s).isEmpty()) throw DatasetException.at(json, "the '" + s.key() + "' list is empty");
    }
    return out;
  }

  private static List<Entry> entries(Path json, JsonParser p) throws IOException {
    expect(json, p, p.nextToken(), JsonToken.START_ARRAY, "a list of [path, label, classname] entries");
    List<Entry> out = new ArrayList<>();
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      long line = p.currentTokenLocation().getLineNr();
      if (t != JsonToken.START_ARRAY) throw DatasetException.at(json, line, "an entry must be [path, label, classname]");
      if (p.nextToken() != JsonToken.VALUE_STRING) throw DatasetException.at(json, line, "the path must be a string");
      String path = p.getText();
      if (path.isEmpty()) throw DatasetException.at(json, line, "empty path");
      if (p.nextToken() != JsonToken.VALUE_NUMBER_INT) throw DatasetException.at(json, line, "the label must be an integer");
      long label = p.getLongValue();
      if (label < 0 || label > Integer.MAX_VALUE) throw DatasetException.at(json, line, "label " + label + " is out of range");
      if (p.nextToken() != JsonToken.VALUE_STRING) throw DatasetException.at(json, line, "the class name must be a string");
      String cname = p.getText();
      if (p.nextToken() != JsonToken.END_ARRAY) throw DatasetException.at(json, line, "an entry has exactly three items");
      out.add(new Entry(path, (int) label, cname, line));
    }
    return out;
  }

  private static void expect(Path json, JsonParser p, JsonToken got, JsonToken want, String what) {
    if (got != want) {
      throw DatasetException.at(json, p.currentTokenLocation().getLineNr(), "expected " + what + ", found "
          + (got == null ? "the end of the file" : got));
    }
  }
}
