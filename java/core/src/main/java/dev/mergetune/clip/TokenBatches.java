package dev.mergetune.clip;

import org.bytedeco.pytorch.Tensor;

/** Token rows held in memory as a {@link BatchSource}. */
public final class TokenBatches {
  private TokenBatches() {}

  public static BatchSource of(long[][] tokens, String identity) {
    return new BatchSource() {
      @Override
      public long size() {
        return tokens.length;
      }

      @Override
      public Tensor batch(long start, int count) {
        int ctx = tokens.length == 0 ? 0 : tokens[0].length;
        long[] flat = new long[count * ctx];
        for (int i = 0; i < count; i++) System.arraycopy(tokens[(int) start + i], 0, flat, i * ctx, ctx);
        return Tensor.create(flat, count, ctx);
      }

      @Override
      public String identity() {
        return identity;
      }
    };
  }
}
