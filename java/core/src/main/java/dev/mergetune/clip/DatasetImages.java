package dev.mergetune.clip;

import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.clip.image.Transform;
import dev.mergetune.data.Dataset;
import org.bytedeco.pytorch.Tensor;

/**
 * The images of a {@link Dataset} in dataset order, through a {@link Transform} as epoch {@code epoch} draws it, as a
 * {@link BatchSource} for {@link FeatureExtractor}. Its cache identity is {@link FeatureCacheKey}'s: the files'
 * paths, sizes and modification times, the transform's id, and for a random transform its seed and the epoch.
 */
public final class DatasetImages implements BatchSource {
  private final Dataset dataset;
  private final Transform transform;
  private final long epoch;
  private final int threads;

  public DatasetImages(Dataset dataset, Transform transform, long epoch, int threads) {
    if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    this.dataset = dataset;
    this.transform = transform;
    this.epoch = epoch;
    this.threads = threads;
  }

  /** A deterministic transform's images (the epoch does not matter). */
  public static DatasetImages of(Dataset dataset, Transform transform) {
    return new DatasetImages(dataset, transform, 0, ImageBatch.defaultThreads());
  }

  @Override
  public long size() {
    return dataset.size();
  }

  @Override
  public Tensor batch(long start, int count) {
    int[] idx = new int[count];
    for (int i = 0; i < count; i++) idx[i] = Math.toIntExact(start + i);
    return ImageBatch.loadTensor(dataset, idx, transform, epoch, threads);
  }

  @Override
  public String identity() {
    // The model part of the key is the extractor's; "-" stands in for it here.
    return transform.isRandom() ? FeatureCacheKey.of("-", dataset, transform, epoch)
        : FeatureCacheKey.of("-", dataset, transform);
  }
}
