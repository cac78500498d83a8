package dev.mergetune.data;

import dev.mergetune.io.ConfigException;
import dev.mergetune.io.StrictConfig;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A dataset described in YAML (or JSON, for a {@code .json} file), for the protocol runners. Unknown keys are errors;
 * relative paths are resolved against the folder of the config file.
 *
 * <pre>
 * name: Caltech101        # imagefolder, csv: the dataset's name; coop, mtil: the dataset (CoopDatasets, MtilDatasets)
 * layout: coop            # imagefolder | coop | mtil | csv
 * root: /data             # imagefolder: the folder of class folders; coop, mtil: the data root; csv: the CSV file
 * split: test             # coop: train | val | test; mtil: train | test; not for imagefolder and csv
 * classes: names.txt      # csv: required; imagefolder: optional, replaces the folder names; not for coop and mtil
 * check_files: true       # optional (default true): check that every image exists
 * </pre>
 */
public record DatasetConfig(
    @JsonProperty("name") String name,
    @JsonProperty("layout") String layout,
    @JsonProperty("root") String root,
    @JsonProperty("split") String split,
    @JsonProperty("classes") String classes,
    @JsonProperty("check_files") Boolean checkFiles) {

  /** The layouts a config can name. */
  public enum Layout { IMAGEFOLDER, COOP, MTIL, CSV }

  /** Reads and checks a config file (not the dataset). */
  public static DatasetConfig read(Path file) {
    Listing.requireFile(file, "dataset config");
    DatasetConfig c;
    try {
      c = StrictConfig.mapper(file).treeToValue(StrictConfig.tree(file, "dataset config"), DatasetConfig.class);
    } catch (UnrecognizedPropertyException e) {
      throw DatasetException.at(file, "unknown key '" + e.getPropertyName()
          + "' (known: name, layout, root, split, classes, check_files)");
    } catch (ConfigException e) {
      throw new DatasetException(e.getMessage());
    } catch (JsonProcessingException e) {
      throw new DatasetException(StrictConfig.describe(file, e));
    }
    if (c == null) throw DatasetException.at(file, "empty dataset config");
    c.check(file.toString());
    return c;
  }

  /**
   * An entry written inside another config file (a protocol's list of datasets): the same keys and checks as a
   * dataset config file; {@code where} names the entry in messages ("eval.yaml, datasets[2]"). Relative paths are
   * later resolved against the folder of that other file ({@link #load(Path)}).
   */
  public static DatasetConfig fromTree(com.fasterxml.jackson.databind.JsonNode node, String where) {
    if (node == null || !node.isObject()) throw fail(where, "a dataset entry is a mapping (name, layout, root, ...)");
    DatasetConfig c;
    try {
      c = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).treeToValue(node, DatasetConfig.class);
    } catch (UnrecognizedPropertyException e) {
      throw fail(where, "unknown key '" + e.getPropertyName() + "' (known: name, layout, root, split, classes, check_files)");
    } catch (JsonProcessingException e) {
      throw fail(where, e.getOriginalMessage().lines().findFirst().orElse("unreadable"));
    }
    c.check(where);
    return c;
  }

  /** Reads a config file and loads the dataset it describes. */
  public static Dataset loadFile(Path file) {
    return read(file).load(file);
  }

  /** Loads the dataset, resolving relative paths against the folder of {@code configFile}. */
  public Dataset load(Path configFile) {
    Path r = resolve(configFile, root);
    FileCheck check = checkFiles == null || checkFiles ? FileCheck.EAGER : FileCheck.SKIP;
    switch (parsedLayout()) {
      case IMAGEFOLDER: {
        Dataset d = check.apply(ImageFolderSource.read(r, name));
        if (classes == null) return d;
        Path namesFile = resolve(configFile, classes);
        List<String> names = ClassNamesFile.read(namesFile);
        if (names.size() != d.numClasses()) {
          throw DatasetException.at(namesFile, names.size() + " class names for the " + d.numClasses()
              + " class folders of " + r);
        }
        return Dataset.of(name, names, d.samples());
      }
      case CSV:
        return CsvManifest.read(r, resolve(configFile, classes), name, check);
      case COOP:
        return CoopDatasets.load(name, r, check).get(Split.parse(split));
      case MTIL:
        return MtilDatasets.load(name, r, Split.parse(split), check);
      default:
        throw new AssertionError(layout);
    }
  }

  /** The layout, parsed. */
  public Layout parsedLayout() {
    try {
      return Layout.valueOf(layout.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new DatasetException("unknown layout '" + layout + "' (imagefolder, coop, mtil or csv)");
    }
  }

  private void check(String where) {
    if (name == null || name.isBlank()) throw fail(where, "'name' is missing");
    if (layout == null) throw fail(where, "'layout' is missing (imagefolder, coop, mtil or csv)");
    if (root == null || root.isBlank()) throw fail(where, "'root' is missing");
    Layout l;
    try {
      l = parsedLayout();
    } catch (DatasetException e) {
      throw fail(where, e.getMessage());
    }
    boolean splits = l == Layout.COOP || l == Layout.MTIL;
    if (splits && split == null) throw fail(where, "'split' is missing (the " + layout + " layout has splits)");
    if (!splits && split != null) throw fail(where, "'split' applies to the coop and mtil layouts only");
    if (split != null) {
      try {
        Split.parse(split);
      } catch (IllegalArgumentException e) {
        throw fail(where, e.getMessage());
      }
    }
    if (l == Layout.CSV && classes == null) throw fail(where, "'classes' is missing (the csv layout needs it)");
    if (splits && classes != null) throw fail(where, "'classes' applies to the imagefolder and csv layouts only");
    try {
      if (l == Layout.COOP) CoopDatasets.canonicalName(name);
      if (l == Layout.MTIL) MtilDatasets.canonicalName(name);
    } catch (DatasetException e) {
      throw fail(where, e.getMessage());
    }
  }

  private static DatasetException fail(String where, String message) {
    return new DatasetException(where + ": " + message);
  }

  static Path resolve(Path configFile, String path) {
    Path p = Path.of(path);
    Path dir = configFile.toAbsolutePath().getParent();
    return p.isAbsolute() || dir == null ? p : dir.resolve(p);
  }
}
