package dev.mergetune.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.Deflater;

/**
 * Writes level-5 MAT files for tests, following "MATLAB 5.0 MAT-File Format": doubles, uint8 and uint16 row vectors,
 * strings (UTF-16 code units, miUINT16, as MATLAB writes them), cells and struct arrays, each variable optionally
 * zlib-compressed, in either byte order.
 */
final class MatWriter {
  record UInt8(int... v) {}

  record UInt16(int... v) {}

  record Structs(List<String> fields, List<Map<String, Object>> elements) {}

  /** A 2-D char array given by rows of equal length. */
  record CharMatrix(String... rows) {}

  private final ByteOrder order;
  private final boolean compress;

  MatWriter(ByteOrder order, boolean compress) {
    this.order = order;
    this.compress = compress;
  }

  Path write(Path file, Map<String, Object> vars) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] text = String.format("%-116s", "MATLAB 5.0 MAT-file, written by MatWriter (mergetune tests)")
        .getBytes(StandardCharsets.US_ASCII);
    out.writeBytes(text);
    out.writeBytes(new byte[8]);
    ByteBuffer v = ByteBuffer.allocate(4).order(order);
    v.putShort((short) 0x0100).putShort((short) 0x4D49);
    out.writeBytes(v.array());
    for (Map.Entry<String, Object> e : vars.entrySet()) {
      byte[] m = matrix(e.getKey(), e.getValue());
      if (compress) {
        Deflater d = new Deflater();
        d.setInput(m);
        d.finish();
        byte[] buf = new byte[m.length + 64];
        int n = d.deflate(buf);
        d.end();
        out.writeBytes(tag(15, n));
        out.write(buf, 0, n);
      } else {
        out.writeBytes(m);
      }
    }
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.write(file, out.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  private byte[] matrix(String name, Object value) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    int cls;
    int[] dims;
    byte[] data;
    ByteArrayOutputStream tail = new ByteArrayOutputStream();
    if (value instanceof double[] d) {
      cls = 6;
      dims = new int[] {1, d.length};
      ByteBuffer b = ByteBuffer.allocate(8 * d.length).order(order);
      for (double x : d) b.putDouble(x);
      tail.writeBytes(element(9, b.array()));
    } else if (value instanceof UInt8 u) {
      cls = 9;
      dims = new int[] {1, u.v().length};
      byte[] b = new byte[u.v().length];
      for (int i = 0; i < b.length; i++) b[i] = (byte) u.v()[i];
      tail.writeBytes(element(2, b));
    } else if (value instanceof UInt16 u) {
      cls = 11;
      dims = new int[] {1, u.v().length};
      ByteBuffer b = ByteBuffer.allocate(2 * u.v().length).order(order);
      for (int x : u.v()) b.putShort((short) x);
      tail.writeBytes(element(4, b.array()));
    } else if (value instanceof String s) {
      cls = 4;
      dims = new int[] {1, s.length()};
      tail.writeBytes(element(4, utf16(s)));
    } else if (value instanceof CharMatrix cm) {
      cls = 4;
      int rows = cm.rows().length, cols = cm.rows()[0].length();
      dims = new int[] {rows, cols};
      StringBuilder colMajor = new StringBuilder();
      for (int c = 0; c < cols; c++) for (int r = 0; r < rows; r++) colMajor.append(cm.rows()[r].charAt(c));
      tail.writeBytes(element(4, utf16(colMajor.toString())));
    } else if (value instanceof List<?> items) {
      cls = 1;
      dims = new int[] {1, items.size()};
      for (Object o : items) tail.writeBytes(matrix("", o));
    } else if (value instanceof Structs s) {
      cls = 2;
      dims = new int[] {1, s.elements().size()};
      ByteBuffer len = ByteBuffer.allocate(4).order(order).putInt(32);
      tail.writeBytes(small(5, len.array()));
      byte[] names = new byte[32 * s.fields().size()];
      for (int f = 0; f < s.fields().size(); f++) {
        byte[] n = s.fields().get(f).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(n, 0, names, 32 * f, n.length);
      }
      tail.writeBytes(element(1, names));
      for (Map<String, Object> e : s.elements()) for (String f : s.fields()) tail.writeBytes(matrix("", e.get(f)));
    } else {
      throw new IllegalArgumentException(String.valueOf(value));
    }
    ByteBuffer flags = ByteBuffer.allocate(8).order(order).putInt(cls).putInt(0);
    body.writeBytes(element(6, flags.array()));
    ByteBuffer db = ByteBuffer.allocate(4 * dims.length).order(order);
    for (int d : dims) db.putInt(d);
    body.writeBytes(element(5, db.array()));
    byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
    body.writeBytes(nameBytes.length <= 4 ? small(1, nameBytes) : element(1, nameBytes));
    body.writeBytes(tail.toByteArray());
    data = body.toByteArray();
    ByteArrayOutputStream m = new ByteArrayOutputStream();
    m.writeBytes(tag(14, data.length));
    m.writeBytes(data);
    return m.toByteArray();
  }

  private byte[] utf16(String s) {
    ByteBuffer b = ByteBuffer.allocate(2 * s.length()).order(order);
    for (char c : s.toCharArray()) b.putChar(c);
    return b.array();
  }

  private byte[] tag(int type, int n) {
    return ByteBuffer.allocate(8).order(order).putInt(type).putInt(n).array();
  }

  private byte[] element(int type, byte[] data) {
    int padded = (data.length + 7) & ~7;
    ByteBuffer b = ByteBuffer.allocate(8 + padded).order(order).putInt(type).putInt(data.length);
    b.put(data);
    return b.array();
  }

  private byte[] small(int type, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(8).order(order).putInt((data.length << 16) | type);
    b.put(data);
    return b.array();
  }
}
