package dev.mergetune.world;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mergetune.distributed.Jobs;
import dev.mergetune.distributed.ProcessGroupContext;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.tensors.SafetensorsFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pre-training's contrastive loss couples every pair of the batch: over 2 Gloo ranks (features all-gathered, this
 * rank's rows live, the loss scaled by W and the temperature's share by 1/W) the averaged gradient of every tensor,
 * {@code logit_scale} included, and the loss value equal a single process's over the whole batch within float
 * rounding (|Δ| ≤ 1e-6 + 1e-4·|g|).
 */
class DataParallelContrastiveTest {
  @Test
  void theGatheredLossHasTheSingleProcessGradient(@TempDir Path work) throws Exception {
    Jobs.Job job = Jobs.start(ContrastiveGradientProbe.class, List.of(work.toString()), work, 2, Map.of());
    NativeRuntime.ensureTorch();
    int threads = torch.get_num_threads();
    torch.set_num_threads(1);
    try {
      ContrastiveGradientProbe.gradient(ProcessGroupContext.single(), work.resolve("grad-single.safetensors"));
    } finally {
      torch.set_num_threads(threads);
    }
    assertArrayEquals(new int[2], job.await(90), job.logs());
    try (SafetensorsFile one = SafetensorsFile.open(work.resolve("grad-single.safetensors"));
        SafetensorsFile r0 = SafetensorsFile.open(work.resolve("grad-0.safetensors"));
        SafetensorsFile r1 = SafetensorsFile.open(work.resolve("grad-1.safetensors"))) {
      assertEquals(Double.parseDouble(one.metadata().get("loss")), Double.parseDouble(r0.metadata().get("loss")), 1e-6);
      assertEquals(one.tensors().keySet(), r0.tensors().keySet());
      for (String k : one.tensors().keySet()) {
        float[] want = one.readFloats(k);
        float[] got = r0.readFloats(k);
        assertArrayEquals(got, r1.readFloats(k), "the ranks' averaged gradients of '" + k + "' differ");
        for (int i = 0; i < want.length; i++) {
          assertEquals(want[i], got[i], 1e-6 + 1e-4 * Math.abs(want[i]), k + "[" + i + "]");
        }
      }
    }
  }
}
