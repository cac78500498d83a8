package dev.mergetune.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Mean ± sample standard deviation over seeds, and the verdict rule, on values worked by hand. */
class SeedSpreadTest {
  @Test
  void meanAndSampleStandardDeviation() {
    // {60, 62, 67}: mean 63, squared deviations 9 + 1 + 16 = 26, sd = sqrt(26 / 2) = sqrt(13)
    SeedSpread.Stat s = SeedSpread.Stat.of(new double[] {60, 62, 67});
    assertEquals(63, s.mean(), 1e-12);
    assertEquals(Math.sqrt(13), s.sd(), 1e-12);
    assertEquals(60, s.min());
    assertEquals(67, s.max());
    assertEquals("63.0 ± 3.6", s.text());
    assertEquals(0, SeedSpread.Stat.of(new double[] {5}).sd());
    assertThrows(IllegalArgumentException.class, () -> SeedSpread.Stat.of(new double[0]));
  }

  @Test
  void anEffectHoldsOnlyWhenItsMeanDifferenceExceedsTheLargerSpread() {
    // a = {60, 62, 67} (sd 3.61), b = {58, 58, 58} (sd 0): difference mean 5 > 3.61 -> holds, ahead in 3 of 3
    SeedSpread.Effect e = SeedSpread.Effect.of("a > b", "A", new double[] {60, 62, 67}, "B", new double[] {58, 58, 58});
    assertEquals(5, e.difference().mean(), 1e-12);
    assertEquals(Math.sqrt(13), e.spread(), 1e-12);
    assertEquals(3, e.seedsAhead());
    assertTrue(e.holds());
    assertTrue(e.line().endsWith(": holds"), e.line());
    // b = {61, 61, 61}: difference mean 2 < 3.61 -> does not hold though ahead in 2 of 3 seeds
    SeedSpread.Effect f = SeedSpread.Effect.of("a > b", "A", new double[] {60, 62, 67}, "B", new double[] {61, 61, 61});
    assertEquals(2, f.difference().mean(), 1e-12);
    assertEquals(2, f.seedsAhead());
    assertFalse(f.holds());
    assertTrue(f.line().endsWith("DOES NOT HOLD"), f.line());
    // the wrong sign never holds, however small the spreads
    assertFalse(SeedSpread.Effect.of("a > b", "A", new double[] {1, 1}, "B", new double[] {2, 2}).holds());
    assertThrows(IllegalArgumentException.class,
        () -> SeedSpread.Effect.of("a > b", "A", new double[] {1, 2}, "B", new double[] {1}));
  }
}
