package dev.mergetune.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The one list syntax: numbers and start:stop:step ranges, stepped in exact decimals. */
class ValueListTest {
  @Test
  void rangesAndNumbersMix() {
    // the doubles nearest 0.1, 0.3, …: what Double.parseDouble of the decimal strings gives
    assertArrayEquals(new double[] {0.1, 0.3, 0.5, 0.7, 0.9, 1.0}, ValueList.parse("0.1:0.9:0.2,1", "x"), 0);
    assertArrayEquals(new double[] {0.5}, ValueList.parse(" 0.5 ", "x"), 0);
    assertArrayEquals(new double[] {2.0}, ValueList.parse("2:2:1", "x"), 0);  // stop = start: one value
    assertArrayEquals(new double[] {0, 0.4, 0.8}, ValueList.parse("0:1:0.4", "x"), 0);  // 1.2 passes the stop
    double[] a = ValueList.parse("0:1:0.1", "x");
    for (int i = 0; i <= 10; i++) assertArrayEquals(new double[] {Double.parseDouble(i == 10 ? "1" : "0." + i)}, new double[] {a[i]}, 0,
        "value " + i);  // 0.3 itself, not 0.1 + 0.1 + 0.1 = 0.30000000000000004
    assertArrayEquals(new double[] {0.1, 0.2, 0.5}, ValueList.parse(List.of("0.1,0.2", "0.5"), "x"), 0);
  }

  @Test
  void badListsNameTheOptionAndTheItem() {
    String[][] cases = {{"", "--alpha: no values given"}, {"0.1,,0.2", "an empty item"},
        {"0.1,abc", "'abc' is not a number or a start:stop:step range"}, {"0:1", "'0:1' is not start:stop:step"},
        {"0:1:-0.1", "the step of 0:1:-0.1 must be > 0"}, {"1:0:0.1", "the stop of 1:0:0.1 is below its start"},
        {"0:1:0.00001", "more than 10000 values"}, {"1e400", "not a finite number"}};
    for (String[] c : cases) {
      String m = assertThrows(IllegalArgumentException.class, () -> ValueList.parse(c[0], "--alpha")).getMessage();
      assertTrue(m.startsWith("--alpha") && m.contains(c[1]), c[1] + " in " + m);
    }
  }
}
