package dev.mergetune.distributed;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Gradient averaging after backward: the gradients are packed into DDP's buckets ({@link GradientBuckets}), each
 * bucket is summed over the ranks by one all-reduce, divided by the world size and unpacked into the gradients.
 * Works for any backend (NCCL with CPU tensors stages each bucket through the device) and any number of backward
 * passes per step.
 */
final class AfterBackwardAllreduce implements GradientSync {
  private final ProcessGroupContext ctx;
  private final List<String> names;
  private final List<Tensor> params;
  private final List<int[]> buckets;

  AfterBackwardAllreduce(ProcessGroupContext ctx, List<String> names, List<Tensor> params) {
    this.ctx = ctx;
    this.names = List.copyOf(names);
    this.params = List.copyOf(params);
    this.buckets = GradientBuckets.asLists(GradientBuckets.assign(params));
  }

  @Override
  public void beforeBackward(Tensor loss) {}

  @Override
  public void afterBackward(String where) {
    Scalar world = new Scalar((double) ctx.worldSize());
    try (NoGradGuard g = new NoGradGuard()) {
      for (int[] bucket : buckets) {
        List<Tensor> grads = new ArrayList<>(bucket.length);
        for (int i : bucket) {
          Tensor gr = params.get(i).grad();
          if (!gr.defined()) {
            throw new DistributedException(where + ": '" + names.get(i) + "' received no gradient");
          }
          grads.add(gr.reshape(-1));
        }
        Tensor flat = torch.cat(new TensorVector(grads.toArray(new Tensor[0]))).contiguous();
        ctx.allreduceSum(List.of(flat), "gradient all-reduce (" + where + ")");
        flat.div_(world);
        long offset = 0;
        for (int i : bucket) {
          Tensor gr = params.get(i).grad();
          long n = gr.numel();
          gr.copy_(flat.narrow(0, offset, n).view_as(gr));
          offset += n;
        }
      }
    }
  }

  @Override
  public String mode() {
    return GradientSyncMode.AFTER_BACKWARD.key();
  }
}
