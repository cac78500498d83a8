package dev.mergetune.reproduce;

import dev.mergetune.data.CoopDatasets;
import dev.mergetune.data.MtilDatasets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The papers' tables {@code reproduce} runs: which protocol, on which datasets, over which seeds by default, and with
 * which baseline and preset (the released recipes, {@code mergetune-coop} / {@code mergetune-kgcoop}).
 */
public enum ReproTable {
  B2N_COOP("mergetune-b2n-coop", Protocol.BASE_TO_NOVEL, "coop", CoopDatasets.SUITE, List.of(1L, 2L, 3L),
      "MergeTune after CoOp, base-to-novel over the 11 CoOp datasets (16 shots): zero-shot, CoOp, TIES and DARE of"
          + " (zero-shot, CoOp), CoOp + MergeTune"),
  B2N_KGCOOP("mergetune-b2n-kgcoop", Protocol.BASE_TO_NOVEL, "kgcoop", CoopDatasets.SUITE, List.of(1L, 2L, 3L),
      "MergeTune after KgCoOp, base-to-novel over the 11 CoOp datasets (16 shots)"),
  XD_COOP("mergetune-xd-coop", Protocol.CROSS_DATASET, "coop", CoopDatasets.SUITE, List.of(1L, 2L, 3L),
      "MergeTune after CoOp, cross-dataset: trained on ImageNet (all classes, 16 shots), top-1 on the 10 others"),
  DG_COOP("mergetune-dg-coop", Protocol.DOMAIN_GENERALISATION, "coop",
      concat(List.of("ImageNet"), CoopDatasets.IMAGENET_VARIANTS), List.of(1L, 2L, 3L),
      "MergeTune after CoOp, domain generalisation: trained on ImageNet, top-1 on ImageNet-V2, -Sketch, -A, -R"),
  CONDU_MTIL("condu-mtil", Protocol.MTIL, "e2e", MtilDatasets.ORDER_I, List.of(42L),
      "ConDU with full fine-tuning over the 11 MTIL tasks in order I: Transfer / Average / Last");

  /** How a table's cells are run. */
  public enum Protocol { BASE_TO_NOVEL, CROSS_DATASET, DOMAIN_GENERALISATION, MTIL }

  /** The source dataset of the cross-dataset and domain-generalisation tables. */
  public static final String SOURCE = "ImageNet";

  private final String key;
  private final Protocol protocol;
  private final String baseline;
  private final List<String> datasets;
  private final List<Long> seeds;
  private final String description;

  ReproTable(String key, Protocol protocol, String baseline, List<String> datasets, List<Long> seeds,
      String description) {
    this.key = key;
    this.protocol = protocol;
    this.baseline = baseline;
    this.datasets = datasets;
    this.seeds = seeds;
    this.description = description;
  }

  public static ReproTable parse(String name) {
    for (ReproTable t : values()) if (t.key.equals(name.strip().toLowerCase(Locale.ROOT))) return t;
    throw new IllegalArgumentException("unknown table '" + name + "' (known: " + String.join(", ", keys()) + ")");
  }

  public static List<String> keys() {
    return Arrays.stream(values()).map(ReproTable::key).toList();
  }

  public String key() {
    return key;
  }

  public Protocol protocol() {
    return protocol;
  }

  /** The baseline method: coop, kgcoop (prompt tables) or e2e (ConDU's experts). */
  public String baseline() {
    return baseline;
  }

  /** The baseline as the papers name it in their rows. */
  public String baselineName() {
    return switch (baseline) {
      case "coop" -> "CoOp";
      case "kgcoop" -> "KgCoOp";
      default -> "ConDU (FT)";
    };
  }

  /** The MergeTune preset of the prompt tables: the released recipe after this baseline. */
  public String preset() {
    return baseline.equals("kgcoop") ? "mergetune-kgcoop" : "mergetune-coop";
  }

  /** Every dataset of the table, in the paper's order (the source first in the cross-dataset ones). */
  public List<String> datasets() {
    return datasets;
  }

  public List<Long> defaultSeeds() {
    return seeds;
  }

  public String description() {
    return description;
  }

  /** Whether the table trains once on ImageNet and evaluates everywhere (cross-dataset, domain generalisation). */
  public boolean fromSource() {
    return protocol == Protocol.CROSS_DATASET || protocol == Protocol.DOMAIN_GENERALISATION;
  }

  /** The name of the table's average metric. */
  public String averageName() {
    return switch (protocol) {
      case BASE_TO_NOVEL -> "HM";
      case CROSS_DATASET -> "Avg-C";
      case DOMAIN_GENERALISATION -> "Avg-D";
      case MTIL -> "Transfer";
    };
  }

  /** The canonical spelling of the datasets named with {@code --datasets}, checked against the table's own. */
  public List<String> select(List<String> names) {
    if (names == null || names.isEmpty()) return datasets;
    List<String> out = new ArrayList<>();
    for (String n : names) {
      String c = datasets.stream().filter(d -> d.equalsIgnoreCase(n.strip())).findFirst().orElseThrow(() ->
          new IllegalArgumentException("--datasets: '" + n + "' is not a dataset of " + key + " (its datasets: "
              + String.join(", ", datasets) + ")"));
      if (!out.contains(c)) out.add(c);
    }
    if (fromSource() && !out.contains(SOURCE)) out.add(0, SOURCE);  // the training data of every cell
    List<String> ordered = new ArrayList<>(datasets);
    ordered.retainAll(out);  // the paper's order (MTIL: the session order)
    if (protocol == Protocol.MTIL && ordered.size() < 2) {
      throw new IllegalArgumentException("--datasets: an MTIL sequence needs at least 2 tasks");
    }
    return ordered;
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return List.copyOf(out);
  }
}
