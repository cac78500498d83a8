package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorldPretrainCliTest {
  @TempDir Path dir;

  @Test
  void worldThenPretrainWriteTheCheckpointAndReports() throws IOException {
    Path w = dir.resolve("world");
    CliRunner.Result r = CliRunner.run("world", "--seed", "3", "--out", w.toString(), "--pretrain-pairs", "32",
        "--zeroshot-per-class", "1", "--train-per-class", "1", "--val-per-class", "1", "--test-per-class", "1");
    assertEquals(0, r.exitCode(), r.out());
    assertTrue(r.out().contains("held out"), r.out());
    Path ckpt = dir.resolve("m.safetensors");
    r = CliRunner.run("pretrain", "--world", w.toString(), "--out", ckpt.toString(), "--epochs", "1", "--batch", "16",
        "--width", "32", "--embed", "32", "--layers", "1", "--heads", "1", "--threads", "1", "--no-progress");
    assertEquals(0, r.exitCode(), r.out());
    assertTrue(Files.isRegularFile(ckpt));
    JsonNode j = new ObjectMapper().readTree(dir.resolve("m.json").toFile());
    assertEquals(2, j.get("training").get("steps").asInt());
    assertEquals(56, j.get("zero_shot").get("seen").get("images").asInt());
    assertEquals(8, j.get("zero_shot").get("held_out").get("images").asInt());
    assertTrue(j.get("command").asText().contains("--world WORLD"), j.get("command").asText());
    assertTrue(Files.readString(dir.resolve("m.md")).contains("held out"));
    assertTrue(Files.isRegularFile(dir.resolve("world-bpe.txt.gz")), "the vocabulary is copied beside the checkpoint");

    // the ordinary zeroshot command reads the model with the world's smaller vocabulary and agrees with the report
    r = CliRunner.run("zeroshot", "--model", ckpt.toString(), "--vocab", dir.resolve("world-bpe.txt.gz").toString(),
        "--data", w.resolve("datasets/shapes/test").toString(), "--templates", "a photo of a {}", "--no-progress");
    assertEquals(0, r.exitCode(), r.out());
    double reported = 100 * j.get("zero_shot").get("datasets_top1").get("shapes").asDouble();
    assertTrue(r.out().contains(String.format(java.util.Locale.ROOT, "top-1 %.1f%%", reported)), reported + " vs " + r.out());
    Path other = dev.mergetune.clip.text.SyntheticMerges.write(dir);  // 7 merges: not this model's vocabulary
    r = CliRunner.run("zeroshot", "--model", ckpt.toString(), "--vocab", other.toString(), "--data",
        w.resolve("datasets/shapes/test").toString(), "--no-progress");
    assertEquals(1, r.exitCode(), r.out());
    assertTrue(r.out().contains("not this model's vocabulary"), r.out());
  }

  @Test
  void badInputIsOneLineNamingTheArgument() {
    CliRunner.Result r = CliRunner.run("world", "--out", dir.resolve("x").toString(), "--image-size", "16");
    assertEquals(1, r.exitCode());
    assertTrue(r.out().contains("--image-size"), r.out());
    r = CliRunner.run("pretrain", "--world", dir.resolve("none").toString(), "--out", dir.resolve("m.safetensors").toString());
    assertEquals(1, r.exitCode());
    assertTrue(r.out().contains("world.json"), r.out());
    r = CliRunner.run("pretrain", "--world", dir.toString(), "--out", dir.resolve("m.pt").toString());
    assertEquals(1, r.exitCode());
    assertTrue(r.out().contains(".safetensors"), r.out());
  }
}
