package dev.mergetune.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MtilDatasetsTest {
  @TempDir Path root;

  private static List<Integer> labels(Dataset d) {
    return d.samples().stream().map(Sample::label).toList();
  }

  private List<String> rel(Dataset d) {
    return d.samples().stream().map(s -> root.relativize(s.image()).toString()).toList();
  }

  @Test
  void orderIAndNames() {
    assertEquals(List.of("Aircraft", "Caltech101", "CIFAR100", "DTD", "EuroSAT", "Flowers", "Food", "MNIST",
        "OxfordPet", "StanfordCars", "SUN397"), MtilDatasets.ORDER_I);
    assertEquals("OxfordPet", MtilDatasets.canonicalName("oxfordpet"));
    assertThrows(DatasetException.class, () -> MtilDatasets.canonicalName("UCF101"));
    assertEquals(101, MtilDatasets.CALTECH101_NAMES.size());
    assertEquals("off-center face", MtilDatasets.CALTECH101_NAMES.get(0));
    assertEquals("head of a  crocodile", MtilDatasets.CALTECH101_NAMES.get(29));
    assertEquals(10, MtilDatasets.EUROSAT_NAMES.size());
    assertEquals(102, MtilDatasets.FLOWERS_NAMES.size());
    assertEquals("pink-yellow dahlia", MtilDatasets.FLOWERS_NAMES.get(59));
    assertEquals(100, MtilDatasets.CIFAR100_NAMES.size());
    assertEquals("aquarium fish", MtilDatasets.CIFAR100_NAMES.get(1));
    assertEquals("9 - nine", MtilDatasets.MNIST_NAMES.get(9));
    Files2.mkdirs(root);
    assertTrue(assertThrows(DatasetException.class, () -> MtilDatasets.load("DTD", root, Split.VAL)).getMessage()
        .contains("no val split"));
  }

  @Test
  void aircraftReadsTorchvisionsTrainAndTestFiles() {
    Path data = root.resolve("fgvc-aircraft-2013b/data");
    Files2.write(data.resolve("variants.txt"), "707-320\nBoeing_717\n");
    Files2.write(data.resolve("images_variant_train.txt"), "1 Boeing_717\n2 707-320\n");
    Files2.write(data.resolve("images_variant_test.txt"), "3 707-320\n4 Boeing_717\n");
    for (int i = 1; i <= 4; i++) Files2.touch(data.resolve("images/" + i + ".jpg"));
    Dataset train = MtilDatasets.load("Aircraft", root, Split.TRAIN);
    assertEquals(List.of("707-320", "Boeing 717"), train.classNames());
    assertEquals(List.of(1, 0), labels(train));
    assertEquals("Aircraft/train", train.name());
    assertEquals(List.of(0, 1), labels(MtilDatasets.load("Aircraft", root, Split.TEST)));
  }

  /** 101 categories (and BACKGROUND_Google) of 40 images each, named as torchvision expects. */
  private Path caltech() {
    Path dir = root.resolve("caltech101/101_ObjectCategories");
    List<String> cats = new ArrayList<>(List.of("Faces", "Faces_easy", "Leopards", "Motorbikes"));
    for (int i = 0; cats.size() < 101; i++) cats.add(String.format("c%03d", i));
    for (String c : cats) for (int i = 1; i <= 40; i++) Files2.touch(dir.resolve(c).resolve(String.format("image_%04d.jpg", i)));
    Files2.touch(dir.resolve("BACKGROUND_Google/image_0001.jpg"));
    return dir;
  }

  @Test
  void caltech101IsTorchsSeed42RandomSplitOfTheSortedCategories() {
    Path dir = caltech();
    Dataset train = MtilDatasets.load("Caltech101", root, Split.TRAIN);
    Dataset test = MtilDatasets.load("Caltech101", root, Split.TEST);
    assertEquals(MtilDatasets.CALTECH101_NAMES, train.classNames());
    assertEquals(3232, train.size());                    // int(0.8 * 4040)
    assertEquals(808, test.size());
    int[] perm = TorchRandomSplit.randperm(4040, 42);    // the dataset index i is category i / 40, image i % 40 + 1
    for (int k = 0; k < 5; k++) {
      int i = perm[k];
      assertEquals(i / 40, train.samples().get(k).label());
      assertTrue(train.samples().get(k).image().endsWith(String.format("image_%04d.jpg", i % 40 + 1)));
    }
    assertEquals(dir.resolve("Faces"), train.samples().stream().filter(s -> s.label() == 0).findFirst().get().image().getParent());
    Set<Path> all = new HashSet<>();
    train.samples().forEach(s -> all.add(s.image()));
    test.samples().forEach(s -> all.add(s.image()));
    assertEquals(4040, all.size());
  }

  @Test
  void caltech101CountsFolderEntriesAsTorchvisionDoes() {
    Path dir = caltech();
    Files2.touch(dir.resolve("Faces/Thumbs.db"));
    DatasetException e = assertThrows(DatasetException.class, () -> MtilDatasets.load("Caltech101", root, Split.TRAIN));
    assertTrue(e.getMessage().contains(dir.resolve("Faces/image_0041.jpg").toString()), e.getMessage());
    Files2.touch(dir.resolve("extra/image_0001.jpg"));
    DatasetException n = assertThrows(DatasetException.class, () -> MtilDatasets.load("Caltech101", root, Split.TEST));
    assertTrue(n.getMessage().contains("the folders hold 102 classes, the MTIL class list 101"), n.getMessage());
  }

  @Test
  void euroSatIsAnImageFolderSplitLikeCaltech() {
    String[] folders = {"AnnualCrop", "Forest", "HerbaceousVegetation", "Highway", "Industrial", "Pasture",
        "PermanentCrop", "Residential", "River", "SeaLake"};
    for (String f : folders) for (int i = 0; i < 20; i++) Files2.touch(root.resolve("eurosat/2750/" + f + "/" + f + "_" + i + ".jpg"));
    Dataset train = MtilDatasets.load("EuroSAT", root, Split.TRAIN);
    assertEquals(MtilDatasets.EUROSAT_NAMES, train.classNames());
    assertEquals(160, train.size());
    // torchvision's ImageFolder order: sorted folders, sorted names ("AnnualCrop_10" before "AnnualCrop_2")
    int first = TorchRandomSplit.randperm(200, 42)[0];
    List<String> order = new ArrayList<>();
    for (String f : folders) {
      List<String> names = new ArrayList<>();
      for (int i = 0; i < 20; i++) names.add(f + "_" + i + ".jpg");
      names.sort(Listing.CODE_POINT_ORDER);
      for (String n : names) order.add("eurosat/2750/" + f + "/" + n);
    }
    assertEquals(order.get(first), rel(train).get(0));
    assertEquals(40, MtilDatasets.load("EuroSAT", root, Split.TEST).size());
  }

  @Test
  void cifar100AndMnistAreReadFromImageExports() {
    for (String split : List.of("train", "test")) {
      for (int c = 0; c < 100; c++) {
        String folder = c == 1 ? "aquarium_fish" : c == 2 ? "baby" : Integer.toString(c);
        Files2.touch(root.resolve("cifar-100-images/" + split + "/" + folder + "/" + String.format("%05d.png", c)));
      }
      for (int d = 0; d < 10; d++) {
        String folder = d == 3 ? "3 - three" : Integer.toString(d);
        Files2.touch(root.resolve("mnist-images/" + split + "/" + folder + "/00001.png"));
        Files2.touch(root.resolve("mnist-images/" + split + "/" + folder + "/00000.png"));
      }
    }
    Dataset c = MtilDatasets.load("CIFAR100", root, Split.TRAIN);
    assertEquals(MtilDatasets.CIFAR100_NAMES, c.classNames());
    assertEquals(List.of(0, 1, 2, 3), labels(c).subList(0, 4));
    assertEquals("cifar-100-images/train/aquarium_fish/00001.png", rel(c).get(1));
    Dataset m = MtilDatasets.load("MNIST", root, Split.TEST);
    assertEquals(20, m.size());
    assertEquals(List.of("mnist-images/test/0/00000.png", "mnist-images/test/0/00001.png"), rel(m).subList(0, 2));
    assertEquals(3, m.samples().get(6).label());
    Files2.touch(root.resolve("mnist-images/train/seven/x.png"));
    assertTrue(assertThrows(DatasetException.class, () -> MtilDatasets.load("MNIST", root, Split.TRAIN)).getMessage()
        .contains("not a class of MNIST"));
  }

  @Test
  void torchvisionsArrayFilesAreExplained() {
    Files2.touch(root.resolve("cifar-100-python/train"));
    DatasetException e = assertThrows(DatasetException.class, () -> MtilDatasets.load("CIFAR100", root, Split.TRAIN));
    assertTrue(e.getMessage().contains("torchvision's arrays") && e.getMessage().contains("cifar-100-images"), e.getMessage());
  }

  @Test
  void dtdReadsPartitionOneWithSortedClasses() {
    Path base = root.resolve("dtd/dtd");
    Files2.write(base.resolve("labels/train1.txt"), "zigzagged/z_1.jpg\nbanded/b_1.jpg\npolka-dotted/p_1.jpg\n");
    Files2.write(base.resolve("labels/test1.txt"), "banded/b_2.jpg\npolka-dotted/p_2.jpg\nzigzagged/z_2.jpg\n");
    for (String s : List.of("zigzagged/z_1", "banded/b_1", "polka-dotted/p_1", "banded/b_2", "polka-dotted/p_2", "zigzagged/z_2")) {
      Files2.touch(base.resolve("images/" + s + ".jpg"));
    }
    Dataset train = MtilDatasets.load("DTD", root, Split.TRAIN);
    assertEquals(List.of("banded", "polka-dotted", "zigzagged"), train.classNames());
    assertEquals(List.of(2, 0, 1), labels(train));
    Files2.write(base.resolve("labels/test1.txt"), "banded/b_2.jpg\nbroken line\n");
    assertEquals(base.resolve("labels/test1.txt") + ", line 2: expected '<class>/<image>'",
        assertThrows(DatasetException.class, () -> MtilDatasets.load("DTD", root, Split.TEST)).getMessage());
  }

  @Test
  void flowersUsesSetidAndImagelabels() {
    Path base = root.resolve("flowers-102");
    int[] labels = new int[204];
    for (int i = 0; i < 204; i++) labels[i] = i % 102 + 1;
    int[] trn = new int[102], tst = new int[102];
    for (int i = 0; i < 102; i++) {
      trn[i] = i + 1;
      tst[i] = 204 - i;
    }
    MatWriter w = new MatWriter(ByteOrder.LITTLE_ENDIAN, true);
    w.write(base.resolve("imagelabels.mat"), Map.of("labels", new MatWriter.UInt8(labels)));
    Map<String, Object> setid = new LinkedHashMap<>();
    setid.put("trnid", new MatWriter.UInt16(trn));
    setid.put("valid", new MatWriter.UInt16(5));
    setid.put("tstid", new MatWriter.UInt16(tst));
    w.write(base.resolve("setid.mat"), setid);
    for (int i = 1; i <= 204; i++) Files2.touch(base.resolve(String.format("jpg/image_%05d.jpg", i)));
    Dataset train = MtilDatasets.load("Flowers", root, Split.TRAIN);
    assertEquals(MtilDatasets.FLOWERS_NAMES, train.classNames());
    assertEquals("flowers-102/jpg/image_00005.jpg", rel(train).get(4));
    assertEquals(4, train.samples().get(4).label());
    Dataset test = MtilDatasets.load("Flowers", root, Split.TEST);
    assertEquals("flowers-102/jpg/image_00204.jpg", rel(test).get(0));
    assertEquals(101, test.samples().get(0).label());
  }

  @Test
  void foodReadsMetaJsonInFileOrderWithSortedClasses() {
    Path base = root.resolve("food-101");
    Files2.write(base.resolve("meta/train.json"), "{\"baby_back_ribs\": [\"baby_back_ribs/7\"],\n \"apple_pie\": [\"apple_pie/1\", \"apple_pie/2\"]}");
    for (String s : List.of("baby_back_ribs/7", "apple_pie/1", "apple_pie/2")) Files2.touch(base.resolve("images/" + s + ".jpg"));
    Dataset train = MtilDatasets.load("Food", root, Split.TRAIN);
    assertEquals(List.of("apple pie", "baby back ribs"), train.classNames());
    assertEquals(List.of(1, 0, 0), labels(train));
    assertEquals("food-101/images/baby_back_ribs/7.jpg", rel(train).get(0));
    Files2.write(base.resolve("meta/test.json"), "{\"apple_pie\": [\"apple_pie/1\",\n 5]}");
    assertEquals(base.resolve("meta/test.json") + ", line 2: an image of 'apple_pie' must be a string",
        assertThrows(DatasetException.class, () -> MtilDatasets.load("Food", root, Split.TEST)).getMessage());
  }

  @Test
  void oxfordPetTitleCasesBreedsLikeTorchvision() {
    Path base = root.resolve("oxford-iiit-pet");
    Files2.write(base.resolve("annotations/trainval.txt"),
        "Abyssinian_100 1 1 1\namerican_bulldog_10 2 2 1\ngreat_pyrenees_3 3 2 3\nAbyssinian_101 1 1 1\n");
    Files2.write(base.resolve("annotations/test.txt"), "Abyssinian_2 1 1 1\namerican_bulldog_2 2 2 1\ngreat_pyrenees_2 3 2 3\n");
    for (String s : List.of("Abyssinian_100", "american_bulldog_10", "great_pyrenees_3", "Abyssinian_101",
        "Abyssinian_2", "american_bulldog_2", "great_pyrenees_2")) {
      Files2.touch(base.resolve("images/" + s + ".jpg"));
    }
    Dataset train = MtilDatasets.load("OxfordPet", root, Split.TRAIN);
    assertEquals(List.of("Abyssinian", "American Bulldog", "Great Pyrenees"), train.classNames());
    assertEquals(List.of(0, 1, 2, 0), labels(train));
    assertEquals(3, MtilDatasets.load("OxfordPet", root, Split.TEST).size());
    assertEquals("They'Re Bill'S", TorchvisionLayouts.pythonTitle("they're bill's"));
  }

  @Test
  void stanfordCarsReadsTheDevkitMatFiles() {
    Path base = root.resolve("stanford_cars");
    MatWriter w = new MatWriter(ByteOrder.LITTLE_ENDIAN, false);
    w.write(base.resolve("devkit/cars_meta.mat"), Map.of("class_names", List.of("AM General Hummer SUV 2000",
        "Acura_RL Sedan 2012")));
    MatWriter.Structs train = new MatWriter.Structs(List.of("bbox_x1", "class", "fname"), List.of(
        Map.of("bbox_x1", new MatWriter.UInt8(3), "class", new MatWriter.UInt8(2), "fname", "00001.jpg"),
        Map.of("bbox_x1", new MatWriter.UInt8(3), "class", new MatWriter.UInt8(1), "fname", "00002.jpg")));
    w.write(base.resolve("devkit/cars_train_annos.mat"), Map.of("annotations", train));
    MatWriter.Structs test = new MatWriter.Structs(List.of("class", "fname"), List.of(
        Map.of("class", new double[] {1}, "fname", "00001.jpg"), Map.of("class", new double[] {2}, "fname", "00002.jpg")));
    new MatWriter(ByteOrder.BIG_ENDIAN, true).write(base.resolve("cars_test_annos_withlabels.mat"), Map.of("annotations", test));
    for (String s : List.of("cars_train/00001.jpg", "cars_train/00002.jpg", "cars_test/00001.jpg", "cars_test/00002.jpg")) {
      Files2.touch(base.resolve(s));
    }
    Dataset tr = MtilDatasets.load("StanfordCars", root, Split.TRAIN);
    assertEquals(List.of("AM General Hummer SUV 2000", "Acura RL Sedan 2012"), tr.classNames());
    assertEquals(List.of(1, 0), labels(tr));
    assertEquals("stanford_cars/cars_train/00001.jpg", rel(tr).get(0));
    assertEquals(List.of(0, 1), labels(MtilDatasets.load("StanfordCars", root, Split.TEST)));
    w.write(base.resolve("devkit/cars_train_annos.mat"), Map.of("annotations", new MatWriter.Structs(List.of("class", "fname"),
        List.of(Map.of("class", new MatWriter.UInt8(9), "fname", "00001.jpg")))));
    assertTrue(assertThrows(DatasetException.class, () -> MtilDatasets.load("StanfordCars", root, Split.TRAIN)).getMessage()
        .endsWith("annotation 1 has class 9, outside 1..2"));
  }

  @Test
  void sun397IsARandomSplitOfItsImagesWithClassNameTxtNames() {
    Path dir = root.resolve("SUN397");
    Files2.write(dir.resolve("ClassName.txt"), "/a/abbey\n/a/apartment_building/outdoor\n");
    for (int i = 0; i < 10; i++) {
      Files2.touch(dir.resolve("a/abbey/sun_a" + i + ".jpg"));
      Files2.touch(dir.resolve("a/apartment_building/outdoor/sun_b" + i + ".jpg"));
    }
    Files2.touch(dir.resolve("a/abbey/notes.jpg"));                   // not sun_*.jpg: ignored, as by rglob
    Dataset train = MtilDatasets.load("SUN397", root, Split.TRAIN);
    assertEquals(List.of("abbey", "apartment building/outdoor"), train.classNames());
    assertEquals(16, train.size());
    assertEquals(4, MtilDatasets.load("SUN397", root, Split.TEST).size());
    Files2.touch(dir.resolve("b/bakery/sun_c.jpg"));
    DatasetException e = assertThrows(DatasetException.class, () -> MtilDatasets.load("SUN397", root, Split.TRAIN));
    assertTrue(e.getMessage().contains("its class 'bakery' is not in"), e.getMessage());
  }

  @Test
  void missingFoldersAreNamed() {
    Files2.mkdirs(root);
    assertEquals(root.resolve("food-101") + ": Food101 folder (food-101) not found",
        assertThrows(DatasetException.class, () -> MtilDatasets.load("Food", root, Split.TRAIN)).getMessage());
    assertEquals(root.resolve("fgvc-aircraft-2013b/data") + ": FGVC-Aircraft data folder not found",
        assertThrows(DatasetException.class, () -> MtilDatasets.load("Aircraft", root, Split.TRAIN)).getMessage());
  }
}
