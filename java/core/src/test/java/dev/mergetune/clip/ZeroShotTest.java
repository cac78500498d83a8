package dev.mergetune.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mergetune.kernels.NativeRuntime;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The zero-shot head and the feature extractor on a random tiny CLIP, against LibTorch computing the same. */
class ZeroShotTest {
  @TempDir Path dir;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  /** A stand-in tokenizer: one id per character (mod 200) between start 298 and end 299, context 16. */
  static long[][] fakeTokens(List<String> texts) {
    long[][] out = new long[texts.size()][16];
    for (int i = 0; i < texts.size(); i++) {
      String t = texts.get(i);
      out[i][0] = 298;
      int n = Math.min(t.length(), 14);
      for (int j = 0; j < n; j++) out[i][1 + j] = 1 + t.charAt(j) % 200;
      out[i][1 + n] = 299;
    }
    return out;
  }

  private static Tensor tensor(long[][] rows) {
    long[] flat = new long[rows.length * rows[0].length];
    for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, flat, i * rows[0].length, rows[0].length);
    return Tensor.create(flat, rows.length, rows[0].length);
  }

  @Test
  void oneTemplateGivesOpenAisLogits() {
    ClipModel m = new ClipModel(ClipRoundTripTest.TINY).initialize(11);
    List<String> classes = List.of("cat", "dog", "a much longer class name");
    ZeroShotClassifier z = ZeroShotClassifier.build(m, ZeroShotTest::fakeTokens, classes, List.of("a photo of {}."),
        new FeatureExtractor(2, false, null));
    try (NoGradGuard g = new NoGradGuard()) {
      torch.manual_seed(2);
      Tensor images = torch.randn(4, 3, 32, 32);
      Tensor img = m.encodeImage(images);
      Tensor txt = m.encodeText(tensor(fakeTokens(classes.stream().map(c -> "a photo of " + c + ".").toList())));
      float[] want = ClipFixtureTest.values(m.logitsPerImage(img, txt));
      float[][] imgRows = rows(ClipFixtureTest.values(img), 4);
      float[][] got = z.logits(imgRows);
      for (int i = 0; i < 4; i++) {
        for (int c = 0; c < 3; c++) assertEquals(want[i * 3 + c], got[i][c], 1e-4 * Math.abs(want[i * 3 + c]) + 1e-5);
      }
    }
  }

  static float[][] rows(float[] flat, int n) {
    int d = flat.length / n;
    float[][] r = new float[n][d];
    for (int i = 0; i < n; i++) System.arraycopy(flat, i * d, r[i], 0, d);
    return r;
  }

  @Test
  void templatesAreAveragedAfterNormalising() {
    ClipModel m = new ClipModel(ClipRoundTripTest.TINY).initialize(12);
    List<String> templates = List.of("a {}", "the {} here", "{}!");
    ZeroShotClassifier z = ZeroShotClassifier.build(m, ZeroShotTest::fakeTokens, List.of("x"), templates,
        new FeatureExtractor(8, false, null));
    try (NoGradGuard g = new NoGradGuard()) {
      Tensor t = m.encodeText(tensor(fakeTokens(List.of("a x", "the x here", "x!"))));
      Tensor mean = ClipModel.normalize(ClipModel.normalize(t).mean(new long[] {0}, true, new org.bytedeco.pytorch.ScalarTypeOptional()));
      assertArrayEquals(ClipFixtureTest.values(mean), z.weights()[0], 1e-6f);
    }
  }

  @Test
  void topKAndAccuracy() {
    float[][] logits = {{0.1f, 0.9f, 0.5f}, {2f, 1f, 2f}, {0f, 0f, 1f}};
    assertArrayEquals(new int[] {1, 2}, ZeroShotClassifier.topK(logits, 2)[0]);
    assertArrayEquals(new int[] {0, 2}, ZeroShotClassifier.topK(logits, 2)[1]);  // tie: lower index first
    assertEquals(1.0 / 3, ZeroShotClassifier.accuracy(logits, new int[] {1, 2, 0}, 1), 1e-12);
    assertEquals(1.0, ZeroShotClassifier.accuracy(logits, new int[] {1, 2, 0}, 2), 1e-12);  // row 2: {2, 0} (tie → 0)
    assertThrows(IllegalArgumentException.class, () -> ZeroShotClassifier.accuracy(logits, new int[] {1}, 1));
    assertThrows(IllegalArgumentException.class, () -> ZeroShotClassifier.build(new ClipModel(ClipRoundTripTest.TINY),
        ZeroShotTest::fakeTokens, List.of("a"), List.of("no placeholder"), new FeatureExtractor(1, false, null)));
  }

  @Test
  void featuresDoNotDependOnBatchSizeAndTheCacheIsKeyedOnInputs() {
    ClipModel m = new ClipModel(ClipRoundTripTest.TINY).initialize(13);
    long[][] tokens = fakeTokens(List.of("one", "two", "three", "four", "five"));
    float[][] a = new FeatureExtractor(1, false, null).texts(m, "tiny-13", TokenBatches.of(tokens, "t1"));
    float[][] b = new FeatureExtractor(3, false, null).texts(m, "tiny-13", TokenBatches.of(tokens, "t1"));
    for (int i = 0; i < 5; i++) assertArrayEquals(a[i], b[i], 1e-5f);
    FeatureCache cache = new FeatureCache(dir);
    String key = FeatureCache.key("clip-features-v1", "text", "tiny-13", "t1");
    assertNull(cache.get(key));
    float[][] c = new FeatureExtractor(2, false, cache).texts(m, "tiny-13", TokenBatches.of(tokens, "t1"));
    assertNotNull(cache.get(key));
    // A hit returns the stored rows even for another model object; another identity misses.
    float[][] hit = new FeatureExtractor(2, false, cache).texts(new ClipModel(ClipRoundTripTest.TINY), "tiny-13",
        TokenBatches.of(tokens, "t1"));
    for (int i = 0; i < 5; i++) assertArrayEquals(c[i], hit[i]);
    assertNull(cache.get(FeatureCache.key("clip-features-v1", "text", "tiny-14", "t1")));
  }
}
