package dev.mergetune.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LrScheduleTest {
  @Test
  void linearWarmupCosineHandValues() {
    // base 1e-3, 4 warm-up steps, 12 in all: es = 8
    LrSchedule s = new LinearWarmupCosine(1e-3, 4, 12);
    assertEquals(1e-3 * 1 / 4, s.lr(0), 0);
    assertEquals(1e-3 * 2 / 4, s.lr(1), 0);
    assertEquals(1e-3 * 4 / 4, s.lr(3), 0);
    assertEquals(1e-3, s.lr(4), 0);                                  // e = 0: cos 0 = 1
    assertEquals(0.5 * (1 + Math.sqrt(0.5)) * 1e-3, s.lr(6), 1e-18);  // e = 2: cos(π/4)
    assertEquals(0.5e-3, s.lr(8), 1e-18);                            // e = 4: cos(π/2) = 0
    assertEquals(0.5 * (1 - Math.sqrt(0.5)) * 1e-3, s.lr(10), 1e-18); // e = 6: cos(3π/4)
    assertEquals(0, s.lr(12), 1e-18);                                // e = es: cos π = −1
  }

  @Test
  void linearWarmupCosineMtilRecipe() {
    // ZSCL/ConDU: lr 1e-5, 100 warm-up steps, 1000 in all
    LrSchedule s = new LinearWarmupCosine(1e-5, 100, 1000);
    assertEquals(1e-7, s.lr(0), 1e-22);
    assertEquals(5e-6, s.lr(49), 1e-20);
    assertEquals(1e-5, s.lr(99), 1e-20);
    assertEquals(1e-5, s.lr(100), 0);
    assertEquals(0.5e-5, s.lr(550), 1e-20);  // e = 450 = es/2
  }

  @Test
  void linearWarmupCosineWithoutWarmup() {
    LrSchedule s = new LinearWarmupCosine(2.0, 0, 4);
    assertEquals(2.0, s.lr(0), 0);
    assertEquals(1.0, s.lr(2), 1e-15);
  }

  @Test
  void constantWarmupCosineCoopRecipe() {
    // CoOp: lr 0.002, WARMUP_EPOCH 1, WARMUP_CONS_LR 1e-5, MAX_EPOCH 4 (T = 4)
    LrSchedule s = new ConstantWarmupCosine(0.002, 1e-5, 1, 4);
    assertEquals(1e-5, s.lr(0), 0);
    assertEquals(0.002, s.lr(1), 0);                                   // successor at its last_epoch 0
    assertEquals(0.5 * 0.002 * (1 + Math.sqrt(0.5)), s.lr(2), 1e-18);   // cos(π/4)
    assertEquals(0.001, s.lr(3), 1e-18);                              // cos(π/2)
    assertEquals(0.5 * 0.002 * (1 - Math.sqrt(0.5)), s.lr(4), 1e-18);   // cos(3π/4)
  }

  @Test
  void constantWarmupCosineLongerWarmup() {
    LrSchedule s = new ConstantWarmupCosine(1.0, 0.1, 2, 2);
    assertEquals(0.1, s.lr(0), 0);
    assertEquals(0.1, s.lr(1), 0);
    assertEquals(1.0, s.lr(2), 0);
    assertEquals(0.5, s.lr(3), 1e-15);
  }

  @Test
  void constant() {
    LrSchedule s = new LrSchedule.Constant(0.25);
    assertEquals(0.25, s.lr(0), 0);
    assertEquals(0.25, s.lr(1_000_000), 0);
  }

  @Test
  void rejectsBadArguments() {
    assertThrows(IllegalArgumentException.class, () -> new LinearWarmupCosine(1, 5, 5));
    assertThrows(IllegalArgumentException.class, () -> new LinearWarmupCosine(1, 0, 4).lr(-1));
    assertThrows(IllegalArgumentException.class, () -> new ConstantWarmupCosine(1, 0.1, 1, 0));
  }
}
