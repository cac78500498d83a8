package dev.mergetune.cli;

import dev.mergetune.kernels.Dare;
import dev.mergetune.kernels.Ties;
import dev.mergetune.eval.ValueList;
import dev.mergetune.merge.DareMerge;
import dev.mergetune.merge.EmrMerge;
import dev.mergetune.merge.LinearMerge;
import dev.mergetune.merge.MergeConfig;
import dev.mergetune.merge.StreamingMerge;
import dev.mergetune.merge.TensorOp;
import dev.mergetune.merge.TensorSelection;
import dev.mergetune.merge.TiesMerge;
import dev.mergetune.merge.mergekit.GtaMethod;
import dev.mergetune.merge.mergekit.MergekitConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune merge}: merge checkpoints tensor by tensor. A list of scales (or alphas) is a sweep: every
 * output is computed from one read of the inputs, and {@code {}} in --out is replaced by the swept value.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "merge",
    description = "Merge checkpoints (streaming, tensor by tensor): task-arithmetic, ties, dare, wise-ft, average, and"
        + " mergekit's linear, dare_ties, dare_linear, breadcrumbs, breadcrumbs_ties, della, della_linear, slerp,"
        + " model_stock, nuslerp, multislerp; --config also reads mergekit YAML; the per-layer SVD merges tsv-m,"
        + " iso-c, iso-cts (FusionBench's).")
final class MergeCommand implements Callable<Integer>, NativeOnDemand {
  /**
   * The methods whose merge of safetensors inputs runs on libmergetune alone (or whose kernels load the rest of the
   * native stack themselves, as TIES's and DARE's do): the command loads no LibTorch for them up front
   * ({@link NativeOnDemand}). Every other method, and --config, gets the whole stack first.
   */
  private static final java.util.Set<String> ON_DEMAND = java.util.Set.of("task-arithmetic", "wise-ft", "average",
      "ties", "dare");

  @Spec CommandSpec spec;

  @picocli.CommandLine.Mixin MergeOutputOptions output = new MergeOutputOptions();

  @Option(names = "--config", description = "A YAML file with the same keys (method, base, models, weights, scale,"
      + " alpha, drop_rate, keep_density, seed, rescale, preset, density, trim, selection, election, zero_sign,"
      + " aggregate, include, exclude, trainable_only, out) instead of the flags")
  Path config;

  @Option(names = "--method", description = "task-arithmetic | ties | dare | wise-ft | average | linear | dare_ties"
      + " | dare_linear | breadcrumbs | breadcrumbs_ties | della | della_linear | slerp | model_stock | nuslerp"
      + " | multislerp (mergekit's semantics) | tsv-m | iso-c | iso-cts (FusionBench's)")
  String method;

  @Option(names = "--base", description = "The pre-trained (zero-shot) checkpoint θ0: .safetensors, shard index .json, or .pt (TorchScript / torch.save)")
  Path base;

  @Option(names = "--models", arity = "1..*", description = "Fine-tuned checkpoints")
  List<Path> models;

  @Option(names = "--weights", paramLabel = "LIST", description = "Per-model weights (default 1 each)")
  List<String> weightSpecs;

  @Option(names = "--scale", paramLabel = "LIST",
      description = "Task-arithmetic / DARE / TIES scale(s) λ: 0.3, or 0.2,0.3 or 0.1:0.5:0.1; several = a sweep")
  List<String> scaleSpecs;

  @Option(names = "--alpha", paramLabel = "LIST",
      description = "WiSE-FT α value(s): 0.5, or 0.1,0.5 or 0:1:0.1 (stop included); several = a sweep")
  List<String> alphaSpecs;

  float[] weights;
  float[] scales;
  float[] alphas;

  @Option(names = "--drop-rate", description = "DARE: probability of dropping each delta element")
  Float dropRate;

  @Option(names = "--keep-density", description = "DARE: probability of keeping each delta element (1 - drop rate)")
  Float keepDensity;

  @Option(names = "--seed", description = "DARE: RNG seed (default 0); masks depend only on seed, model, tensor name")
  Long seed;

  @Option(names = "--rescale", description = "DARE: inverse (1/(1-p), default) | l1 (keep each tensor's L1) | none")
  String rescale;

  @Option(names = "--preset", description = "TIES: paper (default) | fusionbench | mergekit")
  String preset;

  @Option(names = "--density", description = "TIES: fraction of each task vector kept by magnitude (presets: 0.2)")
  Double density;

  @Option(names = "--trim", description = "TIES: global (per model, paper/fusionbench) | per-tensor (mergekit)")
  String trim;

  @Option(names = "--selection", description = "TIES: kthvalue (ties at the threshold kept) | topk (exactly k)")
  String selection;

  @Option(names = "--election", description = "TIES: mass (sign of the sum) | count (sign of the vote)")
  String election;

  @Option(names = "--zero-sign", description = "TIES: majority (paper) | positive (mergekit) for a zero election")
  String zeroSign;

  @Option(names = "--aggregate",
      description = "TIES: mean | sum | max of the agreeing entries (max: the official code's dis-max, the elected"
          + " sign times their largest magnitude)")
  String aggregate;

  @Option(names = "--task", description = "emr: write this model's decoupled expert (0-based) instead of the"
      + " unified delta with its masks and rescalers")
  Integer task;

  @Option(names = "--epsilon", description = "della, della_linear: the spread of keep probabilities (0.15)")
  Double epsilon;

  @Option(names = "--gamma", description = "breadcrumbs(_ties): the fraction of largest deltas dropped (0.01)")
  Double gamma;

  @Option(names = "--normalize", arity = "1", paramLabel = "true|false",
      description = "mergekit methods: divide by the (agreeing) weights' sum (default: the method's)")
  Boolean normalize;

  @Option(names = "--common-space-fraction", description = "iso-cts: the fraction of each layer's rank kept as the"
      + " common subspace (default 0.8)")
  Double commonSpaceFraction;

  @Option(names = "--svd-exclude", split = ",", description = "tsv-m, iso-c, iso-cts: 2-D tensors (globs) merged by"
      + " the averaging rule instead of the SVD (FusionBench's exclude_keys)")
  List<String> svdExclude;

  @Option(names = "--include", split = ",", description = "Merge only tensors matching these globs (* within a"
      + " dotted part, ** across); the others are copied from the base")
  List<String> include;

  @Option(names = "--exclude", split = ",", description = "Do not merge tensors matching these globs")
  List<String> exclude;

  @Option(names = "--trainable-only", description = "Merge trainable parameters only (buffers are copied)")
  Boolean trainableOnly;

  @Option(names = "--out", description = "Output .safetensors, or a folder (ending in '/' or existing: HF layout,"
      + " with the base folder's config and tokenizer files); with a sweep, '{}' stands for the value")
  String out;

  @Option(names = "--hash", paramLabel = "sha256|xxh3-128|none", description = "The digest of each input recorded in"
      + " the outputs' metadata ('FILE NAME:HEX', mergetune.input_digest=NAME), computed from the merge's own reads:"
      + " sha256 (default: cryptographic, the value sha256sum and the Hugging Face Hub show for the file, about 1.6 GB/s"
      + " per core), xxh3-128 (XXH128, what xxhsum -H2 prints: tells files apart and catches any accidental change, but"
      + " not cryptographic; hash4j's pure-Java XXH3, measured no faster than SHA-NI SHA-256 in one short merge on a"
      + " 2-core VM), none. Allowed with --config")
  String hash;

  @Option(names = "--no-hash", description = "Same as --hash none. Allowed with --config")
  boolean noHash;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    weights = floats(weightSpecs, "--weights");
    scales = floats(scaleSpecs, "--scale");
    alphas = floats(alphaSpecs, "--alpha");
    if (config != null || method == null || !ON_DEMAND.contains(method)) dev.mergetune.kernels.NativeRuntime.ensureLoaded();
    output.checkCompute();
    mergeOptions();  // a bad --hash fails before anything is read or written
    base = dev.mergetune.tensors.HfFolders.resolveInput(base, "--base");
    if (models != null) models = models.stream().map(m -> dev.mergetune.tensors.HfFolders.resolveInput(m, "--models")).toList();
    if (config != null && MergekitConfig.isMergekit(config)) return MergekitFlags.runConfig(this, w);
    if (method != null && MergekitFlags.isGtaMethod(method)) return MergekitFlags.runFlags(this, w);
    if (method != null && SpectralFlags.isSpectral(method)) {
      return write(SpectralFlags.op(this), scales != null ? scales : new float[] {1f}, w);
    }
    if (config != null) {
      if (anyFlagGiven()) throw new IllegalArgumentException("--config replaces the other merge options; give one or the other");
      applyConfig(MergeConfig.read(config));
      base = dev.mergetune.tensors.HfFolders.resolveInput(base, config + ": base");
      models = models.stream().map(m -> dev.mergetune.tensors.HfFolders.resolveInput(m, config + ": models")).toList();
    }
    if (method == null || models == null || out == null) {
      throw new IllegalArgumentException("merge needs --method, --models and --out (or --config FILE)");
    }
    float[] ws = weights != null ? weights : ones(models.size());
    if (ws.length != models.size()) {
      throw new IllegalArgumentException("--weights has " + ws.length + " values for " + models.size() + " models");
    }
    SpectralFlags.rejectOutside(this);
    if (task != null && !method.equals("emr")) throw new IllegalArgumentException("--task belongs to --method emr");
    if (!method.equals("ties") && (preset != null || density != null || trim != null || selection != null
        || election != null || zeroSign != null || aggregate != null)) {
      throw new IllegalArgumentException("--preset, --density, --trim, --selection, --election, --zero-sign and"
          + " --aggregate belong to --method ties");
    }
    TensorOp op;
    float[] sweep;
    switch (method) {
      case "task-arithmetic" -> {
        sweep = scales != null ? scales : new float[] {1f};
        op = LinearMerge.taskArithmetic(ws, sweep);
      }
      case "ties" -> {
        Ties.Options options = tiesOptions();
        sweep = scales != null ? scales : new float[] {options.lambda()};
        op = new TiesMerge(ws, sweep, options);
      }
      case "dare" -> {
        sweep = scales != null ? scales : new float[] {1f};
        op = new DareMerge(ws, sweep, dareOptions());
      }
      case "wise-ft" -> {
        if (models.size() != 1) throw new IllegalArgumentException("wise-ft takes exactly one model, got " + models.size());
        if (alphas == null) throw new IllegalArgumentException("wise-ft needs --alpha");
        sweep = alphas;
        op = LinearMerge.wiseFt(alphas);
      }
      case "emr" -> {
        sweep = new float[] {Float.NaN};
        op = new EmrMerge(models.size(), task);
      }
      case "average" -> {
        sweep = new float[] {Float.NaN};
        op = LinearMerge.average(ws);
      }
      default -> throw new IllegalArgumentException(
          "unknown --method '" + method + "' (task-arithmetic, ties, dare, wise-ft, average, emr, linear, dare_ties,"
              + " dare_linear, breadcrumbs, breadcrumbs_ties, della, della_linear, slerp, model_stock, nuslerp, multislerp,"
              + " tsv-m, iso-c, iso-cts)");
    }
    return write(op, sweep, w);
  }

  /** Runs {@code op} into --out (one output per swept value, '{}' replaced by it) with the output options. */
  int write(TensorOp op, float[] sweep, PrintWriter w) throws IOException {
    return write(op, sweep, null, w);
  }

  /** {@link #write(TensorOp, float[], PrintWriter)} with a storage dtype from a config file (null: none). */
  int write(TensorOp op, float[] sweep, dev.mergetune.tensors.DType configOutDType, PrintWriter w) throws IOException {
    List<String> outNames = new ArrayList<>();
    for (float v : sweep) {
      if (sweep.length > 1 && !out.contains("{}")) {
        throw new IllegalArgumentException("a sweep of " + sweep.length + " values needs '{}' in --out");
      }
      outNames.add(out.replace("{}", Float.isNaN(v) ? "" : String.format(Locale.ROOT, "%s", v)));
    }
    List<dev.mergetune.merge.MergeOutputs> targets = output.outputs(outNames);
    if (op instanceof EmrMerge && output.shardBytes() > 0) {
      throw new IllegalArgumentException("--method emr writes its masks beside one file: --out-shard-size is not supported");
    }
    dev.mergetune.merge.MergeOutputs.prepare(targets);
    List<Path> outputs = dev.mergetune.merge.MergeOutputs.written(targets);
    TensorSelection chosen = new TensorSelection(include != null ? include : List.of(),
        exclude != null ? exclude : List.of(), Boolean.TRUE.equals(trainableOnly));
    long start = System.nanoTime();
    List<StreamingMerge.Result> results = StreamingMerge.run(base, models, op, outputs, chosen,
        output.apply(mergeOptions(), configOutDType));
    if (op instanceof EmrMerge emr) {
      for (Path side : emr.writeSideFiles(outputs.get(0), base, models)) w.printf("wrote %s%n", side);
    }
    output.finish(targets, base != null ? base : models.get(0), w);
    double seconds = (System.nanoTime() - start) / 1e9;
    for (StreamingMerge.Result r : results) w.printf("wrote %s %s%n", r.path(), r.metadata().entrySet().stream()
        .filter(e -> e.getKey().startsWith("mergetune.param.")).map(e -> e.getKey().substring(16) + "=" + e.getValue()).toList());
    w.printf("%s of %d model(s) in %.2f s%n", op.method(), models.size(), seconds);
    w.flush();
    return 0;
  }

  /** How the streaming merge runs: the inputs' digest --hash names (SHA-256 unless given; none with --no-hash). */
  StreamingMerge.Options mergeOptions() {
    if (noHash && hash != null && !hash.equals("none")) {
      throw new IllegalArgumentException("--no-hash and --hash " + hash + " contradict each other; give one");
    }
    if (noHash || "none".equals(hash)) return StreamingMerge.Options.defaults().withInputDigest(null);
    if (hash == null) return StreamingMerge.Options.defaults();
    try {
      return StreamingMerge.Options.defaults().withInputDigest(dev.mergetune.io.ContentDigest.named(hash));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--hash: unknown digest '" + hash + "' (sha256, xxh3-128, none)");
    }
  }

  private boolean anyFlagGiven() {
    for (Field f : MergeCommand.class.getDeclaredFields()) {
      if (f.getAnnotation(Option.class) == null || f.getName().equals("config") || f.getName().equals("noHash")
          || f.getName().equals("hash")) continue;
      try {
        if (f.get(this) != null) return true;
      } catch (IllegalAccessException e) {
        throw new IllegalStateException(e);
      }
    }
    return false;
  }

  private Ties.Options tiesOptions() {
    Ties.Options o = Ties.Options.preset(preset == null ? "paper" : preset);
    if (density != null) o = o.withDensity(density);
    if (trim != null) {
      o = o.withScope(choice("--trim", trim, Map.of("global", Ties.Scope.GLOBAL, "per-tensor", Ties.Scope.PER_TENSOR)));
    }
    if (selection != null) {
      o = o.withSelection(choice("--selection", selection,
          Map.of("kthvalue", Ties.Selection.KTHVALUE, "topk", Ties.Selection.TOPK)));
    }
    if (election != null) {
      o = o.withElection(choice("--election", election, Map.of("mass", Ties.Election.MASS, "count", Ties.Election.COUNT)));
    }
    if (zeroSign != null) {
      o = o.withZeroSign(choice("--zero-sign", zeroSign,
          Map.of("majority", Ties.ZeroSign.MAJORITY, "positive", Ties.ZeroSign.POSITIVE)));
    }
    if (aggregate != null) {
      o = o.withAggregate(choice("--aggregate", aggregate,
          Map.of("mean", Ties.Aggregate.DISJOINT_MEAN, "sum", Ties.Aggregate.DISJOINT_SUM, "max",
              Ties.Aggregate.DISJOINT_MAX)));
    }
    return o;
  }

  /** The option value's meaning, or an error listing the accepted values (in a stable order). */
  static <T> T choice(String flag, String value, Map<String, T> accepted) {
    T t = accepted.get(value);
    if (t == null) {
      throw new IllegalArgumentException("unknown " + flag + " '" + value + "' (" + String.join(", ",
          new java.util.TreeSet<>(accepted.keySet())) + ")");
    }
    return t;
  }

  private Dare.Options dareOptions() {
    if ((dropRate == null) == (keepDensity == null)) {
      throw new IllegalArgumentException("dare needs exactly one of --drop-rate and --keep-density");
    }
    Dare.Rescale mode = choice("--rescale", rescale == null ? "inverse" : rescale,
        Map.of("inverse", Dare.Rescale.INVERSE, "l1", Dare.Rescale.L1, "none", Dare.Rescale.NONE));
    long s = seed == null ? 0L : seed;
    return dropRate != null ? Dare.Options.dropRate(dropRate, s, mode) : Dare.Options.keepDensity(keepDensity, s, mode);
  }

  private void applyConfig(MergeConfig c) {
    method = c.method();
    base = c.base() == null ? null : MergeConfig.resolve(config, c.base());
    models = c.models().stream().map(m -> MergeConfig.resolve(config, m)).toList();
    weights = toArray(c.weights());
    scales = toArray(c.scale());
    alphas = toArray(c.alpha());
    dropRate = c.dropRate();
    keepDensity = c.keepDensity();
    seed = c.seed();
    rescale = c.rescale();
    preset = c.preset();
    density = c.density();
    trim = c.trim();
    selection = c.selection();
    election = c.election();
    zeroSign = c.zeroSign();
    aggregate = c.aggregate();
    include = c.include();
    exclude = c.exclude();
    trainableOnly = c.trainableOnly();
    out = MergeConfig.resolve(config, c.out()).toString();
  }

  private static float[] toArray(List<Float> values) {
    if (values == null) return null;
    float[] a = new float[values.size()];
    for (int i = 0; i < a.length; i++) a[i] = values.get(i);
    return a;
  }

  /** The option's values in the one list syntax ({@link ValueList}), or null when the option was not given. */
  private static float[] floats(List<String> specs, String option) {
    if (specs == null) return null;
    double[] v = ValueList.parse(specs, option);
    float[] a = new float[v.length];
    for (int i = 0; i < a.length; i++) a[i] = (float) v[i];
    return a;
  }

  private static float[] ones(int n) {
    float[] a = new float[n];
    java.util.Arrays.fill(a, 1f);
    return a;
  }
}
