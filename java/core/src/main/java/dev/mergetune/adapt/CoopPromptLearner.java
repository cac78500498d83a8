package dev.mergetune.adapt;

import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.tensors.NamedTensors;
import dev.mergetune.tensors.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * CoOp's prompt learner (KaiyangZhou/CoOp {@code trainers/coop.py}, {@code PromptLearner} with one context shared by
 * all classes and the class token at the "end"): n learnable context vectors {@code ctx} [n, w] and, per class, the
 * prompt {@code [SOS] ctx_1..ctx_n <class name> . [EOS]}.
 *
 * <p>As in CoOp, each class's prompt is tokenised as text ({@code "a photo of a <name>."} when the context starts
 * from words, {@code "X X X X <name>."} when it is random); the embedding rows of positions 1..n are replaced by the
 * context, the rest are frozen: the prefix (the SOS row) and the suffix (class-name tokens, '.', EOS, padding). Each
 * prompt is pooled at its end-of-text position, the argmax of its token ids.
 *
 * <p>The CLIP model is frozen on construction (every parameter gets {@code requires_grad = false}, as CoOp turns off
 * the gradients of everything outside the prompt learner); only {@link #context()} is trainable.
 */
public final class CoopPromptLearner {
  /** The name of the context tensor in saved files. */
  public static final String CTX_NAME = "ctx";
  /** The standard deviation of CoOp's random context initialisation. */
  public static final double RANDOM_INIT_STD = 0.02;

  private final ClipModel model;
  private final Tensor ctx;               // [n, w], a leaf with requires_grad
  private final Tensor prefix;            // [C, 1, w], frozen
  private final Tensor suffix;            // [C, L − 1 − n, w], frozen
  private final Tensor tokenizedPrompts;  // [C, L] int64
  private final Tensor eotIndex;          // [C] int64
  private final int nCtx;
  private final int classCount;

  /**
   * The prompt learner from already tokenised prompts (fixture-free form).
   *
   * @param promptTokens [C][contextLength] ids of the prompts: SOS, then {@code n} placeholder positions (their
   *     embeddings are replaced by the context), then the class tokens, '.', EOS and zero padding
   * @param initialContext float [n, w], copied into the learnable context
   */
  public CoopPromptLearner(ClipModel model, long[][] promptTokens, Tensor initialContext) {
    this.model = model;
    int contextLength = model.config().contextLength();
    int width = model.config().textWidth();
    if (promptTokens.length == 0) throw new IllegalArgumentException("no prompts (no classes)");
    long[] ctxShape = initialContext.sizes().vec().get();
    if (ctxShape.length != 2 || ctxShape[1] != width || ctxShape[0] < 1) {
      throw new IllegalArgumentException("context must be [n, " + width + "], got " + Arrays.toString(ctxShape));
    }
    this.nCtx = (int) ctxShape[0];
    if (nCtx + 2 > contextLength) {
      throw new IllegalArgumentException(nCtx + " context vectors leave no room in a context of " + contextLength);
    }
    this.classCount = promptTokens.length;
    long[] flat = new long[classCount * contextLength];
    for (int c = 0; c < classCount; c++) {
      if (promptTokens[c].length != contextLength) {
        throw new IllegalArgumentException("prompt " + c + " has " + promptTokens[c].length + " tokens, the model "
            + contextLength);
      }
      System.arraycopy(promptTokens[c], 0, flat, c * contextLength, contextLength);
    }
    tokenizedPrompts = Tensor.create(flat, classCount, contextLength);
    eotIndex = tokenizedPrompts.argmax(new LongOptional(-1), false);
    long[] eot = new long[classCount];
    eotIndex.data_ptr_long().get(eot);
    for (int c = 0; c < classCount; c++) {
      if (eot[c] <= nCtx) {
        throw new IllegalArgumentException("prompt " + c + " ends (position " + eot[c] + ") inside the " + nCtx
            + " context positions");
      }
    }
    for (Tensor p : model.stateDict().values()) p.set_requires_grad(false);
    try (NoGradGuard g = new NoGradGuard()) {
      Tensor embedding = model.tokenEmbedding(tokenizedPrompts);                          // [C, L, w]
      prefix = embedding.narrow(1, 0, 1).contiguous();                                    // SOS
      suffix = embedding.narrow(1, 1 + nCtx, contextLength - 1 - nCtx).contiguous();     // class, '.', EOS, padding
      ctx = initialContext.detach().to(torch.ScalarType.Float).clone().contiguous();
    }
    ctx.set_requires_grad(true);
  }

  /**
   * CoOp with {@code CTX_INIT}: the context starts as the token embeddings of {@code ctxInit} ("a photo of a"), one
   * vector per space-separated word (CoOp's {@code n_ctx = len(ctx_init.split(" "))}; the rows after the start
   * token), and the prompts are {@code ctxInit + " " + name + "."}. Underscores in {@code ctxInit} and in class names
   * become spaces.
   */
  public static CoopPromptLearner fromText(ClipModel model, ClipTokenizer tokenizer, List<String> classNames,
      String ctxInit) {
    String init = ctxInit.replace('_', ' ');
    int n = init.split(" ").length;
    int contextLength = model.config().contextLength();
    int[][] initTokens = tokenizer.tokenize(List.of(init), contextLength, Truncation.TRUNCATE);
    Tensor context;
    try (NoGradGuard g = new NoGradGuard()) {
      Tensor ids = Tensor.create(toLong(initTokens[0]), 1, contextLength);
      context = model.tokenEmbedding(ids).select(0, 0).narrow(0, 1, n).clone();
    }
    return new CoopPromptLearner(model, prompts(tokenizer, init, classNames, contextLength), context);
  }

  /**
   * CoOp without {@code CTX_INIT}: {@code nCtx} context vectors drawn from N(0, 0.02²) with LibTorch's CPU generator
   * seeded with {@code seed} (the global generator, as {@link ClipModel#initialize}); the prompts are
   * {@code "X X … X " + name + "."}.
   */
  public static CoopPromptLearner random(ClipModel model, ClipTokenizer tokenizer, List<String> classNames, int nCtx,
      long seed) {
    if (nCtx < 1) throw new IllegalArgumentException("nCtx must be positive, got " + nCtx);
    Tensor context;
    try (NoGradGuard g = new NoGradGuard()) {
      torch.manual_seed(seed);
      context = torch.zeros(nCtx, model.config().textWidth());
      context.normal_(0.0, RANDOM_INIT_STD, new org.bytedeco.pytorch.GeneratorOptional());
    }
    String placeholders = String.join(" ", java.util.Collections.nCopies(nCtx, "X"));
    return new CoopPromptLearner(model, prompts(tokenizer, placeholders, classNames, model.config().contextLength()),
        context);
  }

  /** The tokenised prompts {@code prefixText + " " + name + "."} (underscores in names become spaces). */
  static long[][] prompts(ClipTokenizer tokenizer, String prefixText, List<String> classNames, int contextLength) {
    if (classNames.isEmpty()) throw new IllegalArgumentException("no class names");
    List<String> texts = new ArrayList<>();
    for (String name : classNames) texts.add(prefixText + " " + name.replace('_', ' ') + ".");
    int[][] rows = tokenizer.tokenize(texts, contextLength, Truncation.TRUNCATE);
    long[][] out = new long[rows.length][];
    for (int i = 0; i < rows.length; i++) out[i] = toLong(rows[i]);
    return out;
  }

  private static long[] toLong(int[] ids) {
    long[] out = new long[ids.length];
    for (int i = 0; i < ids.length; i++) out[i] = ids[i];
    return out;
  }

  /** The (frozen) CLIP model the prompts go through. */
  public ClipModel model() {
    return model;
  }

  /** The learnable context [n, w] (a leaf with {@code requires_grad}; hand it to the optimizer). */
  public Tensor context() {
    return ctx;
  }

  public int contextSize() {
    return nCtx;
  }

  public int classCount() {
    return classCount;
  }

  /** The tokenised prompts [C, contextLength] int64. */
  public Tensor tokenizedPrompts() {
    return tokenizedPrompts;
  }

  /** Each prompt's end-of-text position [C] int64 (the argmax of its ids). */
  public Tensor eotIndex() {
    return eotIndex;
  }

  /** The prompt embeddings [C, contextLength, w]: prefix, the shared context, suffix (CoOp's {@code forward}). */
  public Tensor promptEmbeddings() {
    Tensor shared = ctx.unsqueeze(0).expand(classCount, -1, -1);
    return torch.cat(new TensorVector(prefix, shared, suffix), 1);
  }

  /** The class text features [C, embed] before normalisation (F(w)), differentiable in the context. */
  public Tensor textFeatures() {
    return model.encodeTextEmbeddings(promptEmbeddings(), eotIndex);
  }

  /** The normalised class text features [C, embed], differentiable in the context. */
  public Tensor classEmbeddings() {
    return ClipModel.normalize(textFeatures());
  }

  /**
   * CoOp's {@code CustomCLIP} logits [B, C] = exp(logit_scale) · normalize(image) · classEmbeddings()ᵀ.
   *
   * @param imageFeatures [B, embed], not necessarily normalised (normalised here)
   */
  public Tensor logits(Tensor imageFeatures) {
    return ClipModel.normalize(imageFeatures).mul(model.logitScaleExp()).matmul(classEmbeddings().t());
  }

  /** Writes the context as a safetensors file with one float32 tensor named {@value #CTX_NAME}. */
  public void save(Path file) throws IOException {
    NamedTensors.save(file, Map.of(CTX_NAME, ctx), Map.of("format", "mergetune-coop-context", "n_ctx",
        Integer.toString(nCtx)));
  }

  /** Reads a context written by {@link #save} as a float32 tensor [n, w] (no gradient). */
  public static Tensor readContext(Path file) {
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      if (!f.tensors().containsKey(CTX_NAME)) {
        throw new IllegalArgumentException(file + " has no tensor '" + CTX_NAME + "' (has " + f.tensors().keySet() + ")");
      }
      long[] shape = f.info(CTX_NAME).shape();
      if (shape.length != 2) throw new IllegalArgumentException("'" + CTX_NAME + "' must be [n, w], got " + Arrays.toString(shape));
      return Tensor.create(f.readFloats(CTX_NAME), shape);
    }
  }

  /** Copies a saved context into this learner's context, in place; the shapes must match. */
  public void load(Path file) {
    Tensor saved = readContext(file);
    long[] want = ctx.sizes().vec().get();
    if (!Arrays.equals(saved.sizes().vec().get(), want)) {
      throw new IllegalArgumentException(file + ": context " + Arrays.toString(saved.sizes().vec().get())
          + ", the learner has " + Arrays.toString(want));
    }
    try (NoGradGuard g = new NoGradGuard()) {
      ctx.copy_(saved);
    }
  }
}
