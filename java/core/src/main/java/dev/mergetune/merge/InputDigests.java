package dev.mergetune.merge;

import dev.mergetune.io.ContentDigest;
import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.SafetensorsCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The digest of each merge input for the outputs' metadata ("file NAME:HEX", NAME the {@link ContentDigest}'s label).
 * A single safetensors file is hashed from the merge's own reads ({@link SafetensorsCheckpoint#digestWhileReading});
 * its digest is only known at the end, so the headers are written with a placeholder of the same length as the hex
 * that {@link #finish} replaces. Other inputs (.pt, a sharded index) are hashed up front as before. With no digest
 * (null) each entry is the file name alone.
 */
final class InputDigests {
  private final List<Path> paths;
  private final List<Checkpoint> inputs;
  private final ContentDigest digest;
  private final String[] known;
  private final boolean[] inPass;

  InputDigests(List<Path> paths, List<Checkpoint> inputs, ContentDigest digest) throws IOException {
    this.paths = paths;
    this.inputs = inputs;
    this.digest = digest;
    known = new String[paths.size()];
    inPass = new boolean[paths.size()];
    if (digest == null) return;
    for (int i = 0; i < paths.size(); i++) {
      if (inputs.get(i) instanceof SafetensorsCheckpoint s && s.shardCount() == 1) inPass[i] = true;
      else known[i] = digest.of(paths.get(i));
    }
  }

  /** The value of {@link StreamingMerge#INPUT_DIGEST}: the digest's label, or "none". */
  String name() {
    return digest == null ? "none" : digest.label();
  }

  /** The metadata value for input i: "file NAME:HEX" (a placeholder until {@link #finish}), or "file". */
  String entry(int i) {
    String name = paths.get(i).getFileName().toString();
    if (digest == null) return name;
    return name + " " + digest.label() + ":" + (inPass[i] ? placeholder(i) : known[i]);
  }

  /** Turns on hashing in the read pass; before the first read. */
  void startReading() {
    for (int i = 0; i < inPass.length; i++) {
      if (inPass[i] && !((SafetensorsCheckpoint) inputs.get(i)).digestWhileReading(digest)) {
        inPass[i] = false;  // not expected: shardCount() was 1
        throw new IllegalStateException(paths.get(i) + " cannot be hashed while it is read");
      }
    }
  }

  /** After every read: each placeholder with its digest (hashes what the reads did not cover). */
  Map<String, String> finish() {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < inPass.length; i++) {
      if (!inPass[i]) continue;
      known[i] = ((SafetensorsCheckpoint) inputs.get(i)).finishDigest();
      m.put(placeholder(i), known[i]);
    }
    return m;
  }

  /** The metadata with every placeholder replaced. */
  Map<String, String> resolved(Map<String, String> metadata) {
    Map<String, String> out = new LinkedHashMap<>();
    metadata.forEach((k, v) -> {
      String r = v;
      for (int i = 0; i < inPass.length; i++) if (inPass[i] && known[i] != null) r = r.replace(placeholder(i), known[i]);
      out.put(k, r);
    });
    return out;
  }

  /** As long as the hex it stands for (the header is patched in place), unique per input. */
  private String placeholder(int i) {
    String p = "pending-" + i + "-";
    if (p.length() > digest.hexLength()) throw new IllegalStateException("too many inputs for placeholders: " + i);
    return p + "x".repeat(digest.hexLength() - p.length());
  }
}
