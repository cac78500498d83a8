package dev.mergetune.bench;

import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes synthetic checkpoints with the tensor layout of CLIP ViT-B/16 (OpenAI key names, ~150M float32
 * parameters, ~600 MB): {@code base.safetensors} with N(0, 0.02²) weights and {@code model-i.safetensors} =
 * base + N(0, 0.001²) task deltas. Values are generated chunk by chunk, so writing needs little memory.
 *
 * <pre>  SyntheticCheckpoints DIR MODELS</pre>
 */
public final class SyntheticCheckpoints {
  private SyntheticCheckpoints() {}

  record Spec(String name, long[] shape) {}

  static List<Spec> vitB16Layout() {
    List<Spec> l = new ArrayList<>();
    l.add(new Spec("positional_embedding", new long[] {77, 512}));
    l.add(new Spec("text_projection", new long[] {512, 512}));
    l.add(new Spec("logit_scale", new long[] {}));
    l.add(new Spec("visual.class_embedding", new long[] {768}));
    l.add(new Spec("visual.positional_embedding", new long[] {197, 768}));
    l.add(new Spec("visual.proj", new long[] {768, 512}));
    l.add(new Spec("visual.conv1.weight", new long[] {768, 3, 16, 16}));
    l.add(new Spec("visual.ln_pre.weight", new long[] {768}));
    l.add(new Spec("visual.ln_pre.bias", new long[] {768}));
    addBlocks(l, "visual.transformer.resblocks.", 12, 768);
    l.add(new Spec("visual.ln_post.weight", new long[] {768}));
    l.add(new Spec("visual.ln_post.bias", new long[] {768}));
    addBlocks(l, "transformer.resblocks.", 12, 512);
    l.add(new Spec("token_embedding.weight", new long[] {49408, 512}));
    l.add(new Spec("ln_final.weight", new long[] {512}));
    l.add(new Spec("ln_final.bias", new long[] {512}));
    return l;
  }

  private static void addBlocks(List<Spec> l, String prefix, int layers, long w) {
    for (int i = 0; i < layers; i++) {
      String p = prefix + i + ".";
      l.add(new Spec(p + "attn.in_proj_weight", new long[] {3 * w, w}));
      l.add(new Spec(p + "attn.in_proj_bias", new long[] {3 * w}));
      l.add(new Spec(p + "attn.out_proj.weight", new long[] {w, w}));
      l.add(new Spec(p + "attn.out_proj.bias", new long[] {w}));
      l.add(new Spec(p + "ln_1.weight", new long[] {w}));
      l.add(new Spec(p + "ln_1.bias", new long[] {w}));
      l.add(new Spec(p + "mlp.c_fc.weight", new long[] {4 * w, w}));
      l.add(new Spec(p + "mlp.c_fc.bias", new long[] {4 * w}));
      l.add(new Spec(p + "mlp.c_proj.weight", new long[] {w, 4 * w}));
      l.add(new Spec(p + "mlp.c_proj.bias", new long[] {w}));
      l.add(new Spec(p + "ln_2.weight", new long[] {w}));
      l.add(new Spec(p + "ln_2.bias", new long[] {w}));
    }
  }

  /** A tensor whose values are base noise (seeded per tensor) plus, for a model, its own small delta noise. */
  private static TensorSource source(Spec spec, int tensorIndex, int model) {
    long n = 1;
    for (long d : spec.shape()) n *= d;
    long numel = n;
    return TensorSource.of(spec.name(), DType.F32, spec.shape(), channel -> {
      SplittableRandom base = new SplittableRandom(1_000_003L * tensorIndex);
      SplittableRandom delta = new SplittableRandom(7_919L * tensorIndex + 104_729L * (model + 1));
      ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
      for (long done = 0; done < numel; ) {
        chunk.clear();
        int take = (int) Math.min(numel - done, chunk.capacity() / 4);
        for (int j = 0; j < take; j++) {
          double v = 0.02 * (base.nextDouble() * 2 - 1) * 1.7320508;  // uniform with std 0.02
          if (model >= 0) v += 0.001 * (delta.nextDouble() * 2 - 1) * 1.7320508;
          chunk.putFloat((float) v);
        }
        chunk.flip();
        while (chunk.hasRemaining()) channel.write(chunk);
        done += take;
      }
    });
  }

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args.length > 0 ? args[0] : "build/synthetic");
    int models = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    List<Spec> layout = vitB16Layout();
    for (int m = -1; m < models; m++) {
      List<TensorSource> sources = new ArrayList<>();
      for (int t = 0; t < layout.size(); t++) sources.add(source(layout.get(t), t, m));
      Path out = dir.resolve(m < 0 ? "base.safetensors" : "model-" + m + ".safetensors");
      SafetensorsWriter.write(out, sources, Map.of("synthetic", "CLIP ViT-B/16 layout"));
      System.out.println("wrote " + out);
    }
  }
}
