package dev.mergetune.tensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes several safetensors files with one layout in lockstep: tensor by tensor, each tensor's bytes for every
 * file written together (a λ sweep computes all its outputs from one read of the inputs). Every file goes to a
 * temporary file first; {@link #commit} forces each file to disk once (one fdatasync per output, at the end) and
 * renames them into place only when all are complete; {@link #close} without a commit removes every temporary file
 * and leaves the targets as they were. One thread at a time may use a writer (the merge's writer thread).
 */
public final class LockstepWriter implements AutoCloseable {
  /** Fills one buffer per output file with tensor {@code index}'s bytes (little-endian, exactly its byte length). */
  @FunctionalInterface
  public interface Producer {
    void produce(int index, TensorInfo tensor, ByteBuffer[] outputs) throws IOException;
  }

  private final List<Path> targets;
  private final List<TensorInfo> layout;
  /** null: each target is one file; else each target is a folder of these shards. */
  private final ShardPlan plan;
  /** Per target, per shard: the final path, the temporary, its channel, its header. */
  private final List<List<Path>> finals = new ArrayList<>();
  private final List<Path> temps = new ArrayList<>();
  private final List<List<FileChannel>> channels = new ArrayList<>();
  private final List<byte[]> headers = new ArrayList<>();
  private final List<FileChannel> headerChannels = new ArrayList<>();
  private int next;
  private boolean committed;

  private LockstepWriter(List<Path> targets, List<TensorInfo> layout, ShardPlan plan) {
    this.targets = List.copyOf(targets);
    this.layout = List.copyOf(layout);
    this.plan = plan;
  }

  /** Creates the temporary files and writes their headers. Layout entries need name, dtype and shape. */
  public static LockstepWriter open(List<Path> targets, List<TensorInfo> layout, List<Map<String, String>> metadata)
      throws IOException {
    return open(targets, layout, metadata, 0);
  }

  /**
   * As {@link #open(List, List, List)}; with {@code shardBytes} > 0 each target is a folder (created if absent)
   * that receives the layout split by {@link ShardPlan} and {@value ShardPlan#INDEX}, every shard carrying the
   * target's metadata.
   */
  public static LockstepWriter open(List<Path> targets, List<TensorInfo> layout, List<Map<String, String>> metadata,
      long shardBytes) throws IOException {
    if (targets.size() != metadata.size()) throw new IllegalArgumentException(targets.size() + " targets, " + metadata.size() + " metadata maps");
    if (targets.isEmpty()) throw new IllegalArgumentException("no output files");
    for (TensorInfo t : layout) {
      if (t.byteLength() > Integer.MAX_VALUE) throw new IOException("tensor '" + t.name() + "' is over 2 GiB");
    }
    ShardPlan plan = shardBytes > 0 ? ShardPlan.of(layout, shardBytes) : null;
    LockstepWriter w = new LockstepWriter(targets, layout, plan);
    try {
      for (int k = 0; k < targets.size(); k++) {
        List<Path> files = new ArrayList<>();
        if (plan == null) {
          files.add(targets.get(k));
        } else {
          Files.createDirectories(targets.get(k));
          for (int s = 0; s < plan.shards(); s++) files.add(targets.get(k).resolve(plan.fileName(s)));
        }
        w.finals.add(files);
        List<FileChannel> chs = new ArrayList<>();
        w.channels.add(chs);
        for (int s = 0; s < files.size(); s++) {
          Path tmp = AtomicFiles.temporaryFor(files.get(s));
          w.temps.add(tmp);
          FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
          chs.add(ch);
          List<TensorInfo> part = plan == null ? layout : plan.tensorsOf(layout, s);
          byte[] header = SafetensorsHeader.serialize(part, metadata.get(k));
          w.headers.add(header);
          w.headerChannels.add(ch);
          writeAll(ch, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length));
          writeAll(ch, ByteBuffer.wrap(header));
        }
      }
      return w;
    } catch (IOException | RuntimeException e) {
      w.close();
      throw e;
    }
  }

  public int files() {
    return targets.size();
  }

  /** Writes tensor {@code index} (the next in layout order): buffer k's position..limit is file k's bytes. */
  public void write(int index, ByteBuffer[] outputs) throws IOException {
    if (index != next) throw new IllegalStateException("tensor " + index + " written, tensor " + next + " expected");
    TensorInfo t = layout.get(index);
    for (int k = 0; k < channels.size(); k++) {
      ByteBuffer b = outputs[k].duplicate();
      if (b.remaining() != t.byteLength()) {
        throw new IllegalStateException("tensor '" + t.name() + "' is " + t.byteLength() + " bytes, got " + b.remaining());
      }
      writeAll(channels.get(k).get(plan == null ? 0 : plan.shardOf()[index]), b);
    }
    next++;
  }

  /**
   * Replaces strings in every file's header with others of the same length (values known only once the data is
   * written, e.g. an input's digest), in place; each must occur exactly once in a header that holds it.
   */
  public void patchHeaders(Map<String, String> replacements) throws IOException {
    for (int k = 0; k < headers.size(); k++) {
      byte[] header = headers.get(k);
      String text = new String(header, java.nio.charset.StandardCharsets.ISO_8859_1);
      for (Map.Entry<String, String> e : replacements.entrySet()) {
        int at = text.indexOf(e.getKey());
        if (at < 0) continue;
        if (text.indexOf(e.getKey(), at + 1) >= 0 || e.getValue().length() != e.getKey().length()
            || !e.getValue().chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '"' && c != '\\')) {
          throw new IllegalStateException("cannot patch '" + e.getKey() + "' in a header of " + targets);
        }
        ByteBuffer b = ByteBuffer.wrap(e.getValue().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        long pos = 8 + at;
        while (b.hasRemaining()) pos += headerChannels.get(k).write(b, pos);
      }
    }
  }

  /**
   * Every tensor written: forces each file to disk once, closes them and renames them over the targets (shards
   * first, then each folder's index, written atomically too; shard or single files an earlier write left in the
   * folder under HF's names, which the new index does not name, are removed last).
   */
  public void commit() throws IOException {
    if (next != layout.size()) throw new IllegalStateException(next + " of " + layout.size() + " tensors written");
    for (List<FileChannel> chs : channels) for (FileChannel ch : chs) ch.force(false);
    for (List<FileChannel> chs : channels) for (FileChannel ch : chs) ch.close();
    channels.clear();
    int t = 0;
    for (List<Path> files : finals) for (Path f : files) AtomicFiles.commit(temps.get(t++), f);
    committed = true;
    if (plan != null) {
      for (int k = 0; k < targets.size(); k++) {
        AtomicFiles.writeString(targets.get(k).resolve(ShardPlan.INDEX), plan.indexJson(layout));
        removeStale(targets.get(k), finals.get(k));
      }
    }
  }

  /** Removes HF-named checkpoint files in {@code folder} other than {@code keep} (an earlier, different write). */
  public static void removeStale(Path folder, List<Path> keep) throws IOException {
    java.util.Set<String> names = new java.util.HashSet<>();
    for (Path p : keep) names.add(p.getFileName().toString());
    boolean sharded = names.stream().anyMatch(ShardPlan::isShardName);
    if (sharded) names.add(ShardPlan.INDEX);
    try (var list = Files.list(folder)) {
      for (Path p : (Iterable<Path>) list::iterator) {
        String n = p.getFileName().toString();
        boolean ours = ShardPlan.isShardName(n) || n.equals(ShardPlan.INDEX) || n.equals(ShardPlan.SINGLE);
        if (ours && !names.contains(n) && Files.isRegularFile(p)) Files.delete(p);
      }
    }
  }

  /** Without a {@link #commit}: closes and removes every temporary file. */
  @Override
  public void close() throws IOException {
    for (List<FileChannel> chs : channels) {
      for (FileChannel ch : chs) {
        try {
          ch.close();
        } catch (IOException ignored) {
          // already failing
        }
      }
    }
    channels.clear();
    if (!committed) {
      for (Path tmp : temps) Files.deleteIfExists(tmp);
    }
  }

  /** The synchronous form: {@code producer} fills every tensor's buffers in turn, then all files are committed. */
  public static void write(List<Path> targets, List<TensorInfo> layout, List<Map<String, String>> metadata,
      Producer producer) throws IOException {
    try (LockstepWriter w = open(targets, layout, metadata)) {
      ByteBuffer[] buffers = new ByteBuffer[targets.size()];
      for (int i = 0; i < layout.size(); i++) {
        TensorInfo t = layout.get(i);
        for (int k = 0; k < buffers.length; k++) {
          if (buffers[k] == null || buffers[k].capacity() < t.byteLength()) {
            buffers[k] = ByteBuffer.allocateDirect((int) Math.max(t.byteLength(), 1L << 16)).order(ByteOrder.LITTLE_ENDIAN);
          }
          buffers[k].clear().limit((int) t.byteLength());
        }
        producer.produce(i, t, buffers);
        for (ByteBuffer b : buffers) b.position(0).limit((int) t.byteLength());
        w.write(i, buffers);
      }
      w.commit();
    }
  }

  private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) ch.write(b);
  }
}
