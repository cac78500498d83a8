package dev.mergetune.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.NativeRuntime;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fixture-free checks: random weights saved and reloaded give identical outputs; the forward pass's contracts. */
class ClipRoundTripTest {
  @TempDir Path dir;

  static final ClipConfig TINY = ClipConfig.of(32, 32, 2, 64, 16, 2, 16, 300, 64, 1, 2, Activation.QUICK_GELU);

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  private static Tensor tokens() {
    long[] ids = new long[2 * 16];
    ids[0] = 298; ids[1] = 5; ids[2] = 7; ids[3] = 299;                  // sot, 5, 7, eot
    ids[16] = 298; ids[17] = 299;                                        // the empty text
    return Tensor.create(ids, 2, 16);
  }

  @Test
  void savedWeightsReloadToTheSameOutputs() throws Exception {
    ClipModel a = new ClipModel(TINY).initialize(3);
    Path p = dir.resolve("tiny.safetensors");
    ClipCheckpoints.save(a, p, Map.of("mergetune.note", "test"));
    ClipModel b = ClipLoader.load(p);
    assertEquals(TINY, b.config());
    try (NoGradGuard g = new NoGradGuard()) {
      torch.manual_seed(1);
      Tensor images = torch.randn(3, 3, 32, 32);
      assertArrayEquals(ClipFixtureTest.values(a.encodeImage(images)), ClipFixtureTest.values(b.encodeImage(images)));
      assertArrayEquals(ClipFixtureTest.values(a.encodeText(tokens())), ClipFixtureTest.values(b.encodeText(tokens())));
    }
  }

  @Test
  void initialisationIsDeterministicAndTheTextTowerIsCausal() {
    ClipModel a = new ClipModel(TINY).initialize(5);
    ClipModel b = new ClipModel(TINY).initialize(5);
    try (NoGradGuard g = new NoGradGuard()) {
      float[] fa = ClipFixtureTest.values(a.encodeText(tokens()));
      assertArrayEquals(fa, ClipFixtureTest.values(b.encodeText(tokens())));
      // Changing a token after the end-of-text token cannot change the features (causal mask, pooling at eot).
      Tensor t = tokens();
      t.select(0, 0).select(0, 10).fill_(new Scalar(42));
      assertArrayEquals(fa, ClipFixtureTest.values(a.encodeText(t)));
      // Changing a token before it does.
      Tensor u = tokens();
      u.select(0, 0).select(0, 1).fill_(new Scalar(42));
      float[] fu = ClipFixtureTest.values(a.encodeText(u));
      assertTrue(fu[0] != fa[0] || fu[1] != fa[1]);
    }
  }

  @Test
  void wrongInputShapesAreClearErrors() {
    ClipModel m = new ClipModel(TINY);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.encodeImage(torch.zeros(1, 3, 16, 16)));
    assertTrue(e.getMessage().contains("[B, 3, 32, 32]"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> m.encodeText(Tensor.create(new long[] {1, 2}, 1, 2)));
  }
}
