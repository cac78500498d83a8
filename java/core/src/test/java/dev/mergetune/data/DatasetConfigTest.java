package dev.mergetune.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetConfigTest {
  @TempDir Path dir;

  @Test
  void imageFolderWithRelativeRootAndOptionalNames() {
    Files2.png(dir.resolve("data/pets/cat/1.png"));
    Files2.png(dir.resolve("data/pets/dog/1.png"));
    Path cfg = Files2.write(dir.resolve("conf/pets.yaml"), "name: pets\nlayout: imagefolder\nroot: ../data/pets\n");
    Dataset d = DatasetConfig.loadFile(cfg);
    assertEquals("pets", d.name());
    assertEquals(List.of("cat", "dog"), d.classNames());
    Files2.write(dir.resolve("conf/names.txt"), "a cat\na dog\n");
    Path named = Files2.write(dir.resolve("conf/named.yaml"),
        "name: pets\nlayout: ImageFolder\nroot: ../data/pets\nclasses: names.txt\n");
    assertEquals(List.of("a cat", "a dog"), DatasetConfig.loadFile(named).classNames());
    Files2.write(dir.resolve("conf/names.txt"), "a cat\n");
    assertTrue(assertThrows(DatasetException.class, () -> DatasetConfig.loadFile(named)).getMessage()
        .contains("1 class names for the 2 class folders"));
  }

  @Test
  void csvCoopAndMtilLayouts() {
    Files2.png(dir.resolve("img/a.png"));
    Files2.write(dir.resolve("m.csv"), "img/a.png,only\n");
    Files2.write(dir.resolve("names.json"), "[\"only\"]");
    Path csv = Files2.write(dir.resolve("csv.yml"), "name: m\nlayout: csv\nroot: m.csv\nclasses: names.json\n");
    assertEquals(1, DatasetConfig.loadFile(csv).size());

    Path images = Files2.mkdirs(dir.resolve("data/caltech-101/101_ObjectCategories"));
    Files2.write(dir.resolve("data/caltech-101/split_zhou_Caltech101.json"), CoopDatasetsTest.splitJson(images, "a", "b"));
    Path coop = Files2.write(dir.resolve("coop.json"),
        "{\"name\": \"caltech101\", \"layout\": \"coop\", \"root\": \"data\", \"split\": \"val\"}");
    Dataset val = DatasetConfig.loadFile(coop);
    assertEquals("Caltech101/val", val.name());
    assertEquals(2, val.size());

    Path data = dir.resolve("data/fgvc-aircraft-2013b/data");
    Files2.write(data.resolve("variants.txt"), "A\nB\n");
    Files2.write(data.resolve("images_variant_test.txt"), "1 A\n2 B\n");
    Files2.touch(data.resolve("images/1.jpg"));
    Path mtil = Files2.write(dir.resolve("mtil.yaml"), "name: Aircraft\nlayout: mtil\nroot: data\nsplit: test\ncheck_files: false\n");
    assertEquals(2, DatasetConfig.loadFile(mtil).size());               // 2.jpg is missing but not checked
    Path checked = Files2.write(dir.resolve("checked.yaml"), "name: Aircraft\nlayout: mtil\nroot: data\nsplit: test\n");
    assertTrue(assertThrows(DatasetException.class, () -> DatasetConfig.loadFile(checked)).getMessage().contains("2.jpg"));
  }

  private String error(String yaml) {
    Path cfg = Files2.write(dir.resolve("bad.yaml"), yaml);
    String m = assertThrows(DatasetException.class, () -> DatasetConfig.read(cfg)).getMessage();
    assertTrue(m.startsWith(cfg.toString()), m);
    return m.substring(cfg.toString().length());
  }

  @Test
  void badConfigsAreErrorsNamingTheFile() {
    assertEquals(": unknown key 'clases' (known: name, layout, root, split, classes, check_files)",
        error("name: x\nlayout: csv\nroot: m.csv\nclases: n.txt\n"));
    assertEquals(": 'name' is missing", error("layout: csv\nroot: m.csv\n"));
    assertEquals(": 'layout' is missing (imagefolder, coop, mtil or csv)", error("name: x\nroot: r\n"));
    assertEquals(": 'root' is missing", error("name: x\nlayout: csv\n"));
    assertEquals(": unknown layout 'zip' (imagefolder, coop, mtil or csv)", error("name: x\nlayout: zip\nroot: r\n"));
    assertEquals(": 'split' applies to the coop and mtil layouts only", error("name: x\nlayout: imagefolder\nroot: r\nsplit: test\n"));
    assertEquals(": 'split' is missing (the coop layout has splits)", error("name: DTD\nlayout: coop\nroot: r\n"));
    assertEquals(": unknown split 'dev' (train, val or test)", error("name: DTD\nlayout: coop\nroot: r\nsplit: dev\n"));
    assertEquals(": 'classes' is missing (the csv layout needs it)", error("name: x\nlayout: csv\nroot: m.csv\n"));
    assertEquals(": 'classes' applies to the imagefolder and csv layouts only",
        error("name: DTD\nlayout: coop\nroot: r\nsplit: test\nclasses: n.txt\n"));
    assertTrue(error("name: Birdsnap\nlayout: coop\nroot: r\nsplit: test\n").startsWith(": unknown CoOp dataset 'Birdsnap'"));
    assertTrue(error("name: UCF101\nlayout: mtil\nroot: r\nsplit: test\n").startsWith(": unknown MTIL dataset 'UCF101'"));
    assertTrue(error("name: [x\n").startsWith(", line "));
    assertEquals(": empty dataset config", error(""));
  }
}
