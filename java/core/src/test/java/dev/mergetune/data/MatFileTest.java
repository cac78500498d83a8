package dev.mergetune.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MatFileTest {
  @TempDir Path dir;

  static Map<String, Object> vars() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("labels", new MatWriter.UInt8(77, 5, 102));
    v.put("trnid", new MatWriter.UInt16(1, 3, 9000));
    v.put("scores", new double[] {0.5, -2});
    v.put("class_names", List.of("AM General Hummer SUV 2000", "Ümlaut"));
    v.put("annotations", new MatWriter.Structs(List.of("class", "fname"), List.of(
        Map.of("class", new MatWriter.UInt8(1), "fname", "00001.jpg"),
        Map.of("class", new MatWriter.UInt8(196), "fname", "00002.jpg"))));
    v.put("grid", new MatWriter.CharMatrix("abc", "def"));
    return v;
  }

  @ParameterizedTest(name = "{0} compressed={1}")
  @CsvSource({"LITTLE_ENDIAN, false", "LITTLE_ENDIAN, true", "BIG_ENDIAN, false", "BIG_ENDIAN, true"})
  void readsNumbersStringsCellsAndStructs(String order, boolean compress) {
    ByteOrder bo = order.equals("BIG_ENDIAN") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    Path f = new MatWriter(bo, compress).write(dir.resolve("t.mat"), vars());
    Map<String, MatFile.Value> m = MatFile.read(f);
    assertEquals(List.of("labels", "trnid", "scores", "class_names", "annotations", "grid"), List.copyOf(m.keySet()));
    assertArrayEquals(new long[] {77, 5, 102}, TorchvisionLayouts.numeric(f, "labels"));
    assertArrayEquals(new long[] {1, 3, 9000}, TorchvisionLayouts.numeric(f, "trnid"));
    assertArrayEquals(new double[] {0.5, -2}, ((MatFile.Numeric) m.get("scores")).values());
    MatFile.Cell names = (MatFile.Cell) m.get("class_names");
    assertEquals("Ümlaut", ((MatFile.Chars) names.items().get(1)).string(f, "x"));
    MatFile.Struct s = (MatFile.Struct) m.get("annotations");
    assertEquals(List.of("class", "fname"), s.fields());
    assertEquals("00002.jpg", ((MatFile.Chars) s.elements().get(1).get("fname")).string(f, "fname"));
    assertArrayEquals(new double[] {196}, ((MatFile.Numeric) s.elements().get(1).get("class")).values());
    assertEquals("abcdef", ((MatFile.Chars) m.get("grid")).text());
    assertThrows(DatasetException.class, () -> ((MatFile.Chars) m.get("grid")).string(f, "grid"));
  }

  @Test
  void errorsNameTheFile() throws Exception {
    Path text = Files2.write(dir.resolve("a.mat"), "x".repeat(200));
    assertEquals(text + ": not a level-5 MAT file", assertThrows(DatasetException.class, () -> MatFile.read(text)).getMessage());
    Path good = new MatWriter(ByteOrder.LITTLE_ENDIAN, true).write(dir.resolve("g.mat"), vars());
    byte[] b = Files.readAllBytes(good);
    Path cut = dir.resolve("cut.mat");
    Files.write(cut, java.util.Arrays.copyOf(b, 160));
    assertTrue(assertThrows(DatasetException.class, () -> MatFile.read(cut)).getMessage().startsWith(cut + ": "));
    byte[] hdf5 = b.clone();
    hdf5[124] = 0;
    hdf5[125] = 2;
    Path v73 = dir.resolve("v73.mat");
    Files.write(v73, hdf5);
    assertEquals(v73 + ": MAT 7.3 (HDF5) files are not supported",
        assertThrows(DatasetException.class, () -> MatFile.read(v73)).getMessage());
    assertEquals(good + ": no variable 'tstid'",
        assertThrows(DatasetException.class, () -> TorchvisionLayouts.variable(good, "tstid")).getMessage());
    assertEquals(good + ": 'class_names' is not a numeric array",
        assertThrows(DatasetException.class, () -> TorchvisionLayouts.numeric(good, "class_names")).getMessage());
  }
}
