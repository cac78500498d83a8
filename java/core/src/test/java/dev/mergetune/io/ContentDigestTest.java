package dev.mergetune.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The digests against values from independent implementations: XXH3-128 against the xxHash project's own sanity
 * vectors (XSUM_XXH128_testdata, seed 0, over its PRIME32/PRIME64 byte generator; there written {low64, high64}, here
 * in the canonical high-first hex) and against {@code xxhsum -H2} 0.8.1 over a 3 MiB stream; SHA-256 against FIPS
 * 180-2's "abc" vector and {@code sha256sum} over the same stream. Every vector is also fed in random pieces, from
 * heap and direct buffers at non-zero positions, as a merge's reads feed it.
 */
class ContentDigestTest {
  @TempDir Path dir;

  /** xxHash's sanity-test buffer: byteGen = PRIME32; buffer[i] = byteGen >> 56; byteGen *= PRIME64 (mod 2^64). */
  private static byte[] sanityBuffer(int n) {
    byte[] b = new byte[n];
    long gen = 2654435761L;
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (gen >>> 56);
      gen *= 0x9E3779B185EBCA8DL;  // 11400714785074694797, the generator's PRIME64
    }
    return b;
  }

  private static final int[] LENGTHS = {0, 1, 6, 12, 24, 48, 81, 222, 403, 512, 2048, 2240, 2367};
  private static final String[] XXH128 = {
      "99aa06d3014798d86001c324468d497f", "a6cd5e9392000f6ac44bdff4074eecdb", "082afe0b8162d12a3e7039bdda43cfc6",
      "6e3efd8fc7802b18061a192713f69ad9", "0ce966e4678d37611e7044d28b1b901d", "a002ac4e5478227ef942219aed80f67b",
      "4952f58181ab00425e8bafb9f95fb803", "337e09641b948717f1aebd597cec6b3a", "1b6de21e332dd73dcdeb804d65c6dea4",
      "18d2d110dcc9bca1617e49599013cb6b", "f736557fd47073a5dd59e2c3a5f038e0", "ccb134fbfa7ce49d6e73a90539cf2948",
      "e89c0f6ff369b427cb37aeb9e5d361ed"};

  /** Feeds {@code data} in random pieces (some empty), alternating heap and direct buffers with a few bytes before. */
  private static String inPieces(ContentDigest d, byte[] data, long seed) {
    Random r = new Random(seed);
    ContentDigest.Stream s = d.start();
    int at = 0;
    while (at < data.length || r.nextInt(4) == 0) {
      int n = Math.min(data.length - at, r.nextInt(Math.max(2, data.length / 3 + 1)));
      int lead = r.nextInt(9);
      ByteBuffer b = r.nextBoolean() ? ByteBuffer.allocate(lead + n) : ByteBuffer.allocateDirect(lead + n);
      b.position(lead);
      b.put(data, at, n);
      b.position(lead);
      s.update(b);
      assertEquals(lead + n, b.position(), "update consumes the buffer");
      at += n;
      if (at >= data.length) break;
    }
    return s.hex();
  }

  private static String whole(ContentDigest d, byte[] data) {
    ContentDigest.Stream s = d.start();
    s.update(ByteBuffer.wrap(data));
    return s.hex();
  }

  @Test
  void xxh3of128MatchesXxhashSanityVectors() {
    byte[] buffer = sanityBuffer(4096 + 64 + 1);
    for (int i = 0; i < LENGTHS.length; i++) {
      byte[] data = java.util.Arrays.copyOf(buffer, LENGTHS[i]);
      assertEquals(XXH128[i], whole(ContentDigest.XXH3_128, data), "length " + LENGTHS[i]);
      for (long seed = 0; seed < 5; seed++) {
        assertEquals(XXH128[i], inPieces(ContentDigest.XXH3_128, data, seed), "length " + LENGTHS[i] + " in pieces");
      }
    }
  }

  @Test
  void sha256MatchesFips180Vector() {
    byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
    String expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assertEquals(expected, whole(ContentDigest.SHA256, abc));
    assertEquals(expected, inPieces(ContentDigest.SHA256, abc, 1));
    assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", whole(ContentDigest.SHA256, new byte[0]));
  }

  @Test
  void wholeFilesMatchXxhsumAndSha256sum() throws IOException {
    byte[] data = sanityBuffer(3 * 1024 * 1024 + 7);  // crosses of()'s 1 MiB blocks and XXH3's 1 KiB blocks unevenly
    Path f = Files.write(dir.resolve("stream.bin"), data);
    assertEquals("ae5ab8b5ff9d0a6ce2c45bc48fc77e73", ContentDigest.XXH3_128.of(f));  // xxhsum -H2 0.8.1
    assertEquals("56f6ebff70612e81b374ec7a5d779e17ce8249aa5dbcbf5bfc6365239b5ba962", ContentDigest.SHA256.of(f));
    assertEquals("ae5ab8b5ff9d0a6ce2c45bc48fc77e73", inPieces(ContentDigest.XXH3_128, data, 7));
    assertEquals(32, ContentDigest.XXH3_128.of(f).length());
    assertEquals(ContentDigest.XXH3_128.hexLength(), ContentDigest.XXH3_128.of(f).length());
    assertEquals(ContentDigest.SHA256.hexLength(), ContentDigest.SHA256.of(f).length());
  }

  @Test
  void digestsAreNamedByTheirLabels() {
    assertSame(ContentDigest.XXH3_128, ContentDigest.named("xxh3-128"));
    assertSame(ContentDigest.XXH3_128, ContentDigest.named("XXH3-128"));
    assertSame(ContentDigest.SHA256, ContentDigest.named("sha256"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ContentDigest.named("md5"));
    assertTrue(e.getMessage().contains("'md5'") && e.getMessage().contains("sha256, xxh3-128"), e.getMessage());
  }
}
