package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.protocol.ProtocolFixtures;
import dev.mergetune.protocol.ProtocolFixtures.Image;
import dev.mergetune.tensors.SharedFixtures;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mergetune eval --protocol}: each protocol on random tiny CLIPs and generated datasets; the report's numbers
 * against accuracies computed independently from the model's own logits_per_image.
 */
class EvalProtocolCliTest {
  private static final List<String> CALTECH = List.of("blue_stripes", "green_circle", "red_square", "yellow_dots");
  private static final List<String> SHAPES = List.of("circle", "square", "triangle");

  @TempDir Path dir;

  @BeforeAll
  static void load() {
    NativeRuntime.ensureTorch();
  }

  private static List<String> spaced(List<String> names) {
    return names.stream().map(n -> n.replace('_', ' ')).toList();
  }

  private static double top1(ClipModel clip, ClipTokenizer tok, List<Image> images, String template, List<String> names) {
    return ProtocolFixtures.top1(ProtocolFixtures.logits(clip, tok, images, ProtocolFixtures.prompts(template, names)),
        images);
  }

  private JsonNode run(Path config) throws Exception {
    Path out = dir.resolve("report-" + config.getFileName());
    CliRunner.Result r = CliRunner.run("eval", "--protocol", config.toString(), "--out", out.toString(), "--no-progress");
    assertEquals(0, r.exitCode(), r.out());
    assertTrue(Files.isRegularFile(out.resolve("report.md")), r.out());
    JsonNode root = new ObjectMapper().readTree(out.resolve("report.json").toFile());
    JsonNode section = root.get("sections").get(0);
    BufferedImage png = ImageIO.read(out.resolve(section.get("plot").asText()).toFile());
    assertNotNull(png, "the plot is a PNG");
    assertTrue(png.getWidth() >= 300 && png.getHeight() >= 300, png.getWidth() + "x" + png.getHeight());
    return section;
  }

  @Test
  void baseToNovelMatchesTheModelsOwnLogits() throws Exception {
    Path vocab = SharedFixtures.clipBpeVocabulary();
    Path model = ProtocolFixtures.tinyClip(dir.resolve("clip.safetensors"), 7);
    List<Image> caltech = ProtocolFixtures.coopCaltech(dir.resolve("data"), CALTECH, 3);
    List<Image> shapes = ProtocolFixtures.imageFolder(dir.resolve("shapes"), SHAPES, 2, 5);
    Files.writeString(dir.resolve("shapes.yaml"), "name: Shapes\nlayout: imagefolder\nroot: shapes\n");
    Path config = dir.resolve("b2n.yaml");
    Files.writeString(config, "protocol: base-to-novel\nmodel: clip.safetensors\nvocab: " + vocab.toAbsolutePath() + "\n"
        + "batch_size: 4\ndatasets:\n  - {name: caltech101, layout: coop, root: data, split: test}\n  - shapes.yaml\n");
    JsonNode s = run(config);
    assertEquals("base-to-novel", s.get("kind").asText());

    ClipModel clip = ClipLoader.load(model);
    ClipTokenizer tok = ClipTokenizer.load(vocab);
    // Caltech101: CoOp's template "a photo of a {}.", '_' read as ' '; base = first ceil(4/2) = 2 classes.
    double cBase = top1(clip, tok, ProtocolFixtures.subset(caltech, 0, 2), "a photo of a {}.", spaced(CALTECH.subList(0, 2)));
    double cNovel = top1(clip, tok, ProtocolFixtures.subset(caltech, 2, 4), "a photo of a {}.", spaced(CALTECH.subList(2, 4)));
    // Shapes: not a CoOp dataset, so the fallback template; base = first ceil(3/2) = 2 classes, novel = 1.
    double sBase = top1(clip, tok, ProtocolFixtures.subset(shapes, 0, 2), "a photo of a {}.", SHAPES.subList(0, 2));
    double sNovel = top1(clip, tok, ProtocolFixtures.subset(shapes, 2, 3), "a photo of a {}.", SHAPES.subList(2, 3));
    JsonNode rows = s.get("rows");
    assertEquals(2, rows.size());
    assertEquals("Caltech101", rows.get(0).get("dataset").asText());
    assertEquals(cBase, rows.get(0).get("base").asDouble(), 1e-9);
    assertEquals(cNovel, rows.get(0).get("novel").asDouble(), 1e-9);
    assertEquals("Shapes", rows.get(1).get("dataset").asText());
    assertEquals(sBase, rows.get(1).get("base").asDouble(), 1e-9);
    assertEquals(100.0, rows.get(1).get("novel").asDouble(), 1e-9);  // one novel class: always right
    assertEquals(sNovel, 100.0, 1e-9);
    double b = (cBase + sBase) / 2;
    double n = (cNovel + sNovel) / 2;
    assertEquals(b, s.get("average").get("base").asDouble(), 1e-9);
    assertEquals(n, s.get("average").get("novel").asDouble(), 1e-9);
    assertEquals(b + n == 0 ? 0 : 2 * b * n / (b + n), s.get("average").get("hm").asDouble(), 1e-9);
  }

  @Test
  void crossDatasetAndDomainGeneralisationTables() throws Exception {
    Path vocab = SharedFixtures.clipBpeVocabulary();
    Path model = ProtocolFixtures.tinyClip(dir.resolve("clip.safetensors"), 11);
    List<Image> src = ProtocolFixtures.imageFolder(dir.resolve("src"), SHAPES, 2, 1);
    List<Image> caltech = ProtocolFixtures.coopCaltech(dir.resolve("data"), CALTECH, 2);
    List<Image> other = ProtocolFixtures.imageFolder(dir.resolve("other"), List.of("cat", "dog"), 3, 9);
    Path config = dir.resolve("cross.json");
    Files.writeString(config, "{\"protocol\": \"cross-dataset\", \"model\": \"clip.safetensors\", \"vocab\": \""
        + vocab.toAbsolutePath() + "\", \"templates\": \"itap of a {}.\", \"source\": {\"name\": \"Source\","
        + " \"layout\": \"imagefolder\", \"root\": \"src\"}, \"datasets\": [{\"name\": \"Caltech101\", \"layout\":"
        + " \"coop\", \"root\": \"data\", \"split\": \"test\"}, {\"name\": \"Pets\", \"layout\": \"imagefolder\","
        + " \"root\": \"other\"}]}");
    JsonNode s = run(config);
    assertEquals("accuracy", s.get("kind").asText());
    ClipModel clip = ClipLoader.load(model);
    ClipTokenizer tok = ClipTokenizer.load(vocab);
    double a0 = top1(clip, tok, src, "itap of a {}.", SHAPES);
    double a1 = top1(clip, tok, caltech, "itap of a {}.", spaced(CALTECH));
    double a2 = top1(clip, tok, other, "itap of a {}.", List.of("cat", "dog"));
    JsonNode rows = s.get("rows");
    assertEquals(3, rows.size());
    assertEquals("Source", rows.get(0).get("dataset").asText());
    assertTrue(rows.get(0).get("source").asBoolean());
    assertEquals(a0, rows.get(0).get("top1").asDouble(), 1e-9);
    assertEquals(a1, rows.get(1).get("top1").asDouble(), 1e-9);
    assertEquals(a2, rows.get(2).get("top1").asDouble(), 1e-9);
    assertEquals((a1 + a2) / 2, s.get("average").asDouble(), 1e-9);  // the source is not averaged

    Path dg = dir.resolve("dg.yaml");
    Files.writeString(dg, "protocol: domain-generalisation\nmodel: clip.safetensors\nvocab: " + vocab.toAbsolutePath()
        + "\ntemplates: [\"itap of a {}.\"]\ndatasets:\n  - {name: Sketchy, layout: imagefolder, root: other}\n");
    JsonNode d = run(dg);
    assertEquals(a2, d.get("rows").get(0).get("top1").asDouble(), 1e-9);
    assertEquals(a2, d.get("average").asDouble(), 1e-9);
  }

  @Test
  void mtilMatrixFromOneCheckpointPerSession() throws Exception {
    Path vocab = SharedFixtures.clipBpeVocabulary();
    Path a = ProtocolFixtures.tinyClip(dir.resolve("s1.safetensors"), 21);
    Path b = ProtocolFixtures.tinyClip(dir.resolve("s2.safetensors"), 22);
    List<Image> d1 = ProtocolFixtures.imageFolder(dir.resolve("d1"), SHAPES, 2, 2);
    List<Image> d2 = ProtocolFixtures.imageFolder(dir.resolve("d2"), List.of("cat", "dog"), 3, 4);
    Path config = dir.resolve("mtil.yaml");
    Files.writeString(config, "protocol: mtil\ncheckpoints: [s1.safetensors, s2.safetensors]\nvocab: "
        + vocab.toAbsolutePath() + "\ntemplates: [\"a photo of the {}.\"]\ncache: cache\ndatasets:\n"
        + "  - {name: One, layout: imagefolder, root: d1}\n  - {name: Two, layout: imagefolder, root: d2}\n");
    JsonNode s = run(config);
    assertEquals("mtil", s.get("kind").asText());
    ClipTokenizer tok = ClipTokenizer.load(vocab);
    double[][] want = new double[2][2];
    Path[] ckpts = {a, b};
    for (int i = 0; i < 2; i++) {
      ClipModel clip = ClipLoader.load(ckpts[i]);
      want[i][0] = top1(clip, tok, d1, "a photo of the {}.", SHAPES);
      want[i][1] = top1(clip, tok, d2, "a photo of the {}.", List.of("cat", "dog"));
    }
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 2; j++) assertEquals(want[i][j], s.get("matrix").get(i).get(j).asDouble(), 1e-9, i + "," + j);
    }
    assertEquals(want[0][1], s.get("transfer").asDouble(), 1e-9);
    assertEquals((want[0][0] + want[0][1] + want[1][0] + want[1][1]) / 4, s.get("average").asDouble(), 1e-9);
    assertEquals((want[1][0] + want[1][1]) / 2, s.get("last").asDouble(), 1e-9);
    // Run again from the cache: the second session's text features must not be the first's.
    assertEquals(s, run(config));

    // Zero-shot: the same model in every session, so every row is the first.
    Path zs = dir.resolve("zs.yaml");
    Files.writeString(zs, Files.readString(config).replace("checkpoints: [s1.safetensors, s2.safetensors]",
        "model: s2.safetensors"));
    JsonNode z = run(zs);
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 2; j++) assertEquals(want[1][j], z.get("matrix").get(i).get(j).asDouble(), 1e-9);
    }
  }

  @Test
  void badConfigsAreOneLineErrors() throws Exception {
    Path model = dir.resolve("clip.safetensors");
    Files.writeString(model, "not read before the config is checked");
    String[][] cases = {
        {"protocol: base-to-novel\nmodel: clip.safetensors\ndatasets: [{name: x, layout: imagefolder, root: x}]\n"
            + "batch: 3\n", "unknown key 'batch'"},
        {"model: clip.safetensors\ndatasets: [{name: x, layout: imagefolder, root: x}]\n", "'protocol' is missing"},
        {"protocol: few-shot\nmodel: clip.safetensors\ndatasets: [{name: x, layout: imagefolder, root: x}]\n",
            "unknown protocol 'few-shot'"},
        {"protocol: mtil\ncheckpoints: [clip.safetensors]\ndatasets: [{name: x, layout: imagefolder, root: x},"
            + " {name: y, layout: imagefolder, root: y}]\n", "1 checkpoints for 2 datasets"},
        {"protocol: cross-dataset\nmodel: clip.safetensors\ndatasets: [{name: x, layout: imagefolder, root: x,"
            + " splitt: test}]\n", "datasets[1]: unknown key 'splitt'"},
        {"protocol: cross-dataset\nmodel: missing.pt\ndatasets: [{name: x, layout: imagefolder, root: x}]\n",
            "no such checkpoint"},
        {"protocol: mtil\nmodel: clip.safetensors\nsource: {name: x, layout: imagefolder, root: x}\n"
            + "datasets: [{name: x, layout: imagefolder, root: x}, {name: y, layout: imagefolder, root: y}]\n",
            "'source' is for the cross-dataset"},
        {"protocol: base-to-novel\nmodel: clip.safetensors\ntemplates: nonsense\n"
            + "datasets: [{name: x, layout: imagefolder, root: x}]\n", "is neither a set"},
        {"protocol: base-to-novel\nmodel: clip.safetensors\ndatasets: [{name: x, layout: coop, root: x}]\n",
            "'split' is missing"},
        {"protocol: [unclosed\n", "b.yaml, line"},
    };
    for (String[] c : cases) {
      Path config = dir.resolve("b.yaml");
      Files.writeString(config, c[0]);
      CliRunner.Result r = CliRunner.run("eval", "--protocol", config.toString(), "--out", dir.resolve("o").toString());
      assertEquals(1, r.exitCode(), c[0] + "\n" + r.out());
      assertEquals(1, r.out().strip().lines().count(), r.out());
      assertTrue(r.out().startsWith("mergetune: ") && r.out().contains(c[1]), c[1] + " in " + r.out());
    }
    CliRunner.Result r = CliRunner.run("eval", "--protocol", dir.resolve("none.yaml").toString(), "--out", "o");
    assertEquals(1, r.exitCode(), r.out());
    assertTrue(r.out().contains("no such protocol config file"), r.out());
  }
}
