package dev.mergetune.reproduce;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mergetune.data.CoopDatasets;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.DatasetException;
import dev.mergetune.data.DatasetSplits;
import dev.mergetune.data.FileCheck;
import dev.mergetune.data.MtilDatasets;
import dev.mergetune.data.Split;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * What of a table's data is on disk, read through the project's own readers ({@link CoopDatasets},
 * {@link MtilDatasets}) without opening the images: a missing dataset folder or split file is reported with the
 * reader's own message (which names the folder or file), before anything starts.
 */
final class DataCheck {
  private final Path root;
  private final boolean mtil;
  private final Map<String, Object> loaded = new HashMap<>();  // DatasetSplits or the problem (String)

  DataCheck(Path root, boolean mtil) {
    this.root = root;
    this.mtil = mtil;
  }

  /** Null when the dataset reads; else what is missing. */
  String problem(String dataset) {
    Object o = load(dataset);
    return o instanceof String s ? s : null;
  }

  /**
   * Classes and images per split; {@code fromDisk} false when the dataset is not on disk and the sizes are the
   * standard splits' ({@code dataset-sizes.json}, for estimates only).
   */
  record Size(int classes, long train, long val, long test, boolean fromDisk) {}

  Size size(String dataset) {
    Object o = load(dataset);
    if (o instanceof DatasetSplits d) {
      Dataset any = d.get(Split.TEST);
      long train = d.has(Split.TRAIN) ? d.get(Split.TRAIN).size() : 0;
      long val = d.has(Split.VAL) ? d.get(Split.VAL).size() : 0;
      return new Size(any.numClasses(), train, val, any.size(), true);
    }
    JsonNode n = SIZES.path(mtil ? "mtil" : "coop").path(dataset);
    if (!n.isArray()) throw new IllegalStateException("dataset-sizes.json has no " + dataset);
    return new Size(n.get(0).asInt(), n.get(1).asLong(), n.get(2).asLong(), n.get(3).asLong(), false);
  }

  private static final JsonNode SIZES;

  static {
    try (java.io.InputStream in = DataCheck.class.getResourceAsStream("/dev/mergetune/reproduce/dataset-sizes.json")) {
      SIZES = new com.fasterxml.jackson.databind.ObjectMapper().readTree(in);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The split, or null when the dataset is not readable. */
  Dataset split(String dataset, Split split) {
    Object o = load(dataset);
    return o instanceof DatasetSplits d ? d.get(split) : null;
  }

  private Object load(String dataset) {
    return loaded.computeIfAbsent(dataset, n -> {
      if (!Files.isDirectory(root)) return "the data root " + root + " is not a folder";
      try {
        return mtil ? MtilDatasets.load(n, root, FileCheck.SKIP) : CoopDatasets.load(n, root, FileCheck.SKIP);
      } catch (DatasetException | IllegalArgumentException | java.io.UncheckedIOException e) {
        return e.getMessage();
      }
    });
  }
}
