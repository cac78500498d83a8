package dev.mergetune.clip;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.kernels.NativeRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;

/** What cannot be known, or does not agree, is refused with a message that names it and what to pass. */
class ClipConfigRefusalTest {
  @TempDir Path dir;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  static void refused(Executable e, String... parts) {
    IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
    for (String p : parts) assertTrue(x.getMessage().contains(p), "expected '" + p + "' in: " + x.getMessage());
  }

  @Test
  void unknownHeadsAndActivationAreNotGuessed() throws IOException {
    Path f = TinyClipFiles.writeOpenAi(dir.resolve("sd.safetensors"), TinyClipFiles.random(ClipFamiliesTest.OPENAI, 1),
        Map.of());
    refused(() -> ClipLoader.load(f), "sd.safetensors", "not recorded", "--model-config", "openai", "JSON file");
    refused(() -> ClipLoader.resolve(f, null), "--model-config");
  }

  @Test
  void shapesThatAreNotTheNamedConfigurationAreRefused() throws IOException {
    Path f = TinyClipFiles.writeOpenAi(dir.resolve("sd.safetensors"), TinyClipFiles.random(ClipFamiliesTest.OPENAI, 1),
        Map.of());
    refused(() -> ClipLoader.load(f, "ViT-H-14"), "do not fit", "--model-config ViT-H-14", "vision.width: 1280 vs 128");
    refused(() -> ClipLoader.load(f, "ViT-Q-7"), "not a configuration name", "ViT-bigG-14");
  }

  @Test
  void aGivenConfigurationThatDisagreesWithTheRecordedOneIsRefused() throws IOException {
    Path hf = TinyClipFiles.writeHuggingFace(dir.resolve("hf"), TinyClipFiles.random(ClipFamiliesTest.HF, 2),
        ClipFamiliesTest.HF, 1);
    ObjectNode other = (ObjectNode) new ObjectMapper().readTree(hf.resolve("config.json").toFile());
    ((ObjectNode) other.get("vision_config")).put("num_attention_heads", 4);
    ((ObjectNode) other.get("vision_config")).put("hidden_act", "quick_gelu");
    Path cfg = dir.resolve("other-config.json");
    Files.writeString(cfg, other.toString());
    refused(() -> ClipLoader.load(hf, cfg.toString()), "disagree", "vision.heads: 2 vs 4",
        "vision.activation: gelu vs quick_gelu");
    Path saved = dir.resolve("saved.safetensors");
    try (ClipModel m = ClipLoader.load(hf)) {
      ClipCheckpoints.save(m, saved, Map.of());
    }
    refused(() -> ClipLoader.load(saved, cfg.toString()), "saved.safetensors", "disagree", "vision.heads: 2 vs 4");
  }

  @Test
  void openClipSettingsThisModelDoesNotImplementAreRefusedByName() {
    String ok = ClipFamiliesTest.openClipModelCfg(false);
    for (String[] c : new String[][] {
        {"\"patch_size\": 8,", "\"patch_size\": 8, \"pool_type\": \"avg\",", "pool_type"},
        {"\"patch_size\": 8,", "\"patch_size\": 8, \"attentional_pool\": true,", "attentional_pool"},
        {"\"patch_size\": 8,", "\"patch_size\": 8, \"no_ln_pre\": true,", "no_ln_pre"},
        {"\"heads\": 1,", "\"heads\": 1, \"no_causal_mask\": true,", "no_causal_mask"},
        {"\"heads\": 1,", "\"heads\": 1, \"hf_model_name\": \"roberta-base\",", "hf_model_name"},
        {"\"embed_dim\": 48,", "\"embed_dim\": 48, \"init_logit_bias\": -10,", "init_logit_bias"},
        {"\"patch_size\": 8,", "\"patch_size\": 8, \"frobnicate\": 1,", "unknown key 'frobnicate'"}}) {
      String bad = ok.replace(c[0], c[1]);
      assertTrue(!bad.equals(ok), c[0]);
      refused(() -> OpenClipConfigs.parse(new ObjectMapper().readTree(bad), "cfg.json"), "cfg.json", c[2]);
    }
    refused(() -> OpenClipConfigs.parse(new ObjectMapper().readTree(ok.replace("\"layers\": 2, \"width\": 160",
        "\"layers\": [3, 4, 6, 3], \"width\": 160")), "rn.json"), "ResNet");
  }

  @Test
  void huggingFaceConfigsThisModelCannotRunAreRefusedByKey() throws IOException {
    Path hf = TinyClipFiles.writeHuggingFace(dir.resolve("hf"), TinyClipFiles.random(ClipFamiliesTest.HF, 3),
        ClipFamiliesTest.HF, 1);
    ObjectMapper json = new ObjectMapper();
    String good = Files.readString(hf.resolve("config.json"));
    for (String[] c : new String[][] {{"vision_config", "hidden_act", "\"relu\"", "hidden_act"},
        {"text_config", "eos_token_id", "5", "eos_token_id is 5"}, {"vision_config", "num_channels", "1", "num_channels"}}) {
      ObjectNode n = (ObjectNode) json.readTree(good);
      ((ObjectNode) n.get(c[0])).set(c[1], json.readTree(c[2]));
      Files.writeString(hf.resolve("config.json"), n.toString());
      refused(() -> ClipLoader.load(hf), "config.json", c[3]);
    }
    ObjectNode n = (ObjectNode) json.readTree(good);
    n.put("model_type", "siglip");
    Files.writeString(hf.resolve("config.json"), n.toString());
    refused(() -> ClipLoader.load(hf), "model_type is 'siglip'");
    Files.delete(hf.resolve("config.json"));
    refused(() -> ClipLoader.load(hf), "without their config.json", "snapshot folder");
  }

  @Test
  void aFolderWithoutWeightsNamesWhatItExpects() throws IOException {
    Path empty = Files.createDirectories(dir.resolve("empty"));
    refused(() -> ClipLoader.load(empty), "model.safetensors", "open_clip_model.safetensors");
  }
}
