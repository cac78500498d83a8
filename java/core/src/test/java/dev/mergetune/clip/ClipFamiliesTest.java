package dev.mergetune.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.NativeRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each supported family's own files — a tiny checkpoint written here in that family's key layout with its
 * configuration rules (QuickGELU and GELU, head width 64 and 80, LayerScale, MLP ratios, ε) — loads through its reader
 * and gives the image and text features of the independent double-precision forward ({@link ReferenceClip}) to 1e-5.
 */
class ClipFamiliesTest {
  static final double TOLERANCE = 1e-5;
  @TempDir Path dir;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  /** OpenAI's rules: heads = width / 64 (128 → 2, 64 → 1), QuickGELU, MLP 4·width, ε 1e-5. */
  static final TinyClipFiles.Arch OPENAI = new TinyClipFiles.Arch(48, 32, 8, 12, 300,
      new ReferenceClip.Tower(128, 2, 2, 512, true, 1e-5, false), new ReferenceClip.Tower(64, 2, 1, 256, true, 1e-5, false));

  /** open_clip's rules with head_width 80 (160 → 2 heads), mlp_ratio 2.5, GELU and LayerScale (ls_init_value). */
  static final TinyClipFiles.Arch OPEN_CLIP = new TinyClipFiles.Arch(48, 32, 8, 12, 300,
      new ReferenceClip.Tower(160, 2, 2, 400, false, 1e-5, true), new ReferenceClip.Tower(80, 2, 1, 320, false, 1e-5, true));

  static String openClipModelCfg(boolean quickGelu) {
    return "{\"embed_dim\": 48," + (quickGelu ? " \"quick_gelu\": true," : "")
        + " \"vision_cfg\": {\"image_size\": 32, \"layers\": 2, \"width\": 160, \"head_width\": 80, \"mlp_ratio\": 2.5,"
        + " \"patch_size\": 8, \"ls_init_value\": 0.1},"
        + " \"text_cfg\": {\"context_length\": 12, \"vocab_size\": 300, \"width\": 80, \"heads\": 1, \"layers\": 2,"
        + " \"ls_init_value\": 0.1}}";
  }

  /** Hugging Face: vision GELU with ε 1e-6 and head width 80, text QuickGELU with head width 64. */
  static final TinyClipFiles.Arch HF = new TinyClipFiles.Arch(40, 32, 8, 12, 300,
      new ReferenceClip.Tower(160, 2, 2, 320, false, 1e-6, false), new ReferenceClip.Tower(64, 2, 1, 256, true, 1e-5, false));

  /** Features of {@code model} against the reference; returns the worst relative error (image, text). */
  static double[] compare(ClipModel model, ReferenceClip ref, TinyClipFiles.Arch a) {
    float[] images = TinyClipFiles.images(3, a.resolution(), 11);
    long[] tokens = TinyClipFiles.tokens(4, a.context(), a.vocab(), 12);
    try (NoGradGuard g = new NoGradGuard()) {
      float[] img = ClipFixtureTest.values(model.encodeImage(Tensor.create(images, 3, 3, a.resolution(), a.resolution())));
      float[] txt = ClipFixtureTest.values(model.encodeText(Tensor.create(tokens, 4, a.context())));
      return new double[] {ReferenceClip.relativeError(img, ref.image(images, 3)),
          ReferenceClip.relativeError(txt, ref.text(tokens, 4))};
    }
  }

  static void assertMatches(ClipModel model, ReferenceClip ref, TinyClipFiles.Arch a, String what) {
    double[] e = compare(model, ref, a);
    System.out.printf("%s: relative error image %.2e, text %.2e%n", what, e[0], e[1]);
    assertTrue(e[0] < TOLERANCE && e[1] < TOLERANCE, what + ": image " + e[0] + ", text " + e[1]);
  }

  static ReferenceClip.Tower quick(ReferenceClip.Tower t, boolean quick) {
    return new ReferenceClip.Tower(t.width(), t.layers(), t.heads(), t.mlp(), quick, t.eps(), t.layerScale());
  }

  @Test
  void openAiRulesOnAnOpenAiStateDict() throws IOException {
    TinyClipFiles.Weights w = TinyClipFiles.random(OPENAI, 1);
    Path f = TinyClipFiles.writeOpenAi(dir.resolve("openai.safetensors"), w, Map.of());
    try (ClipModel m = ClipLoader.load(f, "openai")) {
      assertEquals(2, m.config().visionHeads());
      assertEquals(1, m.config().textHeads());
      assertEquals(Activation.QUICK_GELU, m.config().vision().activation());
      assertEquals(Activation.QUICK_GELU, m.config().text().activation());
      assertMatches(m, w.reference(OPENAI), OPENAI, "openai rules");
    }
  }

  @Test
  void anOpenClipSnapshotFolderLoadsWithGeluHeadWidth80AndLayerScale() throws IOException {
    TinyClipFiles.Weights w = TinyClipFiles.random(OPEN_CLIP, 2);
    Path folder = dir.resolve("open_clip");
    TinyClipFiles.writeOpenAi(folder.resolve("open_clip_model.safetensors"), w, Map.of());
    Files.writeString(folder.resolve("open_clip_config.json"), "{\"model_cfg\": " + openClipModelCfg(false)
        + ", \"preprocess_cfg\": {\"mean\": [0.48145466, 0.4578275, 0.40821073]}}");
    try (ClipModel m = ClipLoader.load(folder)) {
      ClipConfig c = m.config();
      assertEquals(List.of(2, 80, 400, 1, 80, 320), List.of(c.visionHeads(), c.vision().headWidth(), c.vision().mlpWidth(),
          c.textHeads(), c.text().headWidth(), c.text().mlpWidth()));
      assertEquals(Activation.GELU, c.vision().activation());
      assertTrue(c.vision().layerScale() && c.text().layerScale());
      ReferenceClip ref = w.reference(OPEN_CLIP);
      assertMatches(m, ref, OPEN_CLIP, "open_clip folder (GELU)");
      // the same weights read as QuickGELU are visibly another model: the comparison can tell them apart
      TinyClipFiles.Arch asQuick = new TinyClipFiles.Arch(48, 32, 8, 12, 300, quick(OPEN_CLIP.vision(), true),
          quick(OPEN_CLIP.text(), true));
      double[] e = compare(m, w.reference(asQuick), asQuick);
      assertTrue(e[0] > 1e-3 && e[1] > 1e-3, "GELU vs QuickGELU reference: " + e[0] + ", " + e[1]);
    }
  }

  @Test
  void anOpenClipConfigFileGivesAPlainStateDictItsConfiguration() throws IOException {
    TinyClipFiles.Arch a = new TinyClipFiles.Arch(48, 32, 8, 12, 300, quick(OPEN_CLIP.vision(), true),
        quick(OPEN_CLIP.text(), true));
    TinyClipFiles.Weights w = TinyClipFiles.random(a, 3);
    Path f = TinyClipFiles.writeOpenAi(dir.resolve("epoch_3.safetensors"), w, Map.of());
    Path cfg = dir.resolve("my-ViT-quickgelu.json");
    Files.writeString(cfg, openClipModelCfg(true));
    ClipConfigUnknownException refused = assertThrows(ClipConfigUnknownException.class, () -> ClipLoader.load(f));
    assertTrue(refused.getMessage().contains("--model-config"), refused.getMessage());
    try (ClipModel m = ClipLoader.load(f, cfg.toString())) {
      assertEquals(Activation.QUICK_GELU, m.config().vision().activation());
      assertEquals(80, m.config().vision().headWidth());
      assertMatches(m, w.reference(a), a, "open_clip model config file (QuickGELU)");
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2})
  void aHuggingFaceSnapshotLoadsFromItsConfigJson(int shards) throws IOException {
    TinyClipFiles.Weights w = TinyClipFiles.random(HF, 4);
    Path folder = TinyClipFiles.writeHuggingFace(dir.resolve("hf"), w, HF, shards);
    ResolvedClipConfig r = ClipLoader.resolve(folder, null);
    assertEquals("hugging-face", r.family());
    try (ClipModel m = ClipLoader.load(folder)) {
      ClipConfig c = m.config();
      assertEquals(Activation.GELU, c.vision().activation());
      assertEquals(Activation.QUICK_GELU, c.text().activation());
      assertEquals(80, c.vision().headWidth());
      assertEquals(1e-6, c.vision().layerNormEps());
      assertEquals(40, c.embedDim());
      assertMatches(m, w.reference(HF), HF, "Hugging Face snapshot, " + shards + " shard(s)");
    }
  }

  @Test
  void aSavedModelRecordsItsConfigurationAndReloadsWithoutFlags() throws IOException {
    TinyClipFiles.Weights w = TinyClipFiles.random(HF, 5);
    Path folder = TinyClipFiles.writeHuggingFace(dir.resolve("hf"), w, HF, 1);
    Path saved = dir.resolve("saved.safetensors");
    try (ClipModel m = ClipLoader.load(folder)) {
      ClipCheckpoints.save(m, saved, Map.of());
    }
    ResolvedClipConfig r = ClipLoader.resolve(saved, null);
    assertEquals("hugging-face", r.family());
    assertTrue(r.source().contains(ClipConfigJson.METADATA_KEY) && r.source().contains("config.json"), r.source());
    try (ClipModel back = ClipLoader.load(saved)) {
      assertMatches(back, w.reference(HF), HF, "saved and reloaded");
    }
    // named like a snapshot's weights, beside a config.json that is not a CLIPModel's: its own record is used
    Path run = Files.createDirectories(dir.resolve("run"));
    Files.copy(saved, run.resolve("model.safetensors"));
    Files.writeString(run.resolve("config.json"), "{\"model_type\": \"bert\"}");
    assertEquals(r.config(), ClipLoader.resolve(run.resolve("model.safetensors"), null).config());
  }

  @Test
  void legacyHeadCountsMetadataReadsAsTheQuickGeluModelsOfThatTime() throws IOException {
    TinyClipFiles.Arch a = new TinyClipFiles.Arch(48, 32, 8, 12, 300, new ReferenceClip.Tower(64, 2, 2, 256, true, 1e-5,
        false), new ReferenceClip.Tower(64, 2, 4, 256, true, 1e-5, false));
    TinyClipFiles.Weights w = TinyClipFiles.random(a, 6);
    Path f = TinyClipFiles.writeOpenAi(dir.resolve("old.safetensors"), w,
        Map.of(ClipConfigResolver.LEGACY_VISION_HEADS, "2", ClipConfigResolver.LEGACY_TEXT_HEADS, "4"));
    try (ClipModel m = ClipLoader.load(f)) {
      assertEquals(2, m.config().visionHeads());
      assertEquals(4, m.config().textHeads());
      assertMatches(m, w.reference(a), a, "legacy head-count metadata");
    }
  }

  @Test
  void namedOpenClipConfigsFollowOpenClipsRules() {
    // open_clip: heads = width // head_width, MLP = int(width × mlp_ratio); GELU unless -quickgelu
    ClipConfig h = OpenClipConfigs.named("ViT-H-14");
    assertEquals(List.of(1280 / 80, 80, 4 * 1280, 32, 14, 224), List.of(h.visionHeads(), h.vision().headWidth(),
        h.vision().mlpWidth(), h.visionLayers(), h.visionPatchSize(), h.imageResolution()));
    assertEquals(List.of(16, 24, 1024), List.of(h.textHeads(), h.textLayers(), h.embedDim()));
    assertEquals(Activation.GELU, h.vision().activation());
    assertEquals(Activation.QUICK_GELU, OpenClipConfigs.named("ViT-H-14-quickgelu").text().activation());
    ClipConfig g = OpenClipConfigs.named("ViT-g-14");
    assertEquals(List.of(1408 / 88, (int) (1408 * 4.3637)), List.of(g.visionHeads(), g.vision().mlpWidth()));
    ClipConfig big = OpenClipConfigs.named("ViT-bigG-14");
    assertEquals(List.of(1664 / 104, 104, (int) (1664 * 4.9231), 20, 1280 * 4), List.of(big.visionHeads(),
        big.vision().headWidth(), big.vision().mlpWidth(), big.textHeads(), big.text().mlpWidth()));
    assertEquals(336, OpenClipConfigs.named("ViT-L-14-336").imageResolution());
    // OpenAI's own ViT-B/16 and ViT-L/14 are open_clip's -quickgelu configs
    assertEquals(ClipConfig.vitB16(), OpenClipConfigs.named("ViT-B-16-quickgelu"));
    assertEquals(ClipConfig.vitL14(), OpenClipConfigs.named("ViT-L-14-quickgelu"));
    assertEquals(ClipConfig.vitB32(), OpenClipConfigs.named("ViT-B-32-quickgelu"));
    assertEquals(null, OpenClipConfigs.named("ViT-X-99"));
  }

  @Test
  void theProjectsOwnRecordRoundTripsStrictly() {
    ClipConfig c = OpenClipConfigs.named("ViT-bigG-14");
    assertEquals(c, ClipConfigJson.read(ClipConfigJson.write(c), "test"));
    String json = ClipConfigJson.write(c);
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> ClipConfigJson.read(json.replace("\"heads\":16,", ""), "record"));
    assertTrue(missing.getMessage().contains("'heads'"), missing.getMessage());
    IllegalArgumentException extra = assertThrows(IllegalArgumentException.class,
        () -> ClipConfigJson.read(json.replace("\"embed_dim\"", "\"pooling\":\"avg\",\"embed_dim\""), "record"));
    assertTrue(extra.getMessage().contains("unknown key 'pooling'"), extra.getMessage());
  }
}
