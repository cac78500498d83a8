package dev.mergetune.clip.text;

import dev.mergetune.kernels.NativeRuntime;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Token rows as LibTorch tensors: int64 [n, contextLength], what CLIP's text encoder takes (the one place of this
 * package that needs LibTorch; {@link ClipTokenizer} itself does not load it).
 */
public final class ClipTokenTensors {
  private ClipTokenTensors() {}

  /** {@code clip.tokenize(texts, contextLength, truncate)} as a CPU int64 tensor [n, contextLength]. */
  public static Tensor tokenize(ClipTokenizer tokenizer, List<String> texts, int contextLength, Truncation truncation) {
    long[] flat = tokenizer.tokenizeFlat(texts, contextLength, truncation);
    NativeRuntime.ensureTorch();
    return Tensor.create(flat, texts.size(), contextLength);
  }

  /** Rows from {@link ClipTokenizer#tokenize} (all of one length) as a CPU int64 tensor [n, length]. */
  public static Tensor toTensor(int[][] rows) {
    int width = rows.length == 0 ? 0 : rows[0].length;
    long[] flat = new long[rows.length * width];
    for (int r = 0; r < rows.length; r++) {
      if (rows[r].length != width) {
        throw new IllegalArgumentException("row " + r + " has " + rows[r].length + " tokens, row 0 has " + width);
      }
      for (int c = 0; c < width; c++) flat[r * width + c] = rows[r][c];
    }
    NativeRuntime.ensureTorch();
    return Tensor.create(flat, rows.length, width);
  }
}
