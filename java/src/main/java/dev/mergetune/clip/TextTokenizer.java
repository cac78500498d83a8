package dev.mergetune.clip;

import java.util.List;

/** Turns texts into CLIP token rows: start token, ids, end token, zero padding to the context length. */
@FunctionalInterface
public interface TextTokenizer {
  long[][] tokenize(List<String> texts);
}
