package dev.mergetune.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingLoopTest {
  static final int N = 40, D = 6, C = 3;

  /** Softmax regression on fixed synthetic data; the weights start from fixed values. */
  static final class Toy implements TrainableMethod {
    final Tensor w;
    final Tensor w0;
    final Tensor b;
    final Tensor x;
    final Tensor y;
    int lossCalls;
    int failAtCall = -1;
    int nanAtCall = -1;
    final List<Long> epochsSeen = new ArrayList<>();
    final List<float[]> evaluated = new ArrayList<>();

    Toy() {
      float[] xs = new float[N * D];
      long[] ys = new long[N];
      var rng = new dev.mergetune.data.SplitMix64(11);
      for (int i = 0; i < N; i++) {
        ys[i] = i % C;
        for (int j = 0; j < D; j++) xs[i * D + j] = (float) (rng.nextDouble() - 0.5 + (j == ys[i] ? 1.0 : 0.0));
      }
      x = Tensor.create(xs, N, D);
      y = Tensor.create(ys, N);
      float[] w0 = new float[D * C];
      for (int i = 0; i < w0.length; i++) w0[i] = (float) Math.sin(i) * 0.1f;
      this.w0 = Tensor.create(w0, D, C);
      w = this.w0.clone();
      w.set_requires_grad(true);
      b = torch.zeros(C);
      b.set_requires_grad(true);
    }

    @Override
    public Map<String, Tensor> trainable() {
      Map<String, Tensor> m = new LinkedHashMap<>();
      m.put("w", w);
      m.put("b", b);
      return m;
    }

    @Override
    public int trainSize() {
      return N;
    }

    @Override
    public Tensor loss(int[] batch, long epoch) {
      if (++lossCalls == failAtCall) throw new IllegalStateException("killed");
      epochsSeen.add(epoch);
      long[] idx = new long[batch.length];
      for (int i = 0; i < idx.length; i++) idx[i] = batch[i];
      Tensor index = Tensor.create(idx, idx.length);
      Tensor loss = Losses.crossEntropy(x.index_select(0, index).matmul(w).add(b), y.index_select(0, index), 0.0);
      return lossCalls == nanAtCall ? loss.mul(new org.bytedeco.pytorch.Scalar(Double.NaN)) : loss;
    }

    /**
     * A deterministic score that falls as the weights move away from where they started, so the best epoch is the
     * first, not the last.
     */
    @Override
    public double evaluate() {
      evaluated.add(values(w));
      return 1 / (1 + w.sub(w0).norm().item_double());
    }
  }

  static float[] values(Tensor t) {
    Tensor c = t.detach().contiguous();
    float[] out = new float[(int) c.numel()];
    c.data_ptr_float().get(out);
    return out;
  }

  static Optimizers.Named adamW(Toy t) {
    return Optimizers.adamW(Map.of("all", List.copyOf(t.trainable().values())),
        new Optimizers.AdamWConfig(0.05, 0.9, 0.999, 1e-8, 0.01));
  }

  static TrainingLoop.Config config(Path dir, long every, boolean keepBest) {
    return new TrainingLoop.Config(5, 8, 42, new LinearWarmupCosine(0.05, 3, 25), false, 1.0, true, keepBest, every,
        dir, false);
  }

  @Test
  void lossFallsAndStepsFollowTheDropLastRule() throws Exception {
    Toy t = new Toy();
    double before;
    try (NoGradGuard g = new NoGradGuard()) {
      before = t.loss(dev.mergetune.data.EpochOrder.sequential(N), 0).item_double();
    }
    TrainingLoop loop = new TrainingLoop(t, adamW(t), config(null, 0, false));
    assertEquals(5, loop.stepsPerEpoch());
    TrainingLoop.Result r = loop.run();
    assertEquals(25, r.steps());
    double after;
    try (NoGradGuard g = new NoGradGuard()) {
      after = t.loss(dev.mergetune.data.EpochOrder.sequential(N), 0).item_double();
    }
    assertTrue(after < 0.5 * before, before + " -> " + after);
    assertEquals(5, t.evaluated.size());
  }

  @Test
  void keepBestRestoresTheBestEpochsTensors() throws Exception {
    Toy t = new Toy();
    TrainingLoop.Result r = new TrainingLoop(t, adamW(t), config(null, 0, true)).run();
    assertTrue(r.bestEpoch() >= 0);
    assertArrayEquals(t.evaluated.get(r.bestEpoch()), values(t.w));
  }

  @Test
  void resumedRunEqualsUninterruptedRunBitForBit(@TempDir Path tmp) throws Exception {
    Toy plain = new Toy();
    TrainingLoop.Result want = new TrainingLoop(plain, adamW(plain), config(tmp.resolve("a"), 3, true)).run();

    Toy killed = new Toy();
    killed.failAtCall = 17;  // after the checkpoint at step 15 (epoch 3 of 5 done, a best copy saved)
    assertThrows(IllegalStateException.class,
        () -> new TrainingLoop(killed, adamW(killed), config(tmp.resolve("b"), 3, true)).run());

    Toy fresh = new Toy();
    TrainingLoop.Result got = new TrainingLoop(fresh, adamW(fresh), config(tmp.resolve("b"), 3, true)).run();
    assertTrue(got.resumed());
    assertFalse(want.resumed());
    assertTrue(want.bestEpoch() < 3, "the best epoch precedes the checkpoint, so resuming needs best.safetensors: "
        + want.bestEpoch());
    assertEquals(want.bestEpoch(), got.bestEpoch());
    assertEquals(want.bestAccuracy(), got.bestAccuracy());
    assertEquals(want.lastLoss(), got.lastLoss());  // the last step agrees too, not only the restored best copy
    assertArrayEquals(values(plain.w), values(fresh.w));
    assertArrayEquals(values(plain.b), values(fresh.b));
    assertEquals(10, fresh.lossCalls);  // steps 16..25 only
  }

  @Test
  void iterationsCountStepsAndEveryEpochAndTheLastStepReport() throws Exception {
    Toy t = new Toy();
    TrainingLoop loop = new TrainingLoop(t, adamW(t), new TrainingLoop.Config(0, 12, 8, 42,
        new LinearWarmupCosine(0.05, 3, 12), false, 0, true, false, 0, null, false));
    List<TrainingLoop.EpochMetrics> seen = new ArrayList<>();
    loop.onEpochEnd(seen::add);
    assertEquals(12, loop.totalSteps());
    TrainingLoop.Result r = loop.run();
    assertEquals(12, r.steps());
    assertEquals(List.of(5L, 10L, 12L), seen.stream().map(TrainingLoop.EpochMetrics::step).toList());
    assertEquals(List.of(0, 1, 2), seen.stream().map(TrainingLoop.EpochMetrics::epoch).toList());
    assertEquals(3, t.evaluated.size());
    // the loss is told its epoch: steps 1-5 epoch 0, 6-10 epoch 1, 11-12 epoch 2
    assertEquals(List.of(0L, 0L, 0L, 0L, 0L, 1L, 1L, 1L, 1L, 1L, 2L, 2L), t.epochsSeen);
    for (TrainingLoop.EpochMetrics m : seen) {
      assertTrue(Double.isFinite(m.meanLoss()) && m.itemsPerSecond() > 0 && m.validationAccuracy() > 0, m.toString());
    }
  }

  @Test
  void aNonFiniteLossStopsTheRunNamingTheStep() {
    Toy t = new Toy();
    t.nanAtCall = 7;
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> new TrainingLoop(t, adamW(t), config(null, 0, false)).run());
    assertTrue(e.getMessage().contains("NaN at step 7 (epoch 2)"), e.getMessage());
  }
}
