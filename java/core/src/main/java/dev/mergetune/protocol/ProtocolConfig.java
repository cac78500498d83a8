package dev.mergetune.protocol;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.mergetune.io.ConfigException;
import dev.mergetune.io.StrictConfig;
import dev.mergetune.clip.text.PromptTemplates;
import dev.mergetune.data.CoopDatasets;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.DatasetConfig;
import dev.mergetune.data.DatasetException;
import dev.mergetune.data.MtilDatasets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An evaluation protocol described in YAML (or JSON, for a {@code .json} file). Unknown keys are errors; relative
 * paths are resolved against the folder of the config file.
 *
 * <pre>
 * protocol: base-to-novel   # base-to-novel | cross-dataset | domain-generalisation | mtil
 * title: CLIP ViT-B/16      # optional: the report's title
 * model: ViT-B-16.pt        # the checkpoint evaluated (mtil: the same one in every session = zero-shot)
 * checkpoints: [s1.safetensors, ...]  # mtil only, instead of model: one checkpoint per session, in order
 * model_config: ViT-B-16    # optional: for checkpoints that do not record their configuration (--model-config values)
 * vocab: bpe_simple_vocab_16e6.txt.gz # optional (default: $MERGETUNE_CLIP_VOCAB, or beside the model)
 * templates: coop           # optional: coop | mtil | imagenet80 | coop:NAME | mtil:NAME | a file | "a {}." | a list
 * source: {name: ImageNet, layout: coop, root: /data, split: test}   # cross-dataset and domain-generalisation only
 * datasets:                 # dataset configs (see DatasetConfig), inline or the path of a config file
 *   - {name: Caltech101, layout: coop, root: /data, split: test}
 *   - eurosat.yaml
 * batch_size: 64            # optional (default 32)
 * cache: features/          # optional: a feature cache folder
 * </pre>
 *
 * <p>Default templates: CoOp's one template per dataset for the CoOp protocols (base-to-novel, cross-dataset, domain
 * generalisation) and ZSCL's lists for MTIL, by the dataset's name; a dataset the set does not know (an image folder
 * with a name of your own) gets {@code "a photo of a {}."}. CoOp's class names have '_' read as ' ' (as CoOp's
 * prompts do); MTIL's are used as the dataset gives them (the MTIL readers already produce ZSCL's names).
 */
public final class ProtocolConfig {
  /** The protocols. */
  public enum Kind {
    BASE_TO_NOVEL("base-to-novel", "Base-to-novel"),
    CROSS_DATASET("cross-dataset", "Cross-dataset"),
    DOMAIN_GENERALISATION("domain-generalisation", "Domain generalisation"),
    MTIL("mtil", "MTIL");

    private final String key;
    private final String title;

    Kind(String key, String title) {
      this.key = key;
      this.title = title;
    }

    public String key() {
      return key;
    }

    public String title() {
      return title;
    }

    static Kind parse(String s) {
      for (Kind k : values()) if (k.key.equalsIgnoreCase(s.strip())) return k;
      if (s.strip().equalsIgnoreCase("domain-generalization")) return DOMAIN_GENERALISATION;
      return null;
    }
  }

  /** The default template of a dataset CoOp's set does not name, and of one ZSCL's set does not name. */
  public static final String FALLBACK_TEMPLATE = "a photo of a {}.";

  private static final String KNOWN = "protocol, title, model, checkpoints, model_config, vocab, templates, source, datasets,"
      + " batch_size, cache";
  private static final Map<String, String> COOP_TEMPLATE_KEYS = Map.of("Flowers102", "OxfordFlowers",
      "DTD", "DescribableTextures");

  record Raw(
      @JsonProperty("protocol") String protocol,
      @JsonProperty("title") String title,
      @JsonProperty("model") String model,
      @JsonProperty("checkpoints") List<String> checkpoints,
      @JsonProperty("model_config") String modelConfig,
      @JsonProperty("vocab") String vocab,
      @JsonProperty("templates") JsonNode templates,
      @JsonProperty("source") JsonNode source,
      @JsonProperty("datasets") List<JsonNode> datasets,
      @JsonProperty("batch_size") Integer batchSize,
      @JsonProperty("cache") String cache) {}

  /** One dataset entry: its config and where it came from (relative paths resolve against {@code base}). */
  public record Entry(DatasetConfig config, Path base, String where) {}

  private final Path file;
  private final Kind kind;
  private final String title;
  private final List<Path> checkpoints;
  private final boolean zeroShotSessions;
  private final String modelConfig;
  private final Path vocab;
  private final JsonNode templates;
  private final List<Entry> sources;
  private final List<Entry> datasets;
  private final int batchSize;
  private final Path cache;

  private ProtocolConfig(Path file, Kind kind, String title, List<Path> checkpoints, boolean zeroShotSessions,
      String modelConfig, Path vocab, JsonNode templates, List<Entry> sources, List<Entry> datasets, int batchSize,
      Path cache) {
    this.file = file;
    this.kind = kind;
    this.title = title;
    this.checkpoints = checkpoints;
    this.zeroShotSessions = zeroShotSessions;
    this.modelConfig = modelConfig;
    this.vocab = vocab;
    this.templates = templates;
    this.sources = sources;
    this.datasets = datasets;
    this.batchSize = batchSize;
    this.cache = cache;
  }

  /** Reads and checks a config file; the datasets are loaded later ({@link #load(Entry)}). */
  public static ProtocolConfig read(Path file) {
    if (!Files.isRegularFile(file)) throw new ProtocolConfigException(file + ": no such protocol config file");
    Raw raw;
    try {
      ObjectMapper mapper = StrictConfig.mapper(file).enable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY);
      raw = mapper.treeToValue(StrictConfig.tree(file, "protocol config"), Raw.class);
    } catch (UnrecognizedPropertyException e) {
      throw fail(file, "unknown key '" + e.getPropertyName() + "' (known: " + KNOWN + ")");
    } catch (ConfigException e) {
      throw new ProtocolConfigException(e.getMessage());
    } catch (JsonProcessingException e) {
      throw new ProtocolConfigException(StrictConfig.describe(file, e));
    }
    if (raw == null) throw fail(file, "empty protocol config");
    return check(file, raw);
  }

  private static ProtocolConfig check(Path file, Raw raw) {
    if (raw.protocol() == null) {
      throw fail(file, "'protocol' is missing (base-to-novel, cross-dataset, domain-generalisation or mtil)");
    }
    Kind kind = Kind.parse(raw.protocol());
    if (kind == null) {
      throw fail(file, "unknown protocol '" + raw.protocol()
          + "' (base-to-novel, cross-dataset, domain-generalisation or mtil)");
    }
    List<Path> checkpoints = new ArrayList<>();
    boolean zeroShot = raw.checkpoints() == null;
    if (raw.model() != null && raw.checkpoints() != null) throw fail(file, "give 'model' or 'checkpoints', not both");
    if (raw.checkpoints() != null) {
      if (kind != Kind.MTIL) throw fail(file, "'checkpoints' (one per session) is for the mtil protocol; give 'model'");
      for (String c : raw.checkpoints()) {
        if (c == null || c.isBlank()) throw fail(file, "a blank entry in 'checkpoints'");
        checkpoints.add(resolve(file, c));
      }
    } else {
      if (raw.model() == null || raw.model().isBlank()) {
        throw fail(file, "'model' is missing" + (kind == Kind.MTIL ? " (or 'checkpoints', one per session)" : ""));
      }
      checkpoints.add(resolve(file, raw.model()));
    }
    for (Path p : checkpoints) if (!Files.isRegularFile(p)) throw fail(file, "no such checkpoint: " + p);
    if (raw.datasets() == null || raw.datasets().isEmpty()) throw fail(file, "'datasets' is missing or empty");
    List<Entry> datasets = entries(file, raw.datasets(), "datasets");
    List<Entry> sources = List.of();
    if (raw.source() != null && !raw.source().isNull()) {
      if (kind != Kind.CROSS_DATASET && kind != Kind.DOMAIN_GENERALISATION) {
        throw fail(file, "'source' is for the cross-dataset and domain-generalisation protocols");
      }
      sources = raw.source().isArray() ? entries(file, toList(raw.source()), "source")
          : List.of(entry(file, raw.source(), "source"));
    }
    if (kind == Kind.MTIL) {
      if (datasets.size() < 2) throw fail(file, "mtil needs at least 2 datasets (one per session)");
      if (!zeroShot && checkpoints.size() != datasets.size()) {
        throw fail(file, checkpoints.size() + " checkpoints for " + datasets.size()
            + " datasets: mtil needs one checkpoint per session (per dataset, in order)");
      }
    }
    int batch = raw.batchSize() == null ? 32 : raw.batchSize();
    if (batch < 1) throw fail(file, "'batch_size' must be >= 1, got " + batch);
    JsonNode t = raw.templates();
    if (t != null && !t.isNull()) checkTemplates(file, t);
    String title = raw.title() == null || raw.title().isBlank() ? null : raw.title().strip();
    String modelConfig = dev.mergetune.clip.ClipConfigResolver.canonicalSpec(raw.modelConfig(),
        file.toAbsolutePath().getParent());
    return new ProtocolConfig(file, kind, title, List.copyOf(checkpoints), zeroShot, modelConfig,
        raw.vocab() == null ? null
        : resolve(file, raw.vocab()), t == null || t.isNull() ? null : t, sources, datasets, batch,
        raw.cache() == null ? null : resolve(file, raw.cache()));
  }

  private static List<JsonNode> toList(JsonNode array) {
    List<JsonNode> out = new ArrayList<>();
    array.forEach(out::add);
    return out;
  }

  private static List<Entry> entries(Path file, List<JsonNode> nodes, String key) {
    List<Entry> out = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) out.add(entry(file, nodes.get(i), key + "[" + (i + 1) + "]"));
    return List.copyOf(out);
  }

  private static Entry entry(Path file, JsonNode node, String key) {
    String where = file + ", " + key;
    if (node != null && node.isTextual()) {
      Path f = resolve(file, node.asText());
      if (!Files.isRegularFile(f)) throw new ProtocolConfigException(where + ": no such dataset config file: " + f);
      return new Entry(DatasetConfig.read(f), f, f.toString());
    }
    try {
      return new Entry(DatasetConfig.fromTree(node, where), file, where);
    } catch (DatasetException e) {
      throw new ProtocolConfigException(e.getMessage());
    }
  }

  /** Checks a config's {@code templates} value (a set name, a file, one template or a list), naming the file. */
  public static void checkTemplates(Path file, JsonNode t) {
    if (t.isArray()) {
      if (t.isEmpty()) throw fail(file, "'templates' is an empty list");
      for (JsonNode n : t) {
        if (!n.isTextual() || !n.asText().contains("{}")) {
          throw fail(file, "'templates': every template in the list is a string with {} for the class name, not " + n);
        }
      }
    } else if (!t.isTextual()) {
      throw fail(file, "'templates' is a set name (coop, mtil, imagenet80), a file, one template or a list of them");
    } else {
      String s = t.asText().strip();
      if (s.equals("coop") || s.equals("mtil") || s.equals("imagenet80") || s.contains("{}")) return;
      if (s.startsWith("coop:") || s.startsWith("mtil:")) {
        try {
          named(s);
        } catch (IllegalArgumentException e) {
          throw fail(file, "'templates': " + e.getMessage());
        }
        return;
      }
      if (!Files.isRegularFile(resolve(file, s))) {
        throw fail(file, "'templates: " + s + "' is neither a set (coop, mtil, imagenet80, coop:NAME, mtil:NAME), nor a"
            + " template with {}, nor a file");
      }
    }
  }

  private static List<String> named(String s) {
    return s.startsWith("coop:") ? List.of(PromptTemplates.coop(s.substring(5))) : PromptTemplates.mtil(s.substring(5));
  }

  /** The file this config was read from. */
  public Path file() {
    return file;
  }

  public Kind kind() {
    return kind;
  }

  /** The report's title: the one given, else the protocol and the checkpoint names. */
  public String title() {
    if (title != null) return title;
    if (kind == Kind.MTIL && !zeroShotSessions) {
      return kind.title() + ": " + checkpoints.size() + " sessions (" + checkpoints.get(0).getFileName() + " … "
          + checkpoints.get(checkpoints.size() - 1).getFileName() + ")";
    }
    return kind.title() + ": " + checkpoints.get(0).getFileName() + (kind == Kind.MTIL ? " (zero-shot in every session)" : "");
  }

  /** The evaluated model (the first session's checkpoint for mtil). */
  public Path model() {
    return checkpoints.get(0);
  }

  /** One checkpoint per MTIL session, in order (the same model repeated when the config gives 'model'). */
  public List<Path> sessions() {
    if (!zeroShotSessions) return checkpoints;
    List<Path> out = new ArrayList<>();
    for (int i = 0; i < datasets.size(); i++) out.add(checkpoints.get(0));
    return List.copyOf(out);
  }

  /** The distinct checkpoints the protocol evaluates. */
  public List<Path> checkpoints() {
    return checkpoints;
  }

  /** The {@code model_config} given in the config (a --model-config value, paths absolute), or null. */
  public String modelConfig() {
    return modelConfig;
  }

  /** The vocabulary given in the config, or null. */
  public Path vocab() {
    return vocab;
  }

  public List<Entry> sources() {
    return sources;
  }

  public List<Entry> datasets() {
    return datasets;
  }

  public int batchSize() {
    return batchSize;
  }

  /** The feature cache folder, or null. */
  public Path cache() {
    return cache;
  }

  /** Loads an entry's dataset, with the names and templates this protocol gives it. */
  public EvalDataset load(Entry e) {
    Dataset d;
    try {
      d = e.config().load(e.base());
    } catch (DatasetException ex) {
      throw new ProtocolConfigException(e.where() + ": " + ex.getMessage());
    }
    String name = displayName(e.config());
    List<String> names = kind == Kind.MTIL ? d.classNames()
        : d.classNames().stream().map(n -> n.replace('_', ' ')).toList();
    return new EvalDataset(name, d, names, templatesFor(name));
  }

  /** The row name: the registry's spelling for the coop and mtil layouts, else the config's name. */
  static String displayName(DatasetConfig c) {
    switch (c.parsedLayout()) {
      case COOP:
        return CoopDatasets.canonicalName(c.name());
      case MTIL:
        return MtilDatasets.canonicalName(c.name());
      default:
        return c.name().strip();
    }
  }

  /** The prompt templates of a dataset under this protocol (see the class comment). */
  public List<String> templatesFor(String dataset) {
    return templates(file, templates, kind == Kind.MTIL, dataset);
  }

  /**
   * The prompt templates a config's {@code templates} value gives a dataset (see the class comment): null or absent
   * means the dataset's own set — ZSCL's MTIL list when {@code mtilDefaults}, else CoOp's template — or
   * {@code "a photo of a {}."} for a dataset no set names. {@code spec} must have passed {@link #checkTemplates}.
   */
  public static List<String> templates(Path configFile, JsonNode spec, boolean mtilDefaults, String dataset) {
    if (spec == null || spec.isNull()) {
      List<String> t = mtilDefaults ? mtilTemplates(dataset) : coopTemplates(dataset);
      return t == null ? List.of(FALLBACK_TEMPLATE) : t;
    }
    if (spec.isArray()) {
      List<String> out = new ArrayList<>();
      spec.forEach(n -> out.add(n.asText()));
      return List.copyOf(out);
    }
    String s = spec.asText().strip();
    switch (s) {
      case "imagenet80":
        return PromptTemplates.imagenet80();
      case "coop":
      case "mtil": {
        List<String> t = s.equals("coop") ? coopTemplates(dataset) : mtilTemplates(dataset);
        if (t == null) {
          throw new ProtocolConfigException(configFile + ": 'templates: " + s + "' has no templates for dataset '"
              + dataset + "' (name it after one of the set's datasets, or give the templates)");
        }
        return t;
      }
      default:
        if (s.startsWith("coop:") || s.startsWith("mtil:")) return named(s);
        if (s.contains("{}")) return List.of(s);
        return PromptTemplates.load(resolve(configFile, s));
    }
  }

  /** CoOp's template for a dataset of its suite (any spelling CoopDatasets accepts), or null. */
  static List<String> coopTemplates(String dataset) {
    String key = dataset;
    try {
      key = CoopDatasets.canonicalName(dataset);
    } catch (DatasetException e) {
      // not a CoOp name: try the template table's own spelling
    }
    key = COOP_TEMPLATE_KEYS.getOrDefault(key, key);
    try {
      return List.of(PromptTemplates.coop(key));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** ZSCL's template list for an MTIL dataset, or null. */
  static List<String> mtilTemplates(String dataset) {
    try {
      return PromptTemplates.mtil(dataset);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  static Path resolve(Path configFile, String path) {
    Path p = Path.of(path.strip());
    Path dir = configFile.toAbsolutePath().getParent();
    return p.isAbsolute() || dir == null ? p : dir.resolve(p).normalize();
  }

  private static ProtocolConfigException fail(Path file, String message) {
    return new ProtocolConfigException(file + ": " + message);
  }
}
