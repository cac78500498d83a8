package dev.mergetune.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The small lists shipped with the library (class names, class-index lists); lines starting with '#' say their source. */
final class ResourceLists {
  private ResourceLists() {}

  static List<String> lines(String resource) {
    List<String> out = new ArrayList<>();
    try (InputStream in = ResourceLists.class.getResourceAsStream(resource)) {
      if (in == null) throw new IllegalStateException("resource " + resource + " is missing from the jar");
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      String line;
      while ((line = r.readLine()) != null) if (!line.startsWith("#") && !line.isEmpty()) out.add(line);
    } catch (IOException e) {
      throw new UncheckedIOException(resource, e);
    }
    return List.copyOf(out);
  }

  static List<Integer> ints(String resource) {
    List<Integer> out = new ArrayList<>();
    for (String s : lines(resource)) out.add(Integer.valueOf(s.strip()));
    return List.copyOf(out);
  }
}
