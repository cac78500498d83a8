package dev.mergetune.world;

import dev.mergetune.clip.ClipConfig;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.distributed.C10dProcessGroup;
import dev.mergetune.distributed.DataParallel;
import dev.mergetune.distributed.DistributedConfig;
import dev.mergetune.distributed.GradientSync;
import dev.mergetune.distributed.ProcessGroupContext;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.tensors.NamedTensors;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One rank of {@link DataParallelContrastiveTest} (or, with {@code single}, the one process): the gradient of CLIP's
 * contrastive loss over a global batch of 8 pairs, through {@link ContrastivePretraining}'s gathered loss and
 * {@link DataParallel}'s averaging, written to {@code WORK/grad-RANK.safetensors} with the loss value as metadata.
 */
public final class ContrastiveGradientProbe {
  static final int[] GLOBAL = {5, 2, 7, 0, 3, 6, 1, 4};

  private ContrastiveGradientProbe() {}

  static ClipModel model() {
    return new ClipModel(ClipConfig.of(16, 32, 1, 32, 16, 1, 12, 64, 32, 1, 1, dev.mergetune.clip.Activation.QUICK_GELU))
        .initialize(4);
  }

  static Map<String, Tensor> gradient(ProcessGroupContext ctx, Path out) throws Exception {
    torch.manual_seed(9);
    Tensor images = torch.randn(8, 3, 32, 32);
    Tensor tokens = torch.randint(1, 64, new long[] {8, 12});
    ClipModel m = model();
    ContrastivePretraining method = new ContrastivePretraining(m, images, tokens, ctx);
    DataParallel dp = DataParallel.of(ctx, dev.mergetune.distributed.GradientSyncMode.OVERLAP);
    Tensor loss;
    try (GradientSync sync = dp.gradients(method)) {
      loss = method.loss(dp.shard(GLOBAL), GLOBAL, 0);
      dp.backward(loss, sync, "probe");
    }
    Map<String, Tensor> grads = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : method.trainable().entrySet()) grads.put(e.getKey(), e.getValue().grad());
    NamedTensors.save(out, grads, Map.of("loss", Double.toString(loss.item_double())));
    return grads;
  }

  public static void main(String[] args) throws Exception {
    NativeRuntime.ensureTorch();
    torch.set_num_threads(1);
    Path work = Path.of(args[0]);
    DistributedConfig c = DistributedConfig.fromEnvironment(System.getenv());
    try (C10dProcessGroup g = C10dProcessGroup.join(c, "contrastive probe", false)) {
      gradient(g, work.resolve("grad-" + c.rank() + ".safetensors"));
    }
    System.exit(0);
  }
}
