package dev.mergetune.world;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a world's files under a staging folder and keeps each file's SHA-256 by relative path (sorted), from which
 * {@link #contentSha256()} hashes the whole content independently of write order.
 */
final class WorldFiles {
  private final Path root;
  private final Map<String, String> hashes = new TreeMap<>();

  WorldFiles(Path root) {
    this.root = root;
  }

  Path root() {
    return root;
  }

  /** Writes {@code bytes} at {@code relative} ('/'-separated) and records its hash. */
  void write(String relative, byte[] bytes) throws IOException {
    Path p = root.resolve(relative);
    Files.createDirectories(p.getParent());
    Files.write(p, bytes);
    hashes.put(relative, sha256(bytes));
  }

  /** SHA-256 of the lines "path sha256\n" of every file written, in path order. */
  String contentSha256() {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> e : hashes.entrySet()) sb.append(e.getKey()).append(' ').append(e.getValue()).append('\n');
    return sha256(sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  int count() {
    return hashes.size();
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
