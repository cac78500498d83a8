package dev.mergetune.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link AccuracyMatrixCsv}: the four layouts, the round trip, and one-line errors. */
class MtilCsvTest {
  @TempDir Path dir;

  private static final double[][] A = {{80, 60, 50}, {70, 90, 55}, {65, 85, 95}};

  @Test
  void numbersOnly() {
    AccuracyMatrix m = AccuracyMatrixCsv.parse("m.csv", "80,60,50\n70,90,55\n65,85,95\n");
    assertArrayEquals(A, m.toArray());
    assertEquals(List.of("D1", "D2", "D3"), m.datasets());
  }

  @Test
  void headerWithoutCorner() {
    AccuracyMatrix m = AccuracyMatrixCsv.parse("m.csv", "a,b,c\n80,60,50\n70,90,55\n65,85,95\n");
    assertArrayEquals(A, m.toArray());
    assertEquals(List.of("a", "b", "c"), m.datasets());
  }

  @Test
  void labelColumnNamesTheDatasetsWhenThereIsNoHeader() {
    AccuracyMatrix m = AccuracyMatrixCsv.parse("m.csv", "a, 80, 60, 50\nb,70,90,55\nc,65,85,95");
    assertArrayEquals(A, m.toArray());
    assertEquals(List.of("a", "b", "c"), m.datasets());
  }

  @Test
  void headerWithCornerAndLabels() {
    // the header wins over the labels; the corner cell is ignored; BOM, CRLF, comments and blank lines are fine
    String text = "\uFEFFsession,a,b,c\r\n# after each session\r\n\r\nafter a,80,60,50\r\nafter b,70,90,55\r\n"
        + "after c,65,85,95\r\n";
    AccuracyMatrix m = AccuracyMatrixCsv.parse("m.csv", text);
    assertArrayEquals(A, m.toArray());
    assertEquals(List.of("a", "b", "c"), m.datasets());
    // T names and labelled rows: the header has no corner
    assertEquals(List.of("a", "b", "c"),
        AccuracyMatrixCsv.parse("m.csv", "a,b,c\nx,80,60,50\ny,70,90,55\nz,65,85,95\n").datasets());
  }

  @Test
  void writeThenReadIsTheSameMatrix() throws Exception {
    double[][] odd = {{1e-5, 24.3, 1.0 / 3}, {-0.0, 100, 65.29090909090909}, {0.1 + 0.2, 7, 8}};
    AccuracyMatrix m = AccuracyMatrix.of(odd, List.of("Oxford, Pets", "2019", "#hash"), true);
    Path f = dir.resolve("sub/m.csv");
    AccuracyMatrixCsv.write(f, m);
    AccuracyMatrix back = AccuracyMatrixCsv.read(f);
    assertArrayEquals(odd, back.toArray()); // bit-exact: Double.toString round-trips
    assertEquals(m.datasets(), back.datasets());
    assertTrue(Files.readString(f).startsWith("session,\"Oxford, Pets\",\"2019\",\"#hash\"\n"));
    try (var files = Files.list(f.getParent())) {
      assertEquals(List.of(f), files.toList()); // no temporary file left behind
    }
  }

  @Test
  void errorsNameTheFileAndLine() {
    assertError("m.csv:2: 2 numbers, but the first row has 3 (ragged rows)", "1,2,3\n4,5\n6,7,8\n");
    assertError("m.csv:3: column 2: 'x' is not a number", "a,b\n1,2\n3,x\n");
    assertError("m.csv:2: column 2: 'NaN' is not a number", "1,2\n3,NaN\n");
    assertError("m.csv: 2 row(s) of 3 numbers: an accuracy matrix is T x T", "1,2,3\n4,5,6\n");
    assertError("m.csv: 3 row(s) of 2 numbers", "l,1,2\nm,3,4\nn,5,6\n");
    assertError("m.csv: a 1 x 1 matrix", "5\n");
    assertError("m.csv: no rows", "");
    assertError("m.csv: a header row but no rows of numbers", "a,b,c\n");
    assertError("m.csv:1: the header has 4 cells for 2 columns", "w,x,y,z\n1,2\n3,4\n");
    assertError("m.csv:1: dataset name a appears twice", "a,a\n1,2\n3,4\n");
    assertError("m.csv:2: column 2: an empty cell is not a number", "1,2\n3,\n");
  }

  @Test
  void aFileThatIsNotUtf8IsRejected() throws Exception {
    Path f = dir.resolve("latin1.csv");
    Files.write(f, new byte[] {'a', ',', (byte) 0xE9, '\n'});
    CsvFormatException e = assertThrows(CsvFormatException.class, () -> AccuracyMatrixCsv.read(f));
    assertEquals(f + ": not UTF-8 text", e.getMessage());
  }

  private static void assertError(String message, String text) {
    CsvFormatException e = assertThrows(CsvFormatException.class, () -> AccuracyMatrixCsv.parse("m.csv", text));
    assertTrue(e.getMessage().startsWith(message), e.getMessage());
  }
}
