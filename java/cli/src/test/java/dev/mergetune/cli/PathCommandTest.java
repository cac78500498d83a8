package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.eval.Accuracy;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.protocol.ClassificationTask;
import dev.mergetune.protocol.InterpolationPath;
import dev.mergetune.protocol.ProtocolFixtures;
import dev.mergetune.protocol.ProtocolFixtures.Image;
import dev.mergetune.protocol.ZeroShotClip;
import dev.mergetune.tensors.SharedFixtures;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mergetune path}: the ends of the path are the two models themselves. */
class PathCommandTest {
  private static final List<String> CLASSES = List.of("circle", "square", "triangle");
  private static final String TEMPLATE = "a photo of a {}.";

  @TempDir Path dir;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  /** [top-1, loss] of a model's own zero-shot head, through the protocol classifier. */
  private static double[] zeroShot(Path model, Path vocab, List<Image> images) {
    ClipModel clip = ClipLoader.load(model);
    ZeroShotClip c = new ZeroShotClip(clip, null, ClipInputs.tokenizer(ClipInputs.vocabulary(vocab, model, clip).tokenizer(), clip, true),
        new FeatureExtractor(4, false, null));
    float[][] logits = c.logits(new ClassificationTask("shapes", CLASSES, List.of(TEMPLATE),
        images.stream().map(Image::file).toList()));
    int[] labels = images.stream().mapToInt(Image::label).toArray();
    return new double[] {Accuracy.top1(logits, labels), InterpolationPath.crossEntropy(logits, labels)};
  }

  @Test
  void endsEqualTheZeroShotEvaluationOfEachModel() throws Exception {
    Path vocab = SharedFixtures.clipBpeVocabulary();
    Path a = ProtocolFixtures.tinyClip(dir.resolve("a.safetensors"), 31);
    Path b = ProtocolFixtures.tinyClip(dir.resolve("b.safetensors"), 32);
    List<Image> images = ProtocolFixtures.imageFolder(dir.resolve("shapes"), CLASSES, 3, 6);
    Path out = dir.resolve("report");
    CliRunner.Result r = CliRunner.run("path", "--from", a.toString(), "--to", b.toString(), "--alphas", "0:1:0.5",
        "--data", dir.resolve("shapes").toString(), "--vocab", vocab.toString(), "--out", out.toString(),
        "--no-progress", "--batch", "4");
    assertEquals(0, r.exitCode(), r.out());
    JsonNode s = new ObjectMapper().readTree(out.resolve("report.json").toFile()).get("sections").get(0);
    assertEquals("path", s.get("kind").asText());
    JsonNode loss = s.get("curves").get(0);
    JsonNode acc = s.get("curves").get(1);
    assertEquals("loss", loss.get("quantity").asText());
    assertEquals("accuracy", acc.get("quantity").asText());
    assertArrayEquals(new double[] {0, 0.5, 1}, values(acc.get("alphas")), 0);

    double[] za = zeroShot(a, vocab, images);
    double[] zb = zeroShot(b, vocab, images);
    // alpha 0 is A bit for bit (A + 0·(B − A)); alpha 1 is B up to the rounding of A + (B − A).
    assertEquals(za[0], acc.get("values").get(0).asDouble(), 0);
    assertEquals(za[1], loss.get("values").get(0).asDouble(), 0);
    assertEquals(zb[0], acc.get("values").get(2).asDouble(), 1e-9);
    assertEquals(zb[1], loss.get("values").get(2).asDouble(), 1e-4 * Math.max(1, zb[1]));
    assertNotEquals(za[1], zb[1]);

    // And A's accuracy independently, from logits_per_image.
    ClipModel clipA = ClipLoader.load(a);
    float[][] logits = ProtocolFixtures.logits(clipA, ClipTokenizer.load(vocab), images,
        ProtocolFixtures.prompts(TEMPLATE, CLASSES));
    assertEquals(ProtocolFixtures.top1(logits, images), za[0], 1e-9);
    assertEquals(ProtocolFixtures.loss(logits, images), za[1], 1e-4);

    BufferedImage png = ImageIO.read(out.resolve(s.get("plot").asText()).toFile());
    assertNotNull(png);
    assertEquals(960, png.getWidth());
    assertTrue(Files.readString(out.resolve("report.md")).contains("| α |"));
  }

  @Test
  void badArgumentsAreOneLineErrors() throws Exception {
    Path vocab = SharedFixtures.clipBpeVocabulary();
    Path a = ProtocolFixtures.tinyClip(dir.resolve("a.safetensors"), 1);
    ProtocolFixtures.imageFolder(dir.resolve("shapes"), CLASSES, 1, 0);
    String[][] cases = {{"--alphas", "1:0:0.1", "the stop of 1:0:0.1 is below its start"}, {"--alphas", "0.5", "at least 2 values"},
        {"--alphas", "0,1,0.5", "values must increase"}, {"--alphas", "0:1:x", "not a number"},
        {"--templates", "no placeholder", "neither a template"}};
    for (String[] c : cases) {
      CliRunner.Result r = CliRunner.run("path", "--from", a.toString(), "--to", a.toString(), c[0], c[1], "--data",
          dir.resolve("shapes").toString(), "--vocab", vocab.toString(), "--out", dir.resolve("o").toString());
      assertEquals(1, r.exitCode(), r.out());
      assertEquals(1, r.out().strip().lines().count(), r.out());
      assertTrue(r.out().contains(c[2]), c[2] + " in " + r.out());
    }
  }

  private static double[] values(JsonNode array) {
    double[] v = new double[array.size()];
    for (int i = 0; i < v.length; i++) v[i] = array.get(i).asDouble();
    return v;
  }
}
