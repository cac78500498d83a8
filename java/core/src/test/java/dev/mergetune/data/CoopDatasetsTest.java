package dev.mergetune.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CoopDatasetsTest {
  @TempDir Path root;

  /** A split file with two classes; images created under {@code imageDir}. */
  static String splitJson(Path imageDir, String a, String b) {
    String[][] train = {{a + "/1.jpg", "0", a}, {a + "/2.jpg", "0", a}, {b + "/3.jpg", "1", b}};
    String[][] val = {{a + "/4.jpg", "0", a}, {b + "/5.jpg", "1", b}};
    String[][] test = {{a + "/6.jpg", "0", a}, {b + "/7.jpg", "1", b}, {b + "/8.jpg", "1", b}};
    StringBuilder sb = new StringBuilder("{\n");
    String[] keys = {"train", "val", "test"};
    String[][][] all = {train, val, test};
    for (int k = 0; k < 3; k++) {
      sb.append("  \"").append(keys[k]).append("\": [\n");
      for (int i = 0; i < all[k].length; i++) {
        String[] e = all[k][i];
        Files2.touch(imageDir.resolve(e[0]));
        sb.append("    [\"").append(e[0]).append("\", ").append(e[1]).append(", \"").append(e[2]).append("\"]")
            .append(i + 1 < all[k].length ? ",\n" : "\n");
      }
      sb.append(k < 2 ? "  ],\n" : "  ]\n");
    }
    return sb.append("}\n").toString();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "Caltech101, caltech-101, 101_ObjectCategories, split_zhou_Caltech101.json",
    "OxfordPets, oxford_pets, images, split_zhou_OxfordPets.json",
    "StanfordCars, stanford_cars, '', split_zhou_StanfordCars.json",
    "Flowers102, oxford_flowers, jpg, split_zhou_OxfordFlowers.json",
    "Food101, food-101, images, split_zhou_Food101.json",
    "SUN397, sun397, SUN397, split_zhou_SUN397.json",
    "DTD, dtd, images, split_zhou_DescribableTextures.json",
    "EuroSAT, eurosat, 2750, split_zhou_EuroSAT.json",
    "UCF101, ucf101, UCF-101-midframes, split_zhou_UCF101.json"})
  void splitFileDatasetsUseCoopsFoldersAndFiles(String name, String folder, String imageDir, String file) {
    Path dir = root.resolve(folder);
    Path images = imageDir == null || imageDir.isEmpty() ? dir : dir.resolve(imageDir);
    Files2.mkdirs(images);
    Files2.write(dir.resolve(file), splitJson(images, "cls_a", "cls b"));
    DatasetSplits s = CoopDatasets.load(name, root);
    assertEquals(name, s.name());
    assertEquals(List.of("cls_a", "cls b"), s.train().classNames());
    assertEquals(3, s.train().size());
    assertEquals(2, s.val().size());
    assertEquals(List.of(0, 1, 1), s.test().samples().stream().map(Sample::label).toList());
    assertEquals(images.resolve("cls_a/1.jpg"), s.train().samples().get(0).image());
    assertEquals(name + "/test", s.test().name());
  }

  @Test
  void registryKnowsTheSuiteTheVariantsAndCoopsClassNames() {
    assertEquals(11, CoopDatasets.SUITE.size());
    assertEquals(15, CoopDatasets.names().size());
    assertEquals("Flowers102", CoopDatasets.canonicalName("OxfordFlowers"));
    assertEquals("DTD", CoopDatasets.canonicalName("describabletextures"));
    assertEquals("ImageNetA", CoopDatasets.canonicalName("imagenet-a"));
    assertEquals("FGVCAircraft", CoopDatasets.canonicalName("fgvcaircraft"));
    DatasetException e = assertThrows(DatasetException.class, () -> CoopDatasets.canonicalName("Birdsnap"));
    assertTrue(e.getMessage().contains("unknown CoOp dataset 'Birdsnap'"), e.getMessage());
  }

  @Test
  void missingFoldersAndFilesAreNamed() {
    DatasetException e = assertThrows(DatasetException.class, () -> CoopDatasets.load("Caltech101", root));
    assertEquals(root.resolve("caltech-101") + ": Caltech101 folder not found", e.getMessage());
    Files2.mkdirs(root.resolve("caltech-101/101_ObjectCategories"));
    e = assertThrows(DatasetException.class, () -> CoopDatasets.load("Caltech101", root));
    assertEquals(root.resolve("caltech-101/split_zhou_Caltech101.json") + ": split file not found", e.getMessage());
    e = assertThrows(DatasetException.class, () -> CoopDatasets.load("Caltech101", root.resolve("nowhere")));
    assertEquals(root.resolve("nowhere") + ": data root not found", e.getMessage());
  }

  @Test
  void missingImagesAreNamedUnlessSkipped() throws Exception {
    Path images = Files2.mkdirs(root.resolve("eurosat/2750"));
    Path json = Files2.write(root.resolve("eurosat/split_zhou_EuroSAT.json"), splitJson(images, "Forest", "River"));
    Files.delete(images.resolve("River/7.jpg"));
    DatasetException e = assertThrows(DatasetException.class, () -> CoopDatasets.load("EuroSAT", root));
    assertTrue(e.getMessage().startsWith(json + ": EuroSAT/test: 1 of 3 image is missing"), e.getMessage());
    assertTrue(e.getMessage().contains(images.resolve("River/7.jpg").toString()), e.getMessage());
    assertEquals(3, CoopDatasets.load("EuroSAT", root, FileCheck.SKIP).test().size());
  }

  private DatasetException splitError(String json) {
    Path json0 = Files2.write(root.resolve("dtd/split_zhou_DescribableTextures.json"), json);
    Files2.mkdirs(root.resolve("dtd/images"));
    DatasetException e = assertThrows(DatasetException.class, () -> CoopDatasets.load("DTD", root, FileCheck.SKIP));
    assertTrue(e.getMessage().startsWith(json0.toString()), e.getMessage());
    return e;
  }

  @Test
  void malformedSplitFilesReportTheLine() {
    String ok = "\"val\": [[\"a/2.jpg\", 0, \"a\"]], \"test\": [[\"a/3.jpg\", 0, \"a\"]]";
    assertTrue(splitError("{\"train\": [\n[\"a/1.jpg\", 0, \"a\"],\n[\"a/1.jpg\", \"0\", \"a\"]], " + ok + "}")
        .getMessage().endsWith("line 3: the label must be an integer"));
    assertTrue(splitError("{\"train\": [\n[\"a/1.jpg\", 0]], " + ok + "}").getMessage()
        .endsWith("line 2: the class name must be a string"));
    assertTrue(splitError("{\"train\": [\n[\"a/1.jpg\", 0, \"a\",\n 5]], " + ok + "}").getMessage()
        .endsWith("line 2: an entry has exactly three items"));
    assertTrue(splitError("{\"train\": [\n[\"a/1.jpg\", 0, \"a\"],\n[\"b/1.jpg\", 0, \"b\"]], " + ok + "}").getMessage()
        .endsWith("line 3: label 0 is 'b' here but 'a' on line 2"));
    assertTrue(splitError("{\"train\": [\n[\"a/1.jpg\", 0, \"a\"],\n[\"c/1.jpg\", 2, \"c\"]], " + ok + "}").getMessage()
        .contains("label 1 has no train entry"));
    assertTrue(splitError("{\"train\": [[\"a/1.jpg\", 0, \"a\"]], \"val\": [\n[\"b/1.jpg\", 1, \"b\"]], "
        + "\"test\": [[\"a/3.jpg\", 0, \"a\"]]}").getMessage().endsWith("line 2: label 1 of the val split does not occur"
        + " in the train split (1 classes)"));
    assertTrue(splitError("{\"train\": [[\"a/1.jpg\", 0, \"a\"]], \"test\": [[\"a/3.jpg\", 0, \"a\"]]}").getMessage()
        .endsWith("the 'val' list is missing"));
    assertTrue(splitError("{\"train\": [[\"a/1.jpg\", 0, \"a\"]], \"valid\": []}").getMessage()
        .contains("unknown key 'valid'"));
    assertTrue(splitError("{\"train\": [[\"a/1.jpg\", 0, \"a\"]],\n\n \"val\": [[\"a\" 0]]}").getMessage()
        .contains("line 3: malformed JSON"));
  }

  @Test
  void fgvcAircraftReadsVariantsAndTheThreeSplitFiles() {
    Path dir = root.resolve("fgvc_aircraft");
    Files2.write(dir.resolve("variants.txt"), "707-320\nA300B4\nF-16A/B\n");
    Files2.write(dir.resolve("images_variant_train.txt"), "0001 707-320\n0002 F-16A/B\n0003 A300B4\n");
    Files2.write(dir.resolve("images_variant_val.txt"), "0004 707-320\n0005 A300B4\n0006 F-16A/B\n");
    Files2.write(dir.resolve("images_variant_test.txt"), "0007 A300B4\n0008 F-16A/B\n0009 707-320\n");
    for (int i = 1; i <= 9; i++) Files2.touch(dir.resolve("images/000" + i + ".jpg"));
    DatasetSplits s = CoopDatasets.load("FGVCAircraft", root);
    assertEquals(List.of("707-320", "A300B4", "F-16A/B"), s.train().classNames());
    assertEquals(List.of(0, 2, 1), s.train().samples().stream().map(Sample::label).toList());
    assertEquals(dir.resolve("images/0009.jpg"), s.test().samples().get(2).image());
    Files2.write(dir.resolve("images_variant_val.txt"), "0004 707-320\n0005 A300-B4\n");
    DatasetException e = assertThrows(DatasetException.class, () -> CoopDatasets.load("FGVCAircraft", root));
    assertEquals(dir.resolve("images_variant_val.txt") + ", line 2: unknown variant 'A300-B4' (not in variants.txt)",
        e.getMessage());
  }

  @Test
  void imageNetUsesSortedTrainFoldersAndItsValImagesAsValAndTest() {
    Path dir = root.resolve("imagenet");
    Files2.write(dir.resolve("classnames.txt"), "n01 tench\nn02 missile\nn03 missile\n");
    for (String w : List.of("n03", "n01", "n02")) {
      Files2.touch(dir.resolve("images/train/" + w + "/b.JPEG"));
      Files2.touch(dir.resolve("images/train/" + w + "/a.JPEG"));
      Files2.touch(dir.resolve("images/val/" + w + "/v.JPEG"));
    }
    Files2.touch(dir.resolve("images/train/n01/.DS_Store"));
    DatasetSplits s = CoopDatasets.load("ImageNet", root);
    assertEquals(List.of("tench", "missile", "missile"), s.train().classNames());   // CLIP's names repeat, allowed
    assertEquals(6, s.train().size());
    assertEquals(dir.resolve("images/train/n01/a.JPEG"), s.train().samples().get(0).image());
    assertEquals(s.test().samples(), s.val().samples());
    assertEquals(List.of(0, 1, 2), s.test().samples().stream().map(Sample::label).toList());
    Files2.touch(dir.resolve("images/val/n04/v.JPEG"));
    assertTrue(assertThrows(DatasetException.class, () -> CoopDatasets.load("ImageNet", root)).getMessage()
        .contains("the class folders differ"));
  }

  @Test
  void imageNetVariantsAreTestOnly() {
    String names = "n01 tench\nn02 goldfish\nn03 shark\n";
    Path v2 = root.resolve("imagenetv2");
    Files2.write(v2.resolve("classnames.txt"), names);
    for (int i = 0; i < 3; i++) Files2.touch(v2.resolve("imagenetv2-matched-frequency-format-val/" + i + "/x.jpeg"));
    DatasetSplits s = CoopDatasets.load("ImageNetV2", root);
    assertEquals(List.of("tench", "goldfish", "shark"), s.test().classNames());
    assertEquals(List.of(Split.TEST), new ArrayList<>(s.available()));
    assertThrows(DatasetException.class, s::train);
    Path sketch = root.resolve("imagenet-sketch");
    Files2.write(sketch.resolve("classnames.txt"), names);
    Files2.touch(sketch.resolve("images/n03/s.JPEG"));
    Files2.touch(sketch.resolve("images/n01/s.JPEG"));
    assertEquals(List.of("tench", "shark"), CoopDatasets.load("ImageNetSketch", root).test().classNames());
    Path a = root.resolve("imagenet-adversarial");
    Files2.write(a.resolve("classnames.txt"), names);
    Files2.touch(a.resolve("imagenet-a/n02/x.jpg"));
    Files2.touch(a.resolve("imagenet-a/README.txt"));
    assertEquals(List.of("goldfish"), CoopDatasets.load("ImageNetA", root).test().classNames());
    Files2.touch(a.resolve("imagenet-a/n09/x.jpg"));
    DatasetException e = assertThrows(DatasetException.class, () -> CoopDatasets.load("ImageNetA", root));
    assertTrue(e.getMessage().contains("no class name for the folder") && e.getMessage().contains("n09"), e.getMessage());
  }

  /** A 1000-class classnames.txt with wnids in sorted order, and ImageNet-R's 200 folders. */
  @Test
  void imageNetRFoldersAreCheckedAgainstThePublishedSubset() throws Exception {
    Path r = root.resolve("imagenet-rendition");
    StringBuilder names = new StringBuilder();
    for (int i = 0; i < 1000; i++) names.append(String.format("n%08d class %d%n", i, i));
    Files2.write(r.resolve("classnames.txt"), names.toString());
    for (int i : ImageNetSubsets.IMAGENET_R) Files2.touch(r.resolve(String.format("imagenet-r/n%08d/x.jpg", i)));
    Dataset test = CoopDatasets.load("ImageNetR", root).test();
    assertEquals(200, test.numClasses());
    assertEquals("class " + ImageNetSubsets.IMAGENET_R.get(7), test.className(7));
    List<String> wnids = new ArrayList<>();
    for (int i : ImageNetSubsets.IMAGENET_R) wnids.add(String.format("n%08d", i));
    assertEquals(ImageNetSubsets.IMAGENET_R, ImageNetSubsets.imageNetLabels(r.resolve("classnames.txt"), wnids));
    // one folder of another class: the 200 are no longer ImageNet-R's
    Path first = r.resolve(String.format("imagenet-r/n%08d", ImageNetSubsets.IMAGENET_R.get(0)));
    Files.move(first, r.resolve("imagenet-r/n00000000"));
    DatasetException e = assertThrows(DatasetException.class, () -> CoopDatasets.load("ImageNetR", root));
    assertTrue(e.getMessage().contains("published subset"), e.getMessage());
    assertEquals(200, ImageNetSubsets.IMAGENET_A.size());
    assertEquals(List.of(6, 11, 13), ImageNetSubsets.IMAGENET_A.subList(0, 3));
    assertEquals(988, ImageNetSubsets.IMAGENET_A.get(199));
  }

  @Test
  void classNamesTxtErrorsNameTheLine() {
    Path dir = root.resolve("imagenet-sketch");
    Files2.touch(dir.resolve("images/n01/x.jpg"));
    Files2.write(dir.resolve("classnames.txt"), "n01 tench\nn01 again\n");
    assertEquals(dir.resolve("classnames.txt") + ", line 2: folder n01 is listed twice",
        assertThrows(DatasetException.class, () -> CoopDatasets.load("ImageNetSketch", root)).getMessage());
    Files2.write(dir.resolve("classnames.txt"), "n01 tench\nn02\n");
    assertEquals(dir.resolve("classnames.txt") + ", line 2: expected '<folder> <class name>'",
        assertThrows(DatasetException.class, () -> CoopDatasets.load("ImageNetSketch", root)).getMessage());
  }
}
