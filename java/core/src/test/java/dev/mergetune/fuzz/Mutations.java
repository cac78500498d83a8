package dev.mergetune.fuzz;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

/**
 * Corpus-based fuzz inputs for the jqwik fuzz targets ({@code @Tag("fuzz")}; run by {@code .ci/run}, bounded by
 * {@code -Djqwik.tries.default}): a seed file from {@code src/test/resources/fuzz/<target>/} with 1 to 8 random
 * mutations — bit flips, interesting bytes, deletions, duplications, insertions, truncation, and tokens that
 * break parsers (huge numbers, nulls, brackets, YAML aliases, pickle opcodes). Each input is a pure function of a
 * jqwik-drawn long, so a failure reproduces (and shrinks) from jqwik's seed.
 */
public final class Mutations {
  private static final String[] TOKENS = {"null", "-1", "9999999999999999999999", "1e309", "NaN", "\"", "{", "}", "[",
      "]", ",", ":", "\n", "&a ", "*a", "!!python/object:os.system", "~", "true", "0.5", "\u0000", "\\u0000", "''",
      "\ncommon: &a [*a, *a]\n", "__metadata__", "data_offsets", "F32", "\u00e9", "\ud83d\ude00"};
  private static final byte[] INTERESTING = {0, 1, (byte) 0xff, 0x7f, (byte) 0x80, '(', ')', '}', ']', 't', 'R', 'b',
      'Q', 'X', 'J', 'K', 'M', 'h', 'q', '.', '0', '9', '-'};

  private Mutations() {}

  /** The seed files of one target, loaded from the classpath. */
  public static List<byte[]> seeds(String target, String... names) {
    List<byte[]> out = new ArrayList<>();
    for (String n : names) {
      String res = "/fuzz/" + target + "/" + n;
      try (InputStream in = Mutations.class.getResourceAsStream(res)) {
        if (in == null) throw new IllegalStateException("missing seed " + res);
        out.add(in.readAllBytes());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  /** Mutated seeds (the unmutated seed now and then, too). */
  public static Arbitrary<byte[]> of(List<byte[]> seeds) {
    return Arbitraries.longs().map(k -> mutate(seeds, k));
  }

  static byte[] mutate(List<byte[]> seeds, long key) {
    SplittableRandom r = new SplittableRandom(key);
    byte[] b = seeds.get(r.nextInt(seeds.size())).clone();
    int n = r.nextInt(10) == 0 ? 0 : 1 + r.nextInt(8);
    for (int i = 0; i < n; i++) b = once(b, r);
    return b;
  }

  private static byte[] once(byte[] b, SplittableRandom r) {
    int len = b.length;
    int at = len == 0 ? 0 : r.nextInt(len);
    switch (r.nextInt(8)) {
      case 0:
        if (len > 0) b[at] ^= (byte) (1 << r.nextInt(8));
        return b;
      case 1:
        if (len > 0) b[at] = INTERESTING[r.nextInt(INTERESTING.length)];
        return b;
      case 2: {
        int cut = Math.min(len - at, 1 + r.nextInt(16));
        byte[] out = new byte[len - cut];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(b, at + cut, out, at, len - at - cut);
        return out;
      }
      case 3: {
        int span = Math.min(len - at, 1 + r.nextInt(32));
        return insert(b, r.nextInt(len + 1), Arrays.copyOfRange(b, at, at + span));
      }
      case 4: {
        byte[] junk = new byte[1 + r.nextInt(8)];
        for (int i = 0; i < junk.length; i++) junk[i] = (byte) r.nextInt(256);
        return insert(b, at, junk);
      }
      case 5:
        return Arrays.copyOf(b, at);
      case 6:
        return insert(b, at, TOKENS[r.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8));
      default: {
        // a 4-byte little-endian field set to an extreme value (lengths, offsets, counts)
        if (len < 4) return b;
        int v = new int[] {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 1 << 20, len * 2}[r.nextInt(6)];
        int p = r.nextInt(len - 3);
        for (int i = 0; i < 4; i++) b[p + i] = (byte) (v >>> (8 * i));
        return b;
      }
    }
  }

  private static byte[] insert(byte[] b, int at, byte[] what) {
    byte[] out = new byte[b.length + what.length];
    System.arraycopy(b, 0, out, 0, at);
    System.arraycopy(what, 0, out, at, what.length);
    System.arraycopy(b, at, out, at + what.length, b.length - at);
    return out;
  }
}
