package dev.mergetune.adapt;

import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.image.DataLoader;
import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.clip.image.LoadedBatch;
import dev.mergetune.clip.image.Transform;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.EpochOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Training features of a frozen image encoder computed afresh at every step, from a new augmentation of every image
 * — what an image-level training loop with Dassl's loader sees (CoOp, MergeTune's released trainer: a random
 * resized crop and flip of each image each time it is drawn) — without running the encoder with gradients: each
 * step's batch is decoded and augmented ahead of time by a {@link DataLoader}'s worker threads (the same batches,
 * in the same order, as the training loop asks for: {@link EpochOrder#shuffled}(n, seed, epoch) cut into batches of
 * {@code min(batch, n)}), then encoded by the frozen image tower without autograd on the calling thread and
 * L2-normalised. When an epoch's last batch has been handed out the next epoch's workers start at once, so the first
 * batch of an epoch is decoded while the previous one trains and validates.
 *
 * <p>The features of item i in epoch e are those of the crop the transform draws from (its seed, e, i) — exactly
 * view e of {@link CachedFeatures} built with ≥ e + 1 views (the same crops; the encoder batches differ, so equal to
 * float rounding). The cost is one image-tower pass per item and epoch, against V passes in all for V cached views.
 * A batch that is not the loader's next one (a run resumed mid-epoch) restarts the loader at that batch; one that is
 * no loader batch at all is decoded on the calling thread.
 */
public final class FreshViewFeatures implements TrainFeatures, AutoCloseable {
  private final ClipModel model;
  private final Dataset dataset;
  private final Transform transform;
  private final int batch;
  private final long seed;
  private final long epochs;
  private final int encodeBatch;
  private final int threads;
  private final DataLoader loader;
  private final long[] labels;
  private DataLoader.Epoch open;
  private long encoded;

  /**
   * @param model the frozen encoder (its weights are read, never trained)
   * @param transform the random training transform
   * @param batch the training loop's batch size (its batches are {@code min(batch, n)} items)
   * @param seed the training loop's seed (its shuffle)
   * @param epochs how many epochs the run has (the loader does not start an epoch past them); 0: unbounded
   * @param encodeBatch the most images encoded in one image-tower call (memory)
   * @param workers decoding threads (0: on the calling thread)
   */
  public FreshViewFeatures(ClipModel model, Dataset dataset, Transform transform, int batch, long seed, long epochs,
      int encodeBatch, int workers) {
    if (dataset.size() < 1) throw new IllegalArgumentException("no training items");
    if (batch < 1 || encodeBatch < 1) throw new IllegalArgumentException("batch sizes must be positive");
    this.model = model;
    this.dataset = dataset;
    this.transform = transform;
    this.batch = Math.min(batch, dataset.size());
    this.seed = seed;
    this.epochs = epochs;
    this.encodeBatch = encodeBatch;
    this.threads = Math.max(1, workers);
    this.loader = DataLoader.builder(dataset, transform).batchSize(this.batch).shuffle(seed).dropLast(true)
        .workers(workers).prefetch(Math.max(2, 2 * workers)).build();
    this.labels = new long[dataset.size()];
    for (int i = 0; i < labels.length; i++) labels[i] = dataset.samples().get(i).label();
  }

  @Override
  public int size() {
    return labels.length;
  }

  @Override
  public String describe() {
    return "fresh augmentation every step (" + transform.id() + "), encoded by the frozen image tower at each step";
  }

  /** How many images were encoded so far. */
  public long encoded() {
    return encoded;
  }

  @Override
  public Tensor batch(int[] items, long epoch) {
    LoadedBatch b = next(items, epoch);
    Tensor images = b != null ? b.imagesTensor()
        : ImageBatch.loadTensor(dataset, items, transform, epoch, threads);
    return encode(images);
  }

  @Override
  public Tensor batchLabels(int[] items) {
    long[] y = new long[items.length];
    for (int i = 0; i < items.length; i++) y[i] = labels[items[i]];
    return Tensor.create(y, y.length);
  }

  /** The loader's batch holding exactly {@code items} of {@code epoch}, or null when it has none. */
  private LoadedBatch next(int[] items, long epoch) {
    if (open == null || open.epoch() != epoch || !open.hasNext() || !isBatch(items, epoch, open.taken())) {
      int k = locate(items, epoch);
      if (k < 0) return null;
      closeOpen();
      open = loader.epoch(epoch, k);
    }
    LoadedBatch b = open.next();
    if (!Arrays.equals(b.indices(), items)) throw new IllegalStateException("loader batch out of step with training");
    if (!open.hasNext()) {  // start decoding the next epoch while this batch trains and the epoch is validated
      closeOpen();
      if (epochs <= 0 || epoch + 1 < epochs) open = loader.epoch(epoch + 1, 0);
    }
    return b;
  }

  private boolean isBatch(int[] items, long epoch, int k) {
    if (items.length != batch || (long) (k + 1) * batch > dataset.size()) return false;
    int[] order = loader.order(epoch);
    for (int i = 0; i < batch; i++) if (order[k * batch + i] != items[i]) return false;
    return true;
  }

  private int locate(int[] items, long epoch) {
    if (items.length != batch) return -1;
    int[] order = loader.order(epoch);
    for (int k = 0; (long) (k + 1) * batch <= order.length; k++) {
      if (order[k * batch] == items[0] && isBatch(items, epoch, k)) return k;
    }
    return -1;
  }

  /** Normalised features [b, D] of the images, the encoder run without autograd, {@code encodeBatch} at a time. */
  private Tensor encode(Tensor images) {
    long n = images.size(0);
    try (NoGradGuard g = new NoGradGuard()) {
      List<Tensor> parts = new ArrayList<>();
      for (long start = 0; start < n; start += encodeBatch) {
        long end = Math.min(n, start + encodeBatch);
        parts.add(model.encodeImage(n <= encodeBatch ? images : images.narrow(0, start, end - start)));
      }
      Tensor f = parts.size() == 1 ? parts.get(0) : torch.cat(new TensorVector(parts.toArray(new Tensor[0])));
      encoded += n;
      Tensor out = ClipModel.normalize(f.to(torch.ScalarType.Float));
      if (!torch.isfinite(out).all().item_bool()) throw new IllegalStateException("image features hold NaN or Inf");
      return out;
    }
  }

  private void closeOpen() {
    if (open != null) open.close();
    open = null;
  }

  @Override
  public void close() {
    closeOpen();
    loader.close();
  }
}
