package dev.mergetune.adapt;

import dev.mergetune.clip.Activation;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.clip.ClipConfig;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.kernels.NativeRuntime;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoraTest {
  /** A GELU model with 2 heads of width 32, MLP ratio 3 and ε 1e-6 (open_clip-style towers, not OpenAI's). */
  static final ClipConfig TINY = new ClipConfig(32, 32, 16, 16, 300,
      new dev.mergetune.clip.ClipTower(64, 2, 2, 192, Activation.GELU, 1e-6, false),
      new dev.mergetune.clip.ClipTower(64, 2, 2, 192, Activation.GELU, 1e-6, false));

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  static ClipModel tiny() {
    return new ClipModel(TINY).initialize(1);
  }

  static Tensor images() {
    torch.manual_seed(3);
    return torch.randn(2, 3, 32, 32);
  }

  static Tensor tokens() {
    long[] ids = new long[2 * 16];
    ids[0] = 298; ids[1] = 5; ids[2] = 7; ids[3] = 299;
    ids[16] = 298; ids[17] = 42; ids[18] = 299;
    return Tensor.create(ids, 2, 16);
  }

  static float[] values(Tensor t) {
    float[] v = new float[(int) t.numel()];
    t.detach().contiguous().data_ptr_float().get(v);
    return v;
  }

  /** Image features then text features, flattened. */
  static float[] outputs(ClipModel m) {
    try (NoGradGuard g = new NoGradGuard()) {
      float[] a = values(m.encodeImage(images()));
      float[] b = values(m.encodeText(tokens()));
      float[] out = new float[a.length + b.length];
      System.arraycopy(a, 0, out, 0, a.length);
      System.arraycopy(b, 0, out, a.length, b.length);
      return out;
    }
  }

  static double maxAbsDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double m = 0;
    for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs((double) a[i] - b[i]));
    return m;
  }

  /** ConDU's N(0, 0.01²) adapters barely move a random tiny model; larger ones make the checks bite. */
  static void enlarge(Lora lora, double factor) {
    try (NoGradGuard g = new NoGradGuard()) {
      for (Tensor t : lora.trainable()) t.mul_(new Scalar(factor));
    }
  }

  @Test
  void namesTargetsAndInit() {
    ClipModel m = tiny();
    List<String> baseKeys = new ArrayList<>(m.stateDict().keySet());
    Lora lora = Lora.attach(m, 4, 0.125, 11);
    LinkedHashMap<String, Tensor> p = lora.parameters();
    assertEquals(2 * 2 * (TINY.visionLayers() + TINY.textLayers()), p.size());
    assertTrue(p.containsKey("visual.transformer.resblocks.0.mlp.c_fc.lora_A"));
    assertTrue(p.containsKey("visual.transformer.resblocks.1.mlp.c_proj.lora_B"));
    assertTrue(p.containsKey("transformer.resblocks.1.mlp.c_proj.lora_A"));
    for (String k : p.keySet()) assertFalse(k.contains("attn"), k);
    assertEquals(List.of(4L, 64L), List.of(p.get("visual.transformer.resblocks.0.mlp.c_fc.lora_A").sizes().vec().get()[0],
        p.get("visual.transformer.resblocks.0.mlp.c_fc.lora_A").sizes().vec().get()[1]));
    long[] bShape = p.get("visual.transformer.resblocks.0.mlp.c_fc.lora_B").sizes().vec().get();
    assertEquals((long) TINY.vision().mlpWidth(), bShape[0]);  // the MLP width (192 here, not 4·width)
    assertEquals(4L, bShape[1]);
    assertEquals(baseKeys, new ArrayList<>(m.stateDict().keySet()), "adapters are not in the model's state dict");
    // both A and B drawn from N(0, 0.01²): B is not zero, and the spread is about 0.01
    double sum = 0;
    long n = 0;
    for (Tensor t : p.values()) {
      for (float v : values(t)) {
        sum += (double) v * v;
        n++;
      }
    }
    assertEquals(0.01, Math.sqrt(sum / n), 0.0005);
    for (String k : p.keySet()) if (k.endsWith("lora_B")) assertTrue(maxAbs(values(p.get(k))) > 0, k);
    // seeded: the same seed draws the same adapters
    Lora again = Lora.attach(tiny(), 4, 0.125, 11);
    for (Map.Entry<String, Tensor> e : p.entrySet()) {
      assertEquals(0.0, maxAbsDiff(values(e.getValue()), values(again.parameters().get(e.getKey()))), e.getKey());
    }
  }

  static double maxAbs(float[] v) {
    double m = 0;
    for (float x : v) m = Math.max(m, Math.abs(x));
    return m;
  }

  @Test
  void mergedWeightsGiveTheAdaptedOutputsAndUnmergeRestoresTheBase() {
    ClipModel m = tiny();
    float[] base = outputs(m);
    Map<String, float[]> baseWeights = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : m.stateDict().entrySet()) baseWeights.put(e.getKey(), values(e.getValue()));
    Lora lora = Lora.attach(m, 8, 0.125, 5);
    enlarge(lora, 30);
    float[] adapted = outputs(m);
    assertTrue(maxAbsDiff(base, adapted) > 1e-2, "the adapters change the outputs");

    lora.merge();
    assertTrue(lora.merged());
    float[] merged = outputs(m);
    assertTrue(maxAbsDiff(adapted, merged) <= 1e-5, "merged vs adapted: " + maxAbsDiff(adapted, merged));

    lora.unmerge();
    double worst = 0;
    for (Map.Entry<String, Tensor> e : m.stateDict().entrySet()) {
      worst = Math.max(worst, maxAbsDiff(baseWeights.get(e.getKey()), values(e.getValue())));
    }
    assertTrue(worst <= 1e-6, "unmerged weights differ by " + worst);
    assertTrue(maxAbsDiff(adapted, outputs(m)) <= 1e-5, "adapters active again after unmerge");

    lora.detach();
    assertTrue(maxAbsDiff(base, outputs(m)) <= 1e-5, "detached: the base model again");
  }

  @Test
  void saveLoadRoundTrip(@TempDir Path dir) throws Exception {
    ClipModel m = tiny();
    Lora lora = Lora.attach(m, 4, 0.125, 5);
    enlarge(lora, 20);
    float[] adapted = outputs(m);
    Path f = dir.resolve("lora.safetensors");
    lora.save(f);

    ClipModel other = tiny();
    Lora fresh = Lora.attach(other, 4, 0.125, 99);
    assertTrue(maxAbsDiff(adapted, outputs(other)) > 1e-3);
    fresh.load(f);
    assertEquals(0.0, maxAbsDiff(adapted, outputs(other)), "bit-exact after load");
    for (Map.Entry<String, Tensor> e : lora.parameters().entrySet()) {
      assertEquals(0.0, maxAbsDiff(values(e.getValue()), values(fresh.parameters().get(e.getKey()))));
    }
  }

  /** Sum of the image and text features weighted by fixed random coefficients. */
  static Tensor loss(ClipModel m, Tensor images, Tensor tokens, Tensor wi, Tensor wt) {
    return m.encodeImage(images).mul(wi).sum().add(m.encodeText(tokens).mul(wt).sum());
  }

  @Test
  void onlyAdaptersGetGradientsWhenTheBaseIsFrozen() {
    ClipModel m = tiny();
    Lora lora = Lora.attach(m, 4, 0.125, 5);
    Lora.freezeBase(m);
    torch.manual_seed(8);
    Tensor wi = torch.randn(2, 32);
    Tensor wt = torch.randn(2, 32);
    loss(m, images(), tokens(), wi, wt).backward();
    for (Map.Entry<String, Tensor> e : m.stateDict().entrySet()) {
      assertFalse(e.getValue().grad().defined(), e.getKey() + " got a gradient");
    }
    for (Map.Entry<String, Tensor> e : lora.parameters().entrySet()) {
      Tensor g = e.getValue().grad();
      assertTrue(g.defined(), e.getKey());
      assertTrue(maxAbs(values(g)) > 0, e.getKey() + " gradient is zero");
    }
  }

  @Test
  void adapterGradientMatchesFiniteDifferences() {
    ClipModel m = tiny();
    Lora lora = Lora.attach(m, 4, 0.125, 5);
    enlarge(lora, 30);
    Lora.freezeBase(m);
    torch.manual_seed(8);
    Tensor wi = torch.randn(2, 32);
    Tensor wt = torch.randn(2, 32);
    Tensor img = images();
    Tensor tok = tokens();
    loss(m, img, tok, wi, wt).backward();
    int checked = 0;
    for (String name : List.of("visual.transformer.resblocks.0.mlp.c_fc.lora_A", "visual.transformer.resblocks.1.mlp.c_proj.lora_B",
        "transformer.resblocks.0.mlp.c_proj.lora_A", "transformer.resblocks.1.mlp.c_fc.lora_B")) {
      Tensor p = lora.parameters().get(name);
      float[] g = values(p.grad());
      int k = 0;  // the element with the largest gradient, so float32 differences resolve it
      for (int i = 1; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[k])) k = i;
      Tensor flat = p.detach().view(-1);  // shares p's storage
      double h = 1e-2;
      float orig = values(p)[k];
      double up;
      double down;
      try (NoGradGuard ng = new NoGradGuard()) {
        flat.select(0, k).fill_(new Scalar(orig + h));
        up = loss(m, img, tok, wi, wt).item_double();
        flat.select(0, k).fill_(new Scalar(orig - h));
        down = loss(m, img, tok, wi, wt).item_double();
        flat.select(0, k).fill_(new Scalar(orig));
      }
      double fd = (up - down) / (2 * h);
      assertEquals(g[k], fd, 1e-2 * Math.abs(g[k]) + 1e-3, name + "[" + k + "]: autograd " + g[k] + ", finite difference " + fd);
      checked++;
    }
    assertEquals(4, checked);
  }
}
