package dev.mergetune.condu;

import static dev.mergetune.condu.Models.tensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.clip.Activation;
import dev.mergetune.clip.ClipConfig;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.kernels.NativeRuntime;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store keeps the --model-config θ0 is loaded with, so later sessions and predict load the same model; a session
 * given another one, or an expert that is a different model from θ0, is refused.
 */
class ConduModelConfigTest {
  @TempDir Path tmp;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  @Test
  void theStoreRecordsThetaZerosModelConfigAndRefusesAnother() throws Exception {
    Theta0Ref plain = Models.writeTheta0(tmp.resolve("theta0.safetensors"), Map.of("w", tensor(new float[4], 4)));
    Theta0Ref ref = new Theta0Ref(plain.path(), plain.sha256(), "ViT-B-16-quickgelu");
    Path store = tmp.resolve("store");
    ConduSessions.addTask(store, ref, "a", Map.of("w", tensor(new float[] {0.1f, -0.2f, 0, 0.3f}, 4)), null);
    assertEquals("ViT-B-16-quickgelu", SessionStore.summary(store).theta0().modelConfig());
    try (StoredSession s = SessionStore.load(store)) {
      assertEquals("ViT-B-16-quickgelu", s.theta0().modelConfig());
    }
    Map<String, Tensor> delta = Map.of("w", tensor(new float[] {0.2f, 0.1f, -0.1f, 0}, 4));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ConduSessions.addTask(store, new Theta0Ref(plain.path(), plain.sha256(), "ViT-B-16"), "b", delta, null));
    assertTrue(e.getMessage().contains("ViT-B-16-quickgelu") && e.getMessage().contains("not ViT-B-16"), e.getMessage());
  }

  @Test
  void anExpertOfAnotherModelIsRefused() throws Exception {
    ClipConfig quick = ClipConfig.of(32, 32, 1, 64, 16, 2, 8, 300, 64, 2, 1, Activation.QUICK_GELU);
    ClipConfig gelu = ClipConfig.of(32, 32, 1, 64, 16, 2, 8, 300, 64, 2, 1, Activation.GELU);
    Theta0Ref ref = Models.writeTheta0(tmp.resolve("t.safetensors"), Map.of("w", tensor(new float[4], 4)));
    try (ClipModel theta0 = new ClipModel(quick).initialize(1); ClipModel expert = new ClipModel(gelu).initialize(2)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ConduSessions.addTaskFromExpert(tmp.resolve("store"), ref, "t", theta0, expert, null));
      assertTrue(e.getMessage().contains("not a fine-tuned θ0") && e.getMessage().contains("activation"), e.getMessage());
    }
  }
}
