package dev.mergetune.tune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.adapt.CachedFeatures;
import dev.mergetune.adapt.FiniteDifferences;
import dev.mergetune.adapt.LinearProbe;
import dev.mergetune.adapt.LinearProbeMethod;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.ZeroShotClassifier;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.ZeroShotAnchor;
import dev.mergetune.train.LinearWarmupCosine;
import dev.mergetune.train.Losses;
import dev.mergetune.train.TrainingLoop;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MergeTune's weight-space form around a linear probe: the loss and gradient the K5 in-place passes produce equal
 * plain LibTorch autograd of L(w) + β Σ ω_k L(ŵ2 + α_k(w − ŵ2)) written out; the weights come back unchanged; a run
 * with the anchored (K2) optimizer killed after a checkpoint resumes to the uninterrupted result.
 */
class WeightSpaceMergeTuneTest {
  static final int C = 3, D = 8, N = 24;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  static ZeroShotClassifier zeroShot() {
    Random r = new Random(1);
    float[][] w = new float[C][D];
    for (float[] row : w) {
      double n = 0;
      for (int j = 0; j < D; j++) n += (row[j] = (float) r.nextGaussian()) * row[j];
      for (int j = 0; j < D; j++) row[j] /= (float) Math.sqrt(n);
    }
    return new ZeroShotClassifier(List.of("a", "b", "c"), w, 20f);
  }

  static CachedFeatures features() {
    Random r = new Random(2);
    float[][] f = new float[N][D];
    int[] y = new int[N];
    for (int i = 0; i < N; i++) {
      y[i] = i % C;
      for (int j = 0; j < D; j++) f[i][j] = (float) (r.nextGaussian() + (j == y[i] ? 2 : 0));
    }
    return CachedFeatures.of(f, y);
  }

  /** ŵ2: the zero-shot head moved by fixed noise (as if fine-tuned). */
  static Map<String, Tensor> fineTuned(LinearProbe zeroShotProbe) {
    Map<String, Tensor> w2 = new LinkedHashMap<>();
    torch.manual_seed(3);
    try (NoGradGuard g = new NoGradGuard()) {
      for (var e : zeroShotProbe.parameters().entrySet()) {
        w2.put(e.getKey(), e.getValue().detach().add(torch.randn(e.getValue().sizes().vec().get()).mul(new Scalar(0.5))));
      }
    }
    return w2;
  }

  static float[] values(Tensor t) {
    Tensor c = t.detach().contiguous();
    float[] out = new float[(int) c.numel()];
    c.data_ptr_float().get(out);
    return out;
  }

  @Test
  void lossAndGradientEqualAutogradOfTheWrittenOutObjective() {
    CachedFeatures train = features();
    LinearProbe probe = LinearProbe.fromZeroShot(zeroShot(), true);
    Map<String, Tensor> w2 = fineTuned(probe);
    Map<String, Tensor> w1 = new LinkedHashMap<>();
    try (NoGradGuard g = new NoGradGuard()) {
      for (var e : probe.parameters().entrySet()) w1.put(e.getKey(), e.getValue().detach().clone());
    }
    WeightSpaceMergeTune m = new WeightSpaceMergeTune(new LinearProbeMethod(probe, train, null, 0.1), w2, 0.5,
        AlphaPoints.grid(5));
    m.startAt(w1, 0.3);
    int[] batch = {3, 7, 0, 11, 5, 20};
    float[] wBefore = values(probe.parameters().get("weight"));
    float[] bBefore = values(probe.parameters().get("bias"));
    Tensor loss = m.loss(batch, 1);
    assertArrayEquals(wBefore, values(probe.parameters().get("weight")), "w is put back exactly");
    assertArrayEquals(bBefore, values(probe.parameters().get("bias")));
    loss.backward();

    // The same objective with fresh leaves and LibTorch autograd.
    Tensor w = Tensor.create(wBefore, C, D).set_requires_grad(true);
    Tensor b = Tensor.create(bBefore, C).set_requires_grad(true);
    Tensor v = ClipModel.normalize(train.batch(batch, 1));
    Tensor y = train.batchLabels(batch);
    Tensor ref = Losses.crossEntropy(torch.linear(v, w, b), y, 0.1);
    double[] alphas = {0.1, 0.3, 0.5, 0.7, 0.9};
    for (double a : alphas) {
      Tensor wa = w2.get("weight").add(w.sub(w2.get("weight")).mul(new Scalar(a)));
      Tensor ba = w2.get("bias").add(b.sub(w2.get("bias")).mul(new Scalar(a)));
      ref = ref.add(Losses.crossEntropy(torch.linear(v, wa, ba), y, 0.1).mul(new Scalar(0.5 / alphas.length)));
    }
    ref.backward();
    assertEquals(ref.item_double(), loss.item_double(), 1e-5 * Math.abs(ref.item_double()));
    assertClose(values(w.grad()), values(probe.parameters().get("weight").grad()));
    assertClose(values(b.grad()), values(probe.parameters().get("bias").grad()));
    assertTrue(m.lastPathTerm() > 0);
  }

  /**
   * The batch-split estimator averaged over every ordered partition of a 4-item batch into two slices of 2 (each
   * equally likely under its shuffle) is the exact per-point objective: value and gradient.
   */
  @Test
  void batchSplitExpectationOverPartitionsIsTheExactObjective() {
    CachedFeatures train = features();
    LinearProbe probe = LinearProbe.fromZeroShot(zeroShot(), true);
    Map<String, Tensor> w2 = fineTuned(probe);
    AlphaPoints grid = AlphaPoints.grid(2);  // {0.1, 0.6}
    LinearProbeMethod inner = new LinearProbeMethod(probe, train, null, 0.1);
    WeightSpaceMergeTune exact = new WeightSpaceMergeTune(inner, w2, 0.5, grid, WeightSpaceMergeTune.Estimator.EXACT);
    WeightSpaceMergeTune split = new WeightSpaceMergeTune(inner, w2, 0.5, grid,
        WeightSpaceMergeTune.Estimator.BATCH_SPLIT);
    int[] batch = {3, 7, 0, 11};
    Tensor want = exact.loss(batch, 0);
    want.backward();
    float[] wantW = values(probe.parameters().get("weight").grad());
    float[] wantB = values(probe.parameters().get("bias").grad());

    double value = 0;
    float[] sumW = new float[wantW.length];
    float[] sumB = new float[wantB.length];
    int partitions = 0;
    double[] a = grid.alphas(0, batch);
    for (int i = 0; i < 4; i++) {
      for (int j = i + 1; j < 4; j++) {
        int[] first = {batch[i], batch[j]};
        int[] second = java.util.stream.IntStream.of(batch).filter(x -> x != first[0] && x != first[1]).toArray();
        Tensor l = split.lossWithSlices(batch, batch, 0, a, new int[][] {first, second});
        l.backward();
        value += l.item_double();
        float[] gw = values(probe.parameters().get("weight").grad());
        float[] gb = values(probe.parameters().get("bias").grad());
        for (int k = 0; k < gw.length; k++) sumW[k] += gw[k];
        for (int k = 0; k < gb.length; k++) sumB[k] += gb[k];
        partitions++;
      }
    }
    assertEquals(6, partitions);
    for (int k = 0; k < sumW.length; k++) sumW[k] /= partitions;
    for (int k = 0; k < sumB.length; k++) sumB[k] /= partitions;
    assertEquals(want.item_double(), value / partitions, 1e-5 * Math.abs(want.item_double()));
    assertClose(wantW, sumW);
    assertClose(wantB, sumB);
    // one partition alone is not the exact objective (the test can tell the estimator from the exact form)
    Tensor one = split.loss(batch, 0);
    assertTrue(Math.abs(one.item_double() - want.item_double()) > 1e-6);
  }

  @Test
  void batchSplitSlicesPartitionTheBatch() {
    int[] batch = {9, 4, 17, 2, 11, 5, 8};
    int[][] s = WeightSpaceMergeTune.slices(batch, 3, 4);
    assertArrayEquals(new int[] {3, 2, 2}, java.util.Arrays.stream(s).mapToInt(x -> x.length).toArray());
    int[] all = java.util.Arrays.stream(s).flatMapToInt(java.util.Arrays::stream).sorted().toArray();
    assertArrayEquals(java.util.Arrays.stream(batch).sorted().toArray(), all);
    assertTrue(java.util.Arrays.deepEquals(s, WeightSpaceMergeTune.slices(batch, 3, 4)), "a resumed run draws the same");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> WeightSpaceMergeTune.slices(new int[] {1, 2}, 5, 0));
    assertTrue(e.getMessage().contains("N_alpha = 5"), e.getMessage());
  }

  static void assertClose(float[] want, float[] got) {
    double max = 0;
    for (float x : want) max = Math.max(max, Math.abs(x));
    assertTrue(max > 1e-4, "a gradient worth comparing");
    for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-5 * max, "element " + i);
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    CachedFeatures train = features();
    LinearProbe probe = LinearProbe.fromZeroShot(zeroShot(), true);
    WeightSpaceMergeTune m = new WeightSpaceMergeTune(new LinearProbeMethod(probe, train, null, 0.0),
        fineTuned(probe), 0.5, AlphaPoints.grid(5));
    int[] batch = {1, 4, 9, 16, 2};
    m.loss(batch, 0).backward();
    Tensor weight = probe.parameters().get("weight");
    float[] grad = values(weight.grad());
    // with autograd on: the path passes run their own backward inside loss()
    FiniteDifferences.check(weight, grad, List.of(0, 5, 13, 22), 1e-2, 2e-3, () -> m.loss(batch, 0).item_double());
  }

  @Test
  void theStartIsTheTauMixture() {
    LinearProbe probe = LinearProbe.fromZeroShot(zeroShot(), false);
    Map<String, Tensor> w2 = fineTuned(probe);
    Map<String, Tensor> w1 = Map.of("weight", probe.parameters().get("weight").detach().clone());
    WeightSpaceMergeTune m = new WeightSpaceMergeTune(new LinearProbeMethod(probe, features(), null, 0), w2, 1,
        AlphaPoints.grid(5));
    m.startAt(w1, 0.3);
    float[] a = values(w1.get("weight"));
    float[] b = values(w2.get("weight"));
    float[] got = values(probe.parameters().get("weight"));
    for (int i = 0; i < a.length; i++) assertEquals(0.7 * a[i] + 0.3 * b[i], got[i], 1e-6);
    assertThrows(IllegalArgumentException.class, () -> m.startAt(w1, 1.5));
  }

  /** A probe run with the anchored AdamW: fresh objects each time, so the resumed one starts from the checkpoint. */
  static TrainingLoop.Result run(Path dir, int failAtCall, float[][] out) throws Exception {
    LinearProbe probe = LinearProbe.fromZeroShot(zeroShot(), true);
    Map<String, Tensor> w1 = new LinkedHashMap<>();
    try (NoGradGuard g = new NoGradGuard()) {
      for (var e : probe.parameters().entrySet()) w1.put(e.getKey(), e.getValue().detach().clone());
    }
    Map<String, Tensor> w2 = fineTuned(probe);
    LinearProbeMethod inner = new LinearProbeMethod(probe, features(), features(), 0.0);
    WeightSpaceMergeTune m = new WeightSpaceMergeTune(inner, w2, 0.5, AlphaPoints.sampled(3, 7));
    m.startAt(w1, 0.3);
    AnchoredOptimizer opt = AnchoredOptimizer.adamW(m.trainable(), w1, 2.0,
        new ZeroShotAnchor.AdamW(0.05, 0.9, 0.999, 1e-8, 0.0));
    int[] calls = {0};
    dev.mergetune.train.TrainableMethod counted = new dev.mergetune.train.TrainableMethod() {
      public Map<String, Tensor> trainable() {
        return m.trainable();
      }

      public int trainSize() {
        return m.trainSize();
      }

      public Tensor loss(int[] batch, long epoch) {
        if (++calls[0] == failAtCall) throw new IllegalStateException("killed");
        return m.loss(batch, epoch);
      }

      public double evaluate() {
        return m.evaluate();
      }
    };
    TrainingLoop.Result r = new TrainingLoop(counted, opt, new TrainingLoop.Config(6, 8, 5,
        new LinearWarmupCosine(0.05, 2, 18), false, 0, true, true, 3, dir, false)).run();
    out[0] = values(probe.parameters().get("weight"));
    out[1] = values(probe.parameters().get("bias"));
    return r;
  }

  @Test
  void anAnchoredRunKilledAfterACheckpointResumesToTheUninterruptedWeights(@TempDir Path tmp) throws Exception {
    float[][] whole = new float[2][];
    TrainingLoop.Result a = run(tmp.resolve("a"), -1, whole);
    assertThrows(IllegalStateException.class, () -> run(tmp.resolve("b"), 11, new float[2][]));
    float[][] resumed = new float[2][];
    TrainingLoop.Result b = run(tmp.resolve("b"), -1, resumed);
    assertTrue(b.resumed());
    assertEquals(a.lastLoss(), b.lastLoss());
    assertEquals(a.bestEpoch(), b.bestEpoch());
    assertArrayEquals(whole[0], resumed[0]);
    assertArrayEquals(whole[1], resumed[1]);
  }
}
