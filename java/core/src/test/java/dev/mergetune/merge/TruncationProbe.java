package dev.mergetune.merge;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A child JVM for {@link TruncatedInputTest}: merges DIR/base + DIR/model-0..1 into DIR/merged.safetensors with
 * task arithmetic slowed to 100 ms per tensor, printing "merging" once the first tensor reaches the kernel so the
 * test can truncate an input while the merge still has tensors to read. Exit 0 on success, 1 with the error's
 * message on stderr.
 */
public final class TruncationProbe {
  private TruncationProbe() {}

  public static void main(String[] args) {
    Path dir = Path.of(args[0]);
    TensorOp plain = LinearMerge.taskArithmetic(new float[] {1, 1}, new float[] {0.5f});
    TensorOp slow = new TensorOp() {
      boolean first = true;

      @Override
      public boolean needsBase() {
        return plain.needsBase();
      }

      @Override
      public int outputs() {
        return plain.outputs();
      }

      @Override
      public Map<String, String> parameters(int output) {
        return plain.parameters(output);
      }

      @Override
      public String method() {
        return plain.method();
      }

      @Override
      public void apply(String tensor, long n, long base, long[] models, long[] outs) {
        if (first) {
          System.out.println("merging");
          System.out.flush();
          first = false;
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        plain.apply(tensor, n, base, models, outs);
      }
    };
    try {
      StreamingMerge.run(dir.resolve("base.safetensors"),
          List.of(dir.resolve("model-0.safetensors"), dir.resolve("model-1.safetensors")), slow,
          List.of(dir.resolve("merged.safetensors")));
      System.exit(0);
    } catch (RuntimeException | java.io.IOException e) {
      System.err.println(e.getMessage());
      System.exit(1);
    }
  }
}
