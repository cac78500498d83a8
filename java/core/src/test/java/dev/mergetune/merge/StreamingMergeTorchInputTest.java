package dev.mergetune.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorInfo;
import dev.mergetune.tensors.TensorSource;
import dev.mergetune.tensors.TorchFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A merge reads .pt inputs (torch.save through LibTorch) like safetensors ones: mixing them changes no output byte. */
class StreamingMergeTorchInputTest {
  @TempDir Path dir;

  /** The same checkpoint (F32 w, BF16 h, I64 ids) as {@code name}.safetensors and {@code name}.pt. */
  private void both(String name, float[] w, float[] h, long... ids) throws IOException {
    ByteBuffer idBytes = ByteBuffer.allocate(ids.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    idBytes.asLongBuffer().put(ids);
    SafetensorsWriter.write(dir.resolve(name + ".safetensors"), List.of(
        TensorSource.ofFloats("w", new long[] {2, 2}, w, DType.F32),
        TensorSource.ofFloats("h", new long[] {2}, h, DType.BF16),
        TensorSource.ofBytes("ids", DType.I64, new long[] {ids.length}, idBytes)), Map.of());
    TorchFiles.saveDict(dir.resolve(name + ".pt"), TorchFiles.ordered(
        "w", Tensor.create(w, 2, 2),
        "h", Tensor.create(h, 2).to(ScalarType.BFloat16),
        "ids", Tensor.create(ids, ids.length)));
  }

  private Path merge(String base, String a, String b, String out) throws IOException {
    Path o = dir.resolve(out);
    StreamingMerge.run(dir.resolve(base), List.of(dir.resolve(a), dir.resolve(b)),
        LinearMerge.taskArithmetic(new float[] {1, 2}, new float[] {0.5f}), List.of(o));
    return o;
  }

  @Test
  void taskArithmeticWithPtInputsEqualsAllSafetensors() throws IOException {
    both("t0", new float[] {1, 2, 3, 4}, new float[] {1, 1}, 7, 8);
    both("a", new float[] {2, 2, 3, 4}, new float[] {1.5f, 1}, 7, 8);
    both("b", new float[] {1, 0, 3, 5}, new float[] {1, 3}, 7, 8);
    Path reference = merge("t0.safetensors", "a.safetensors", "b.safetensors", "st.safetensors");
    Path ptBase = merge("t0.pt", "a.safetensors", "b.safetensors", "pt-base.safetensors");
    Path ptModel = merge("t0.safetensors", "a.pt", "b.safetensors", "pt-model.safetensors");
    Path allPt = merge("t0.pt", "a.pt", "b.pt", "all-pt.safetensors");
    try (SafetensorsFile want = SafetensorsFile.open(reference)) {
      // θ0 + 0.5·(δa + 2δb) = [1,2,3,4] + 0.5·[1,-4,0,2], worked out by hand
      assertArrayEquals(new float[] {1.5f, 0f, 3f, 5f}, want.readFloats("w"));
      for (Path p : List.of(ptBase, ptModel, allPt)) {
        try (SafetensorsFile got = SafetensorsFile.open(p)) {
          assertEquals(List.copyOf(want.tensors().keySet()), List.copyOf(got.tensors().keySet()), p.toString());
          for (TensorInfo t : want.tensors().values()) {
            assertEquals(t.dtype(), got.info(t.name()).dtype(), p + " " + t.name());
            assertEquals(want.bytes(t.name()), got.bytes(t.name()), p + " " + t.name());
          }
        }
      }
    }
    try (SafetensorsFile f = SafetensorsFile.open(ptBase)) {
      assertTrue(f.metadata().get("mergetune.base").matches("t0\\.pt sha256:[0-9a-f]{64}"), f.metadata().toString());
    }
  }
}
