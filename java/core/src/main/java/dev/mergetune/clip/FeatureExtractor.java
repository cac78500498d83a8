package dev.mergetune.clip;

import java.util.function.Function;
import dev.mergetune.progress.Progress;
import dev.mergetune.progress.ProgressTask;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;

/**
 * Runs an encoder over a {@link BatchSource} batch by batch — inference mode, one PointerScope per batch so native
 * memory stays at one batch's worth — and returns the features as float32 rows, optionally through a
 * {@link FeatureCache} and with progress reported to {@link Progress#installed()}.
 */
public final class FeatureExtractor {
  private final int batchSize;
  private final boolean progress;
  private final FeatureCache cache;

  public FeatureExtractor(int batchSize, boolean progress, FeatureCache cache) {
    if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
    this.batchSize = batchSize;
    this.progress = progress;
    this.cache = cache;
  }

  /** The same batch size and progress bar without the cache (for features of weights that have no identity). */
  public FeatureExtractor withoutCache() {
    return cache == null ? this : new FeatureExtractor(batchSize, progress, null);
  }

  public int batchSize() {
    return batchSize;
  }

  /** Whether it reports progress. */
  public boolean progress() {
    return progress;
  }

  /** Image features [n, embed] (not normalised), with a progress task of their own. */
  public float[][] images(ClipModel model, String modelIdentity, BatchSource images) {
    return run("image", model::encodeImage, modelIdentity, images, null);
  }

  /**
   * Image features [n, embed] (not normalised), stepping {@code task} by the items done: for a caller that reports
   * several extractions as one task (the views of a dataset).
   */
  public float[][] images(ClipModel model, String modelIdentity, BatchSource images, ProgressTask task) {
    return run("image", model::encodeImage, modelIdentity, images, task);
  }

  /** Text features [n, embed] (not normalised). */
  public float[][] texts(ClipModel model, String modelIdentity, BatchSource tokens) {
    return run("text", model::encodeText, modelIdentity, tokens, null);
  }

  /** The cached image features of {@code images} for this model, or null (no cache, or not cached yet). */
  public float[][] cachedImages(String modelIdentity, BatchSource images) {
    if (cache == null) return null;
    float[][] hit = cache.get(key("image", modelIdentity, images));
    return hit != null && hit.length == images.size() ? hit : null;
  }

  /** Stores image features of all of {@code images} in the cache (nothing without one). */
  public void cacheImages(String modelIdentity, BatchSource images, float[][] rows) {
    if (cache != null) cache.put(key("image", modelIdentity, images), rows, java.util.Map.of("mergetune.features", "image"));
  }

  /**
   * Image features of items [from, to) of {@code images}, without the cache, in batches of {@link #batchSize} counted
   * from {@code from} (so a range starting at a multiple of the batch size is computed exactly as the whole set's
   * batches there). Progress goes to {@code task} (the caller's, which it closes), or nowhere when null.
   */
  public float[][] imagesRange(ClipModel model, BatchSource images, long from, long to, ProgressTask task) {
    return encode("image", model::encodeImage, images, from, to, task != null ? task : Progress.none().start("image features", to - from, "item"));
  }

  private static String key(String tower, String modelIdentity, BatchSource source) {
    return FeatureCache.key("clip-features-v1", tower, modelIdentity, source.identity());
  }

  private float[][] run(String tower, Function<Tensor, Tensor> encoder, String modelIdentity, BatchSource source,
      ProgressTask given) {
    String key = cache == null ? null : key(tower, modelIdentity, source);
    if (cache != null) {
      float[][] hit = cache.get(key);
      if (hit != null && hit.length == source.size()) {
        if (given != null) given.step(hit.length);
        return hit;
      }
    }
    float[][] out = encode(tower, encoder, source, 0, source.size(), given);
    if (cache != null) cache.put(key, out, java.util.Map.of("mergetune.features", tower));
    return out;
  }

  private float[][] encode(String tower, Function<Tensor, Tensor> encoder, BatchSource source, long from, long to,
      ProgressTask given) {
    long n = to - from;
    if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("too many items: " + n);
    float[][] out = new float[(int) n][];
    ProgressTask bar = given != null ? given
        : progress && n > 0 ? Progress.installed().start(tower + " features", n, "item") : null;
    try (InferenceMode mode = new InferenceMode()) {
      for (long start = from; start < to; start += batchSize) {
        int count = (int) Math.min(batchSize, to - start);
        try (PointerScope scope = new PointerScope()) {
          Tensor f = encoder.apply(source.batch(start, count)).contiguous();
          int d = (int) f.size(1);
          float[] flat = new float[count * d];
          ((java.nio.FloatBuffer) f.createBuffer()).get(flat);
          for (int i = 0; i < count; i++) {
            out[(int) (start - from) + i] = java.util.Arrays.copyOfRange(flat, i * d, (i + 1) * d);
          }
        }
        if (bar != null) bar.step(count);
      }
    } finally {
      if (bar != null && given == null) bar.close();
    }
    return out;
  }
}
