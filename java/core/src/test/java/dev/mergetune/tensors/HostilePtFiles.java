package dev.mergetune.tensors;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Hostile .pt files as an attacker would write them, built here byte by byte (pickle opcodes and zip records), so
 * the tests need no Python: each is what issue 25 found crashing, hanging or leaking through LibTorch's reader.
 * {@link #all} writes every one into a folder (the TorchScript ones need LibTorch: see {@link TorchFiles}).
 */
public final class HostilePtFiles {
  private HostilePtFiles() {}

  /** A pickle program under construction (protocol 2). */
  static final class Pickle {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Pickle() {
      op(0x80).op(2);
    }

    Pickle op(int b) {
      out.write(b);
      return this;
    }

    Pickle str(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      op('X').le4(b.length);
      out.writeBytes(b);
      return this;
    }

    Pickle global(String module, String name) {
      op('c');
      out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
      return this;
    }

    Pickle integer(long v) {
      if (v >= 0 && v < 256) return op('K').op((int) v);
      op(0x8a).op(8);
      for (int i = 0; i < 8; i++) out.write((int) (v >>> (8 * i)));
      return this;
    }

    Pickle le4(int v) {
      for (int i = 0; i < 4; i++) out.write(v >>> (8 * i));
      return this;
    }

    Pickle tuple(long... v) {
      op('(');
      for (long x : v) integer(x);
      return op('t');
    }

    /** {@code _rebuild_tensor_v2(('storage', torch.FloatStorage, key, 'cpu', numel), offset, size, stride, False, OrderedDict())}. */
    Pickle floatTensor(String key, long numel, long offset, long[] size, long[] stride) {
      global("torch._utils", "_rebuild_tensor_v2").op('(');
      op('(').str("storage").global("torch", "FloatStorage").str(key).str("cpu").integer(numel).op('t').op('Q');
      integer(offset).tuple(size).tuple(stride).op(0x89).global("collections", "OrderedDict").op(')').op('R');
      return op('t').op('R');
    }

    byte[] stop() {
      op('.');
      return out.toByteArray();
    }
  }

  /** A zip of stored (uncompressed) entries, as PyTorch writes them, with correct CRCs. */
  static byte[] storedZip(Map<String, byte[]> entries) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        ZipEntry z = new ZipEntry(e.getKey());
        z.setMethod(ZipEntry.STORED);
        z.setSize(e.getValue().length);
        CRC32 crc = new CRC32();
        crc.update(e.getValue());
        z.setCrc(crc.getValue());
        zip.putNextEntry(z);
        zip.write(e.getValue());
        zip.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  /** A torch.save-layout zip: archive/data.pkl, archive/data/&lt;key&gt; records, archive/version. */
  static byte[] torchSave(byte[] pickle, Map<String, byte[]> storages) throws IOException {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("archive/data.pkl", pickle);
    storages.forEach((k, v) -> entries.put("archive/data/" + k, v));
    entries.put("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
    return storedZip(entries);
  }

  /** {"w": tensor over storage "0" of {@code numel} floats (zeros), with the given view}. */
  static byte[] oneTensor(long numel, long offset, long[] size, long[] stride) throws IOException {
    byte[] pkl = new Pickle().op('}').str("w").floatTensor("0", numel, offset, size, stride).op('s').stop();
    return torchSave(pkl, Map.of("0", new byte[(int) numel * 4]));
  }

  /** A dict nested {@code depth} deep: {"a": {"a": ... {}}}. */
  static byte[] deepDict(int depth) throws IOException {
    Pickle p = new Pickle().op('}');
    for (int i = 0; i < depth; i++) p.str("a").op('}');
    for (int i = 0; i < depth; i++) p.op('s');
    return torchSave(p.stop(), Map.of());
  }

  /** A list nested {@code depth} deep: [[[...]]]. */
  static byte[] deepList(int depth) throws IOException {
    Pickle p = new Pickle().op(']');
    for (int i = 0; i < depth; i++) p.op(']');
    for (int i = 0; i < depth; i++) p.op('a');
    return torchSave(p.stop(), Map.of());
  }

  /** {@code posix.system("touch <marker>")} as a REDUCE: what a malicious pickle runs on load. */
  static byte[] osSystem(Path marker) throws IOException {
    byte[] pkl = new Pickle().global("posix", "system").str("touch '" + marker + "'").op(0x85).op('R').stop();
    return torchSave(pkl, Map.of());
  }

  /** A deflated data record of {@code megabytes} MB of zeros: a small file that inflates enormously. */
  static byte[] zipBomb(int megabytes) throws IOException {
    byte[] pkl = new Pickle().op('}').str("w").floatTensor("0", megabytes * (1L << 18), 0,
        new long[] {megabytes * (1L << 18)}, new long[] {1}).op('s').stop();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry("archive/data.pkl"));
      zip.write(pkl);
      zip.putNextEntry(new ZipEntry("archive/data/0"));
      byte[] mb = new byte[1 << 20];
      for (int i = 0; i < megabytes; i++) zip.write(mb);
      zip.closeEntry();
    }
    return bytes.toByteArray();
  }

  /** A valid one-tensor file with one byte of its tensor data flipped (the zip CRC no longer matches). */
  static byte[] badCrc() throws IOException {
    byte[] good = oneTensor(4, 0, new long[] {4}, new long[] {1});
    byte[] marker = "archive/data/0".getBytes(StandardCharsets.US_ASCII);
    int at = indexOf(good, marker) + marker.length;  // the local header's name, then the 16 data bytes
    good[at + 5] ^= 0x40;
    return good;
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
      return i;
    }
    throw new IllegalStateException("not found");
  }

  /**
   * Every hostile torch.save file by name (the file name says what it is), written into {@code dir};
   * {@code marker} is the file the os.system payload would create.
   */
  public static Map<String, Path> all(Path dir, Path marker) throws IOException {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("deep-dict.pt", deepDict(100_000));
    files.put("deep-list.pt", deepList(100_000));
    files.put("huge-stride.pt", oneTensor(4, 0, new long[] {3, 2}, new long[] {1L << 62, 1}));
    files.put("past-storage.pt", oneTensor(3, 0, new long[] {600}, new long[] {1}));
    files.put("negative-offset.pt", oneTensor(4, -16, new long[] {4}, new long[] {1}));
    files.put("os-system.pt", osSystem(marker));
    files.put("zip-bomb.pt", zipBomb(64));
    files.put("bad-crc.pt", badCrc());
    Map<String, Path> out = new LinkedHashMap<>();
    for (Map.Entry<String, byte[]> e : files.entrySet()) {
      Path p = dir.resolve(e.getKey());
      Files.write(p, e.getValue());
      out.put(e.getKey(), p);
    }
    return out;
  }
}
