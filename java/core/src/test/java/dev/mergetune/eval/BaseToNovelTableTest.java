package dev.mergetune.eval;

import static dev.mergetune.eval.AccuracyTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class BaseToNovelTableTest {
  @Test
  void harmonicMeanGolden() {
    // 2·80·60 / (80 + 60) = 9600 / 140 = 68.571428...
    assertEquals(9600.0 / 140, BaseToNovelRow.harmonicMean(80, 60), 1e-12);
    assertEquals(50.0, BaseToNovelRow.harmonicMean(50, 50), 0);
    assertEquals(0.0, BaseToNovelRow.harmonicMean(0, 0), 0); // defined as 0, not 0/0
    assertEquals(0.0, BaseToNovelRow.harmonicMean(70, 0), 0);
    assertEquals(9600.0 / 140, new BaseToNovelRow("X", 60, 80).hm(), 1e-12);
  }

  @Test
  void theMergeTunePaperAverageRow() {
    // methods.md §1.4, CoOp + MergeTune, average over 11 datasets: base 80.82, novel 73.97 -> HM 77.24.
    // 2·80.82·73.97 / (80.82 + 73.97) = 11956.5108 / 154.79 = 77.2434...
    assertEquals("77.24", String.format(java.util.Locale.ROOT, "%.2f", BaseToNovelRow.harmonicMean(80.82, 73.97)));
  }

  @Test
  void theAverageRowIsTheHmOfTheAveragesNotTheMeanOfTheHms() {
    BaseToNovelTable t = BaseToNovelTable.of(List.of(new BaseToNovelRow("A", 90, 10), new BaseToNovelRow("B", 50, 50)));
    // per dataset: HM(90, 10) = 1800 / 100 = 18; HM(50, 50) = 50; their mean would be 34.
    assertEquals(18.0, t.rows().get(0).hm(), 1e-12);
    assertEquals(50.0, t.rows().get(1).hm(), 1e-12);
    BaseToNovelRow avg = t.average();
    // averages: base (90 + 50) / 2 = 70, novel (10 + 50) / 2 = 30; HM = 2·70·30 / 100 = 42.
    assertEquals("Average", avg.dataset());
    assertEquals(70.0, avg.base(), 1e-12);
    assertEquals(30.0, avg.novel(), 1e-12);
    assertEquals(42.0, avg.hm(), 1e-12);
    assertNotEquals(34.0, avg.hm(), 1e-6);
    List<BaseToNovelRow> all = t.rowsWithAverage();
    assertEquals(3, all.size());
    assertEquals(avg, all.get(2));
  }

  @Test
  void badTablesAreRejected() {
    assertMessage("at least one dataset", () -> BaseToNovelTable.of(List.of()));
    assertMessage("dataset A appears twice",
        () -> BaseToNovelTable.of(List.of(new BaseToNovelRow("A", 1, 2), new BaseToNovelRow("A", 3, 4))));
    assertMessage("is computed", () -> BaseToNovelTable.of(List.of(new BaseToNovelRow("average", 1, 2))));
    assertMessage("A: novel accuracy must be a finite number >= 0, got -1.0", () -> new BaseToNovelRow("A", 1, -1));
    assertMessage("base accuracy must be a finite number", () -> new BaseToNovelRow("A", Double.NaN, 1));
    assertMessage("a dataset name is required", () -> new BaseToNovelRow(" ", 1, 1));
  }

  /** HM lies between min and the arithmetic mean; the average row's HM is at least the mean of the HMs (concavity). */
  @Property(tries = 300)
  void harmonicMeanBounds(@ForAll @Size(min = 1, max = 12) List<@DoubleRange(min = 0, max = 100) Double> bases,
      @ForAll @Size(min = 12, max = 12) List<@DoubleRange(min = 0, max = 100) Double> novels) {
    List<BaseToNovelRow> rows = new ArrayList<>();
    double meanHm = 0;
    for (int i = 0; i < bases.size(); i++) {
      double b = bases.get(i);
      double n = novels.get(i);
      double hm = BaseToNovelRow.harmonicMean(b, n);
      assertTrue(hm >= Math.min(b, n) - 1e-9 && hm <= (b + n) / 2 + 1e-9, b + ", " + n + " -> " + hm);
      assertEquals(hm, BaseToNovelRow.harmonicMean(n, b), 1e-12);
      rows.add(new BaseToNovelRow("d" + i, b, n));
      meanHm += hm / bases.size();
    }
    assertTrue(BaseToNovelTable.of(rows).average().hm() >= meanHm - 1e-9);
  }
}
