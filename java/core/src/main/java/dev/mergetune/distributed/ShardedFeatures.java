package dev.mergetune.distributed;

import dev.mergetune.clip.BatchSource;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.progress.ProgressTask;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.bytedeco.pytorch.Tensor;

/**
 * Frozen-encoder features (CoOp, KgCoOp, linear probe, MergeTune's feature space) computed by all ranks together:
 * rank 0 looks in the feature cache; on a miss each rank encodes a consecutive run of the extractor's batches (so
 * every batch is the one a single process encodes, bit for bit), the parts are all-gathered in rank order, and rank 0
 * stores the whole set in the cache. Every rank ends with all the features (training batches index them freely).
 */
public final class ShardedFeatures {
  private ShardedFeatures() {}

  /**
   * Image features [n, embed] of {@code images} (not normalised), as {@link FeatureExtractor#images} returns them;
   * {@code task} (nullable, the caller's) is stepped by all n items once they are on this rank.
   */
  public static float[][] images(FeatureExtractor extractor, ClipModel model, String modelIdentity, BatchSource images,
      ProcessGroupContext ctx, ProgressTask task) {
    if (!ctx.distributed()) return extractor.images(model, modelIdentity, images, task);
    int n = Math.toIntExact(images.size());
    int d = model.config().embedDim();
    try {
      boolean cached = ctx.decideOnMain("look up cached image features",
          () -> extractor.cachedImages(modelIdentity, images) != null);
      if (cached) {
        Tensor all = ctx.isMain() ? matrix(extractor.cachedImages(modelIdentity, images), n, d)
            : org.bytedeco.pytorch.global.torch.zeros(n, d);
        ctx.broadcast(java.util.List.of(all), "broadcast of cached image features");
        if (task != null) task.step(n);
        return rows(all, 0, n, d);
      }
      DistributedSampler parts = new DistributedSampler(ctx.rank(), ctx.worldSize());
      int bs = extractor.batchSize();
      int batches = (n + bs - 1) / bs;
      int maxPart = (batches + ctx.worldSize() - 1) / ctx.worldSize() * bs;  // rows of the largest part
      int from = Math.min(n, parts.start(batches, ctx.rank()) * bs);
      int to = Math.min(n, parts.start(batches, ctx.rank() + 1) * bs);
      float[][] mine = extractor.imagesRange(model, images, from, to, null);
      Tensor padded = org.bytedeco.pytorch.global.torch.zeros(maxPart, d);
      if (mine.length > 0) padded.narrow(0, 0, mine.length).copy_(matrix(mine, mine.length, d));
      Tensor gathered = ctx.allgather(padded, "all-gather of image features");
      float[][] out = new float[n][];
      for (int r = 0; r < ctx.worldSize(); r++) {
        int a = Math.min(n, parts.start(batches, r) * bs);
        int b = Math.min(n, parts.start(batches, r + 1) * bs);
        float[][] part = rows(gathered, (long) r * maxPart, b - a, d);
        System.arraycopy(part, 0, out, a, b - a);
      }
      ctx.mainOnly("store image features in the cache", () -> extractor.cacheImages(modelIdentity, images, out));
      if (task != null) task.step(n);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Tensor matrix(float[][] rows, int n, int d) {
    float[] flat = new float[Math.multiplyExact(n, d)];
    for (int i = 0; i < n; i++) {
      if (rows[i].length != d) {
        throw new IllegalStateException("an image feature has " + rows[i].length + " values, the model's width is " + d);
      }
      System.arraycopy(rows[i], 0, flat, i * d, d);
    }
    return Tensor.create(flat, n, d);
  }

  private static float[][] rows(Tensor t, long offset, int n, int d) {
    float[] flat = new float[Math.multiplyExact(n, d)];
    if (n > 0) t.narrow(0, offset, n).contiguous().data_ptr_float().get(flat);
    float[][] out = new float[n][];
    for (int i = 0; i < n; i++) out[i] = java.util.Arrays.copyOfRange(flat, i * d, (i + 1) * d);
    return out;
  }
}
