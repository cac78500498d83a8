package dev.mergetune.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvManifestTest {
  @TempDir Path dir;
  Path names;

  @BeforeEach
  void images() {
    Files2.png(dir.resolve("img/a.png"));
    Files2.png(dir.resolve("img/b,1.png"));
    Files2.png(dir.resolve("img/c.png"));
    names = Files2.write(dir.resolve("names.txt"), "cat\ndog\n");
  }

  @Test
  void labelsByNameOrIndexWithOptionalHeader() {
    Path csv = Files2.write(dir.resolve("m.csv"), "Path,Label\nimg/a.png,cat\n\"img/b,1.png\", 1\n" + dir.resolve("img/c.png") + ",dog\n");
    Dataset d = CsvManifest.read(csv, names);
    assertEquals("m", d.name());
    assertEquals(List.of("cat", "dog"), d.classNames());
    assertEquals(List.of(dir.resolve("img/a.png"), dir.resolve("img/b,1.png"), dir.resolve("img/c.png")),
        d.samples().stream().map(Sample::image).toList());
    assertEquals(List.of(0, 1, 1), d.samples().stream().map(Sample::label).toList());
    Path noHeader = Files2.write(dir.resolve("n.csv"), "img/a.png,0\nimg/c.png,1");
    assertEquals(2, CsvManifest.read(noHeader, names).size());
  }

  @Test
  void digitNamesInLabelOrderAreNotAmbiguousButShiftedOnesAre() {
    Path digits = Files2.write(dir.resolve("digits.txt"), "0\n1\n");
    Path csv = Files2.write(dir.resolve("m.csv"), "img/a.png,0\nimg/c.png,1\n");
    assertEquals(List.of(0, 1), CsvManifest.read(csv, digits).samples().stream().map(Sample::label).toList());
    Path shifted = Files2.write(dir.resolve("shifted.txt"), "1\n2\n");
    DatasetException e = assertThrows(DatasetException.class, () -> CsvManifest.read(csv, shifted));
    assertEquals(csv + ", line 2: ambiguous label '1': the name of class 0 and the index of class 1", e.getMessage());
  }

  @Test
  void errorsNameFileAndLine() {
    Path unknown = Files2.write(dir.resolve("u.csv"), "img/a.png,cat\nimg/c.png,horse\n");
    assertEquals(unknown + ", line 2: unknown label 'horse' (not a class name)",
        assertThrows(DatasetException.class, () -> CsvManifest.read(unknown, names)).getMessage());
    Path range = Files2.write(dir.resolve("r.csv"), "img/a.png,0\nimg/c.png,7\n");
    assertEquals(range + ", line 2: label 7 is out of range (2 classes)",
        assertThrows(DatasetException.class, () -> CsvManifest.read(range, names)).getMessage());
    Path fields = Files2.write(dir.resolve("f.csv"), "img/a.png,0,extra\n");
    assertEquals(fields + ", line 1: expected 2 fields (path,label), found 3",
        assertThrows(DatasetException.class, () -> CsvManifest.read(fields, names)).getMessage());
    Path quote = Files2.write(dir.resolve("q.csv"), "img/a.png,0\n\"img/a.png,0\n");
    assertEquals(quote + ", line 2: unterminated quoted field",
        assertThrows(DatasetException.class, () -> CsvManifest.read(quote, names)).getMessage());
    Path empty = Files2.write(dir.resolve("e.csv"), "img/a.png,0\n");
    DatasetException e = assertThrows(DatasetException.class, () -> CsvManifest.read(empty, names));
    assertTrue(e.getMessage().startsWith(empty + ": ") && e.getMessage().contains("'dog' (label 1)"), e.getMessage());
    Path gone = Files2.write(dir.resolve("g.csv"), "img/a.png,0\nimg/zzz.png,1\n");
    DatasetException g = assertThrows(DatasetException.class, () -> CsvManifest.read(gone, names));
    assertTrue(g.getMessage().contains(dir.resolve("img/zzz.png").toString()), g.getMessage());
    Path missing = dir.resolve("missing.csv");
    assertEquals(missing + ": CSV manifest not found",
        assertThrows(DatasetException.class, () -> CsvManifest.read(missing, names)).getMessage());
  }
}
