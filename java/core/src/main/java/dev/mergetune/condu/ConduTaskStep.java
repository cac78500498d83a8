package dev.mergetune.condu;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mergetune.adapt.Lora;
import dev.mergetune.adapt.TrainSettings;
import dev.mergetune.adapt.TrainingRun;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.DatasetImages;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.TextTokenizer;
import dev.mergetune.clip.TokenBatches;
import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.clip.image.Transform;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.data.Dataset;
import dev.mergetune.distributed.ProcessGroupContext;
import dev.mergetune.tensors.NamedTensors;
import dev.mergetune.train.RunDirectory;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One ConDU session with its fine-tuning (methods.md §2.3): fine-tune a new expert for the task <b>from θ0</b>
 * (end-to-end or LoRA, through {@link TrainingRun}, resumable), compute the task's class prototypes with θ0
 * ({@link ClassPrototypes}), then rebuild the old experts from the last U and triggers, unify and commit the next
 * session ({@link ConduSessions#addTaskFromExpert}).
 *
 * <p>In a data-parallel job every rank fine-tunes the expert together ({@link TrainingRun}); rank 0 alone computes the
 * prototypes, unifies and commits the session, while the others wait.
 *
 * <p>The training run directory is kept: a step interrupted during training resumes there, and one interrupted after
 * training (but before the store committed) reuses the finished expert instead of training it again.
 */
public final class ConduTaskStep {
  private ConduTaskStep() {}

  /**
   * A task of the sequence.
   *
   * @param name unique within the store
   * @param train the training data (the settings' shots are drawn from it)
   * @param dataPath where {@code train} came from (recorded in the run), or null
   * @param classNames the class names put into prompts (label c = classNames[c])
   * @param templates the task's prompt templates: all of them make the prototypes' text features; the settings'
   *     {@code template} is the training text (ConDU trains with the first)
   */
  public record Task(String name, Dataset train, Path dataPath, List<String> classNames, List<String> templates) {
    public Task {
      if (name == null || name.isBlank()) throw new IllegalArgumentException("a task needs a name");
      classNames = List.copyOf(classNames);
      templates = List.copyOf(templates);
      if (classNames.size() != train.numClasses()) {
        throw new IllegalArgumentException("task '" + name + "': " + classNames.size() + " class names for "
            + train.numClasses() + " classes");
      }
      if (templates.isEmpty()) throw new IllegalArgumentException("task '" + name + "': no prompt templates");
    }
  }

  /**
   * How a step unifies and makes prototypes: {@code loraSpace} — a LoRA expert unified as merged dense weights
   * ({@code folded}, the default) or as its adapters against θ0's own ({@code adapters}, the released code's space:
   * {@link AdapterSpace}); {@code prototypeImages} — the training images through the evaluation transform
   * ({@code eval}, the default) or through the training augmentation ({@code augmented}: the released code averages
   * its augmented training loader; here epoch 0's draws of the training transform).
   */
  public record Options(String loraSpace, String prototypeImages) {
    public static final String EVAL = "eval";
    public static final String AUGMENTED = "augmented";

    public Options {
      AdapterSpace.checkSpace(loraSpace);
      if (!EVAL.equals(prototypeImages) && !AUGMENTED.equals(prototypeImages)) {
        throw new IllegalArgumentException("prototype images are eval or augmented, not '" + prototypeImages + "'");
      }
    }

    public static Options defaults() {
      return new Options(AdapterSpace.FOLDED, EVAL);
    }

    public boolean adapters() {
      return loraSpace.equals(AdapterSpace.ADAPTERS);
    }
  }

  /** What a step did: the committed session, and seconds spent training, on prototypes and on unify + store. */
  public record Result(String task, long session, Path runDir, boolean trainingReused, double trainSeconds,
      double prototypeSeconds, double unifySeconds) {}

  /**
   * Runs the step: the expert is trained in {@code runDir} (e2e or lora settings), then added to {@code store}.
   *
   * @param modelConfig the {@code --model-config} θ0 is loaded with (null: the one the store records, else the one
   *     θ0's checkpoint records)
   * @param batchSize batch of the prototypes' feature extraction
   */
  public static Result run(Path store, Path theta0Path, String modelConfig, ClipTokenizer tokenizer, Path vocabPath,
      TrainSettings settings, Task task, Path runDir, int batchSize, boolean progress, PrintWriter log)
      throws IOException {
    return run(store, theta0Path, modelConfig, tokenizer, vocabPath, settings, task, runDir, batchSize,
        Options.defaults(), progress, log);
  }

  /** {@link #run} with the step's {@link Options} (LoRA space, prototype images). */
  public static Result run(Path store, Path theta0Path, String modelConfig, ClipTokenizer tokenizer, Path vocabPath,
      TrainSettings settings, Task task, Path runDir, int batchSize, Options options, boolean progress,
      PrintWriter log) throws IOException {
    TrainSettings.Method method = settings.validate().parsedMethod();
    if (method != TrainSettings.Method.E2E && method != TrainSettings.Method.LORA) {
      throw new IllegalArgumentException("a ConDU expert is fine-tuned end to end or with LoRA (e2e, lora), not "
          + settings.method);
    }
    if (options.adapters() && method != TrainSettings.Method.LORA) {
      throw new IllegalArgumentException("--lora-space adapters unifies LoRA experts (method lora), not " + settings.method);
    }
    // A data-parallel step: every rank trains the expert (TrainingRun), rank 0 alone reads and writes the store.
    ProcessGroupContext ctx = ProcessGroupContext.current();
    ctx.mainOnly("check the session store " + store, () -> refuseKnownTask(store, task.name()));
    if (modelConfig == null && SessionStore.exists(store)) modelConfig = SessionStore.summary(store).theta0().modelConfig();
    Theta0Ref theta0 = Theta0Ref.of(theta0Path, modelConfig);
    TrainingRun.Data data = TrainingRun.prepare(settings, task.train(), null);
    settings.checkSchedule(data.train().size());

    long t0 = System.nanoTime();
    TrainingRun.Inputs in = new TrainingRun.Inputs(null, theta0.path(), modelConfig, "sha256:" + theta0.sha256(), tokenizer,
        vocabPath, data.train(), null, task.dataPath(), null, task.name() + " (" + data.train().size() + " images, "
            + data.train().numClasses() + " classes)", new FeatureExtractor(batchSize, progress, null));
    Path expertFile = runDir.resolve(TrainingRun.MODEL_FILE);
    boolean reused = ctx.decideOnMain("look for the finished expert in " + runDir,
        () -> finished(runDir, TrainingRun.manifest(settings, in)));
    if (reused) {
      log.printf("task %s: the expert in %s is already trained; reusing it%n", task.name(), runDir);
    } else {
      try (ClipModel model = theta0.load()) {
        TrainingRun.run(settings, in.withModel(model), runDir, progress, log);
      }
    }
    double trainSeconds = (System.nanoTime() - t0) / 1e9;

    byte[] done = ctx.onMain("unify the experts and commit the session", () -> {
      long t1 = System.nanoTime();
      try (ClipModel base = theta0.load()) {
        int size = base.config().imageResolution();
        Transform protoImages = options.prototypeImages().equals(Options.AUGMENTED)
            ? TrainingRun.trainTransform(settings, size) : ClipImageTransform.of(size);
        AdapterSpace space = options.adapters() ? theta0Adapters(store, base, settings) : null;  // θ0 = base + these
        Prototypes prototypes = prototypes(base, tokenizer, data.train(), task.classNames(), task.templates(),
            batchSize, protoImages);
        double prototypeSeconds = (System.nanoTime() - t1) / 1e9;
        long t2 = System.nanoTime();
        if (space == null) {
          try (ClipModel expert = ClipLoader.load(expertFile)) {
            ConduSessions.addTaskFromExpert(store, theta0, task.name(), base, expert, prototypes);
          }
        } else {
          Map<String, Tensor> adapters = expertAdapters(runDir.resolve(TrainingRun.LORA_FILE), space);
          ConduSessions.addTaskFromExpert(store, theta0, task.name(), space.theta0(), adapters, prototypes, space);
        }
        double unifySeconds = (System.nanoTime() - t2) / 1e9;
        long session = SessionStore.summary(store).session();
        return java.nio.ByteBuffer.allocate(24).putLong(session).putDouble(prototypeSeconds).putDouble(unifySeconds)
            .array();
      }
    });
    java.nio.ByteBuffer r = java.nio.ByteBuffer.wrap(done);
    long session = r.getLong();
    double prototypeSeconds = r.getDouble();
    double unifySeconds = r.getDouble();
    log.printf("task %s: session %d committed (training %.1f s%s, prototypes %.1f s, unify and store %.1f s)%n",
        task.name(), session, trainSeconds, reused ? " (reused)" : "", prototypeSeconds, unifySeconds);
    log.flush();
    return new Result(task.name(), session, runDir, reused, trainSeconds, prototypeSeconds, unifySeconds);
  }

  /**
   * The task's prototypes from θ0: the normalised image features of its training images (evaluation transform) and
   * the text features of each class in every template.
   */
  public static Prototypes prototypes(ClipModel theta0, ClipTokenizer tokenizer, Dataset train, List<String> classNames,
      List<String> templates, int batchSize) {
    return prototypes(theta0, tokenizer, train, classNames, templates, batchSize,
        ClipImageTransform.of(theta0.config().imageResolution()));
  }

  /**
   * {@link #prototypes} with the training images through {@code images} (a random transform: its epoch-0 draws, as
   * one pass of an augmented loader).
   */
  public static Prototypes prototypes(ClipModel theta0, ClipTokenizer tokenizer, Dataset train, List<String> classNames,
      List<String> templates, int batchSize, Transform images) {
    FeatureExtractor ex = new FeatureExtractor(batchSize, false, null);
    float[][] imageFeatures = ex.images(theta0, "uncached", new DatasetImages(train, images, 0,
        ImageBatch.defaultThreads()));
    int[] labels = new int[train.size()];
    for (int i = 0; i < labels.length; i++) labels[i] = train.samples().get(i).label();
    List<String> texts = new ArrayList<>();
    for (String c : classNames) for (String t : templates) texts.add(t.replace("{}", c));
    TextTokenizer tok = TextTokenizer.of(tokenizer, theta0.config().contextLength(), Truncation.TRUNCATE);
    float[][] flat = ex.texts(theta0, "uncached", TokenBatches.of(tok.tokenize(texts), "prototype prompts"));
    float[][][] text = new float[classNames.size()][templates.size()][];
    for (int c = 0; c < classNames.size(); c++) {
      for (int t = 0; t < templates.size(); t++) text[c][t] = flat[c * templates.size() + t];
    }
    return ClassPrototypes.build(classNames, imageFeatures, labels, text);
  }

  /**
   * θ0's own adapters, attached to {@code base} (so that it is θ0 as the adapters' space defines it): those the store
   * holds, else — for its first session — a new draw of ConDU's init, N(0, 0.01²), from seed
   * {@link #theta0AdapterSeed}.
   */
  public static AdapterSpace theta0Adapters(Path store, ClipModel base, TrainSettings settings) throws IOException {
    if (SessionStore.exists(store)) {
      try (StoredSession s = SessionStore.load(store)) {
        StoredSession.Adapters a = s.adapters().orElseThrow(() -> new IllegalArgumentException("store " + store
            + " unifies the model's weights (a LoRA expert there is folded into them); it takes no adapters"));
        if (a.rank() != settings.rank || a.scaling() != settings.scaling) {
          throw new IllegalArgumentException("store " + store + " holds adapters of rank " + a.rank() + ", scaling "
              + a.scaling() + "; this expert's are rank " + settings.rank + ", scaling " + settings.scaling);
        }
        Lora l = Lora.attach(base, a.rank(), a.scaling(), a.theta0Seed());
        l.load(a.theta0File());
        return new AdapterSpace(a.rank(), a.scaling(), a.theta0Seed(), frozen(l));
      }
    }
    long seed = theta0AdapterSeed(settings.seed);
    Lora l = Lora.attach(base, settings.rank, settings.scaling, seed);
    return new AdapterSpace(settings.rank, settings.scaling, seed, frozen(l));
  }

  /**
   * The seed θ0's adapters are drawn from: the experts' seed + 1, another draw than the experts' initial adapters
   * (the released code's θ0 adapters come from its global generator after the first expert has trained, its experts'
   * from the same seed each session).
   */
  public static long theta0AdapterSeed(long expertSeed) {
    return expertSeed + 1;
  }

  private static Map<String, Tensor> frozen(Lora l) {
    Map<String, Tensor> out = l.parameters();
    for (Tensor t : out.values()) t.set_requires_grad(false);
    return out;
  }

  /** The trained adapters of a LoRA run ({@code lora.safetensors}), checked against the space's rank and scaling. */
  public static Map<String, Tensor> expertAdapters(Path file, AdapterSpace space) {
    Map<String, String> meta = NamedTensors.metadata(file);
    if (!String.valueOf(space.rank()).equals(meta.get("rank"))
        || Double.parseDouble(meta.getOrDefault("scaling", "NaN")) != space.scaling()) {
      throw new IllegalArgumentException(file + " holds adapters of rank " + meta.get("rank") + ", scaling "
          + meta.get("scaling") + "; the store's are rank " + space.rank() + ", scaling " + space.scaling());
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : space.theta0().entrySet()) {
      out.put(e.getKey(), torch.zeros(e.getValue().sizes().vec().get()));
    }
    NamedTensors.load(file, out);  // the names and shapes must be θ0's adapters'
    return out;
  }

  /** A task name as a folder name: characters other than letters, digits, '.', '_' and '-' become '_'. */
  public static String folderName(String task) {
    // characters outside the safe set become '_'; what is left must still be a safe path part ("..", ".x")
    return dev.mergetune.io.PathNames.require(task.replaceAll("[^A-Za-z0-9._-]", "_"), "task name");
  }

  /** Class names as put into prompts ('_' read as a space, as training does). */
  public static List<String> promptNames(Dataset d) {
    return d.classNames().stream().map(n -> n.replace('_', ' ')).toList();
  }

  private static void refuseKnownTask(Path store, String name) throws IOException {
    if (!SessionStore.exists(store)) return;
    SessionStore.Summary s = SessionStore.summary(store);
    if (s.taskNames().contains(name)) {
      throw new IllegalArgumentException("the session store " + store + " already holds task '" + name + "' (session "
          + s.session() + ")");
    }
  }

  /** Whether {@code runDir} holds this very run, finished; a different finished run there is an error. */
  private static boolean finished(Path runDir, JsonNode manifest) throws IOException {
    if (RunDirectory.finished(runDir, manifest).isEmpty()) return false;
    if (!Files.isRegularFile(runDir.resolve(TrainingRun.MODEL_FILE))) {
      throw new IllegalArgumentException(runDir + " holds a finished run without " + TrainingRun.MODEL_FILE);
    }
    return true;
  }
}
