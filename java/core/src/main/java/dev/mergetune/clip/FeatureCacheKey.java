package dev.mergetune.clip;

import dev.mergetune.clip.image.Transform;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.Sample;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * {@link FeatureCache} keys for the image features of a frozen encoder over a {@link Dataset}: the SHA-256
 * ({@link FeatureCache#key}) of the model's hash, the dataset's identity, the transform's {@link Transform#id() id},
 * the augmentation seed and the epoch. A change to any of them gives another key, so a stale entry is a miss:
 * <ul>
 *   <li>model: whatever identifies the weights (a content hash of the checkpoint is the safe choice);
 *   <li>dataset ({@link #datasetIdentity}): its name and, in sample order, every image's absolute path, size in
 *       bytes and modification time (to the file system's precision), so an edited, replaced, added, removed or
 *       reordered image is a miss without reading the images; labels and class names do not change features and
 *       are left out;
 *   <li>transform: its id (kind, size, parameters; the seed too for a random one);
 *   <li>seed and epoch: for features of pre-drawn augmentations (epoch {@code e} of a random transform); "none" for a
 *       deterministic transform.
 * </ul>
 */
public final class FeatureCacheKey {
  /** The first part of every key: changes when the layout of what is cached changes. */
  public static final String VERSION = "mergetune-image-features-v1";

  private FeatureCacheKey() {}

  /** The key of the features of a deterministic (evaluation) transform. */
  public static String of(String modelHash, Dataset dataset, Transform transform) {
    if (transform.isRandom()) {
      throw new IllegalArgumentException(transform.id() + " is random: the features of an epoch need its number");
    }
    return key(modelHash, datasetIdentity(dataset), transform.id(), OptionalLong.empty(), OptionalLong.empty());
  }

  /** The key of the features of epoch {@code epoch} of a random transform (its seed taken from the transform). */
  public static String of(String modelHash, Dataset dataset, Transform transform, long epoch) {
    if (!transform.isRandom()) return of(modelHash, dataset, transform);
    return key(modelHash, datasetIdentity(dataset), transform.id(), transform.seed(), OptionalLong.of(epoch));
  }

  /** The key from its components (each as a string; an absent seed or epoch written "none"). */
  public static String key(String modelHash, String datasetIdentity, String transformId, OptionalLong seed,
      OptionalLong epoch) {
    Objects.requireNonNull(modelHash, "modelHash");
    Objects.requireNonNull(datasetIdentity, "datasetIdentity");
    Objects.requireNonNull(transformId, "transformId");
    return FeatureCache.key(VERSION, "model=" + modelHash, datasetIdentity, "transform=" + transformId,
        "seed=" + (seed.isPresent() ? Long.toString(seed.getAsLong()) : "none"),
        "epoch=" + (epoch.isPresent() ? Long.toString(epoch.getAsLong()) : "none"));
  }

  /**
   * The dataset's name and, one line per sample in order, its image's absolute path, size and modification time in
   * nanoseconds since the epoch. Reads each file's attributes (not its content); a missing file is an error.
   */
  public static String datasetIdentity(Dataset dataset) {
    StringBuilder sb = new StringBuilder("dataset ").append(dataset.name()).append('\n');
    for (Sample s : dataset.samples()) {
      Path p = s.image().toAbsolutePath().normalize();
      try {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
        sb.append(p).append('\t').append(a.size()).append('\t')
            .append(a.lastModifiedTime().to(TimeUnit.NANOSECONDS)).append('\n');
      } catch (IOException e) {
        throw new UncheckedIOException("reading the attributes of " + p + " (dataset " + dataset.name() + ")", e);
      }
    }
    return sb.toString();
  }
}
