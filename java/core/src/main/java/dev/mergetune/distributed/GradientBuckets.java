package dev.mergetune.distributed;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.SizeTVector;
import org.bytedeco.pytorch.SizeTVectorVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * DistributedDataParallel's bucket layout, by c10d's own {@code compute_bucket_assignment_by_size}: parameters in
 * order, a first bucket of at most 1 MiB, then buckets of at most 25 MiB; the list is reversed (the last parameters'
 * gradients are ready first in backward), as DDP passes it to its {@code Reducer}.
 */
final class GradientBuckets {
  static final long FIRST_BUCKET_BYTES = 1L << 20;
  static final long BUCKET_BYTES = 25L << 20;

  private GradientBuckets() {}

  /** Bucket i holds the parameter indices of element i, in c10d's form and as Java lists. */
  static SizeTVectorVector assign(List<Tensor> params) {
    SizeTVectorVector forward = torch.compute_bucket_assignment_by_size(
        new TensorVector(params.toArray(new Tensor[0])), new SizeTVector(FIRST_BUCKET_BYTES, BUCKET_BYTES)).get0();
    SizeTVectorVector reversed = new SizeTVectorVector();
    for (long i = forward.size() - 1; i >= 0; i--) reversed.push_back(forward.get(i));
    return reversed;
  }

  static List<int[]> asLists(SizeTVectorVector buckets) {
    List<int[]> out = new ArrayList<>();
    for (long b = 0; b < buckets.size(); b++) {
      long[] idx = buckets.get(b).get();
      int[] i = new int[idx.length];
      for (int k = 0; k < idx.length; k++) i[k] = Math.toIntExact(idx[k]);
      out.add(i);
    }
    return out;
  }
}
