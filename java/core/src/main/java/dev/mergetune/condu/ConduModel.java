package dev.mergetune.condu;

import dev.mergetune.adapt.Lora;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.TextTokenizer;
import dev.mergetune.clip.ZeroShotClassifier;
import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.SegmentTable;
import dev.mergetune.protocol.ClassificationTask;
import dev.mergetune.protocol.Classifier;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;

/**
 * CLIP inference over a ConDU session store (methods.md §2.3–§2.4). Memory is θ0 + U + the masks + ONE expert: the
 * expert model is a parameter buffer into which {@link StoredSession#decouple} writes θ0 + λ^t·M^t⊙U whenever another
 * expert is needed, never T models. In a store of the LoRA adapters' space ({@link AdapterSpace}) θ0 is the
 * checkpoint with θ0's own adapters (the store's) and the buffer holds an expert's adapters on θ0's base weights.
 *
 * <p>Two modes ({@link Mode}): the task-ID expert (every image of the dataset through expert t alone, as MTIL
 * evaluates seen tasks) and semantic aggregation (θ0 + each image's top-K experts by prototype routing, unweighted
 * mean of their logits by default). Each model is a full zero-shot classifier over the evaluated dataset's own class
 * names — its own text tower, all templates averaged, logits = exp(logit_scale)·cos. Aggregation is expert-major:
 * θ0 encodes every image (routing, θ0's logits), then each expert some image selected is decoupled once per
 * classified task and run on just the images that chose it, {@code batchSize} images at a time (an image is decoded
 * once for θ0 and once per expert it selected: decoding is far cheaper than decoupling a model per batch).
 *
 * <p>Ownership and threads: holds θ0, U, the masks and the expert model in native memory until {@link #close()}.
 * Not thread-safe (the one expert buffer is overwritten as experts are decoupled): one thread per model.
 */
public final class ConduModel implements AutoCloseable {
  private final StoredSession session;
  private final ClipModel theta0;
  private final ClipModel expert;
  private final SegmentTable theta0Table;
  private final SegmentTable expertTable;
  private final TextTokenizer tokenizer;
  private final FeatureExtractor textExtractor;
  private final ClipImageTransform transform;
  private final int batchSize;
  private final Router router;
  private int loaded = ExpertLogits.THETA0 - 1;  // the expert the buffer holds (none yet)
  private long decouples;

  /** What to classify with. */
  public sealed interface Mode permits Expert, Aggregate {}

  /** The task-ID expert: every image through expert {@code task} alone. */
  public record Expert(int task) implements Mode {}

  /**
   * θ0 plus each image's {@code topK} experts (at most the number of stored tasks), combined by {@code aggregation}.
   */
  public record Aggregate(int topK, SemanticAggregation aggregation) implements Mode {
    public Aggregate {
      if (topK < 1) throw new IllegalArgumentException("top-K must be >= 1, got " + topK);
    }
  }

  private ConduModel(StoredSession session, ClipModel theta0, Map<String, Tensor> theta0Weights, ClipModel expert,
      Map<String, Tensor> expertWeights, TextTokenizer tokenizer, int batchSize) {
    this.session = session;
    this.theta0 = theta0;
    this.expert = expert;
    this.tokenizer = tokenizer;
    this.batchSize = batchSize;
    this.theta0Table = table(session, theta0Weights, "θ0");
    this.expertTable = table(session, expertWeights, "the expert buffer");
    this.textExtractor = new FeatureExtractor(batchSize, false, null);
    this.transform = ClipImageTransform.of(theta0.config().imageResolution());
    List<Prototypes> protos = new ArrayList<>();
    for (int t = 0; t < session.tasks(); t++) protos.add(session.prototypes(t).orElse(null));
    this.router = protos.contains(null) || protos.isEmpty() ? null : new Router(protos);
  }

  /**
   * Opens a store with θ0 read from {@code theta0Path} (null: the path the store records); the file must have the
   * SHA-256 the store was built on.
   */
  public static ConduModel open(Path store, Path theta0Path, ClipTokenizer tokenizer, int batchSize) throws IOException {
    if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
    NativeRuntime.ensureTorch();
    StoredSession s = SessionStore.load(store);
    try {
      Theta0Ref ref = theta0Path == null ? s.theta0() : s.theta0().at(theta0Path);
      ref.verify();
      ClipModel t0 = ref.load();
      if (tokenizer.vocabSize() > t0.config().vocabSize()) {
        t0.close();
        throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize() + " tokens but θ0's token"
            + " embedding has " + t0.config().vocabSize() + " rows: not this model's vocabulary");
      }
      ClipModel buffer = ref.load();
      for (ClipModel m : List.of(t0, buffer)) for (Tensor p : m.stateDict().values()) p.set_requires_grad(false);
      Map<String, Tensor> t0Weights = t0.stateDict();
      Map<String, Tensor> bufferWeights = buffer.stateDict();
      if (s.adapters().isPresent()) {  // the LoRA adapters' space: θ0 carries its own adapters, the buffer an expert's
        StoredSession.Adapters a = s.adapters().get();
        Lora t0Adapters = Lora.attach(t0, a.rank(), a.scaling(), a.theta0Seed());
        t0Adapters.load(a.theta0File());
        Lora bufferAdapters = Lora.attach(buffer, a.rank(), a.scaling(), a.theta0Seed());
        t0Weights = t0Adapters.parameters();
        bufferWeights = bufferAdapters.parameters();
        for (Tensor p : t0Weights.values()) p.set_requires_grad(false);
        for (Tensor p : bufferWeights.values()) p.set_requires_grad(false);
      }
      TextTokenizer tok = TextTokenizer.of(tokenizer, t0.config().contextLength(), Truncation.TRUNCATE);
      return new ConduModel(s, t0, t0Weights, buffer, bufferWeights, tok, batchSize);
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  /**
   * The weights the store's tensors address (the model's parameters, or its adapters in the adapters' space) in the
   * store's tensor order; the names and shapes must be exactly the store's.
   */
  private static SegmentTable table(StoredSession s, Map<String, Tensor> sd, String what) {
    List<String> names = s.tensorNames();
    if (!sd.keySet().equals(new java.util.HashSet<>(names))) {
      TreeSet<String> missing = new TreeSet<>(names);
      missing.removeAll(sd.keySet());
      TreeSet<String> extra = new TreeSet<>(sd.keySet());
      extra.removeAll(names);
      throw new IllegalArgumentException(what + " does not match the session store " + s.dir() + ": tensors missing"
          + " from the model " + missing + ", model tensors the store lacks " + extra);
    }
    List<Tensor> ordered = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      Tensor t = sd.get(names.get(i));
      if (!Arrays.equals(t.sizes().vec().get(), s.shape(i))) {
        throw new IllegalArgumentException(what + ": tensor '" + names.get(i) + "' has shape "
            + Arrays.toString(t.sizes().vec().get()) + " but the store's is " + Arrays.toString(s.shape(i)));
      }
      ordered.add(t);
    }
    return SegmentTable.ofTensors(names, ordered);
  }

  public StoredSession session() {
    return session;
  }

  public List<String> taskNames() {
    return session.taskNames();
  }

  /** Whether every stored task has prototypes (needed for aggregation). */
  public boolean canRoute() {
    return router != null;
  }

  /** How many times an expert was decoupled into the buffer so far. */
  public long decouples() {
    return decouples;
  }

  /** The expert buffer holding expert {@code task} (decoupled now unless it already holds it). Owned by this model. */
  public ClipModel expert(int task) {
    load(task);
    return expert;
  }

  /** θ0 (owned by this model; do not change its weights). */
  public ClipModel theta0() {
    return theta0;
  }

  public Classifier classifier(Mode mode) {
    return task -> logits(task, mode);
  }

  /** Logits [images, classes] of {@code task} in {@code mode}. */
  public float[][] logits(ClassificationTask task, Mode mode) {
    if (mode instanceof Aggregate && router == null) {
      throw new IllegalStateException("the session store " + session.dir() + " has tasks without prototypes, so images"
          + " cannot be routed; classify with a task's expert instead");
    }
    Map<Integer, ZeroShotClassifier> heads = new HashMap<>();
    try (InferenceMode guard = new InferenceMode()) {
      return mode instanceof Expert e ? expertLogits(e.task(), task, heads, all(task.images().size()))
          : aggregate((Aggregate) mode, task, heads);
    }
  }

  /**
   * Expert-major aggregation over the whole task: θ0 encodes every image once (routing and θ0's logits), then each
   * expert some image selected is decoupled once and run on just those images. An image is decoded once for θ0 and
   * once per expert it selected; each expert is decoupled once per call, not once per batch.
   */
  private float[][] aggregate(Aggregate mode, ClassificationTask task, Map<Integer, ZeroShotClassifier> heads) {
    float[][] f0 = encode(theta0, task.images(), all(task.images().size()));
    int k = Math.min(mode.topK(), session.tasks());
    Routing routing = router.route(f0, k);
    return mode.aggregation().aggregate(routing, (m, rows) -> m == ExpertLogits.THETA0
        ? head(ExpertLogits.THETA0, task, heads).logits(f0)
        : expertLogits(m, task, heads, rows)).logits();
  }

  /** Expert {@code t}'s logits for the task's images {@code rows} (other rows null). */
  private float[][] expertLogits(int t, ClassificationTask task, Map<Integer, ZeroShotClassifier> heads, int[] rows) {
    load(t);
    ZeroShotClassifier head = head(t, task, heads);
    float[][] logits = head.logits(encode(expert, task.images(), rows));
    float[][] out = new float[task.images().size()][];
    for (int i = 0; i < rows.length; i++) out[rows[i]] = logits[i];
    return out;
  }

  /** Image features of {@code images[rows]} by {@code model}, decoded and encoded {@code batchSize} at a time. */
  private float[][] encode(ClipModel model, List<Path> images, int[] rows) {
    float[][] out = new float[rows.length][];
    for (int start = 0; start < rows.length; start += batchSize) {
      int n = Math.min(batchSize, rows.length - start);
      List<Path> files = new ArrayList<>(n);
      for (int i = start; i < start + n; i++) files.add(images.get(rows[i]));
      try (PointerScope scope = new PointerScope()) {
        float[][] f = rows(model.encodeImage(ImageBatch.loadTensor(files, transform, ImageBatch.defaultThreads())));
        System.arraycopy(f, 0, out, start, n);
      }
    }
    return out;
  }

  /** Model {@code m}'s zero-shot head for the task's classes (built once per classified task). */
  private ZeroShotClassifier head(int m, ClassificationTask task, Map<Integer, ZeroShotClassifier> heads) {
    ZeroShotClassifier h = heads.get(m);
    if (h == null) {
      ClipModel model = m == ExpertLogits.THETA0 ? theta0 : expert(m);
      h = ZeroShotClassifier.build(model, null, tokenizer, task.classNames(), task.templates(), textExtractor);
      heads.put(m, h);
    }
    return h;
  }

  private void load(int task) {
    if (loaded == task) return;
    if (task < 0 || task >= session.tasks()) throw new IllegalArgumentException("no task " + task + " among " + taskNames());
    session.decouple(task, theta0Table, expertTable);
    loaded = task;
    decouples++;
  }

  private static int[] all(int n) {
    int[] r = new int[n];
    for (int i = 0; i < n; i++) r[i] = i;
    return r;
  }

  private static float[][] rows(Tensor features) {
    Tensor c = features.contiguous();
    int b = (int) c.size(0);
    int d = (int) c.size(1);
    float[][] out = new float[b][d];
    FloatBuffer buf = (FloatBuffer) c.createBuffer();
    for (int i = 0; i < b; i++) buf.get(out[i]);
    return out;
  }

  @Override
  public void close() {
    session.close();
    theta0.close();
    expert.close();
  }
}
