package dev.mergetune.io;

import com.dynatrace.hash4j.hashing.HashStream128;
import com.dynatrace.hash4j.hashing.HashValue128;
import com.dynatrace.hash4j.hashing.Hashing;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The digests of a file's bytes that mergetune records, each under the name it is written with ("NAME:HEX"), each
 * computed incrementally over the bytes in file order ({@link #start}), so a reader that reads a file anyway can
 * hash it in the same pass.
 *
 * <ul>
 *   <li>{@code sha256}: SHA-256 (FIPS 180-4), the JDK's implementation (SHA-NI where the CPU has it, about 1.6 GB/s
 *       on one core of the project's VM). Cryptographic: no one can make a second file with the same digest.
 *       {@code sha256sum FILE} prints the same hex, and the Hugging Face Hub lists it for every LFS file.
 *   <li>{@code xxh3-128}: XXH3's 128-bit variant (XXH128 of xxHash 0.8, seed 0), hash4j's pure-Java implementation
 *       (in a whole merge on the project's 2-core VM no faster than SHA-NI SHA-256: a short-lived JVM and a copy
 *       into its byte-array stream). Not cryptographic: it tells files apart and catches any accidental change, but a file can be
 *       crafted to collide with another on purpose. {@code xxhsum -H2 FILE} prints the same hex: the canonical
 *       big-endian form, the high 64 bits first.
 * </ul>
 */
public enum ContentDigest {
  SHA256("sha256", 64),
  XXH3_128("xxh3-128", 32);

  private final String label;
  private final int hexLength;

  ContentDigest(String label, int hexLength) {
    this.label = label;
    this.hexLength = hexLength;
  }

  /** The name written before the hex ("sha256", "xxh3-128"). */
  public String label() {
    return label;
  }

  /** Characters of {@link Stream#hex}. */
  public int hexLength() {
    return hexLength;
  }

  /** The digest named {@code name} (its {@link #label}); anything else is an error listing the names. */
  public static ContentDigest named(String name) {
    for (ContentDigest d : values()) if (d.label.equals(name.toLowerCase(Locale.ROOT))) return d;
    throw new IllegalArgumentException("unknown digest '" + name + "' (sha256, xxh3-128)");
  }

  /** A new incremental digest: feed the bytes in order, then read {@link Stream#hex} once. */
  public Stream start() {
    return this == SHA256 ? new Sha256() : new Xxh3128();
  }

  /** The whole file's digest as lower-case hex, read in 1 MiB blocks. */
  public String of(Path file) throws IOException {
    Stream s = start();
    ByteBuffer block = ByteBuffer.allocateDirect(1 << 20);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      while (ch.read(block.clear()) >= 0) s.update(block.flip());
    }
    return s.hex();
  }

  /** An incremental digest of a byte sequence. Not thread-safe: one reader feeds it. */
  public interface Stream {
    /** Feeds the buffer's remaining bytes (and consumes them: its position moves to its limit). */
    void update(ByteBuffer bytes);

    /** The digest of everything fed, as lower-case hex of {@link #hexLength} characters. */
    String hex();
  }

  private static final class Sha256 implements Stream {
    private final MessageDigest md;

    Sha256() {
      try {
        md = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("the JVM has no SHA-256", e);
      }
    }

    @Override
    public void update(ByteBuffer bytes) {
      md.update(bytes);
    }

    @Override
    public String hex() {
      return HexFormat.of().formatHex(md.digest());
    }
  }

  /** hash4j's XXH3-128 stream, fed through a 64 KiB heap block (its stream takes byte arrays), L2-resident. */
  private static final class Xxh3128 implements Stream {
    private final HashStream128 stream = Hashing.xxh3_128().hashStream();
    private final byte[] block = new byte[1 << 16];

    @Override
    public void update(ByteBuffer bytes) {
      if (bytes.hasArray()) {
        stream.putBytes(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
        bytes.position(bytes.limit());
        return;
      }
      while (bytes.hasRemaining()) {
        int n = Math.min(block.length, bytes.remaining());
        bytes.get(block, 0, n);
        stream.putBytes(block, 0, n);
      }
    }

    @Override
    public String hex() {
      HashValue128 h = stream.get();
      return String.format(Locale.ROOT, "%016x%016x", h.getMostSignificantBits(), h.getLeastSignificantBits());
    }
  }
}
