package dev.mergetune.reproduce;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The cells of the prompt-learning tables (base-to-novel, cross-dataset, domain generalisation). Each cell runs, with
 * the tool's own commands, the baseline ({@code train --method coop|kgcoop}, the released baselines' 100 epochs) and
 * MergeTune ({@code continue --preset mergetune-coop|mergetune-kgcoop}), then reads or computes its numbers
 * ({@link PromptEvaluation}). The two runs live in a folder named by their settings, so the cells that share them —
 * every target of the cross-dataset and domain-generalisation tables, or a second table on the same output folder —
 * run them once.
 */
final class PromptCells {
  private static final ObjectMapper JSON = new ObjectMapper();

  private PromptCells() {}

  static List<Cell> plan(ReproOptions o, DataCheck check) {
    ReproTable t = o.table();
    List<Cell> cells = new ArrayList<>();
    for (long seed : o.seeds()) {
      if (t.fromSource()) {
        Runs runs = runs(o, ReproTable.SOURCE, "all", seed, check);
        boolean first = true;  // the shared runs' work is counted once, with the seed's first cell
        for (String d : o.datasets()) {
          cells.add(cell(o, runs, d, seed, check, first));
          first = false;
        }
      } else {
        for (String d : o.datasets()) cells.add(cell(o, runs(o, d, "base", seed, check), d, seed, check, true));
      }
    }
    return cells;
  }

  /** The baseline and MergeTune runs of one training dataset and seed, and their steps. */
  record Runs(Path baseline, Path mergetune, ObjectNode settings, List<Step> steps, Workload workload) {}

  static Runs runs(ReproOptions o, String dataset, String subsample, long seed, DataCheck check) {
    ReproTable t = o.table();
    ObjectNode s = JSON.createObjectNode();
    s.put("method", t.baseline());
    s.put("dataset", dataset);
    s.put("subsample", subsample);
    s.put("shots", o.shotsOrDefault());
    s.put("seed", seed);
    s.put("epochs", o.epochs() == null ? ReproOptions.BASELINE_EPOCHS : o.epochs());
    if (t.baseline().equals("kgcoop")) s.put("batch", ReproOptions.KGCOOP_BATCH);
    s.put("template", "coop:" + dataset);
    s.put("preset", t.preset());
    if (o.epochs() != null) s.put("mergetune_epochs", o.epochs());
    s.put("model", o.model().toAbsolutePath().normalize().toString());
    if (o.modelConfig() != null) s.put("model_config", o.modelConfig());
    if (o.vocab() != null) s.put("vocab", o.vocab().toAbsolutePath().normalize().toString());
    s.put("data", o.data().toAbsolutePath().normalize().toString());
    s.put("feature_batch", o.featureBatch());
    s.put("report", !t.fromSource());
    Path dir = o.out().resolve("runs").resolve(t.baseline() + "-" + dataset + "-" + subsample + "-seed" + seed + "-"
        + Hashes.short8(s));
    Path baseline = dir.resolve("baseline");
    Path mergetune = dir.resolve("mergetune");
    Path config = DatasetConfigStep.file(o.out(), dataset, "coop");
    Path cache = o.out().resolve("features");

    List<String> train = new ArrayList<>(List.of("train", "--method", t.baseline(), "--model", s.get("model").asText()));
    common(o, train);
    train.addAll(List.of("--data", config.toString(), "--shots", Integer.toString(o.shotsOrDefault()),
        "--seed", Long.toString(seed), "--epochs", s.get("epochs").asText(), "--template", "coop:" + dataset));
    if (subsample.equals("base")) train.addAll(List.of("--subsample", "base"));
    if (t.baseline().equals("kgcoop")) train.addAll(List.of("--batch", Integer.toString(ReproOptions.KGCOOP_BATCH)));
    train.addAll(List.of("--feature-batch", Integer.toString(o.featureBatch()), "--cache", cache.toString(),
        "--out", baseline.toString()));

    List<String> cont = new ArrayList<>(List.of("continue", "--from", baseline.toString(), "--out",
        mergetune.toString(), "--preset", t.preset()));
    if (o.epochs() != null) cont.addAll(List.of("--epochs", o.epochs().toString()));
    if (t.fromSource()) cont.add("--no-report");
    cont.addAll(List.of("--feature-batch", Integer.toString(o.featureBatch()), "--cache", cache.toString()));

    List<Step> steps = List.of(new DatasetConfigStep(config, dataset, "coop", o.data()),
        new CliStep(train, baseline.resolve("result.json")), new CliStep(cont, mergetune.resolve("result.json")));
    return new Runs(baseline, mergetune, s, steps, trainingWorkload(o, dataset, subsample, check));
  }

  private static void common(ReproOptions o, List<String> args) {
    if (o.modelConfig() != null) args.addAll(List.of("--model-config", o.modelConfig()));
    if (o.vocab() != null) args.addAll(List.of("--vocab", o.vocab().toString()));
  }

  private static Cell cell(ReproOptions o, Runs runs, String dataset, long seed, DataCheck check, boolean withRuns) {
    ReproTable t = o.table();
    ObjectNode settings = runs.settings().deepCopy();
    settings.put("table", t.key());
    settings.put("evaluated", dataset);
    settings.put("ties_density", o.tiesDensity());
    settings.put("dare_keep", (double) o.dareKeep());
    String id = t.key() + "/" + dataset + "-seed" + seed;
    List<Step> steps = new ArrayList<>(runs.steps());
    PromptEvaluation eval = new PromptEvaluation(t, runs.baseline(), runs.mergetune(), dataset, seed, o);
    Workload w = withRuns ? runs.workload() : Workload.NONE;
    return new Cell(id, dataset, seed, settings, steps, eval, w.plus(evalWorkload(o, dataset, check)));
  }

  /** Image and text passes of the baseline and MergeTune runs under the released recipes. */
  private static Workload trainingWorkload(ReproOptions o, String dataset, String subsample, DataCheck check) {
    DataCheck.Size size = check.size(dataset);
    int classes = subsample.equals("base") ? (size.classes() + 1) / 2 : size.classes();
    long n = (long) classes * o.shotsOrDefault();
    long nVal = size.val() == 0 ? 0 : (long) classes * Math.min(o.shotsOrDefault(), 4);
    int epochs = o.epochs() == null ? ReproOptions.BASELINE_EPOCHS : o.epochs();
    int batch = o.table().baseline().equals("kgcoop") ? ReproOptions.KGCOOP_BATCH : 32;
    long baselineSteps = (long) epochs * Math.max(1, n / batch);
    long mergeTuneSteps = (long) epochs * Math.max(1, n / 128);
    long views = 10;  // the train recipe's cached views of CoOp / KgCoOp; MergeTune: a fresh crop per image and epoch
    return new Workload(views * n + nVal + (long) epochs * n, 0, (baselineSteps + mergeTuneSteps) * classes,
        2L * classes, size.fromDisk() ? null : dataset);
  }

  /** The test images of the evaluated dataset (features cached, so once), and the five heads' prompts. */
  private static Workload evalWorkload(ReproOptions o, String dataset, DataCheck check) {
    DataCheck.Size size = check.size(dataset);
    return new Workload(size.test(), 0, 0, 5L * size.classes(), size.fromDisk() ? null : dataset);
  }
}
