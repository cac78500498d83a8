package dev.mergetune.clip;

import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Features kept on disk between runs, one safetensors file per key; the key is the SHA-256 of everything the
 * features depend on (model weights' identity, inputs' identity, tower, preprocessing), so a change to any of
 * them is a miss. Entries are written atomically; an unreadable entry is a miss, never an error.
 */
public final class FeatureCache {
  private final Path dir;

  public FeatureCache(Path dir) {
    this.dir = dir;
  }

  public static String key(String... parts) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (String p : parts) {
        byte[] b = p.getBytes(StandardCharsets.UTF_8);
        md.update(java.nio.ByteBuffer.allocate(8).putLong(b.length).array());
        md.update(b);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public Path path(String key) {
    return dir.resolve(key + ".safetensors");
  }

  /** The cached [n, d] features, or null on a miss. */
  public float[][] get(String key) {
    Path p = path(key);
    if (!Files.isRegularFile(p)) return null;
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      long[] shape = f.info("features").shape();
      float[] flat = f.readFloats("features");
      float[][] out = new float[(int) shape[0]][(int) shape[1]];
      for (int i = 0; i < out.length; i++) System.arraycopy(flat, i * out[i].length, out[i], 0, out[i].length);
      return out;
    } catch (RuntimeException e) {
      return null;  // a damaged entry is recomputed and overwritten
    }
  }

  public void put(String key, float[][] features, Map<String, String> metadata) {
    int n = features.length;
    int d = n == 0 ? 0 : features[0].length;
    float[] flat = new float[n * d];
    for (int i = 0; i < n; i++) System.arraycopy(features[i], 0, flat, i * d, d);
    try {
      Files.createDirectories(dir);
      SafetensorsWriter.write(path(key), List.of(TensorSource.ofFloats("features", new long[] {n, d}, flat, DType.F32)),
          metadata);
    } catch (IOException e) {
      throw new UncheckedIOException("writing the feature cache entry " + path(key), e);
    }
  }
}
