package dev.mergetune.reproduce;

import java.nio.file.Path;
import java.util.List;

/**
 * What a reproduction runs: the table, the data root, the output folder, the seeds and datasets, the CLIP model, and
 * the departures from the published protocol a user may ask for (each recorded in the report as such).
 *
 * @param epochs null: the recipes' epochs (100 for the baselines and for MergeTune's released presets)
 * @param shots null: 16 (the papers' few-shot setting)
 * @param iterations null: ConDU's 1000 iterations per task
 * @param globalFlags the global options the steps inherit (--no-progress, -v, ...)
 */
public record ReproOptions(ReproTable table, Path data, Path out, List<Long> seeds, List<String> datasets, Path model,
    String modelConfig, Path vocab, Integer epochs, Integer shots, Long iterations, double tiesDensity, float dareKeep,
    int featureBatch, List<String> globalFlags) {
  /** The papers' shots. */
  public static final int SHOTS = 16;
  /** The released baselines' epochs (CoOp and KgCoOp configs vit_b16_ep100). */
  public static final int BASELINE_EPOCHS = 100;
  /** The released KgCoOp config's batch (CoOp's is 32, the train recipe's own default). */
  public static final int KGCOOP_BATCH = 128;

  public ReproOptions {
    seeds = List.copyOf(seeds);
    datasets = List.copyOf(datasets);
    globalFlags = List.copyOf(globalFlags);
  }

  public int shotsOrDefault() {
    return shots == null ? SHOTS : shots;
  }

  /** The departures from the published protocol, in words (empty: none). */
  public List<String> departures() {
    List<String> d = new java.util.ArrayList<>();
    if (epochs != null) d.add("epochs " + epochs + " for the baseline and MergeTune (published: 100 each)");
    if (shots != null) d.add(shots + " shots (published: 16)");
    if (iterations != null) d.add(iterations + " iterations per ConDU task (published: 1000)");
    if (!datasets.equals(table.datasets())) d.add("datasets " + String.join(", ", datasets) + " (published: all of "
        + String.join(", ", table.datasets()) + "): the averages are not comparable");
    if (!seeds.equals(table.defaultSeeds())) d.add("seeds " + seeds + " (published: " + table.defaultSeeds() + ")");
    return d;
  }
}
