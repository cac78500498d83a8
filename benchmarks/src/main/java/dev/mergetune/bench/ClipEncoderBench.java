package dev.mergetune.bench;

import dev.mergetune.clip.ClipConfig;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.kernels.NativeRuntime;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
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
 * CLIP encoder throughput at ViT-B/16 dimensions (random weights, float32, CPU, inference mode): one batch of
 * {@code batch} images [3, 224, 224] or texts [77] per operation, a PointerScope per batch as the feature extractor
 * uses. {@code libtorchCallOverhead} times one LibTorch op on a one-element tensor from Java — the whole fixed cost
 * of a call (JavaCPP wrapper, JNI, LibTorch's dispatcher); times the op count of a forward pass
 * ({@link #IMAGE_OPS} / {@link #TEXT_OPS}, counted from the module code) it bounds from above the time a forward
 * pass spends outside LibTorch's kernels.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ClipEncoderBench {
  /**
   * LibTorch calls made from Java per forward pass: per residual block 17 (ln, linear, view, permute, unbind, 3 gets,
   * sdpa, transpose, reshape, linear, add, ln, linear, mul, sigmoid, mul, linear, add — 20 counting the unbind
   * element reads), ×12 blocks, plus the tower's prologue/epilogue (image: conv, reshape, permute, expand, cat, add,
   * ln_pre, select, ln_post, matmul; text: embedding, add, ln_final, argmax, arange, index, matmul).
   */
  public static final int IMAGE_OPS = 20 * 12 + 10;

  public static final int TEXT_OPS = 20 * 12 + 7;

  @Param({"8"})
  public int batch;

  private ClipModel model;
  private Tensor images;
  private Tensor tokens;
  private Tensor one;

  @Setup(Level.Trial)
  public void setUp() {
    NativeRuntime.ensureTorch();
    model = new ClipModel(ClipConfig.vitB16()).initialize(0);
    torch.manual_seed(1);
    images = torch.randn(batch, 3, 224, 224);
    long[] ids = new long[batch * 77];
    for (int b = 0; b < batch; b++) {
      ids[b * 77] = 49406;
      for (int j = 1; j < 12; j++) ids[b * 77 + j] = 1000 + (b * 31 + j * 17) % 40000;
      ids[b * 77 + 12] = 49407;
    }
    tokens = Tensor.create(ids, batch, 77);
    one = torch.ones(1);
  }

  @Benchmark
  public Tensor imageEncoder() {
    try (InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
      return model.encodeImage(images).sum();
    }
  }

  @Benchmark
  public Tensor textEncoder() {
    try (InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
      return model.encodeText(tokens).sum();
    }
  }

  @Benchmark
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public Tensor libtorchCallOverhead() {
    try (InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
      return one.add(one);
    }
  }
}
