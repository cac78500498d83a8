package dev.mergetune.condu;

import static dev.mergetune.condu.Models.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.adapt.Lora;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.SyntheticMerges;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.merge.InputHashes;
import dev.mergetune.protocol.ProtocolFixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ConDU in the LoRA adapters' space (the released code's: model_lora.py's A and B, delta_models.py's unify over every
 * state-dict tensor of a LoRA CLIP, θ0 with its own random adapters): three sessions of LoRA experts on a tiny CLIP
 * against {@link SessionLoopReference} (double precision) over the A and B deltas — U, masks, rescalers and the
 * decoupled adapters — and the {@link ConduModel} built on the store against hand-built models (θ0's base weights
 * with θ0's adapters, or with the reference's decoupled ones).
 */
class AdapterSpaceTest {
  static final int RANK = 4;
  static final double SCALING = 0.5;

  @TempDir static Path dir;
  static Path theta0File;

  @BeforeAll
  static void model() throws Exception {
    NativeRuntime.ensureTorch();
    theta0File = ProtocolFixtures.tinyClip(dir.resolve("theta0.safetensors"), 7);
  }

  /** A tiny CLIP with adapters holding {@code values} (by name). */
  static ClipModel withAdapters(Map<String, float[]> values) {
    ClipModel m = ClipLoader.load(theta0File);
    Lora l = Lora.attach(m, RANK, SCALING, 0);
    try (NoGradGuard g = new NoGradGuard()) {
      for (Map.Entry<String, Tensor> e : l.parameters().entrySet()) {
        e.getValue().copy_(Tensor.create(values.get(e.getKey()), e.getValue().sizes().vec().get()));
      }
    }
    return m;
  }

  static Map<String, float[]> values(Map<String, Tensor> tensors) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) out.put(e.getKey(), floats(e.getValue().detach()));
    return out;
  }

  static float maxDiff(Tensor a, Tensor b) {
    return a.sub(b).abs().max().item_float();
  }

  @Test
  void threeSessionsOfAdaptersMatchTheDoubleReference() throws Exception {
    Theta0Ref ref = Theta0Ref.of(theta0File);
    Path store = dir.resolve("store");
    ClipModel base = ClipLoader.load(theta0File);
    Lora theta0Lora = Lora.attach(base, RANK, SCALING, 11);
    Map<String, Tensor> theta0 = theta0Lora.parameters();
    AdapterSpace space = new AdapterSpace(RANK, SCALING, 11, theta0);
    List<String> names = new ArrayList<>(theta0.keySet());
    Map<String, float[]> theta0Values = values(theta0);
    // every expert starts from the same draw (seed 3, not θ0's), as the reference's experts do, then "trains"
    Map<String, float[]> init = values(Lora.attach(ClipLoader.load(theta0File), RANK, SCALING, 3).parameters());

    SplittableRandom r = new SplittableRandom(44);
    SessionLoopReference reference = new SessionLoopReference();
    int tainted = 0;
    String theta0Sha = null;
    for (int t = 0; t < 3; t++) {
      Map<String, Tensor> expert = new LinkedHashMap<>();
      double[][] delta = new double[names.size()][];
      for (int s = 0; s < names.size(); s++) {
        float[] x = init.get(names.get(s)).clone();
        float[] z = theta0Values.get(names.get(s));
        delta[s] = new double[x.length];
        for (int j = 0; j < x.length; j++) {
          if (r.nextInt(4) != 0) x[j] += (float) r.nextDouble(-0.02, 0.02);
          delta[s][j] = x[j] - z[j];  // the fp32 difference, as the store takes it
        }
        expert.put(names.get(s), Tensor.create(x, theta0.get(names.get(s)).sizes().vec().get()));
      }
      ConduSessions.addTaskFromExpert(store, ref, "task" + t, theta0, expert, null, space);
      reference.addTask(delta);

      try (StoredSession session = SessionStore.load(store)) {
        assertEquals(names, session.tensorNames(), "the store's tensors are the adapters alone");
        StoredSession.Adapters a = session.adapters().orElseThrow();
        assertEquals(RANK, a.rank());
        assertEquals(SCALING, a.scaling());
        String sha = InputHashes.sha256(a.theta0File());
        if (theta0Sha == null) theta0Sha = sha;
        assertEquals(theta0Sha, sha, "θ0's adapters are written once");
        Map<String, Tensor> stored = new LinkedHashMap<>();
        for (String n : names) stored.put(n, torch.zeros(theta0.get(n).sizes().vec().get()));
        dev.mergetune.tensors.NamedTensors.load(a.theta0File(), stored);
        for (String n : names) assertArrayEquals(theta0Values.get(n), floats(stored.get(n)), 0f, n);

        for (int s = 0; s < names.size(); s++) {
          float[] u = floats(session.unifiedTensors().get(s));
          for (int j = 0; j < u.length; j++) {
            if (Math.abs(reference.sums[s][j]) < 1e-6) {  // a near-tie may elect differently in fp32
              tainted++;
              continue;
            }
            assertEquals(reference.unified[s][j], u[j], 1e-6, names.get(s) + "[" + j + "], session " + (t + 1));
            for (int i = 0; i <= t; i++) {
              assertEquals(reference.masks.get(i)[s][j], session.masks().get(i, s, j), "mask " + i + " " + names.get(s));
            }
          }
        }
        for (int i = 0; i <= t; i++) {
          assertEquals(reference.rescalers.get(i), session.rescaler(i), 1e-5 * reference.rescalers.get(i), "λ " + i);
        }
      }
    }
    assertTrue(tainted < 10, tainted + " near ties");

    // inference on the store: θ0 is the base weights with θ0's adapters, expert i the base with θ0's + λ·M⊙U
    torch.manual_seed(8);
    Tensor images = torch.randn(3, 3, 32, 32);
    ClipTokenizer tok = ClipTokenizer.load(SyntheticMerges.writeClipSized(dir));
    try (ConduModel m = ConduModel.open(store, null, tok, 4); NoGradGuard g = new NoGradGuard()) {
      assertTrue(maxDiff(withAdapters(theta0Values).encodeImage(images), m.theta0().encodeImage(images)) < 1e-6);
      assertTrue(maxDiff(ClipLoader.load(theta0File).encodeImage(images), m.theta0().encodeImage(images)) > 1e-5,
          "θ0's adapters change its features");
      assertTrue(maxDiff(base.encodeImage(images), m.theta0().encodeImage(images)) == 0,
          "θ0 here is the base model with θ0's own adapters attached");
      for (int i = 0; i < 3; i++) {
        Map<String, float[]> decoupled = new LinkedHashMap<>();
        double lambda = reference.rescalers.get(i);
        for (int s = 0; s < names.size(); s++) {
          float[] z = theta0Values.get(names.get(s));
          float[] e = new float[z.length];
          for (int j = 0; j < e.length; j++) {
            e[j] = (float) (z[j] + (reference.masks.get(i)[s][j] ? lambda * reference.unified[s][j] : 0));
          }
          decoupled.put(names.get(s), e);
        }
        float d = maxDiff(withAdapters(decoupled).encodeImage(images), m.expert(i).encodeImage(images));
        assertTrue(d < 1e-5, "expert " + i + " differs by " + d);
        float fromTheta0 = maxDiff(m.theta0().encodeImage(images), m.expert(i).encodeImage(images));
        assertTrue(fromTheta0 > 1e-4, "expert " + i + " is θ0 (" + fromTheta0 + "): the check above could not fail");
      }
    }
  }

  @Test
  void aStoreKeepsItsSpace() throws Exception {
    Theta0Ref ref = Theta0Ref.of(theta0File);
    ClipModel base = ClipLoader.load(theta0File);
    Map<String, Tensor> theta0Adapters = Lora.attach(base, RANK, SCALING, 11).parameters();
    AdapterSpace space = new AdapterSpace(RANK, SCALING, 11, theta0Adapters);
    Map<String, Tensor> expertAdapters = Lora.attach(ClipLoader.load(theta0File), RANK, SCALING, 3).parameters();
    Path adapters = dir.resolve("adapters-store");
    ConduSessions.addTaskFromExpert(adapters, ref, "a", theta0Adapters, expertAdapters, null, space);
    ClipModel plain = ClipLoader.load(theta0File);
    ClipModel other = ClipLoader.load(theta0File);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConduSessions.addTaskFromExpert(
        adapters, ref, "b", plain.stateDict(), other.stateDict(), null));
    assertTrue(e.getMessage().contains("adapters"), e.getMessage());

    Path dense = dir.resolve("dense-store");
    ConduSessions.addTaskFromExpert(dense, ref, "a", plain.stateDict(), other.stateDict(), null);
    e = assertThrows(IllegalArgumentException.class, () -> ConduSessions.addTaskFromExpert(dense, ref, "b",
        theta0Adapters, expertAdapters, null, space));
    assertTrue(e.getMessage().contains("model's weights"), e.getMessage());
  }
}
