package dev.mergetune.bench;

import dev.mergetune.merge.svd.IsoMerge;
import dev.mergetune.merge.svd.SpectralMerge;
import dev.mergetune.merge.svd.TsvMerge;
import dev.mergetune.kernels.NativeRuntime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.StringViewOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The per-layer SVD merges (TSV-M, Iso-C, Iso-CTS at f = 0.8) at CLIP ViT-B/16 dimensions over T models, tensor by
 * tensor as the streaming merge calls them ({@link SpectralMerge#apply}), against plain LibTorch SVDs of the same
 * matrices in the same run:
 *
 * <ul>
 *   <li>{@code svdTasksLibTorch}: linalg_svd(θ_i − θ0) of every 2-D tensor for every model: the T SVDs TSV-M and
 *       Iso-CTS start with (TSV-M adds 2 per layer, Iso-CTS 3);
 *   <li>{@code svdSumLibTorch}: linalg_svd(Σ_i (θ_i − θ0)) of every 2-D tensor: Iso-C's one SVD.
 * </ul>
 *
 * {@code scope} picks the tensors: {@code visual-block} is one vision transformer block in ViT-B/16's layout
 * (attn.in_proj 2304×768, attn.out_proj 768×768, mlp.c_fc 3072×768, mlp.c_proj 768×3072 and its six vectors, 7.1M
 * parameters; the merge is per layer, so the whole model costs about 12 of these plus 12 of the 512-wide text blocks
 * and the embeddings); {@code model} is the whole layout ({@link SyntheticCheckpoints#vitB16Layout}, 149.6M
 * parameters; T = 8 needs ~6 GB and, on two cores, tens of minutes per call).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class SvdScaleBench {
  @Param({"8"})
  public int tasks;

  @Param({"visual-block"})
  public String scope;

  private final List<String> names = new ArrayList<>();
  private final List<long[]> shapes = new ArrayList<>();
  private final List<Tensor> theta0 = new ArrayList<>();
  private final List<Tensor> out = new ArrayList<>();
  private final List<List<Tensor>> models = new ArrayList<>();
  private final Map<String, long[]> shapeMap = new HashMap<>();
  private SpectralMerge tsv;
  private SpectralMerge isoC;
  private SpectralMerge isoCts;

  @Setup(Level.Trial)
  public void setUp() {
    NativeRuntime.ensureTorch();
    torch.manual_seed(0);
    for (SyntheticCheckpoints.Spec spec : SyntheticCheckpoints.vitB16Layout()) {
      if (scope.equals("visual-block") && !spec.name().startsWith("visual.transformer.resblocks.0.")) continue;
      if (!scope.equals("visual-block") && !scope.equals("model")) throw new IllegalArgumentException("scope " + scope);
      long[] shape = spec.shape().length == 0 ? new long[] {1} : spec.shape();
      names.add(spec.name());
      shapes.add(shape);
      shapeMap.put(spec.name(), shape);
      Tensor t = torch.randn(shape).mul_(new Scalar(0.02f));
      theta0.add(t);
      out.add(torch.zeros_like(t));
    }
    for (int i = 0; i < tasks; i++) {
      List<Tensor> m = new ArrayList<>();
      for (Tensor t : theta0) m.add(t.add(torch.randn(t.sizes().vec().get()).mul_(new Scalar(0.001f))));
      models.add(m);
    }
    float[] one = {1f};
    tsv = new TsvMerge(shapeMap, tasks, null, one, List.of());
    isoC = new IsoMerge(shapeMap, null, one, List.of());
    isoCts = new IsoMerge(shapeMap, 0.8, one, List.of());
  }

  private void merge(SpectralMerge op) {
    for (int k = 0; k < names.size(); k++) {
      long[] addresses = new long[tasks];
      for (int i = 0; i < tasks; i++) addresses[i] = models.get(i).get(k).data_ptr().address();
      op.apply(names.get(k), theta0.get(k).numel(), theta0.get(k).data_ptr().address(), addresses,
          new long[] {out.get(k).data_ptr().address()});
    }
  }

  @Benchmark
  public void tsvM() {
    merge(tsv);
  }

  @Benchmark
  public void isoC() {
    merge(isoC);
  }

  @Benchmark
  public void isoCts() {
    merge(isoCts);
  }

  @Benchmark
  public void svdTasksLibTorch() {
    for (int k = 0; k < names.size(); k++) {
      if (shapes.get(k).length != 2) continue;
      for (int i = 0; i < tasks; i++) {
        try (PointerScope scope = new PointerScope()) {
          torch.linalg_svd(models.get(i).get(k).sub(theta0.get(k)), false, new StringViewOptional());
        }
      }
    }
  }

  @Benchmark
  public void svdSumLibTorch() {
    for (int k = 0; k < names.size(); k++) {
      if (shapes.get(k).length != 2) continue;
      try (PointerScope scope = new PointerScope()) {
        Tensor sum = models.get(0).get(k).sub(theta0.get(k));
        for (int i = 1; i < tasks; i++) sum.add_(models.get(i).get(k).sub(theta0.get(k)));
        torch.linalg_svd(sum, false, new StringViewOptional());
      }
    }
  }
}
