package dev.mergetune.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mergetune.merge.MergeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The strict config rules of issue 25, each on the case that used to be coerced or accepted. */
class StrictConfigTest {
  @TempDir Path dir;

  record Settings(@JsonProperty("top_k") Integer topK, @JsonProperty("seed") Long seed, @JsonProperty("lr") Double lr,
      @JsonProperty("sequential") Boolean sequential, @JsonProperty("name") String name,
      @JsonProperty("models") List<String> models) {}

  private Path yaml(String text) throws IOException {
    Path f = dir.resolve("c.yaml");
    Files.writeString(f, text);
    return f;
  }

  private void refused(String text, String... fragments) throws IOException {
    Path f = yaml(text);
    ConfigException e = assertThrows(ConfigException.class, () -> StrictConfig.read(f, Settings.class, "config"), text);
    assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
    assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    for (String s : fragments) assertTrue(e.getMessage().contains(s), "'" + s + "' not in: " + e.getMessage());
    // the tree reader refuses the same inputs
    if (!text.contains("unknown")) {
      assertThrows(ConfigException.class, () -> {
        JsonNode root = StrictConfig.tree(f, "config");
        StrictConfig.integer(f, root, "top_k", 4);
        StrictConfig.longInteger(f, root, "seed", 0);
        StrictConfig.bool(f, root, "sequential", false);
        StrictConfig.text(f, root, "name", "");
        StrictConfig.number(f, root, "lr", 0);
      }, text);
    }
  }

  @Test
  void noCoercionNoDuplicatesNoNulls() throws IOException {
    refused("top_k: abc\n", "top_k");
    refused("top_k: true\n", "top_k");
    refused("top_k: 2.9\n", "top_k");
    refused("top_k: \"4\"\n", "top_k");
    refused("seed: 1.5\n", "seed");
    refused("sequential: 1\n", "sequential");
    refused("sequential: \"yes\"\n", "sequential");
    refused("name: 3\n", "name");
    refused("lr: \"0.1\"\n", "lr");
    refused("top_k: 1\ntop_k: 2\n", "duplicate", "top_k");
    refused("models: [null]\n", "models", "null");
    refused("name: null\n", "name", "null");
  }

  @Test
  void wellTypedValuesAndAbsentKeysRead() throws IOException {
    Path f = yaml("top_k: 3\nseed: 7\nlr: 1\nsequential: true\nname: x\nmodels: [a.safetensors]\n");
    assertEquals(new Settings(3, 7L, 1.0, true, "x", List.of("a.safetensors")), StrictConfig.read(f, Settings.class, "config"));
    JsonNode root = StrictConfig.tree(f, "config");
    assertEquals(3, StrictConfig.integer(f, root, "top_k", 4));
    assertEquals(4, StrictConfig.integer(f, root, "absent", 4));
    assertEquals(1.0, StrictConfig.number(f, root, "lr", 0));
    Path g = yaml("name: only\n");
    assertEquals(new Settings(null, null, null, null, "only", null), StrictConfig.read(g, Settings.class, "config"));
  }

  @Test
  void sizeAndFileTypeAreCheckedBeforeParsing() throws IOException {
    Path big = dir.resolve("big.yaml");
    Files.writeString(big, "name: \"" + "x".repeat((int) StrictConfig.MAX_BYTES) + "\"\n");
    ConfigException e = assertThrows(ConfigException.class, () -> StrictConfig.read(big, Settings.class, "config"));
    assertTrue(e.getMessage().contains("configs are at most"), e.getMessage());
    ConfigException dev = assertThrows(ConfigException.class, () -> StrictConfig.tree(Path.of("/dev/zero"), "config"));
    assertTrue(dev.getMessage().contains("character device"), dev.getMessage());
  }

  @Test
  void theMergeConfigIsStrict() throws IOException {
    Path f = yaml("method: ties\nmodels: [null]\nout: x.safetensors\n");
    ConfigException e = assertThrows(ConfigException.class, () -> MergeConfig.read(f));
    assertTrue(e.getMessage().contains("models") && e.getMessage().contains("null"), e.getMessage());
    Path g = yaml("method: dare\nmodels: [a]\nout: x\nseed: 1.5\n");
    ConfigException s = assertThrows(ConfigException.class, () -> MergeConfig.read(g));
    assertTrue(s.getMessage().contains("seed"), s.getMessage());
    Path h = yaml("method: task-arithmetic\nmodels: [a]\nout: x\nscale: abc\n");
    ConfigException l = assertThrows(ConfigException.class, () -> MergeConfig.read(h));
    assertTrue(l.getMessage().contains("'scale' must be a list of numbers, got a string"), l.getMessage());
    assertTrue(!l.getMessage().contains("Cannot deserialize"), l.getMessage());
  }

  @Test
  void jacksonTypeMismatchesReadAsWhatWasExpected() {
    assertEquals("must be a list of numbers, got a string", StrictConfig.mismatch(
        "Cannot deserialize value of type `java.util.ArrayList<java.lang.Float>` from String value (token `X`)"));
    assertEquals("must be a string, got a mapping", StrictConfig.mismatch(
        "Cannot deserialize value of type `java.lang.String` from Object value (token `JsonToken.START_OBJECT`)"));
    assertEquals("must be an integer, got a list",
        StrictConfig.mismatch("Cannot deserialize value of type `int` from Array value (token `START_ARRAY`)"));
    String odd = "Cannot deserialize value of type `com.example.Thing` from String value";
    assertEquals(odd, StrictConfig.mismatch(odd));
  }

  @Test
  void theMtilConfigIsStrict() throws IOException {
    for (String bad : List.of("top_k: abc", "top_k: true", "top_k: 2.9", "batch_size: abc", "sequential: 1",
        "method: 3", "top_k: 1\ntop_k: 2")) {
      Path f = yaml("model: m.pt\n" + bad + "\ntasks: []\n");
      IllegalArgumentException e = assertThrows(dev.mergetune.protocol.ProtocolConfigException.class,
          () -> dev.mergetune.condu.MtilConfig.read(f), bad);
      String key = bad.substring(0, bad.indexOf(':'));
      assertTrue(e.getMessage().contains(key) && e.getMessage().startsWith(f.toString()), bad + " -> " + e.getMessage());
    }
  }
}
