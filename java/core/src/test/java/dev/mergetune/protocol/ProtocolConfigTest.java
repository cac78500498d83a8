package dev.mergetune.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.clip.text.PromptTemplates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading protocol configs: keys, relative paths, dataset entries, templates; no model is loaded. */
class ProtocolConfigTest {
  @TempDir Path dir;

  private ProtocolConfig read(String yaml) throws Exception {
    Path f = dir.resolve("p.yaml");
    Files.writeString(f, yaml);
    return ProtocolConfig.read(f);
  }

  private String error(String yaml) {
    return assertThrows(ProtocolConfigException.class, () -> read(yaml)).getMessage();
  }

  @Test
  void pathsAreRelativeToTheConfigAndEntriesMayBeFiles() throws Exception {
    Files.writeString(dir.resolve("m.safetensors"), "x");
    Files.createDirectories(dir.resolve("sub"));
    Files.writeString(dir.resolve("sub/pets.yaml"), "name: OxfordPets\nlayout: coop\nroot: data\nsplit: test\n");
    ProtocolConfig c = read("protocol: base-to-novel\nmodel: m.safetensors\nvocab: v.txt.gz\ncache: c\n"
        + "datasets:\n  - sub/pets.yaml\n  - {name: flowers102, layout: coop, root: data, split: test}\n");
    assertEquals(ProtocolConfig.Kind.BASE_TO_NOVEL, c.kind());
    assertEquals(dir.resolve("m.safetensors").toAbsolutePath(), c.model());
    assertEquals(dir.resolve("v.txt.gz").toAbsolutePath(), c.vocab());
    assertEquals(dir.resolve("c").toAbsolutePath(), c.cache());
    assertEquals(32, c.batchSize());
    assertEquals(2, c.datasets().size());
    assertEquals(dir.resolve("sub/pets.yaml"), c.datasets().get(0).base());  // its root resolves against sub/
    assertEquals("Base-to-novel: m.safetensors", c.title());
    // CoOp's template per dataset, its own spelling of Flowers102 included; anything else the fallback.
    assertEquals(List.of("a photo of a {}, a type of pet."), c.templatesFor("OxfordPets"));
    assertEquals(List.of("a photo of a {}, a type of flower."), c.templatesFor("Flowers102"));
    assertEquals(List.of("{} texture."), c.templatesFor("DTD"));
    assertEquals(List.of(ProtocolConfig.FALLBACK_TEMPLATE), c.templatesFor("my pictures"));
  }

  @Test
  void mtilDefaultsToZsclTemplatesAndRepeatsOneModel() throws Exception {
    Files.writeString(dir.resolve("m.pt"), "x");
    ProtocolConfig c = read("protocol: MTIL\nmodel: m.pt\ntitle: zero-shot\ndatasets:\n"
        + "  - {name: Aircraft, layout: mtil, root: d, split: test}\n  - {name: dtd, layout: mtil, root: d, split: test}\n"
        + "  - {name: x, layout: imagefolder, root: x}\n");
    assertEquals(ProtocolConfig.Kind.MTIL, c.kind());
    assertEquals("zero-shot", c.title());
    assertEquals(3, c.sessions().size());
    assertEquals(c.model(), c.sessions().get(2));
    assertEquals(PromptTemplates.mtil("DTD"), c.templatesFor("DTD"));
    assertEquals(List.of(ProtocolConfig.FALLBACK_TEMPLATE), c.templatesFor("x"));
    assertNull(c.vocab());
  }

  @Test
  void explicitTemplates() throws Exception {
    Files.writeString(dir.resolve("m.pt"), "x");
    Files.writeString(dir.resolve("t.txt"), "a {}.\nthe {}.\n");
    String head = "protocol: cross-dataset\nmodel: m.pt\ndatasets: [{name: x, layout: imagefolder, root: x}]\n";
    assertEquals(List.of("a {}.", "the {}."), read(head + "templates: t.txt\n").templatesFor("x"));
    assertEquals(List.of("one {}"), read(head + "templates: one {}\n").templatesFor("x"));
    assertEquals(List.of("a {}", "b {}"), read(head + "templates: [\"a {}\", \"b {}\"]\n").templatesFor("x"));
    assertEquals(80, read(head + "templates: imagenet80\n").templatesFor("x").size());
    assertEquals(PromptTemplates.mtil("Food"), read(head + "templates: mtil:Food\n").templatesFor("x"));
    ProtocolConfig coop = read(head + "templates: coop\n");
    assertEquals(List.of("a photo of {}, a type of food."), coop.templatesFor("Food101"));
    assertTrue(assertThrows(ProtocolConfigException.class, () -> coop.templatesFor("x")).getMessage()
        .contains("no templates for dataset 'x'"));
    assertTrue(error(head + "templates: [no placeholder]\n").contains("with {} for the class name"));
    assertTrue(error(head + "templates: coop:Nowhere\n").contains("no CoOp templates"));
  }

  @Test
  void mistakesNameTheFileAndTheKey() throws Exception {
    Files.writeString(dir.resolve("m.pt"), "x");
    String ds = "datasets: [{name: x, layout: imagefolder, root: x}]\n";
    assertTrue(error("protocol: mtil\nmodel: m.pt\n" + ds).contains("at least 2 datasets"));
    assertTrue(error("protocol: cross-dataset\ncheckpoints: [m.pt]\n" + ds).contains("'checkpoints'"));
    assertTrue(error("protocol: cross-dataset\nmodel: m.pt\ncheckpoints: [m.pt]\n" + ds).contains("not both"));
    assertTrue(error("protocol: cross-dataset\n" + ds).contains("'model' is missing"));
    assertTrue(error("protocol: cross-dataset\nmodel: m.pt\n").contains("'datasets' is missing"));
    assertTrue(error("protocol: cross-dataset\nmodel: m.pt\nbatch_size: 0\n" + ds).contains("'batch_size' must be >= 1"));
    assertTrue(error("protocol: cross-dataset\nmodel: m.pt\ndatasets: [nope.yaml]\n").contains("no such dataset config"));
    assertTrue(error("protocol: cross-dataset\nmodel: m.pt\ndatasets: [[1, 2]]\n").contains("datasets[1]"));
    assertTrue(error("").contains("empty protocol config"));
    String m = error("protocol: cross-dataset\nmodel: m.pt\nextra: 1\n" + ds);
    assertTrue(m.startsWith(dir.resolve("p.yaml").toString()) && m.contains("unknown key 'extra'"), m);
    assertEquals(ProtocolConfig.Kind.DOMAIN_GENERALISATION,
        read("protocol: domain-generalization\nmodel: m.pt\n" + ds).kind());
  }
}
