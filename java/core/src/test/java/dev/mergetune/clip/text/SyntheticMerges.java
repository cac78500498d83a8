package dev.mergetune.clip.text;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Tiny gzipped merges files in CLIP's format (a header line, then one "first second" merge per line). */
public final class SyntheticMerges {
  /**
   * The merges of {@link #write}: ranks 0..6, ids 512..518. "l l" outranks "e l", so "ello" → e, ll, o</w>; "a a"
   * merges left to right, so "aaa" → aa, a</w> → aaa</w>.
   */
  public static final String[] MERGES = {"l l", "h e", "he ll", "hell o</w>", "e l", "a a", "aa a</w>"};

  private SyntheticMerges() {}

  /** A merges file with {@link #MERGES}: vocabulary 512 + 7 + 2, start 519, end 520. */
  public static Path write(Path dir) throws IOException {
    return write(dir.resolve("merges.txt.gz"), 0, MERGES);
  }

  /**
   * A merges file of CLIP's size (48,894 merges and more) whose first merges are {@code merges} and the rest filler
   * ("~ ~" repeated), so that {@link ClipTokenizer#load(Path)} and the CLI accept it without the real vocabulary.
   */
  public static Path writeClipSized(Path dir) throws IOException {
    return write(dir.resolve("clip-sized.txt.gz"), ClipTokenizer.CLIP_MERGES + 10, MERGES);
  }

  public static Path write(Path file, int padTo, String... merges) throws IOException {
    StringBuilder sb = new StringBuilder("#version: 0.2\n");
    for (String m : merges) sb.append(m).append('\n');
    for (int i = merges.length; i < padTo; i++) sb.append("~ ~\n");
    return gzip(file, sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  public static Path gzip(Path file, byte[] content) throws IOException {
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
      out.write(content);
    }
    return file;
  }
}
