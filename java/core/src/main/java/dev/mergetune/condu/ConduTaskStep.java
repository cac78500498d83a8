package dev.mergetune.condu;

import com.fasterxml.jackson.databind.JsonNode;
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
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.data.Dataset;
import dev.mergetune.distributed.ProcessGroupContext;
import dev.mergetune.train.RunDirectory;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
    TrainSettings.Method method = settings.validate().parsedMethod();
    if (method != TrainSettings.Method.E2E && method != TrainSettings.Method.LORA) {
      throw new IllegalArgumentException("a ConDU expert is fine-tuned end to end or with LoRA (e2e, lora), not "
          + settings.method);
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
        Prototypes prototypes = prototypes(base, tokenizer, data.train(), task.classNames(), task.templates(),
            batchSize);
        double prototypeSeconds = (System.nanoTime() - t1) / 1e9;
        long t2 = System.nanoTime();
        try (ClipModel expert = ClipLoader.load(expertFile)) {
          ConduSessions.addTaskFromExpert(store, theta0, task.name(), base, expert, prototypes);
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
    FeatureExtractor ex = new FeatureExtractor(batchSize, false, null);
    float[][] images = ex.images(theta0, "uncached", new DatasetImages(train,
        ClipImageTransform.of(theta0.config().imageResolution()), 0, ImageBatch.defaultThreads()));
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
    return ClassPrototypes.build(classNames, images, labels, text);
  }

  /** A task name as a folder name: characters other than letters, digits, '.', '_' and '-' become '_'. */
  public static String folderName(String task) {
    return task.replaceAll("[^A-Za-z0-9._-]", "_");
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
