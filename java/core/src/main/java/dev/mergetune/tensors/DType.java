package dev.mergetune.tensors;

/** Element types of the safetensors format, with their sizes; the floating ones can be read as float32. */
public enum DType {
  F64(8, true),
  F32(4, true),
  F16(2, true),
  BF16(2, true),
  I64(8, false),
  I32(4, false),
  I16(2, false),
  I8(1, false),
  U64(8, false),
  U32(4, false),
  U16(2, false),
  U8(1, false),
  BOOL(1, false);

  private final int byteSize;
  private final boolean floating;

  DType(int byteSize, boolean floating) {
    this.byteSize = byteSize;
    this.floating = floating;
  }

  public int byteSize() {
    return byteSize;
  }

  /** True for F64/F32/F16/BF16: readable as float32 and merged; other types are passed through unchanged. */
  public boolean isFloating() {
    return floating;
  }

  /** The dtype named {@code name} in a safetensors header, or null when the format has none such. */
  public static DType fromSafetensorsName(String name) {
    for (DType d : values()) {
      if (d.name().equals(name)) return d;
    }
    return null;
  }
}
