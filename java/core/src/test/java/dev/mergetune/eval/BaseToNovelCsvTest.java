package dev.mergetune.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BaseToNovelCsvTest {
  @TempDir Path dir;

  @Test
  void readsWithAndWithoutHeader() throws Exception {
    Path f = dir.resolve("b2n.csv");
    Files.writeString(f, "Dataset,Base,Novel\nImageNet,76.47,69.73\n\n# a comment\n\"Oxford, Pets\",95.2,97.7\r\n");
    BaseToNovelTable t = BaseToNovelCsv.read(f);
    assertEquals(2, t.rows().size());
    assertEquals(new BaseToNovelRow("ImageNet", 76.47, 69.73), t.rows().get(0));
    assertEquals("Oxford, Pets", t.rows().get(1).dataset());
    BaseToNovelTable plain = BaseToNovelCsv.parse("x.csv", "A,80,60\nB,50,50\n");
    assertEquals(2, plain.rows().size());
    assertEquals((80 + 50) / 2.0, plain.average().base(), 1e-12);
  }

  @Test
  void errorsNameTheFileAndLine() {
    assertError("t.csv:2: column 3: 'x' is not a number", "Dataset,Base,Novel\nA,1,x\n");
    assertError("t.csv:1: 2 cells; each row is dataset,base,novel", "A,1\n");
    assertError("t.csv:3: an \"Average\" row", "A,1,2\nB,3,4\nAverage,2,3\n");
    assertError("t.csv:2: dataset A appears twice", "A,1,2\nA,3,4\n");
    assertError("t.csv:1: A: base accuracy must be a finite number >= 0, got -1.0", "A,-1,2\n");
    assertError("t.csv:1: column 2: an empty cell is not a number", "A,,2\n");
    assertError("t.csv: no rows", "\n# nothing\n");
    assertError("t.csv: a header row but no datasets", "Dataset,Base,Novel\n");
    assertError("t.csv:1: a quoted cell is not closed", "\"A,1,2\n");
  }

  private static void assertError(String message, String text) {
    CsvFormatException e = assertThrows(CsvFormatException.class, () -> BaseToNovelCsv.parse("t.csv", text));
    assertTrue(e.getMessage().startsWith(message), e.getMessage());
  }
}
