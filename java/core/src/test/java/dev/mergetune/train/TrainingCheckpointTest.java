package dev.mergetune.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.data.SplitMix64;
import dev.mergetune.kernels.NativeRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance test of resuming: a tiny linear classifier trained 20 AdamW steps (LinearWarmupCosine, label smoothing,
 * gradient clipping, batches drawn from the project's seeded RNG, a dropout mask from LibTorch's CPU generator) ends
 * with the same weights, bit for bit, whether it runs straight through or is stopped after step 10, checkpointed, every
 * object dropped, and resumed in fresh objects from the checkpoint.
 */
class TrainingCheckpointTest {
  static final int N = 32, D = 5, C = 3, BATCH = 8, STEPS = 20, STEPS_PER_EPOCH = N / BATCH;
  static final long DATA_SEED = 7, ORDER_SEED = 42, TORCH_SEED = 1234;
  static final LrSchedule SCHEDULE = new LinearWarmupCosine(5e-2, 5, STEPS);

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  /** The fixed data set: features uniform in [−1, 1), labels in [0, C). */
  static final class Data {
    final float[] x = new float[N * D];
    final long[] y = new long[N];

    Data() {
      SplitMix64 r = new SplitMix64(DATA_SEED);
      for (int i = 0; i < x.length; i++) x[i] = (float) (2 * r.nextDouble() - 1);
      for (int i = 0; i < N; i++) y[i] = r.nextInt(C);
    }
  }

  /** A model, its optimizer and the generators: everything one run holds. */
  static final class Run {
    final Tensor w;
    final Tensor b;
    final Optimizers.Named opt;
    SplitMix64 rng;
    long step;

    Run(boolean randomInit) {
      float[] w0 = new float[C * D];
      SplitMix64 init = new SplitMix64(99);
      if (randomInit) for (int i = 0; i < w0.length; i++) w0[i] = (float) (init.nextDouble() - 0.5);
      w = Tensor.create(w0, C, D).set_requires_grad(true);
      b = Tensor.create(new float[C], C).set_requires_grad(true);
      Map<String, List<Tensor>> groups = new LinkedHashMap<>();
      groups.put("weight", List.of(w));
      groups.put("bias", List.of(b));
      opt = Optimizers.adamW(groups, new Optimizers.AdamWConfig(1e-3, 0.9, 0.999, 1e-8, 0.05));
      rng = new SplitMix64(ORDER_SEED);
    }

    Map<String, Tensor> trainable() {
      Map<String, Tensor> m = new LinkedHashMap<>();
      m.put("head.weight", w);
      m.put("head.bias", b);
      return m;
    }

    void trainUntil(Data data, long end) {
      for (; step < end; step++) {
        try (PointerScope scope = new PointerScope()) {
          float[] xb = new float[BATCH * D];
          long[] yb = new long[BATCH];
          for (int i = 0; i < BATCH; i++) {
            int k = rng.nextInt(N);
            System.arraycopy(data.x, k * D, xb, i * D, D);
            yb[i] = data.y[k];
          }
          Tensor x = Tensor.create(xb, BATCH, D);
          Tensor keep = torch.rand(BATCH, D).gt(new Scalar(0.2)).to(torch.ScalarType.Float);  // LibTorch randomness
          x = x.mul(keep).div(new Scalar(0.8));
          Tensor logits = x.matmul(w.t()).add(b);
          opt.zeroGrad();
          Losses.crossEntropy(logits, Tensor.create(yb), 0.1).backward();
          Optimizers.clipGradNorm(opt.parameters(), 0.5);
          opt.setLearningRate(SCHEDULE.lr(step));
          opt.step();
        }
      }
    }
  }

  static int[] bits(Tensor t) {
    float[] v = new float[(int) t.numel()];
    t.detach().contiguous().data_ptr_float().get(v);
    int[] out = new int[v.length];
    for (int i = 0; i < v.length; i++) out[i] = Float.floatToRawIntBits(v[i]);
    return out;
  }

  @Test
  void resumedRunEqualsUninterruptedRunBitForBit(@TempDir Path dir) throws Exception {
    Data data = new Data();

    torch.manual_seed(TORCH_SEED);
    Run straight = new Run(true);
    straight.trainUntil(data, STEPS);
    int[] wStraight = bits(straight.w);
    int[] bStraight = bits(straight.b);
    straight = null;

    torch.manual_seed(TORCH_SEED);
    Run first = new Run(true);
    first.trainUntil(data, 10);
    int[] wAt10 = bits(first.w);
    TrainingCheckpoint.save(dir, first.step, first.step / STEPS_PER_EPOCH, first.rng, first.trainable(), first.opt.optimizer());
    first = null;  // "kill": nothing of the first half survives but the checkpoint directory
    System.gc();
    torch.manual_seed(555);  // disturb the global generator; the checkpoint must put it back

    TrainingCheckpoint.State state = TrainingCheckpoint.load(dir);
    assertEquals(10, state.step());
    assertEquals(2, state.epoch());
    Run resumed = new Run(false);  // fresh objects, different initial weights
    resumed.rng = state.restore(resumed.trainable(), resumed.opt.optimizer());
    resumed.step = state.step();
    assertArrayEquals(wAt10, bits(resumed.w));
    resumed.trainUntil(data, STEPS);

    assertArrayEquals(wStraight, bits(resumed.w), "weights");
    assertArrayEquals(bStraight, bits(resumed.b), "bias");
  }

  @Test
  void withoutOptimizerStateTheRunDiverges(@TempDir Path dir) throws Exception {
    // guards the test above: it would pass vacuously if the optimizer state did not matter
    Data data = new Data();
    torch.manual_seed(TORCH_SEED);
    Run straight = new Run(true);
    straight.trainUntil(data, STEPS);
    torch.manual_seed(TORCH_SEED);
    Run first = new Run(true);
    first.trainUntil(data, 10);
    TrainingCheckpoint.save(dir, first.step, 2, first.rng, first.trainable(), first.opt.optimizer());
    TrainingCheckpoint.State state = TrainingCheckpoint.load(dir);
    Run resumed = new Run(false);
    state.restoreTrainable(resumed.trainable());
    state.restoreTorchRng();
    resumed.rng = state.rng();
    resumed.step = state.step();
    resumed.trainUntil(data, STEPS);
    assertFalse(java.util.Arrays.equals(bits(straight.w), bits(resumed.w)));
  }

  @Test
  void optimizerStateRoundTripsExactly(@TempDir Path dir) throws Exception {
    Data data = new Data();
    torch.manual_seed(TORCH_SEED);
    Run a = new Run(true);
    a.trainUntil(data, 3);
    TrainingCheckpoint.save(dir.resolve("one"), a.step, 0, a.rng, a.trainable(), a.opt.optimizer());
    Run b = new Run(false);
    TrainingCheckpoint.load(dir.resolve("one")).restore(b.trainable(), b.opt.optimizer());
    TrainingCheckpoint.save(dir.resolve("two"), a.step, 0, a.rng, b.trainable(), b.opt.optimizer());
    assertArrayEquals(Files.readAllBytes(dir.resolve("one/trainable-0000000003.safetensors")),
        Files.readAllBytes(dir.resolve("two/trainable-0000000003.safetensors")));
    assertArrayEquals(Files.readAllBytes(dir.resolve("one/torch-rng-0000000003.bin")),
        Files.readAllBytes(dir.resolve("two/torch-rng-0000000003.bin")));
    // The optimizer archive's bytes are not compared: LibTorch keys each parameter's state by its TensorImpl address,
    // which differs between the two optimizers. Instead, the restored state must act the same: one more identical step
    // from each gives identical bits.
    torch.manual_seed(3);
    a.trainUntil(data, 4);
    torch.manual_seed(3);
    b.rng = new SplitMix64(TrainingCheckpoint.load(dir.resolve("one")).rngState());
    b.step = 3;
    b.trainUntil(data, 4);
    assertArrayEquals(bits(a.w), bits(b.w));
    assertArrayEquals(bits(a.b), bits(b.b));
  }

  @Test
  void newerCheckpointReplacesOlderFilesAndNamesMustMatch(@TempDir Path dir) throws Exception {
    Data data = new Data();
    Run a = new Run(true);
    a.trainUntil(data, 1);
    TrainingCheckpoint.save(dir, 1, 0, a.rng, a.trainable(), a.opt.optimizer());
    a.trainUntil(data, 2);
    TrainingCheckpoint.save(dir, 2, 0, a.rng, a.trainable(), a.opt.optimizer());
    try (var files = Files.list(dir)) {
      List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
      assertEquals(List.of("optimizer-0000000002.pt", "torch-rng-0000000002.bin", "trainable-0000000002.safetensors",
          "training-state.json"), names);
    }
    TrainingCheckpoint.State s = TrainingCheckpoint.load(dir);
    assertEquals(a.rng.state(), s.rngState());
    Map<String, Tensor> wrong = Map.of("head.weight", a.w);
    assertThrows(IllegalArgumentException.class, () -> s.restoreTrainable(wrong));
    assertTrue(Files.readString(dir.resolve(TrainingCheckpoint.STATE_FILE)).contains("\"step\" : 2"));
  }
}
