package dev.mergetune.adapt;

import static dev.mergetune.adapt.CoopFixtures.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.tensors.SharedFixtures;
import dev.mergetune.train.Losses;
import dev.mergetune.train.Optimizers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CoopPromptLearnerTest {
  static Tensor tokens(long[][] rows) {
    long[] flat = new long[rows.length * 77];
    for (int r = 0; r < rows.length; r++) System.arraycopy(rows[r], 0, flat, r * 77, 77);
    return Tensor.create(flat, rows.length, 77);
  }

  static void assertClose(float[] want, float[] got, double tol) {
    assertEquals(want.length, got.length);
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], tol, "element " + i);
    }
  }

  // (a) --------------------------------------------------------------------------------------------------------

  @Test
  void wordInitialisedContextReproducesThePlainPromptsWithoutTokenizer() {
    ClipModel m = tinyClip();
    CoopPromptLearner learner = handMade(m);
    float[] got = values(learner.classEmbeddings());
    float[] want;
    try (NoGradGuard g = new NoGradGuard()) {
      want = values(ClipModel.normalize(m.encodeText(tokens(rows(A_PHOTO_OF_A, CLASS_IDS)))));
    }
    assertClose(want, got, 1e-6);
    assertArrayEquals(new long[] {4, 32}, learner.classEmbeddings().sizes().vec().get());
    long[] eot = new long[4];
    learner.eotIndex().data_ptr_long().get(eot);
    assertArrayEquals(new long[] {7, 8, 7, 9}, eot);
  }

  @Test
  void wordInitialisedContextReproducesThePlainPromptsWithTheRealTokenizer() {
    ClipTokenizer tok = ClipTokenizer.load(SharedFixtures.clipBpeVocabulary());
    ClipModel m = tinyClip();
    List<String> classes = List.of("cat", "golden_retriever", "sunflower", "Boeing 747-400", "airliner");
    CoopPromptLearner learner = CoopPromptLearner.fromText(m, tok, classes, "a photo of a");
    assertEquals(4, learner.contextSize());
    List<String> texts = new ArrayList<>();
    for (String c : classes) texts.add("a photo of a " + c.replace('_', ' ') + ".");
    int[][] ids = tok.tokenize(texts, 77, Truncation.TRUNCATE);
    long[][] rows = new long[ids.length][77];
    for (int r = 0; r < ids.length; r++) for (int i = 0; i < 77; i++) rows[r][i] = ids[r][i];
    float[] want;
    try (NoGradGuard g = new NoGradGuard()) {
      want = values(ClipModel.normalize(m.encodeText(tokens(rows))));
      // the context is the embedding of the four ids after the start token
      assertClose(values(m.tokenEmbedding(Tensor.create(new long[] {rows[0][1], rows[0][2], rows[0][3], rows[0][4]}, 4))),
          values(learner.context()), 0);
    }
    assertClose(want, values(learner.classEmbeddings()), 1e-6);

    // the random form's "X X X X name." prompts differ from these only in the four context positions
    CoopPromptLearner random = CoopPromptLearner.random(m, tok, classes, 4, 1);
    long[] a = new long[classes.size() * 77];
    long[] b = new long[classes.size() * 77];
    learner.tokenizedPrompts().data_ptr_long().get(a);
    random.tokenizedPrompts().data_ptr_long().get(b);
    for (int i = 0; i < a.length; i++) {
      int pos = i % 77;
      if (pos < 1 || pos > 4) assertEquals(a[i], b[i], "position " + pos);
    }
    assertArrayEquals(values(learner.eotIndex().to(torch.ScalarType.Float)), values(random.eotIndex().to(torch.ScalarType.Float)));
    assertEquals(0.02, std(values(random.context())), 0.004);
  }

  static double std(float[] v) {
    double s = 0;
    double s2 = 0;
    for (float x : v) {
      s += x;
      s2 += (double) x * x;
    }
    double mean = s / v.length;
    return Math.sqrt(s2 / v.length - mean * mean);
  }

  // (b), (c) ---------------------------------------------------------------------------------------------------



  static double loss(CoopPromptLearner learner, Tensor img) {
    try (NoGradGuard g = new NoGradGuard()) {
      return Losses.crossEntropy(learner.logits(img), LABELS, 0).item_double();
    }
  }

  @Test
  void contextGradientMatchesFiniteDifferences() {
    ClipModel m = tinyClip();
    CoopPromptLearner learner = handMade(m);
    Tensor img = imageFeatures(m);
    Tensor l = Losses.crossEntropy(learner.logits(img), LABELS, 0);
    l.backward();
    float[] grad = values(learner.context().grad());
    // the three largest gradient coordinates and two fixed ones; h = 2e-3 (the context rows are ~0.02 in size)
    FiniteDifferences.check(learner.context(), grad, FiniteDifferences.coordinates(grad, 3, 5, 130), 2e-3, 1e-3,
        () -> loss(learner, img));
  }

  @Test
  void onlyTheContextReceivesGradients() {
    ClipModel m = tinyClip();
    CoopPromptLearner learner = handMade(m);
    Losses.crossEntropy(learner.logits(imageFeatures(m)), LABELS, 0).backward();
    assertTrue(learner.context().grad().defined());
    assertTrue(learner.context().grad().abs().sum().item_double() > 0);
    for (Map.Entry<String, Tensor> e : m.stateDict().entrySet()) {
      assertFalse(e.getValue().requires_grad(), e.getKey() + " requires grad");
      assertFalse(e.getValue().grad().defined(), e.getKey() + " has a gradient");
    }
  }

  // (d) --------------------------------------------------------------------------------------------------------

  @Test
  void adamWStepsReduceTheLoss() {
    ClipModel m = tinyClip();
    CoopPromptLearner learner = handMade(m);
    Tensor img = imageFeatures(m);
    Optimizers.Named opt = Optimizers.adamW(Map.of("prompt_learner", List.of(learner.context())),
        new Optimizers.AdamWConfig(2e-3, 0.9, 0.999, 1e-8, 0.01));
    double first = loss(learner, img);
    double previous = first;
    for (int step = 0; step < 8; step++) {
      opt.zeroGrad();
      Losses.crossEntropy(learner.logits(img), LABELS, 0).backward();
      opt.step();
      double now = loss(learner, img);
      assertTrue(now < previous, "step " + step + ": " + previous + " → " + now);
      previous = now;
    }
    assertTrue(previous < first - 0.01, first + " → " + previous);
  }

  // save / load ------------------------------------------------------------------------------------------------

  @Test
  void contextRoundTripsThroughSafetensors(@TempDir Path dir) throws Exception {
    ClipModel m = tinyClip();
    CoopPromptLearner a = handMade(m);
    Path file = dir.resolve("ctx.safetensors");
    a.save(file);
    assertArrayEquals(new long[] {4, 64}, CoopPromptLearner.readContext(file).sizes().vec().get());

    long[] placeholders = {343, 343, 343, 343};
    Tensor other;
    try (NoGradGuard g = new NoGradGuard()) {
      torch.manual_seed(5);
      other = torch.randn(4, 64).mul(new org.bytedeco.pytorch.Scalar(0.02));
    }
    CoopPromptLearner b = new CoopPromptLearner(m, rows(placeholders, CLASS_IDS), other);
    b.load(file);
    assertArrayEquals(values(a.context()), values(b.context()), 0f);
    assertTrue(b.context().requires_grad());
    assertArrayEquals(values(a.classEmbeddings()), values(b.classEmbeddings()), 0f);

    CoopPromptLearner wrongSize;
    try (NoGradGuard g = new NoGradGuard()) {
      wrongSize = new CoopPromptLearner(m, rows(new long[] {343, 343}, CLASS_IDS), torch.zeros(2, 64));
    }
    assertThrows(IllegalArgumentException.class, () -> wrongSize.load(file));
  }

  @Test
  void rejectsMalformedInputs() {
    ClipModel m = tinyClip();
    assertThrows(IllegalArgumentException.class,
        () -> new CoopPromptLearner(m, rows(new long[] {343, 343, 343, 343}, CLASS_IDS), torch.zeros(4, 32)));
    assertThrows(IllegalArgumentException.class, () -> new CoopPromptLearner(m, new long[0][], torch.zeros(4, 64)));
    long[][] tooShort = {new long[77]};
    tooShort[0][0] = SOS;
    tooShort[0][2] = EOS;  // the end-of-text falls inside the context positions
    assertThrows(IllegalArgumentException.class, () -> new CoopPromptLearner(m, tooShort, torch.zeros(4, 64)));
  }
}
