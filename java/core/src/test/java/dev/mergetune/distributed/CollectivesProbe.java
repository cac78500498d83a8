package dev.mergetune.distributed;

import dev.mergetune.kernels.NativeRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One rank of {@link GlooCollectivesTest}: every collective the data-parallel code relies on, checked against values
 * computed here from the rank numbers alone. Prints "all checks passed" and exits 0, or names the failed check and
 * exits 1.
 */
public final class CollectivesProbe {
  private CollectivesProbe() {}

  public static void main(String[] args) throws Exception {
    NativeRuntime.ensureTorch();
    torch.set_num_threads(1);
    Path work = Path.of(args[0]);
    DistributedConfig c = DistributedConfig.fromEnvironment(System.getenv());
    int r = c.rank();
    int w = c.worldSize();
    try (C10dProcessGroup g = C10dProcessGroup.join(c, "collectives probe", false)) {
      // all-reduce: rank r contributes (r + 1)·[1, 2, 3]; the sum is W(W+1)/2·[1, 2, 3]
      Tensor t = Tensor.create(new float[] {r + 1f, 2f * (r + 1), 3f * (r + 1)}, 3);
      g.allreduceSum(List.of(t), "probe all-reduce");
      double s = w * (w + 1) / 2.0;
      check("all-reduce", values(t), new float[] {(float) s, (float) (2 * s), (float) (3 * s)});

      // broadcast from rank 0, several tensors of several dtypes
      Tensor f = torch.full(new long[] {2, 2}, new Scalar(r + 0.5));
      Tensor l = Tensor.create(new long[] {r, 10L * r}, 2);
      g.broadcast(List.of(f, l), "probe broadcast");
      check("broadcast float", values(f), new float[] {0.5f, 0.5f, 0.5f, 0.5f});
      long[] lv = new long[2];
      l.data_ptr_long().get(lv);
      if (lv[0] != 0 || lv[1] != 0) fail("broadcast int64: " + lv[0] + ", " + lv[1]);

      // all-gather in rank order
      Tensor all = g.allgather(torch.full(new long[] {2, 1}, new Scalar(r * 1.0)), "probe all-gather");
      float[] want = new float[2 * w];
      for (int i = 0; i < want.length; i++) want[i] = i / 2;
      check("all-gather", values(all), want);

      g.barrier("probe barrier");

      // rank 0's decisions and bytes reach everyone; its failure is reported on every rank, naming it
      if (!g.decideOnMain("probe decision", () -> r == 0)) fail("decideOnMain was false");
      byte[] b = g.onMain("probe bytes", () -> new byte[] {7, 8, 9});
      if (b.length != 3 || b[0] != 7 || b[2] != 9) fail("onMain bytes");
      try {
        g.mainOnly("probe failure", () -> {
          throw new java.io.IOException("disk full (probe)");
        });
        fail("a failing main-only action did not fail");
      } catch (java.io.IOException | DistributedException e) {
        if (r != 0 && !e.getMessage().contains("rank 0 failed to probe failure: disk full (probe)")) {
          fail("main-only failure reported as: " + e.getMessage());
        }
      }

      // a file (its length, then its bytes) and an empty one
      Path src = work.resolve("file-src-rank" + r);
      byte[] content = new byte[1000];
      for (int i = 0; i < content.length; i++) content[i] = (byte) (i * 7 + (r == 0 ? 1 : 99));
      Files.write(src, content);
      Path got = g.broadcastFile(src, work.resolve("file-dst-rank" + r), "probe file");
      byte[] read = Files.readAllBytes(got);
      for (int i = 0; i < read.length; i++) if (read[i] != (byte) (i * 7 + 1)) fail("file byte " + i);
      if (read.length != 1000) fail("file length " + read.length);
      Path empty = work.resolve("empty-rank" + r);
      Files.write(empty, new byte[0]);
      if (Files.size(g.broadcastFile(empty, work.resolve("empty-dst-rank" + r), "probe empty file")) != 0) {
        fail("empty file");
      }

      // gradients: rank r's loss is sum((r + 1)·x·W) + sum(b); both syncs give the mean over ranks
      for (GradientSyncMode mode : GradientSyncMode.values()) {
        Map<String, Tensor> params = new LinkedHashMap<>();
        Tensor wt = torch.ones(3, 2);
        wt.set_requires_grad(true);
        Tensor bias = torch.zeros(2);
        bias.set_requires_grad(true);
        params.put("w", wt);
        params.put("b", bias);
        DataParallel dp = DataParallel.of(g, mode);
        GradientSync sync = dp.gradients(new FixedParams(params));
        if (!sync.mode().equals(mode.key())) fail("sync mode " + sync.mode() + " for " + mode.key());
        for (int step = 0; step < 2; step++) {  // twice: the Reducer must be ready again after a step
          Tensor x = torch.full(new long[] {1, 3}, new Scalar(r + 1.0));
          Tensor loss = x.matmul(wt).add(bias).sum();
          dp.backward(loss, sync, "probe step " + step);
          float mean = (float) ((w + 1) / 2.0);  // mean of (r + 1) over ranks
          check(mode.key() + " grad w", values(wt.grad()), new float[] {mean, mean, mean, mean, mean, mean});
          check(mode.key() + " grad b", values(bias.grad()), new float[] {1f, 1f});
          wt.grad().zero_();
          bias.grad().zero_();
        }
        sync.close();
      }
      System.out.println("rank " + r + ": all checks passed");
    } catch (RuntimeException | AssertionError e) {
      System.out.println("rank " + r + ": " + e);
      System.exit(1);
    }
    System.exit(0);
  }

  /** The bare minimum of a method for {@link DataParallel#gradients}. */
  private record FixedParams(Map<String, Tensor> trainable) implements dev.mergetune.train.TrainableMethod {
    @Override
    public int trainSize() {
      return 1;
    }

    @Override
    public Tensor loss(int[] batch, long epoch) {
      throw new UnsupportedOperationException();
    }

    @Override
    public double evaluate() {
      return Double.NaN;
    }
  }

  static float[] values(Tensor t) {
    Tensor c = t.detach().contiguous();
    float[] out = new float[(int) c.numel()];
    c.data_ptr_float().get(out);
    return out;
  }

  private static void check(String what, float[] got, float[] want) {
    if (!java.util.Arrays.equals(got, want)) {
      fail(what + ": got " + java.util.Arrays.toString(got) + ", want " + java.util.Arrays.toString(want));
    }
  }

  private static void fail(String message) {
    throw new AssertionError(message);
  }
}
