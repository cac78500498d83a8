package dev.mergetune.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassNamesFileTest {
  @TempDir Path dir;

  @Test
  void readsLinesAndJson() {
    assertEquals(List.of("cat", "hot dog"), ClassNamesFile.read(Files2.write(dir.resolve("n.txt"), "cat\r\nhot dog\n\n")));
    assertEquals(List.of("cat", "hot dog"), ClassNamesFile.read(Files2.write(dir.resolve("n.json"), "[\"cat\",\n \"hot dog\"]")));
  }

  @Test
  void errorsNameFileAndLine() {
    Path dup = Files2.write(dir.resolve("dup.txt"), "a\nb\na\n");
    DatasetException e = assertThrows(DatasetException.class, () -> ClassNamesFile.read(dup));
    assertEquals(dup + ", line 3: duplicate class name 'a' (also on line 1)", e.getMessage());
    Path gap = Files2.write(dir.resolve("gap.txt"), "a\n\nb\n");
    assertTrue(assertThrows(DatasetException.class, () -> ClassNamesFile.read(gap)).getMessage()
        .startsWith(gap + ", line 2: empty class name"));
    Path bad = Files2.write(dir.resolve("bad.json"), "[\"a\",\n 3]");
    assertTrue(assertThrows(DatasetException.class, () -> ClassNamesFile.read(bad)).getMessage()
        .startsWith(bad + ", line 2: a class name must be a string"));
    Path broken = Files2.write(dir.resolve("broken.json"), "[\"a\",\n\n \"b\"");
    assertTrue(assertThrows(DatasetException.class, () -> ClassNamesFile.read(broken)).getMessage()
        .startsWith(broken + ", line 3: malformed JSON"));
    Path missing = dir.resolve("none.txt");
    assertEquals(missing + ": class-names file not found",
        assertThrows(DatasetException.class, () -> ClassNamesFile.read(missing)).getMessage());
  }
}
