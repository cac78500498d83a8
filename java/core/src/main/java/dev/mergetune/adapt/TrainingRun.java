package dev.mergetune.adapt;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.clip.ClipCheckpoints;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.DatasetImages;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.TextTokenizer;
import dev.mergetune.clip.ZeroShotClassifier;
import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.clip.image.RandomResizedCrop;
import dev.mergetune.clip.image.Transform;
import dev.mergetune.clip.text.ClipTokenTensors;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.data.ClassSubsets;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.FewShotSampler;
import dev.mergetune.merge.InputHashes;
import dev.mergetune.progress.Progress;
import dev.mergetune.progress.ProgressTask;
import dev.mergetune.distributed.DataParallel;
import dev.mergetune.distributed.ProcessGroupContext;
import dev.mergetune.distributed.ShardedFeatures;
import dev.mergetune.train.ConstantWarmupCosine;
import dev.mergetune.train.LinearWarmupCosine;
import dev.mergetune.train.LrSchedule;
import dev.mergetune.train.Optimizers;
import dev.mergetune.train.RunDirectory;
import dev.mergetune.train.StepOptimizer;
import dev.mergetune.train.TrainableMethod;
import dev.mergetune.train.TrainingLoop;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One training run of an adaptation method into a run directory — what {@code mergetune train} does, as a Java API.
 *
 * <p>The run directory:
 * <ul>
 *   <li>{@code run.json}: the settings ({@link TrainSettings}), the model, its identity and the data, the training and
 *       validation class names and sample counts — everything needed to rebuild the method around the trained state;
 *   <li>{@code checkpoints/}: the resumable state ({@link TrainingCheckpoint}) and the best epoch's copy;
 *   <li>{@code metrics.jsonl}: one JSON object per epoch (step, mean loss, lr, validation accuracy, images/s);
 *   <li>the trained state: {@code prompt.safetensors} (CoOp, KgCoOp: the context), {@code probe.safetensors} (linear
 *       probe), {@code lora.safetensors} (the adapters) — plus {@code model.safetensors}, a plain CLIP checkpoint
 *       with the adaptation folded in, for E2E and LoRA (merged);
 *   <li>{@code result.json}: written last — steps, best epoch and validation accuracy, last loss, time.
 * </ul>
 * Every file is written atomically. A directory holding the same run's checkpoint is resumed (and ends with the same
 * weights as an uninterrupted run); one holding a different run, or a finished one, is refused.
 */
public final class TrainingRun {
  private static final Logger LOG = LoggerFactory.getLogger(TrainingRun.class);
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  public static final String MODEL_FILE = "model.safetensors";
  /** The trained adapters of a LoRA run. */
  public static final String LORA_FILE = "lora.safetensors";
  static final String FORMAT = "mergetune-train-run/1";

  /**
   * What the run needs besides its settings. {@code validation} may be null; {@code dataPath} / {@code validationPath}
   * (the files or folders the datasets came from, recorded so that a later {@code continue} can load them again) and
   * {@code vocabPath} may be null for datasets and tokenizers built in code (and for the bundled vocabulary, which
   * is found again without it). {@code modelConfig} is the {@code --model-config} the model was loaded with (null:
   * the one its checkpoint records), kept in run.json so that a continuation loads the same model.
   */
  public record Inputs(ClipModel model, Path modelPath, String modelConfig, String modelIdentity,
      ClipTokenizer tokenizer, Path vocabPath, Dataset train, Dataset validation, Path dataPath, Path validationPath,
      String dataDescription, FeatureExtractor extractor) {
    /** The same inputs with another model object (e.g. loaded only once a run is known to be needed). */
    public Inputs withModel(ClipModel m) {
      return new Inputs(m, modelPath, modelConfig, modelIdentity, tokenizer, vocabPath, train, validation, dataPath,
          validationPath, dataDescription, extractor);
    }

    /** A builder over the three inputs every run needs; the rest are optional (see {@link Builder}). */
    public static Builder builder(ClipModel model, ClipTokenizer tokenizer, Dataset train) {
      return new Builder(model, tokenizer, train);
    }
  }

  /**
   * Builds {@link Inputs} with defaults: no validation set, no recorded paths, the training set's name as the data
   * description, a 64-image-batch {@link FeatureExtractor} without cache or progress. The model's identity (it keys
   * the run directory and any feature cache) must be given — {@link #modelIdentity} — or is the SHA-256 of
   * {@link #modelPath}'s file; with neither, {@link #build} refuses rather than invent one. Not thread-safe.
   */
  public static final class Builder {
    private final ClipModel model;
    private final ClipTokenizer tokenizer;
    private final Dataset train;
    private Path modelPath;
    private String modelConfig;
    private String modelIdentity;
    private Path vocabPath;
    private Dataset validation;
    private Path dataPath;
    private Path validationPath;
    private String dataDescription;
    private FeatureExtractor extractor;

    private Builder(ClipModel model, ClipTokenizer tokenizer, Dataset train) {
      if (model == null || tokenizer == null || train == null) {
        throw new IllegalArgumentException("a training run needs a model, a tokenizer and a training set");
      }
      this.model = model;
      this.tokenizer = tokenizer;
      this.train = train;
    }

    /** The checkpoint the model was loaded from (recorded in run.json, so {@code continue} can load it again). */
    public Builder modelPath(Path p) {
      modelPath = p;
      return this;
    }

    /** The model's configuration as given (a {@code --model-config} value); null: the checkpoint's own record. */
    public Builder modelConfig(String spec) {
      modelConfig = spec;
      return this;
    }

    /** A stable name of the model's weights, e.g. its checkpoint's SHA-256. */
    public Builder modelIdentity(String id) {
      modelIdentity = id;
      return this;
    }

    public Builder vocabPath(Path p) {
      vocabPath = p;
      return this;
    }

    public Builder validation(Dataset v) {
      validation = v;
      return this;
    }

    /** The file or folder the training set came from (recorded in run.json). */
    public Builder dataPath(Path p) {
      dataPath = p;
      return this;
    }

    public Builder validationPath(Path p) {
      validationPath = p;
      return this;
    }

    public Builder dataDescription(String d) {
      dataDescription = d;
      return this;
    }

    public Builder extractor(FeatureExtractor e) {
      extractor = e;
      return this;
    }

    public Inputs build() throws IOException {
      String id = modelIdentity;
      if (id == null || id.isBlank()) {
        if (modelPath == null) {
          throw new IllegalArgumentException("a training run needs the model's identity: give modelIdentity(...) or "
              + "modelPath(...) (whose SHA-256 is then used)");
        }
        id = InputHashes.sha256(modelPath);
      }
      return new Inputs(model, modelPath, modelConfig, id, tokenizer, vocabPath, train, validation, dataPath,
          validationPath,
          dataDescription != null ? dataDescription : train.name(),
          extractor != null ? extractor : new FeatureExtractor(64, false, null));
    }
  }

  /**
   * What a finished run reports. {@code bestEpoch} counts from 1, as result.json, metrics.jsonl and the log do (0: no
   * validation, so no epoch was selected); {@code bestValidationAccuracy} is NaN then.
   */
  public record Result(Path dir, long steps, int bestEpoch, double bestValidationAccuracy, double lastLoss,
      boolean resumed, Path trainedState, Path model, double seconds) {}

  private TrainingRun() {}

  /** The training and validation sets after class subsampling and few-shot sampling. */
  public record Data(Dataset train, Dataset validation) {}

  /**
   * Applies {@code subsample} (base: the first ⌈C/2⌉ classes; novel: the rest, relabelled) and takes {@code shots}
   * samples per class (seeded; 0 keeps all) for training and min(shots, 4) for validation, as Dassl does.
   */
  public static Data prepare(TrainSettings s, Dataset train, Dataset validation) {
    Dataset t = subsample(train, s.subsample);
    Dataset v = validation == null ? null : subsample(validation, s.subsample);
    if (v != null && !v.classNames().equals(t.classNames())) {
      throw new IllegalArgumentException("the validation classes differ from the training classes: " + v.classNames()
          + " vs " + t.classNames());
    }
    FewShotSampler sampler = new FewShotSampler(s.seed);
    if (s.shots > 0) {
      t = sampler.sample(t, s.shots);
      if (v != null) v = sampler.sample(v, Math.min(s.shots, 4), FewShotSampler.Shortfall.TAKE_ALL);
    }
    return new Data(t, v);
  }

  /** {@code d}'s classes as {@code which} (all, base, novel) selects them. */
  public static Dataset subsample(Dataset d, String which) {
    return switch (which) {
      case "base" -> ClassSubsets.base(d);
      case "novel" -> ClassSubsets.novel(d);
      default -> d;
    };
  }

  /**
   * Runs (or resumes) the method of {@code s} on {@code in} into {@code dir}. In a data-parallel job
   * ({@link ProcessGroupContext#current()}) every rank runs it: rank 0 owns the run folder and writes everything in
   * it, after every rank has finished training.
   */
  public static Result run(TrainSettings s, Inputs in, Path dir, boolean progress, PrintWriter log) throws IOException {
    s.validate().checkSchedule(in.train().size());
    TrainSettings.Method method = s.parsedMethod();
    ProcessGroupContext ctx = ProcessGroupContext.current();
    RunDirectory rd = RunDirectory.openOnMain(dir, manifest(s, in), ctx);
    TrainableMethod m = build(s, in, method, log);
    TrainingLoop.Result r = train(s, m, rd, progress, log, method.key() + " on " + in.train().size() + " images of "
        + in.train().numClasses() + " classes (" + in.dataDescription() + ")");
    ctx.barrier("the end of training");
    Path trained = trainedPath(method, dir);
    ctx.mainOnly("save the trained state", () -> saveTrained(m, method, in.model(), dir));
    Path modelFile = method == TrainSettings.Method.E2E || method == TrainSettings.Method.LORA
        ? dir.resolve(MODEL_FILE) : null;
    ObjectNode res = rd.result(FORMAT, r);
    res.put("trained", dir.relativize(trained).toString());
    if (modelFile != null) res.put("model", MODEL_FILE);
    double seconds = rd.finish(res);
    boolean twoFiles = modelFile != null && !modelFile.equals(trained);
    log.printf("trained state: %s%s%n", trained, twoFiles ? ", model: " + modelFile : "");
    log.flush();
    return new Result(dir, r.steps(), r.bestEpoch() < 0 ? 0 : r.bestEpoch() + 1, r.bestAccuracy(), r.lastLoss(),
        r.resumed(), trained, modelFile,
        seconds);
  }

  /**
   * Trains {@code m} with the optimizer, schedule and loop settings of {@code s} into the run folder {@code rd}
   * (checkpoints, metrics; resumed when the folder holds a checkpoint).
   */
  public static TrainingLoop.Result train(TrainSettings s, TrainableMethod m, RunDirectory rd, boolean progress,
      PrintWriter log, String what) throws IOException {
    return train(s, m, optimizer(s, m), rd, progress, log, what);
  }

  /** {@link #train(TrainSettings, TrainableMethod, RunDirectory, boolean, PrintWriter, String)} with a given optimizer. */
  public static TrainingLoop.Result train(TrainSettings s, TrainableMethod m, StepOptimizer opt, RunDirectory rd,
      boolean progress, PrintWriter log, String what) throws IOException {
    int perEpoch = stepsPerEpoch(m.trainSize(), s.batchSize);
    LrSchedule schedule = s.schedule.equals("constant-warmup-cosine")
        ? new ConstantWarmupCosine(s.lr, s.warmupLr, (int) s.warmup, s.epochs)
        : new LinearWarmupCosine(s.lr, s.warmup, s.iterations > 0 ? s.iterations : (long) perEpoch * s.epochs);
    long every = s.checkpointEvery > 0 ? s.checkpointEvery : perEpoch;
    TrainingLoop loop = new TrainingLoop(m, opt, new TrainingLoop.Config(s.epochs, s.iterations, s.batchSize, s.seed,
        schedule, s.schedule.equals("constant-warmup-cosine"), s.clipNorm, true, s.keepBest, every, rd.checkpoints(),
        progress));
    loop.onEpochEnd(rd.metricsListener(log));
    DataParallel dp = DataParallel.current();
    loop.dataParallel(dp);
    log.printf("training %s, %d steps%s%s%n", what, loop.totalSteps(),
        rd.resuming() ? ", resuming after step " + rd.resumeStep() : "",
        dp.distributed() ? " on " + dp + " (global batch " + s.batchSize + ", " + s.batchSize / dp.worldSize()
            + " per rank)" : "");
    log.flush();
    return loop.run();
  }

  static int stepsPerEpoch(int n, int batch) {
    return n >= batch ? n / batch : 1;
  }

  private static ObjectNode manifest(TrainSettings s, Dataset train, Dataset validation) {
    ObjectNode j = JSON.createObjectNode();
    j.put("format", FORMAT);
    j.set("settings", JSON.valueToTree(s));
    ObjectNode t = j.putObject("train");
    t.put("name", train.name());
    t.put("samples", train.size());
    ArrayNode names = t.putArray("class_names");
    train.classNames().forEach(names::add);
    if (validation != null) {
      ObjectNode v = j.putObject("validation");
      v.put("name", validation.name());
      v.put("samples", validation.size());
    }
    return j;
  }

  /** What run.json records about a run of {@code s} on {@code in}. */
  public static ObjectNode manifest(TrainSettings s, Inputs in) {
    ObjectNode j = manifest(s, in.train(), in.validation());
    j.put("model", in.modelPath() == null ? null : in.modelPath().toAbsolutePath().toString());
    if (in.modelConfig() != null) j.put("model_config", in.modelConfig());  // absent: the checkpoint records it
    j.put("model_identity", in.modelIdentity());
    j.put("data", in.dataDescription());
    j.put("vocab", absolute(in.vocabPath()));
    j.put("data_path", absolute(in.dataPath()));
    j.put("validation_path", absolute(in.validationPath()));
    return j;
  }

  private static String absolute(Path p) {
    return p == null ? null : p.toAbsolutePath().normalize().toString();
  }

  /** The zero-shot linear-probe head of {@code s} for the training classes (the probe's ŵ1). */
  public static LinearProbe zeroShotProbe(TrainSettings s, Inputs in) {
    ClipModel model = in.model();
    TextTokenizer tok = TextTokenizer.of(in.tokenizer(), model.config().contextLength(), Truncation.TRUNCATE);
    ZeroShotClassifier zs = ZeroShotClassifier.build(model, in.modelIdentity(), tok, in.train().classNames(),
        List.of(s.template), in.extractor());
    return LinearProbe.fromZeroShot(zs, s.bias);
  }

  /** The training prompts of E2E / LoRA: {@code s.template} for each class, tokenised [C, context]. */
  public static Tensor trainingPrompts(TrainSettings s, Inputs in) {
    List<String> prompts = new ArrayList<>();
    for (String c : in.train().classNames()) prompts.add(s.template.replace("{}", c.replace('_', ' ')));
    return ClipTokenTensors.tokenize(in.tokenizer(), prompts, in.model().config().contextLength(), Truncation.TRUNCATE);
  }

  private static TrainableMethod build(TrainSettings s, Inputs in, TrainSettings.Method method, PrintWriter log) {
    ClipModel model = in.model();
    int size = model.config().imageResolution();
    Transform eval = ClipImageTransform.of(size);
    Transform augment = trainTransform(s, size);
    List<String> classes = in.train().classNames();
    if (method.frozenImageEncoder()) {
      for (Tensor p : model.stateDict().values()) p.set_requires_grad(false);  // CLIP stays frozen
      CachedFeatures train = features(in, in.train(), augment, s.views, log);
      CachedFeatures val = in.validation() == null ? null : features(in, in.validation(), eval, 1, log);
      if (method == TrainSettings.Method.LINEAR_PROBE) {
        return new LinearProbeMethod(zeroShotProbe(s, in), train, val, s.labelSmoothing);
      }
      CoopPromptLearner learner = initialLearner(s, model, in.tokenizer(), classes);
      if (method == TrainSettings.Method.COOP) return CachedCoopMethod.coop(learner, train, val, s.labelSmoothing);
      return CachedCoopMethod.kgCoop(learner,
          CachedCoopMethod.templateFeatures(model, in.tokenizer(), classes, s.template), s.lambda, train, val,
          s.labelSmoothing);
    }
    Tensor tokens = trainingPrompts(s, in);
    int threads = ImageBatch.defaultThreads();
    int evalBatch = in.extractor().batchSize();
    if (method == TrainSettings.Method.E2E) {
      return ClipFineTuneMethod.endToEnd(model, tokens, in.train(), augment, in.validation(), eval, s.labelSmoothing,
          threads, evalBatch);
    }
    Lora lora = Lora.attach(model, s.rank, s.scaling, s.seed);
    return ClipFineTuneMethod.lora(model, lora, tokens, in.train(), augment, in.validation(), eval, s.labelSmoothing,
        threads, evalBatch);
  }

  /** The training transform of {@code s.augment} at {@code size} px (the evaluation transform for "none"). */
  public static Transform trainTransform(TrainSettings s, int size) {
    return switch (s.augment) {
      case "coop" -> RandomResizedCrop.coop(size, s.seed);
      case "mtil" -> RandomResizedCrop.mtil(size, s.seed);
      default -> ClipImageTransform.of(size);
    };
  }

  /** The learner {@code s} starts CoOp/KgCoOp from (context from {@code ctx_init}, else random from the seed). */
  public static CoopPromptLearner initialLearner(TrainSettings s, ClipModel model, ClipTokenizer tokenizer,
      List<String> classes) {
    return s.ctxInit != null ? CoopPromptLearner.fromText(model, tokenizer, classes, s.ctxInit)
        : CoopPromptLearner.random(model, tokenizer, classes, s.nCtx, s.seed);
  }

  /**
   * Image features of {@code d} by the frozen encoder: {@code views} views of transform {@code t} (epoch v's draws
   * for view v), through the extractor's cache.
   */
  public static CachedFeatures features(Inputs in, Dataset d, Transform t, int views, PrintWriter log) {
    float[][][] v = new float[views][][];
    ProcessGroupContext ctx = ProcessGroupContext.current();
    try (ProgressTask task = Progress.of(in.extractor().progress() && ctx.isMain()).start("image features of "
        + d.name(), (long) views * d.size(), "image")) {
      for (int e = 0; e < views; e++) {
        DatasetImages images = new DatasetImages(d, t, e, ImageBatch.defaultThreads());
        v[e] = ctx.distributed() ? ShardedFeatures.images(in.extractor(), in.model(), in.modelIdentity(), images, ctx, task)
            : in.extractor().images(in.model(), in.modelIdentity(), images, task);
      }
    }
    int[] labels = new int[d.size()];
    for (int i = 0; i < labels.length; i++) labels[i] = d.samples().get(i).label();
    log.printf("cached image features of %s: %d image%s x %d view%s (%s%s)%n", d.name(), d.size(),
        d.size() == 1 ? "" : "s", views, views == 1 ? "" : "s", t.isRandom() ? "augmentations drawn in advance, view e"
            + " serves epochs e, e + " + views + ", ..." : "deterministic transform",
        ctx.distributed() ? "; encoded by " + ctx.worldSize() + " ranks and gathered" : "");
    log.flush();
    return CachedFeatures.ofViews(v, labels);
  }

  private static Optimizers.Named optimizer(TrainSettings s, TrainableMethod m) {
    Map<String, List<Tensor>> groups = new LinkedHashMap<>();
    groups.put("trainable", new ArrayList<>(m.trainable().values()));
    return s.optimizer.equals("sgd")
        ? Optimizers.sgd(groups, new Optimizers.SgdConfig(s.lr, s.momentum, s.weightDecay, s.nesterov))
        : Optimizers.adamW(groups, new Optimizers.AdamWConfig(s.lr, s.beta1, s.beta2, s.eps, s.weightDecay));
  }

  /** Where {@link #saveTrained} puts the trained state of {@code method}. */
  static Path trainedPath(TrainSettings.Method method, Path dir) {
    return dir.resolve(switch (method) {
      case COOP, KGCOOP -> "prompt.safetensors";
      case LINEAR_PROBE -> "probe.safetensors";
      case LORA -> "lora.safetensors";
      case E2E -> MODEL_FILE;
    });
  }

  private static Path saveTrained(TrainableMethod m, TrainSettings.Method method, ClipModel model, Path dir)
      throws IOException {
    switch (method) {
      case COOP, KGCOOP -> {
        Path p = dir.resolve("prompt.safetensors");
        ((CachedCoopMethod) m).learner().save(p);
        return p;
      }
      case LINEAR_PROBE -> {
        Path p = dir.resolve("probe.safetensors");
        ((LinearProbeMethod) m).probe().save(p);
        return p;
      }
      case LORA -> {
        Path p = dir.resolve(LORA_FILE);
        Lora lora = ((ClipFineTuneMethod) m).lora();
        lora.save(p);
        lora.merge();
        ClipCheckpoints.save(model, dir.resolve(MODEL_FILE), Map.of("mergetune.trained", "lora"));
        lora.unmerge();
        return p;
      }
      case E2E -> {
        Path p = dir.resolve(MODEL_FILE);
        ClipCheckpoints.save(model, p, Map.of("mergetune.trained", "e2e"));
        return p;
      }
      default -> throw new AssertionError(method);
    }
  }
}
