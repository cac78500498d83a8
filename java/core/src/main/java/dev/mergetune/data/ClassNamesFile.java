package dev.mergetune.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A list of class names, label order: a {@code .json} file holding a JSON list of strings, or any other file with
 * one name per line (UTF-8; the line is the name, without its line break; empty lines at the end are ignored, an
 * empty line before the last name is an error). Duplicate names are errors that name both lines.
 */
public final class ClassNamesFile {
  private ClassNamesFile() {}

  public static List<String> read(Path file) {
    Listing.requireFile(file, "class-names file");
    return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json") ? readJson(file) : readLines(file);
  }

  private static List<String> readLines(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new DatasetException(file + ": cannot read the class names: " + e.getMessage(), e);
    }
    int last = lines.size();
    while (last > 0 && lines.get(last - 1).strip().isEmpty()) last--;
    List<String> names = new ArrayList<>(last);
    List<Long> lineNumbers = new ArrayList<>(last);
    for (int i = 0; i < last; i++) {
      String name = lines.get(i);
      if (i == 0 && name.startsWith("\uFEFF")) name = name.substring(1);
      if (name.strip().isEmpty()) throw DatasetException.at(file, i + 1, "empty class name");
      names.add(name);
      lineNumbers.add(i + 1L);
    }
    return checked(file, names, lineNumbers);
  }

  private static List<String> readJson(Path file) {
    List<String> names = new ArrayList<>();
    List<Long> lineNumbers = new ArrayList<>();
    try (InputStream in = Files.newInputStream(file); JsonParser p = new JsonFactory().createParser(in)) {
      if (p.nextToken() != JsonToken.START_ARRAY) {
        throw DatasetException.at(file, p.currentLocation().getLineNr(), "expected a JSON list of class names");
      }
      JsonToken t;
      while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
        long line = p.currentLocation().getLineNr();
        if (t != JsonToken.VALUE_STRING) throw DatasetException.at(file, line, "a class name must be a string, not " + t);
        String name = p.getText();
        if (name.isBlank()) throw DatasetException.at(file, line, "empty class name");
        names.add(name);
        lineNumbers.add(line);
      }
      if (p.nextToken() != null) throw DatasetException.at(file, p.currentLocation().getLineNr(), "text after the list");
    } catch (JsonProcessingException e) {
      throw DatasetException.at(file, e.getLocation() == null ? 0 : e.getLocation().getLineNr(),
          "malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": " + e.getMessage(), e);
    }
    return checked(file, names, lineNumbers);
  }

  private static List<String> checked(Path file, List<String> names, List<Long> lines) {
    if (names.isEmpty()) throw DatasetException.at(file, "no class names");
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < names.size(); i++) {
      Integer prev = seen.putIfAbsent(names.get(i), i);
      if (prev != null) {
        throw DatasetException.at(file, lines.get(i), "duplicate class name '" + names.get(i) + "' (also on line "
            + lines.get(prev) + ")");
      }
    }
    return List.copyOf(names);
  }
}
