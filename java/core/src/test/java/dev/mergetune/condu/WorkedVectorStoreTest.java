package dev.mergetune.condu;

import static dev.mergetune.condu.Models.floats;
import static dev.mergetune.condu.Models.tensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.SegmentTable;
import dev.mergetune.kernels.SignConsistentMax;
import dev.mergetune.kernels.TaskMasks;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worked vector of methods.md §2.2 through the full path: unify, store, reload from disk, decouple. δ¹ = [0.3,
 * −0.2, 0, 0.1], δ² = [0.1, 0.4, −0.5, −0.1]; expected U, masks, λ and δ̃ as the document lists them (from the
 * reference implementation): λ¹ = (0.6/4)/(0.3/4) = 2, λ² = (1.1/4)/(1.3/4) = 11/13 = 0.846154.
 */
class WorkedVectorStoreTest {
  private static final float[] D1 = {0.3f, -0.2f, 0f, 0.1f};
  private static final float[] D2 = {0.1f, 0.4f, -0.5f, -0.1f};
  private static final float[] THETA0 = {1.0f, -2.0f, 0.5f, 0.25f};

  @TempDir Path tmp;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  private static Map<String, Tensor> one(float[] v) {
    return Map.of("w", tensor(v, 4));
  }

  @Test
  void unifyStoreReloadDecouple() throws Exception {
    Theta0Ref ref = Models.writeTheta0(tmp.resolve("theta0.safetensors"), one(THETA0));
    Tensor u = tensor(new float[4], 4);
    Path store = tmp.resolve("store");
    try (TaskMasks masks = new TaskMasks(DeviceKind.CPU, new long[] {4}, 2)) {
      SignConsistentMax.Triggers trig = SignConsistentMax.unify(SegmentTable.ofTensors(Map.of("w", u)), masks, null,
          List.of(Models.table(one(D1)), Models.table(one(D2))));
      Prototypes p = new Prototypes(List.of("cat", "dog"), 3, new float[] {1, 0, 0, 0, 1, 0});
      SessionStore.save(store, new SessionStore.Content(1, ref, List.of("w"), List.of(u), masks, List.of("a", "b"),
          trig.rescalers(), Arrays.asList(p, null)));
    }
    try (StoredSession s = SessionStore.load(store)) {
      checkWorkedVector(s);
      assertEquals(List.of("cat", "dog"), s.prototypes(0).orElseThrow().classNames());
      assertArrayEquals(new float[] {1, 0, 0, 0, 1, 0}, s.prototypes(0).orElseThrow().values());
      assertTrue(s.prototypes(1).isEmpty());
      s.theta0().verify();
    }
  }

  @Test
  void twoSessionsOfOneTaskEachGiveTheSameStore() throws Exception {
    // session 1 holds δ¹ alone (λ = 1, U = δ¹); session 2 rebuilds it exactly (1·U = U) and unifies it with δ².
    // θ0 = 0 here: element 3 is an exact tie (0.1 − 0.1 → flag −1), and with a non-zero θ0 the fp32 round trip
    // (θ0 + δ²) − θ0 moves δ² by an ulp, breaks the tie and flips U_3 to +0.1 (seen with θ0_3 = 0.25).
    float[] zero = new float[4];
    Theta0Ref ref = Models.writeTheta0(tmp.resolve("theta0.safetensors"), one(zero));
    Path store = tmp.resolve("store");
    ConduSessions.addTask(store, ref, "a", one(D1), null);
    try (StoredSession s = SessionStore.load(store)) {
      assertEquals(1, s.session());
      assertEquals(1.0, s.rescaler(0), 0.0);
      assertArrayEquals(D1, floats(s.unifiedTensors().get(0)));
    }
    ConduSessions.addTaskFromExpert(store, ref, "b", one(zero), one(add(zero, D2)), null);
    try (StoredSession s = SessionStore.load(store)) {
      assertEquals(2, s.session());
      checkWorkedVector(s);
    }
  }

  private static float[] add(float[] a, float[] b) {
    float[] out = new float[a.length];
    for (int i = 0; i < a.length; i++) out[i] = a[i] + b[i];
    return out;
  }

  private static void checkWorkedVector(StoredSession s) {
    assertEquals(List.of("a", "b"), s.taskNames());
    assertArrayEquals(new float[] {0.3f, 0.4f, -0.5f, -0.1f}, floats(s.unifiedTensors().get(0)), 1e-6f);
    assertArrayEquals(new int[] {0b0001}, s.masks().words(0, 0));
    assertArrayEquals(new int[] {0b1111}, s.masks().words(1, 0));
    assertEquals(2.0, s.rescaler(0), 1e-6);
    assertEquals(0.846154, s.rescaler(1), 1e-6);
    // one reusable buffer for both experts, θ0 = 0 so the expert is δ̃ itself
    Map<String, Tensor> zero = one(new float[4]);
    Map<String, Tensor> buffer = one(new float[] {9, 9, 9, 9});
    s.decouple(0, Models.table(zero), Models.table(buffer));
    assertArrayEquals(new float[] {0.6f, 0f, 0f, 0f}, floats(buffer.get("w")), 1e-6f);
    s.decouple(1, Models.table(zero), Models.table(buffer));
    assertArrayEquals(new float[] {0.253846f, 0.338462f, -0.423077f, -0.084615f}, floats(buffer.get("w")), 1e-6f);
    // with the real θ0: expert = θ0 + δ̃
    Map<String, Tensor> theta0 = one(THETA0);
    s.decouple(1, Models.table(theta0), Models.table(buffer));
    float[] e2 = floats(buffer.get("w"));
    float[] want = {0.253846f, 0.338462f, -0.423077f, -0.084615f};
    for (int j = 0; j < 4; j++) assertEquals(THETA0[j] + want[j], e2[j], 2e-6f, "expert 2 element " + j);
  }
}
