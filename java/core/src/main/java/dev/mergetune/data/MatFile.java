package dev.mergetune.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A reader for MATLAB level-5 MAT files (MATLAB 5 to 7.2 formats, little- or big-endian, zlib-compressed variables
 * included), enough for the annotation files of Flowers102 ({@code imagelabels.mat}, {@code setid.mat}) and Stanford
 * Cars ({@code cars_meta.mat}, {@code cars_*_annos*.mat}) that torchvision reads with {@code scipy.io.loadmat}:
 * numeric arrays (real), char arrays, cell arrays and struct arrays. Sparse, complex and object arrays and the HDF5
 * based 7.3 format are refused with a message naming the file. Layout: "MATLAB 5.0 MAT-File Format" (The MathWorks).
 */
final class MatFile {
  private MatFile() {}

  /** A variable's value. Arrays are stored column-major, as MATLAB stores them. */
  sealed interface Value permits Numeric, Chars, Cell, Struct {
    int[] dims();

    default int count() {
      int n = 1;
      for (int d : dims()) n *= d;
      return n;
    }
  }

  record Numeric(int[] dims, double[] values) implements Value {
    /** The values as integers; a value that is not an integer is an error. */
    long[] longs(Path file, String what) {
      long[] out = new long[values.length];
      for (int i = 0; i < values.length; i++) {
        double v = values[i];
        if (v != Math.rint(v) || Math.abs(v) > 0x1p53) throw DatasetException.at(file, what + " holds " + v + ", not an integer");
        out[i] = (long) v;
      }
      return out;
    }
  }

  record Chars(int[] dims, String text) implements Value {
    /** The text of a row or column of characters (or of an empty array). */
    String string(Path file, String what) {
      int nonSingleton = 0;
      for (int d : dims) if (d > 1) nonSingleton++;
      if (nonSingleton > 1) throw DatasetException.at(file, what + " is a " + dimString(dims) + " char array, not one string");
      return text;
    }
  }

  record Cell(int[] dims, List<Value> items) implements Value {}

  record Struct(int[] dims, List<String> fields, List<Map<String, Value>> elements) implements Value {}

  // data types (miXXX) and array classes (mxXXX)
  private static final int MI_INT8 = 1, MI_UINT8 = 2, MI_INT16 = 3, MI_UINT16 = 4, MI_INT32 = 5, MI_UINT32 = 6,
      MI_SINGLE = 7, MI_DOUBLE = 9, MI_INT64 = 12, MI_UINT64 = 13, MI_MATRIX = 14, MI_COMPRESSED = 15, MI_UTF8 = 16,
      MI_UTF16 = 17, MI_UTF32 = 18;
  private static final int MX_CELL = 1, MX_STRUCT = 2, MX_OBJECT = 3, MX_CHAR = 4, MX_SPARSE = 5;

  /** The variables of the file, by name, in file order. */
  static Map<String, Value> read(Path file) {
    Listing.requireFile(file, "MAT file");
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new DatasetException(file + ": cannot read: " + e.getMessage(), e);
    }
    if (bytes.length < 128) throw DatasetException.at(file, "not a MAT file (shorter than its 128-byte header)");
    String text = new String(bytes, 0, 116, StandardCharsets.ISO_8859_1);
    if (!text.startsWith("MATLAB")) throw DatasetException.at(file, "not a level-5 MAT file");
    ByteOrder order;
    if (bytes[126] == 'I' && bytes[127] == 'M') {
      order = ByteOrder.LITTLE_ENDIAN;
    } else if (bytes[126] == 'M' && bytes[127] == 'I') {
      order = ByteOrder.BIG_ENDIAN;
    } else {
      throw DatasetException.at(file, "bad endian indicator in the MAT header");
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(order);
    int version = buf.getShort(124) & 0xFFFF;
    if (version == 0x0200) throw DatasetException.at(file, "MAT 7.3 (HDF5) files are not supported");
    if (version != 0x0100) throw DatasetException.at(file, "unknown MAT file version 0x" + Integer.toHexString(version));
    buf.position(128);
    Map<String, Value> vars = new LinkedHashMap<>();
    try {
      while (buf.remaining() >= 8) {
        int start = buf.position();
        int type = buf.getInt();
        if ((type >>> 16) != 0) throw DatasetException.at(file, "unexpected small data element at byte " + start);
        int n = buf.getInt();
        if (n < 0 || n > buf.remaining()) throw DatasetException.at(file, "truncated data element at byte " + start);
        ByteBuffer data = slice(buf, n);
        if (type == MI_COMPRESSED) {
          ByteBuffer inner = ByteBuffer.wrap(inflate(file, data)).order(order);
          int t = inner.getInt();
          int m = inner.getInt();
          if (t != MI_MATRIX || m < 0 || m > inner.remaining()) {
            throw DatasetException.at(file, "compressed element at byte " + start + " does not hold a matrix");
          }
          named(file, slice(inner, m), vars);
        } else {
          if (type == MI_MATRIX) named(file, data, vars);
          buf.position(Math.min(buf.limit(), pad8(buf.position())));  // the last element may end unpadded
        }
      }
    } catch (java.nio.BufferUnderflowException | IndexOutOfBoundsException | IllegalArgumentException e) {
      // IllegalArgumentException: a position past the limit (Buffer.position), as a fuzzed padding found
      throw DatasetException.at(file, "truncated or corrupt MAT file");
    }
    return Collections.unmodifiableMap(vars);
  }

  private static void named(Path file, ByteBuffer m, Map<String, Value> vars) {
    String[] name = new String[1];
    Value v = matrix(file, m, name);
    vars.put(name[0], v);
  }

  /** Parses the body of an miMATRIX element; {@code nameOut[0]} receives the array name. */
  private static Value matrix(Path file, ByteBuffer m, String[] nameOut) {
    if (!m.hasRemaining()) {
      nameOut[0] = "";
      return new Numeric(new int[] {0, 0}, new double[0]);
    }
    ByteBuffer flags = element(file, m, MI_UINT32);
    int cls = flags.getInt() & 0xFF;
    boolean complex = ((flags.getInt(0) >>> 8) & 0x08) != 0;
    ByteBuffer dimBuf = element(file, m, MI_INT32);
    int[] dims = new int[dimBuf.remaining() / 4];
    for (int i = 0; i < dims.length; i++) dims[i] = dimBuf.getInt();
    int[] nameType = new int[1];
    ByteBuffer nameBuf = element(file, m, -1, nameType);
    if (nameType[0] != MI_INT8 && nameType[0] != MI_UTF8) throw DatasetException.at(file, "bad array name type " + nameType[0]);
    nameOut[0] = StandardCharsets.UTF_8.decode(nameBuf).toString();
    String name = nameOut[0].isEmpty() ? "a nested array" : "variable '" + nameOut[0] + "'";
    long claimed = 1;
    for (int d : dims) {
      if (d < 0) throw DatasetException.at(file, name + " has a negative dimension " + d);
      claimed *= d;
      // every element takes at least one byte of the file: a larger count is a corrupt header, not an array
      if (claimed > m.capacity()) throw DatasetException.at(file, name + " claims more elements than the file holds");
    }
    int count = (int) claimed;
    switch (cls) {
      case MX_CELL: {
        List<Value> items = new ArrayList<>(count);
        for (int i = 0; i < count; i++) items.add(matrix(file, element(file, m, MI_MATRIX), new String[1]));
        return new Cell(dims, Collections.unmodifiableList(items));
      }
      case MX_STRUCT: {
        ByteBuffer lenBuf = element(file, m, MI_INT32);
        int len = lenBuf.getInt();
        ByteBuffer namesBuf = element(file, m, MI_INT8);
        int nf = len == 0 ? 0 : namesBuf.remaining() / len;
        List<String> fields = new ArrayList<>(nf);
        for (int f = 0; f < nf; f++) {
          byte[] b = new byte[len];
          namesBuf.get(b);
          int end = 0;
          while (end < len && b[end] != 0) end++;
          fields.add(new String(b, 0, end, StandardCharsets.US_ASCII));
        }
        List<Map<String, Value>> elements = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          Map<String, Value> e = new LinkedHashMap<>();
          for (String f : fields) e.put(f, matrix(file, element(file, m, MI_MATRIX), new String[1]));
          elements.add(Collections.unmodifiableMap(e));
        }
        return new Struct(dims, List.copyOf(fields), Collections.unmodifiableList(elements));
      }
      case MX_CHAR: {
        if (!m.hasRemaining()) return new Chars(dims, "");
        int[] type = new int[1];
        ByteBuffer data = element(file, m, -1, type);
        return new Chars(dims, chars(file, data, type[0], dims));
      }
      case MX_OBJECT:
        throw DatasetException.at(file, name + " is a MATLAB object, which is not supported");
      case MX_SPARSE:
        throw DatasetException.at(file, name + " is a sparse array, which is not supported");
      default: {
        if (cls < 6 || cls > 15) throw DatasetException.at(file, name + " has unknown array class " + cls);
        if (complex) throw DatasetException.at(file, name + " is complex, which is not supported");
        int[] type = new int[1];
        ByteBuffer data = count == 0 && !m.hasRemaining() ? ByteBuffer.allocate(0) : element(file, m, -1, type);
        double[] values = numbers(file, data, type[0], name);
        if (values.length != count) {
          throw DatasetException.at(file, name + " holds " + values.length + " values for dimensions " + dimString(dims));
        }
        return new Numeric(dims, values);
      }
    }
  }

  /** Reads a sub-element that must have the given type. */
  private static ByteBuffer element(Path file, ByteBuffer m, int want) {
    return element(file, m, want, new int[1]);
  }

  /** Reads a sub-element (normal or small format), moving past its padding; {@code want} -1 accepts any type. */
  private static ByteBuffer element(Path file, ByteBuffer m, int want, int[] typeOut) {
    int start = m.position();
    int first = m.getInt();
    int type, n;
    ByteBuffer data;
    if ((first >>> 16) != 0) {
      // Small data element: one 32-bit word, read in the file's byte order, holds the byte count (high half) and the
      // type (low half), followed by up to 4 bytes of data.
      type = first & 0xFFFF;
      n = first >>> 16;
      if (n > 4) throw DatasetException.at(file, "bad small data element");
      data = slice(m, n);
      m.position(start + 8);
    } else {
      type = first;
      n = m.getInt();
      if (n < 0 || n > m.remaining()) throw DatasetException.at(file, "truncated data element");
      data = slice(m, n);
      m.position(start + 8 + pad8(n));
    }
    if (want >= 0 && type != want && !(want == MI_INT32 && type == MI_UINT32)) {
      throw DatasetException.at(file, "expected data type " + want + ", found " + type);
    }
    typeOut[0] = type;
    return data;
  }

  private static double[] numbers(Path file, ByteBuffer b, int type, String name) {
    int size = switch (type) {
      case MI_INT8, MI_UINT8 -> 1;
      case MI_INT16, MI_UINT16 -> 2;
      case MI_INT32, MI_UINT32, MI_SINGLE -> 4;
      case MI_DOUBLE, MI_INT64, MI_UINT64 -> 8;
      default -> throw DatasetException.at(file, name + " has unsupported data type " + type);
    };
    double[] out = new double[b.remaining() / size];
    for (int i = 0; i < out.length; i++) {
      out[i] = switch (type) {
        case MI_INT8 -> b.get();
        case MI_UINT8 -> b.get() & 0xFF;
        case MI_INT16 -> b.getShort();
        case MI_UINT16 -> b.getShort() & 0xFFFF;
        case MI_INT32 -> b.getInt();
        case MI_UINT32 -> b.getInt() & 0xFFFFFFFFL;
        case MI_SINGLE -> b.getFloat();
        case MI_DOUBLE -> b.getDouble();
        case MI_INT64 -> (double) b.getLong();
        default -> {
          long v = b.getLong();
          yield v >= 0 ? (double) v : (double) (v >>> 1) * 2.0;
        }
      };
    }
    return out;
  }

  /** The characters of a char array, rows joined in row order for a 1 x n (or n x 1) array. */
  private static String chars(Path file, ByteBuffer b, int type, int[] dims) {
    String colMajor;
    switch (type) {
      case MI_UTF8, MI_UINT8, MI_INT8 -> colMajor = StandardCharsets.UTF_8.decode(b).toString();
      case MI_UINT16, MI_UTF16 -> {
        StringBuilder sb = new StringBuilder(b.remaining() / 2);
        while (b.remaining() >= 2) sb.append(b.getChar());
        colMajor = sb.toString();
      }
      case MI_UTF32 -> {
        StringBuilder sb = new StringBuilder(b.remaining() / 4);
        while (b.remaining() >= 4) sb.appendCodePoint(b.getInt());
        colMajor = sb.toString();
      }
      default -> throw DatasetException.at(file, "char array with data type " + type);
    }
    if (dims.length == 2 && dims[0] > 1 && dims[1] > 1 && colMajor.length() == dims[0] * dims[1]) {
      StringBuilder rows = new StringBuilder(colMajor.length());
      for (int r = 0; r < dims[0]; r++) for (int c = 0; c < dims[1]; c++) rows.append(colMajor.charAt(c * dims[0] + r));
      return rows.toString();
    }
    return colMajor;
  }

  private static byte[] inflate(Path file, ByteBuffer data) {
    Inflater inf = new Inflater();
    try {
      byte[] in = new byte[data.remaining()];
      data.get(in);
      inf.setInput(in);
      byte[] out = new byte[Math.max(64, in.length * 4)];
      int n = 0;
      while (!inf.finished()) {
        if (n == out.length) out = java.util.Arrays.copyOf(out, out.length * 2);
        int k = inf.inflate(out, n, out.length - n);
        if (k == 0 && (inf.needsInput() || inf.needsDictionary())) {
          throw DatasetException.at(file, "truncated compressed variable");
        }
        n += k;
      }
      return java.util.Arrays.copyOf(out, n);
    } catch (DataFormatException e) {
      throw DatasetException.at(file, "corrupt compressed variable: " + e.getMessage());
    } finally {
      inf.end();
    }
  }

  private static ByteBuffer slice(ByteBuffer b, int n) {
    ByteBuffer s = b.slice(b.position(), n).order(b.order());
    b.position(b.position() + n);
    return s;
  }

  private static int pad8(int n) {
    return (n + 7) & ~7;
  }

  static String dimString(int[] dims) {
    StringBuilder sb = new StringBuilder();
    for (int d : dims) sb.append(sb.length() == 0 ? "" : "x").append(d);
    return sb.toString();
  }
}
