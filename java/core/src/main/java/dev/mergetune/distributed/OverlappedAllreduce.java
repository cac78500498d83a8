package dev.mergetune.distributed;

import java.util.List;
import org.bytedeco.pytorch.BoolVector;
import org.bytedeco.pytorch.LoggerOptional;
import org.bytedeco.pytorch.Reducer;
import org.bytedeco.pytorch.SizeTStringMap;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Gradient averaging overlapped with backward by c10d's {@code Reducer} — the C++ engine under PyTorch's
 * DistributedDataParallel — driven from Java: its autograd hooks (registered in C++ on each parameter's gradient
 * accumulator) copy each gradient into its bucket as soon as it is accumulated and start the bucket's all-reduce
 * when the bucket is full, while backward goes on; the end-of-backward callback waits for the buckets, divides by the
 * world size and writes the means back into the gradients. {@link #beforeBackward} arms it for one backward pass
 * ({@code prepare_for_backward}); a backward it was not armed for (e.g. MergeTune's inner passes at the α points) is
 * ignored by it, so the gradient reduced is the parameter's whole {@code .grad} at the armed pass.
 *
 * <p>Every trainable parameter must receive a gradient in every armed pass (no unused parameters, as DDP's
 * default); {@link #afterBackward} checks it.
 */
final class OverlappedAllreduce implements GradientSync {
  private final Reducer reducer;
  private final TensorVector params;

  OverlappedAllreduce(ProcessGroupContext ctx, List<String> names, List<Tensor> parameters) {
    this.params = new TensorVector(parameters.toArray(new Tensor[0]));
    // shapes must agree on every rank (DDP's _verify_param_shape_across_processes)
    torch.verify_params_across_processes(ctx.processGroup(), params, new LoggerOptional());
    SizeTStringMap named = new SizeTStringMap();
    for (int i = 0; i < names.size(); i++) named.put(i, names.get(i));
    boolean[] sparse = new boolean[parameters.size()];
    this.reducer = new Reducer(params, GradientBuckets.assign(parameters), ctx.processGroup(), new BoolVector(sparse),
        GradientBuckets.BUCKET_BYTES, false, false, named, GradientBuckets.FIRST_BUCKET_BYTES, false, false);
  }

  @Override
  public void beforeBackward(Tensor loss) {
    try {
      reducer.prepare_for_backward(new TensorVector(loss));
    } catch (RuntimeException e) {
      throw new DistributedException("the gradient reducer was not finished with the previous step: "
          + Rendezvous.firstLine(e), e);
    }
  }

  @Override
  public void afterBackward(String where) {
    try {
      reducer.check_finalized();
    } catch (RuntimeException e) {
      throw new DistributedException(where + ": not every trainable tensor received a gradient, so the overlapped"
          + " all-reduce could not finish (" + Rendezvous.firstLine(e) + "); use --grad-sync after-backward", e);
    }
  }

  @Override
  public String mode() {
    return GradientSyncMode.OVERLAP.key();
  }

  @Override
  public void close() {
    reducer.remove_autograd_hooks();
  }
}
