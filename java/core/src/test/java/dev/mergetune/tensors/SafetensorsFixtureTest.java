package dev.mergetune.tensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.kernels.NativeRuntime;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.NamedTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.named_parameter_iterator;
import org.bytedeco.pytorch.named_parameter_list;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * Files written by an independent writer (the Python safetensors library, in ../shared/fixtures) read correctly:
 * every tensor equals the same parameter loaded by LibTorch from the TorchScript archive of the same model, and the
 * I64 token ids equal the ids listed in tokens.json.
 */
class SafetensorsFixtureTest {
  @Test
  void clipTinyWeightsMatchTheTorchScriptArchive() {
    Path st = SharedFixtures.clipTiny("model.safetensors");
    Path jit = SharedFixtures.clipTiny("model.jit.pt");
    NativeRuntime.ensureTorch();
    Map<String, Tensor> fromJit = new TreeMap<>();
    JitModule module = torch.load(jit.toString());
    named_parameter_list params = module.named_parameters(true);
    for (named_parameter_iterator it = params.begin(); it.notEquals(params.end()); it = it.increment()) {
      NamedTensor nt = it.access();
      fromJit.put(nt.name().getString(), nt.value().contiguous());
    }
    try (SafetensorsFile f = SafetensorsFile.open(st)) {
      assertEquals(fromJit.keySet(), new java.util.TreeSet<>(f.tensors().keySet()));
      for (TensorInfo info : f.tensors().values()) {
        Tensor expected = fromJit.get(info.name());
        assertArrayEquals(expected.sizes().vec().get(), info.shape(), info.name());
        float[] want = new float[(int) expected.numel()];
        if (want.length > 0) expected.data_ptr_float().get(want);
        assertArrayEquals(want, f.readFloats(info.name()), info.name());
      }
    }
  }

  @Test
  void tokenIdsMatchTokensJson() throws IOException {
    Path inputs = SharedFixtures.clipTiny("inputs.safetensors");
    JsonNode tokens = new ObjectMapper().readTree(SharedFixtures.clipTiny("tokens.json").toFile());
    try (SafetensorsFile f = SafetensorsFile.open(inputs)) {
      TensorInfo info = f.info("tokens");
      assertEquals(DType.I64, info.dtype());
      long[] shape = info.shape();
      long[] ids = new long[(int) info.numel()];
      f.bytes("tokens").asLongBuffer().get(ids);
      JsonNode rows = tokens.get("ids");  // one list per text, start and end tokens included, unpadded
      assertEquals(shape[0], rows.size());
      for (int r = 0; r < rows.size(); r++) {
        JsonNode row = rows.get(r);
        for (int c = 0; c < shape[1]; c++) {
          long want = c < row.size() ? row.get(c).asLong() : 0;
          assertEquals(want, ids[(int) (r * shape[1] + c)], "row " + r + " column " + c);
        }
      }
    }
  }
}
