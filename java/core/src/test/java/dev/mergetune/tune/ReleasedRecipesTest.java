package dev.mergetune.tune;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.adapt.TrainSettings;
import dev.mergetune.clip.text.PromptTemplates;
import dev.mergetune.train.ConstantWarmupCosine;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The {@code mergetune-coop} and {@code mergetune-kgcoop} presets against tables written by reading the released
 * files of Surrey-UP-Lab/MERGETUNE at commit 6e211bc (paths below are relative to its {@code mergetune/} folder, except
 * the bundled Dassl's, {@code Dassl.ProGrad.pytorch/dassl/...}, the Dassl the README installs). Every row names the
 * file and line its value comes from; the effective settings are what {@code continue} trains with: the preset's
 * MergeTune settings and its training recipe put onto the baseline's settings.
 */
class ReleasedRecipesTest {
  private static final String YAML = "configs/trainers/KgCoOp_COOP_LMC/vit_b16_ep100_ctxv1.yaml";
  private static final String TRAINER = "trainers/kgcoop_coop_LMC.py";
  private static final String COOP_SCRIPT = "scripts/coop_LMC/base2new_train_coop.sh";
  private static final String KGCOOP_SCRIPT = "scripts/kgcoop_LMC/base2new_train_kgcoop.sh";
  private static final String DASSL = "Dassl.ProGrad.pytorch/dassl/config/defaults.py";

  private record Row(String setting, Object released, Object ours, String source) {}

  /** The rows both presets share: the config, Dassl's defaults it inherits, and the trainer's fixed choices. */
  private static List<Row> common(TrainSettings t, MergeTuneSettings m) {
    return List.of(
        new Row("batch size", 128, t.batchSize, YAML + ":3 (DATALOADER.TRAIN_X.BATCH_SIZE)"),
        new Row("optimizer", "sgd", t.optimizer, YAML + ":16"),
        new Row("learning rate", 0.002, t.lr, YAML + ":17"),
        new Row("epochs", 100, t.epochs, YAML + ":18 (OPTIM.MAX_EPOCH)"),
        new Row("counted in epochs", 0L, t.iterations, YAML + ":18"),
        new Row("schedule", "constant-warmup-cosine", t.schedule, YAML + ":19-21 (cosine, WARMUP_TYPE constant)"),
        new Row("warm-up epochs", 1L, t.warmup, YAML + ":20 (WARMUP_EPOCH)"),
        new Row("warm-up lr", 1e-5, t.warmupLr, YAML + ":22 (WARMUP_CONS_LR)"),
        new Row("momentum", 0.9, t.momentum, DASSL + ":152 (not set in the yaml)"),
        new Row("weight decay", 5e-4, t.weightDecay, DASSL + ":151 (not set in the yaml)"),
        new Row("Nesterov", false, t.nesterov, DASSL + ":154 (SGD_DAMPNING 0 at :153 is LibTorch's default too)"),
        new Row("augmentation", "coop", t.augment, YAML + ":13 random_resized_crop (Dassl transforms.py:220, no"
            + " scale: torchvision's (0.08, 1)) + random_flip"),
        new Row("a new crop every step", "fresh", m.augmentation, "Dassl data_manager.py:44-51 (a torch DataLoader over"
            + " the transform: new draws each time an image is loaded)"),
        new Row("label smoothing", 0.0, t.labelSmoothing, TRAINER + ":504, :520 (amp, train.py:104's default; :535,"
            + " :549 otherwise): F.cross_entropy, nn.CrossEntropyLoss"),
        new Row("gradient clipping", 0.0, t.clipNorm, TRAINER + ":529-532 (amp: GradScaler step, no clipping)"),
        new Row("best-validation selection", true, t.keepBest, "train.py:165 (TEST.FINAL_MODEL best_val); Dassl"
            + " engine/trainer.py:476-485"),
        new Row("N (NUM_SAMPLES)", 5, m.nAlpha, "the scripts' NUM_SAMPLES=5, passed as TRAINER.COOP.NUM_SAMPLES"),
        new Row("α points", "grid", m.alphas, TRAINER + ":509 (amp), :538: np.arange(0.1, 1.01, 1.0 /"
            + " NUM_SAMPLES)"),
        new Row("τ", 1.0, m.tau, TRAINER + ":463 (the learned context starts as a copy of the loaded one)"),
        new Row("ŵ2", "last", m.start, TRAINER + ":437 (prompt_learner/model.pth.tar-100: the baseline's last epoch)"),
        new Row("anchor template", null, m.anchorTemplate, TRAINER + ":149-150 (CUSTOM_TEMPLATES[DATASET.NAME]: set"
            + " per dataset by the caller)"));
  }

  private static void check(List<Row> rows) {
    List<Executable> checks = new ArrayList<>();
    for (Row r : rows) checks.add(() -> assertTrue(Objects.equals(r.released(), r.ours()),
        r.setting() + ": released " + r.released() + " (" + r.source() + "), ours " + r.ours()));
    assertAll(checks);
  }

  @Test
  void mergetuneCoopIsTheReleasedCoopRecipe() {
    MergeTuneSettings m = MergeTuneSettings.preset(MergeTuneSettings.MERGETUNE_COOP, "coop");
    TrainSettings t = m.applyTraining(TrainSettings.defaults(TrainSettings.Method.COOP));
    List<Row> rows = new ArrayList<>(common(t, m));
    rows.add(new Row("λ (TRAINER.COOP.W)", 10.0, m.lambda, COOP_SCRIPT + ":9, :40 ($2 = 10.0: README.md:89,"
        + " train.sh:7)"));
    rows.add(new Row("β (TRAINER.COOP.W_LMC)", 1.0, m.beta, COOP_SCRIPT + ":12, :44 ($5 = 1.0: README.md:89,"
        + " train.sh:7)"));
    rows.add(new Row("N passed", 5, m.nAlpha, COOP_SCRIPT + ":19, :46"));
    check(rows);
    m.validate();
  }

  @Test
  void mergetuneKgcoopIsTheReleasedKgcoopRecipe() {
    MergeTuneSettings m = MergeTuneSettings.preset(MergeTuneSettings.MERGETUNE_KGCOOP, "kgcoop");
    TrainSettings t = m.applyTraining(TrainSettings.defaults(TrainSettings.Method.KGCOOP));
    List<Row> rows = new ArrayList<>(common(t, m));
    // the script reads W ($2) and W_LMC ($3) at :9-10 but its command (:30-45) never passes them
    rows.add(new Row("λ (TRAINER.COOP.W)", 8.0, m.lambda, "train.py:103 (default; " + KGCOOP_SCRIPT + ":30-45 pass no"
        + " W)"));
    rows.add(new Row("β (TRAINER.COOP.W_LMC)", 1.0, m.beta, "train.py:107 (default; " + KGCOOP_SCRIPT + ":30-45 pass"
        + " no W_LMC)"));
    rows.add(new Row("N passed", 5, m.nAlpha, KGCOOP_SCRIPT + ":19, :44"));
    check(rows);
  }

  @Test
  void theAlphaGridIsNumpysArange() {
    // np.arange(0.1, 1.01, 0.2): ceil((1.01 - 0.1) / 0.2) = 5 values, 0.1 + i·0.2 in float64
    double[] released = new double[5];
    for (int i = 0; i < 5; i++) released[i] = 0.1 + i * (1.0 / 5);
    MergeTuneSettings m = MergeTuneSettings.preset(MergeTuneSettings.MERGETUNE_COOP, "coop");
    assertArrayEquals(released, m.alphaPoints(1).alphas(0, new int[] {0}), 0);
    assertArrayEquals(new double[] {0.2, 0.2, 0.2, 0.2, 0.2}, m.alphaPoints(1).weights(), 1e-15);  // / len(samples)
  }

  @Test
  void theScheduleIsDasslsConstantWarmupOverCosine() {
    // Dassl lr_scheduler.py:130-133, :145-149: epoch 0 at WARMUP_CONS_LR, then CosineAnnealingLR(T_max = 100) from
    // the base lr, stepped once per epoch (trainer :570-572)
    TrainSettings t = MergeTuneSettings.preset(MergeTuneSettings.MERGETUNE_COOP, "coop")
        .applyTraining(TrainSettings.defaults(TrainSettings.Method.COOP));
    ConstantWarmupCosine s = new ConstantWarmupCosine(t.lr, t.warmupLr, (int) t.warmup, t.epochs);
    assertEquals(1e-5, s.lr(0), 0);
    for (int e = 1; e < 100; e++) {
      assertEquals(0.5 * 0.002 * (1 + Math.cos(Math.PI * (e - 1) / 100)), s.lr(e), 1e-15, "epoch " + e);
    }
  }

  @Test
  void anchorTemplatesAreTheReleasedTable() {
    // trainers/kgcoop_coop_LMC.py:52-68, CUSTOM_TEMPLATES
    Map<String, String> released = new LinkedHashMap<>();
    released.put("OxfordPets", "a photo of a {}, a type of pet.");
    released.put("OxfordFlowers", "a photo of a {}, a type of flower.");
    released.put("FGVCAircraft", "a photo of a {}, a type of aircraft.");
    released.put("DescribableTextures", "a photo of a {}, a type of texture.");
    released.put("EuroSAT", "a centered satellite photo of {}.");
    released.put("StanfordCars", "a photo of a {}.");
    released.put("Food101", "a photo of {}, a type of food.");
    released.put("SUN397", "a photo of a {}.");
    released.put("Caltech101", "a photo of a {}.");
    released.put("UCF101", "a photo of a person doing {}.");
    released.put("ImageNet", "a photo of a {}.");
    released.put("ImageNetSketch", "a photo of a {}.");
    released.put("ImageNetV2", "a photo of a {}.");
    released.put("ImageNetA", "a photo of a {}.");
    released.put("ImageNetR", "a photo of a {}.");
    assertEquals(List.copyOf(released.keySet()), List.copyOf(PromptTemplates.mergetuneDatasets()));
    for (Map.Entry<String, String> e : released.entrySet()) {
      assertEquals(e.getValue(), PromptTemplates.mergetune(e.getKey()), e.getKey());
    }
    // the project's registry names of two of them
    assertEquals(released.get("DescribableTextures"), PromptTemplates.mergetune("DTD"));
    assertEquals(released.get("OxfordFlowers"), PromptTemplates.mergetune("Flowers102"));
    // not CoOp's table: DTD differs
    assertNotEquals(PromptTemplates.coop("DTD"), PromptTemplates.mergetune("DTD"));
    assertThrows(IllegalArgumentException.class, () -> PromptTemplates.mergetune("shapes"));
  }

  @Test
  void theReleasedPresetsContinueTheirOwnBaselineOnly() {
    assertThrows(IllegalArgumentException.class,
        () -> MergeTuneSettings.preset(MergeTuneSettings.MERGETUNE_COOP, "kgcoop"));
    assertThrows(IllegalArgumentException.class,
        () -> MergeTuneSettings.preset(MergeTuneSettings.MERGETUNE_KGCOOP, "coop"));
    assertThrows(IllegalArgumentException.class,
        () -> MergeTuneSettings.preset(MergeTuneSettings.MERGETUNE_COOP, "linear-probe"));
    // the other presets keep the baseline's recipe
    TrainSettings t = TrainSettings.defaults(TrainSettings.Method.COOP);
    MergeTuneSettings.preset(MergeTuneSettings.REFERENCE_CODE, "coop").applyTraining(t);
    assertEquals(32, t.batchSize);
    assertEquals(50, t.epochs);
    assertEquals("cached", MergeTuneSettings.preset(MergeTuneSettings.REFERENCE_CODE, "coop").augmentation);
    assertEquals("trained", MergeTuneSettings.preset(MergeTuneSettings.PAPER, "coop").start);
  }
}
