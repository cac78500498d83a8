package dev.mergetune.clip;

import java.util.List;

/** Turns texts into CLIP token rows: start token, ids, end token, zero padding to the context length. */
@FunctionalInterface
public interface TextTokenizer {
  long[][] tokenize(List<String> texts);

  /** CLIP's BPE tokenizer at {@code contextLength}, with {@code mode} for texts that do not fit. */
  static TextTokenizer of(dev.mergetune.clip.text.ClipTokenizer tokenizer, int contextLength,
      dev.mergetune.clip.text.Truncation mode) {
    return texts -> {
      int[][] ids = tokenizer.tokenize(texts, contextLength, mode);
      long[][] out = new long[ids.length][];
      for (int i = 0; i < ids.length; i++) {
        out[i] = new long[ids[i].length];
        for (int j = 0; j < ids[i].length; j++) out[i][j] = ids[i][j];
      }
      return out;
    };
  }
}
