package dev.mergetune.tensors;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * The zip container of a PyTorch file, walked with bounds before any entry is trusted: at most {@link #MAX_ENTRIES}
 * entries; every entry's sizes known from the central directory; a stored entry's size equal to its compressed size
 * and inside the file; a compressed entry inflating at most {@link #MAX_RATIO} times its compressed size. An entry is
 * read into memory at most up to the size its header promises (more is an error: no zip bomb gets past its header)
 * and its CRC-32 is checked against the header's. {@link ZipFile} (pure Java) parses the directory; this class adds
 * the bounds and the CRC check that it does not do for stored entries.
 */
final class PtZip implements AutoCloseable {
  static final int MAX_ENTRIES = 200_000;
  static final long MAX_RATIO = 100;

  private final Path path;
  private final ZipFile zip;
  private final Map<String, ZipEntry> entries;

  private PtZip(Path path, ZipFile zip, Map<String, ZipEntry> entries) {
    this.path = path;
    this.zip = zip;
    this.entries = entries;
  }

  /** Opens and checks the directory; a broken or hostile one is a format error naming the file. */
  static PtZip open(Path path) {
    ZipFile zip;
    try {
      zip = new ZipFile(path.toFile());
    } catch (NoSuchFileException e) {
      throw new CheckpointFormatException(path, "no such file");
    } catch (ZipException e) {
      throw new CheckpointFormatException(path, "is not a readable zip archive, as PyTorch .pt files are ("
          + e.getMessage() + "); is it truncated or corrupt?", e);
    } catch (IOException e) {
      throw new UncheckedIOException("reading the zip directory of " + path, e);
    }
    try {
      long fileSize = Files.size(path);
      if (zip.size() > MAX_ENTRIES) {
        throw new CheckpointFormatException(path, "zip archive has " + zip.size() + " entries, more than the "
            + MAX_ENTRIES + " a PyTorch file may have here");
      }
      Map<String, ZipEntry> byName = new LinkedHashMap<>();
      for (ZipEntry e : Collections.list(zip.entries())) {
        check(path, e, fileSize);
        if (byName.put(e.getName(), e) != null) {
          throw new CheckpointFormatException(path, "zip entry '" + e.getName() + "' appears twice");
        }
      }
      return new PtZip(path, zip, byName);
    } catch (IOException e) {
      closeQuietly(zip);
      throw new UncheckedIOException("reading the zip directory of " + path, e);
    } catch (RuntimeException e) {
      closeQuietly(zip);
      throw e;
    }
  }

  private static void check(Path path, ZipEntry e, long fileSize) {
    long size = e.getSize();
    long packed = e.getCompressedSize();
    String name = "zip entry '" + e.getName() + "'";
    if (size < 0 || packed < 0) throw new CheckpointFormatException(path, name + " does not record its size");
    if (packed > fileSize) {
      throw new CheckpointFormatException(path, name + " claims " + packed + " bytes, more than the whole file ("
          + fileSize + "); is it truncated or corrupt?");
    }
    if (e.getMethod() == ZipEntry.STORED && size != packed) {
      throw new CheckpointFormatException(path, name + " is stored uncompressed but its sizes differ (" + size + " vs "
          + packed + "); is it truncated or corrupt?");
    }
    if (e.getMethod() == ZipEntry.DEFLATED && size > Math.max(packed, 1) * MAX_RATIO && size > (1 << 20)) {
      throw new CheckpointFormatException(path, name + " inflates " + packed + " bytes to " + size + ", a ratio over "
          + MAX_RATIO + " (a zip bomb?); PyTorch stores tensors uncompressed");
    }
  }

  Path path() {
    return path;
  }

  /** Every entry name, in directory order. */
  List<String> names() {
    return new ArrayList<>(entries.keySet());
  }

  boolean has(String name) {
    return entries.containsKey(name);
  }

  /** The size the entry's header promises, or -1 where there is no such entry. */
  long size(String name) {
    ZipEntry e = entries.get(name);
    return e == null ? -1 : e.getSize();
  }

  /** A small entry (a pickle, a code file) as bytes, refused past {@code limit} bytes. */
  byte[] readBytes(String name, long limit) {
    long size = required(name).getSize();
    if (size > limit) {
      throw new CheckpointFormatException(path, "zip entry '" + name + "' is " + size + " bytes, more than the " + limit
          + " allowed for it");
    }
    ByteBuffer into = ByteBuffer.allocate((int) size);
    read(name, into);
    return into.array();
  }

  /** Reads the whole entry into {@code into} (exactly its promised size), checking its CRC-32. */
  void read(String name, ByteBuffer into) {
    read(name, List.of(into));
  }

  /** Reads the whole entry into the buffers, in order (they hold exactly its promised size), checking its CRC-32. */
  void read(String name, List<ByteBuffer> into) {
    ZipEntry e = required(name);
    long want = 0;
    for (ByteBuffer b : into) want += b.remaining();
    if (want != e.getSize()) throw new IllegalArgumentException(name + ": buffers hold " + want + ", entry " + e.getSize());
    CRC32 crc = new CRC32();
    try (InputStream in = zip.getInputStream(e); ReadableByteChannel ch = Channels.newChannel(in)) {
      for (ByteBuffer b : into) {
        int start = b.position();
        while (b.hasRemaining()) {
          if (ch.read(b) < 0) {
            throw new CheckpointFormatException(path, "zip entry '" + name + "' ends before the " + e.getSize()
                + " bytes its header promises; is the file truncated or corrupt?");
          }
        }
        crc.update(b.duplicate().position(start));
      }
      if (in.read() >= 0) {
        throw new CheckpointFormatException(path, "zip entry '" + name + "' holds more than the " + e.getSize()
            + " bytes its header promises");
      }
    } catch (ZipException ze) {
      throw new CheckpointFormatException(path, "zip entry '" + name + "' cannot be read (" + ze.getMessage()
          + "); is the file truncated or corrupt?", ze);
    } catch (IOException io) {
      throw new UncheckedIOException("reading zip entry '" + name + "' of " + path, io);
    }
    if (crc.getValue() != e.getCrc()) {
      throw new CheckpointFormatException(path, String.format("zip entry '%s' fails its CRC-32 check (header %08x, "
          + "content %08x): the file is corrupt", name, e.getCrc(), crc.getValue()));
    }
  }

  private ZipEntry required(String name) {
    ZipEntry e = entries.get(name);
    if (e == null) throw new CheckpointFormatException(path, "has no zip entry '" + name + "'");
    return e;
  }

  @Override
  public void close() {
    closeQuietly(zip);
  }

  private static void closeQuietly(ZipFile zip) {
    try {
      zip.close();
    } catch (IOException ignored) {
      // read-only: nothing to lose
    }
  }
}
