package dev.mergetune.condu;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.mergetune.adapt.TrainSettings;
import dev.mergetune.io.ConfigException;
import dev.mergetune.io.StrictConfig;
import dev.mergetune.protocol.ProtocolConfig;
import dev.mergetune.protocol.ProtocolConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A ConDU MTIL run described in YAML (or JSON): θ0, the task sequence and how to train and evaluate. Unknown keys are
 * errors; paths are relative to the config file.
 *
 * <pre>
 * model: ViT-B-16.pt               # θ0
 * model_config: ViT-B-16           # optional: where θ0 does not record its configuration (--model-config values)
 * vocab: bpe_simple_vocab_16e6.txt.gz   # optional ($MERGETUNE_CLIP_VOCAB, or beside the model)
 * method: e2e                      # e2e (default) | lora
 * train: {iterations: 1000, lr: 1.0e-5, batch_size: 64, shots: 0, seed: 42}   # optional: any train setting (run.json keys)
 * templates: mtil                  # optional, as in eval configs (default: ZSCL's list per dataset)
 * top_k: 4                         # aggregation: θ0 + the K best experts per image
 * aggregation: unweighted          # unweighted (default, the reference code) | weighted (the paper)
 * weight_scale: 100                # weighted: softmax(scale · task score)
 * variants: [task-id, task-agnostic]   # which matrices to fill (default both)
 * lora_space: folded               # lora: folded (default; each expert merged into dense weights) | adapters (the
 *                                  #   released code's: A and B unified separately against θ0's own adapters)
 * prototype_images: eval           # eval (default) | augmented (the training augmentation, as the released code)
 * batch_size: 32                   # evaluation and prototype batches
 * sequential: false                # also the baseline: one model fine-tuned on each task in turn (from the last)
 * tasks:                           # in session order
 *   - name: Aircraft
 *     train: aircraft-train.yaml   # a dataset config or an image folder (a config with splits: its train split)
 *     test: aircraft-test.yaml     # (a config with splits: its test split)
 *     train_settings: {lr: 5.0e-5} # optional per-task overrides of 'train'
 * </pre>
 */
public record MtilConfig(Path file, Path model, String modelConfig, Path vocab, TrainSettings.Method method,
    JsonNode train,
    JsonNode templates, int topK, SemanticAggregation aggregation, boolean taskId, boolean taskAgnostic, int batchSize,
    boolean sequential, List<TaskEntry> tasks, ConduTaskStep.Options stepOptions) {
  private static final Set<String> KNOWN = Set.of("model", "model_config", "vocab", "method", "train", "templates",
      "top_k", "aggregation", "weight_scale", "variants", "batch_size", "sequential", "tasks", "lora_space",
      "prototype_images");
  private static final Set<String> TASK_KEYS = Set.of("name", "train", "test", "train_settings", "templates");

  /** One task: its name, training and test data paths, its own train-setting overrides (or null) and templates. */
  public record TaskEntry(String name, Path train, Path test, JsonNode trainSettings, JsonNode templates) {}

  public MtilConfig {
    tasks = List.copyOf(tasks);
  }

  public static MtilConfig read(Path file) {
    if (!Files.isRegularFile(file)) throw new ProtocolConfigException(file + ": no such MTIL config file");
    JsonNode root;
    try {
      root = StrictConfig.tree(file, "MTIL config");
    } catch (ConfigException e) {
      throw new ProtocolConfigException(e.getMessage());
    }
    if (!root.isObject()) throw fail(file, "an MTIL config is a mapping (model, tasks, ...)");
    keys(file, root, KNOWN, "");
    Path model = path(file, root, "model", true);
    Path vocab = path(file, root, "vocab", false);
    Path dir = file.toAbsolutePath().getParent();
    String modelConfig = dev.mergetune.clip.ClipConfigResolver.canonicalSpec(text(file, root, "model_config", null), dir);
    TrainSettings.Method method;
    try {
      method = TrainSettings.Method.parse(text(file, root, "method", "e2e"));
    } catch (ProtocolConfigException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw fail(file, "'method': " + e.getMessage());
    }
    if (method != TrainSettings.Method.E2E && method != TrainSettings.Method.LORA) {
      throw fail(file, "'method' is e2e or lora, not " + method.key());
    }
    JsonNode train = root.get("train");
    if (train != null && !train.isObject()) throw fail(file, "'train' is a mapping of train settings");
    JsonNode templates = root.get("templates");
    if (templates != null) ProtocolConfig.checkTemplates(file, templates);
    int topK = strict(() -> StrictConfig.integer(file, root, "top_k", 4));
    if (topK < 1) throw fail(file, "'top_k' must be >= 1, got " + topK);
    String agg = text(file, root, "aggregation", "unweighted");
    SemanticAggregation aggregation = switch (agg) {
      case "unweighted" -> SemanticAggregation.unweighted();
      case "weighted" -> SemanticAggregation.weighted(strict(() -> StrictConfig.number(file, root, "weight_scale", 100)));
      default -> throw fail(file, "'aggregation' is unweighted or weighted, not " + agg);
    };
    boolean taskId = true;
    boolean agnostic = true;
    if (root.has("variants")) {
      List<String> v = new ArrayList<>();
      root.get("variants").forEach(n -> {
        if (!n.isTextual()) throw fail(file, "'variants' lists strings (task-id, task-agnostic), not " + n);
        v.add(n.asText());
      });
      if (root.get("variants").isTextual()) v.add(root.get("variants").asText());
      for (String s : v) {
        if (!s.equals("task-id") && !s.equals("task-agnostic")) {
          throw fail(file, "'variants' lists task-id and/or task-agnostic, not " + s);
        }
      }
      taskId = v.contains("task-id");
      agnostic = v.contains("task-agnostic");
      if (!taskId && !agnostic) throw fail(file, "'variants' is empty");
    }
    JsonNode seq = root.path("sequential");
    if (!seq.isMissingNode() && !seq.isBoolean()) throw fail(file, "'sequential' is true or false");
    int batch = strict(() -> StrictConfig.integer(file, root, "batch_size", 32));
    if (batch < 1) throw fail(file, "'batch_size' must be >= 1, got " + batch);
    JsonNode t = root.get("tasks");
    if (t == null || !t.isArray() || t.size() < 2) throw fail(file, "'tasks' lists at least 2 tasks (one per session)");
    List<TaskEntry> tasks = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < t.size(); i++) {
      JsonNode n = t.get(i);
      String where = "tasks[" + (i + 1) + "]";
      if (!n.isObject()) throw fail(file, where + " is a mapping (name, train, test)");
      keys(file, n, TASK_KEYS, where + ".");
      String name = text(file, n, "name", null);
      if (name == null || name.isBlank()) throw fail(file, where + ": 'name' is missing");
      if (!names.add(name)) throw fail(file, where + ": task '" + name + "' appears twice");
      JsonNode ts = n.get("train_settings");
      if (ts != null && !ts.isObject()) throw fail(file, where + ".train_settings is a mapping of train settings");
      JsonNode tt = n.get("templates");
      if (tt != null) ProtocolConfig.checkTemplates(file, tt);
      tasks.add(new TaskEntry(name, path(file, n, "train", true), path(file, n, "test", true), ts, tt));
    }
    String space = text(file, root, "lora_space", AdapterSpace.FOLDED);
    if (!space.equals(AdapterSpace.FOLDED) && !space.equals(AdapterSpace.ADAPTERS)) {
      throw fail(file, "'lora_space' is folded or adapters, not " + space);
    }
    if (space.equals(AdapterSpace.ADAPTERS) && method != TrainSettings.Method.LORA) {
      throw fail(file, "'lora_space: adapters' unifies LoRA experts: set 'method: lora'");
    }
    String protoImages = text(file, root, "prototype_images", ConduTaskStep.Options.EVAL);
    if (!protoImages.equals(ConduTaskStep.Options.EVAL) && !protoImages.equals(ConduTaskStep.Options.AUGMENTED)) {
      throw fail(file, "'prototype_images' is eval or augmented, not " + protoImages);
    }
    MtilConfig c = new MtilConfig(file, model, modelConfig, vocab, method, train, templates, topK, aggregation, taskId, agnostic,
        batch, seq.asBoolean(false), tasks, new ConduTaskStep.Options(space, protoImages));
    for (TaskEntry e : tasks) c.settings(e);  // fail now, not after hours of training, on a bad setting
    return c;
  }

  /** The train settings of a task: the method's recipe, then 'train', then the task's own overrides; validated. */
  public TrainSettings settings(TaskEntry task) {
    TrainSettings s = TrainSettings.defaults(method);
    s.template = templatesFor(task).get(0);  // ConDU trains with the first template
    for (JsonNode over : new JsonNode[] {train, task.trainSettings()}) {
      if (over == null) continue;
      try {
        StrictConfig.update(file, "task '" + task.name() + "'", s, over);  // no coercion: batch_size: abc is an error
      } catch (ConfigException e) {
        throw new ProtocolConfigException(e.getMessage().replace("unknown key", "unknown train setting"));
      }
    }
    try {
      return s.validate();
    } catch (IllegalArgumentException e) {
      throw fail(file, "task '" + task.name() + "': " + e.getMessage());
    }
  }

  /** A task's prompt templates: its own, else the config's, else the dataset's MTIL list (or the fallback). */
  public List<String> templatesFor(TaskEntry task) {
    return ProtocolConfig.templates(file, task.templates() != null ? task.templates() : templates, true, task.name());
  }

  private static void keys(Path file, JsonNode node, Set<String> known, String prefix) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!known.contains(k)) throw fail(file, "unknown key '" + prefix + k + "' (known: " + new java.util.TreeSet<>(known) + ")");
    }
  }

  private static String text(Path file, JsonNode node, String key, String dflt) {
    String t = strict(() -> StrictConfig.text(file, node, key, dflt));
    return t == null ? null : t.strip();
  }

  /** A {@link StrictConfig} accessor, its error as this config's exception type. */
  private static <T> T strict(java.util.function.Supplier<T> read) {
    try {
      return read.get();
    } catch (ConfigException e) {
      throw new ProtocolConfigException(e.getMessage());
    }
  }

  private static Path path(Path file, JsonNode node, String key, boolean required) {
    String s = text(file, node, key, null);
    if (s == null || s.isEmpty()) {
      if (required) throw fail(file, "'" + key + "' is missing");
      return null;
    }
    Path p = Path.of(s);
    Path dir = file.toAbsolutePath().getParent();
    return p.isAbsolute() || dir == null ? p : dir.resolve(p).normalize();
  }

  private static ProtocolConfigException fail(Path file, String message) {
    return new ProtocolConfigException(file + ": " + message);
  }

  /** The config as JSON (for the run's record), paths absolute. */
  ObjectNode describe() {
    ObjectNode j = new ObjectMapper().createObjectNode();
    j.put("config", file.toAbsolutePath().toString());
    j.put("model", model.toString());
    if (modelConfig != null) j.put("model_config", modelConfig);
    j.put("method", method.key());
    j.put("top_k", topK);
    j.put("aggregation", aggregation.isWeighted() ? "weighted" : "unweighted");
    if (method == TrainSettings.Method.LORA) j.put("lora_space", stepOptions.loraSpace());
    j.put("prototype_images", stepOptions.prototypeImages());
    var names = j.putArray("tasks");
    tasks.forEach(t -> names.add(t.name()));
    return j;
  }
}
