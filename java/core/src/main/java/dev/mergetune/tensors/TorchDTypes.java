package dev.mergetune.tensors;

import java.nio.file.Path;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * LibTorch element types as our {@link DType}s. Only types whose bytes mean the same in safetensors are mapped;
 * complex, quantized and 8-bit float tensors have no safetensors equivalent here and are refused by name rather
 * than passed on as bytes nobody could interpret.
 */
final class TorchDTypes {
  private TorchDTypes() {}

  /** The dtype of tensor {@code name} of {@code file}, or a format error naming both. */
  static DType of(Path file, String name, ScalarType type) {
    DType d = ofOrNull(type);
    if (d == null) {
      throw new CheckpointFormatException(file, "tensor '" + name + "' has LibTorch dtype " + type
          + ", which mergetune does not support (supported: float64/32/16, bfloat16, (u)int8-64, bool)");
    }
    return d;
  }

  private static DType ofOrNull(ScalarType type) {
    // JavaCPP returns enums from native code as fresh objects whose ordinal is not their constant's: intern first.
    return switch (type.intern()) {
      case Double -> DType.F64;
      case Float -> DType.F32;
      case Half -> DType.F16;
      case BFloat16 -> DType.BF16;
      case Long -> DType.I64;
      case Int -> DType.I32;
      case Short -> DType.I16;
      case Char -> DType.I8;
      case Byte -> DType.U8;
      case UInt16 -> DType.U16;
      case UInt32 -> DType.U32;
      case UInt64 -> DType.U64;
      case Bool -> DType.BOOL;
      default -> null;
    };
  }
}
