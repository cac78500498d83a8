package dev.mergetune.cli;

import static dev.mergetune.cli.CliRunner.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.cli.CliRunner.Result;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.HalfFloats;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SharedFixtures;
import dev.mergetune.tensors.TensorInfo;
import dev.mergetune.tensors.TorchFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.QualifiedName;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mergetune convert} and {@code mergetune inspect} on .pt files. */
class ConvertCommandTest {
  @TempDir Path dir;

  private static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }

  @Test
  void theFixturePtFilesConvertToTheFixtureSafetensors() throws Exception {
    Path reference = SharedFixtures.clipTiny("model.safetensors");
    for (String name : List.of("state_dict.pt", "model.jit.pt")) {
      Path in = SharedFixtures.clipTiny(name);
      Path out = dir.resolve(name + ".safetensors");
      Result r = run("convert", in.toString(), out.toString());
      assertEquals(0, r.exitCode(), r.out());
      assertTrue(r.out().contains("62 tensors"), r.out());
      try (SafetensorsFile want = SafetensorsFile.open(reference); SafetensorsFile got = SafetensorsFile.open(out)) {
        assertEquals(new TreeSet<>(want.tensors().keySet()), new TreeSet<>(got.tensors().keySet()), name);
        for (TensorInfo t : want.tensors().values()) {
          assertEquals(t.dtype(), got.info(t.name()).dtype(), t.name());
          assertArrayEquals(t.shape(), got.info(t.name()).shape(), t.name());
          assertEquals(want.bytes(t.name()), got.bytes(t.name()), name + ": " + t.name());
        }
        assertEquals(name + " sha256:" + sha256(in), got.metadata().get("mergetune.converted_from"));
      }
    }
  }

  @Test
  void aPtBuiltHereRoundTripsThroughConvert() throws Exception {
    NativeRuntime.ensureTorch();
    Path in = dir.resolve("ft.pt");
    TorchFiles.saveWrapped(in, "state_dict", TorchFiles.ordered(
        "visual.proj", Tensor.create(new float[] {1.5f, -2f, 0.25f, 8f}, 2, 2),
        "ln.weight", Tensor.create(new float[] {0.5f, -1.25f}, 2).to(ScalarType.Half),
        "ids", Tensor.create(new long[] {49406, 49407}, 2),
        "mask", Tensor.create(new boolean[] {false, true}, 2)));
    Path out = dir.resolve("sub/ft.safetensors");
    Result r = run("convert", in.toString(), out.toString());
    assertEquals(0, r.exitCode(), r.out());
    try (SafetensorsFile f = SafetensorsFile.open(out)) {
      assertEquals(List.of("visual.proj", "ln.weight", "ids", "mask"), List.copyOf(f.tensors().keySet()));
      assertArrayEquals(new float[] {1.5f, -2f, 0.25f, 8f}, f.readFloats("visual.proj"));
      assertEquals(DType.F16, f.info("ln.weight").dtype());
      ByteBuffer half = f.bytes("ln.weight");
      assertEquals(HalfFloats.floatToF16(0.5f), half.getShort(0));
      assertEquals(HalfFloats.floatToF16(-1.25f), half.getShort(2));
      assertEquals(DType.I64, f.info("ids").dtype());
      ByteBuffer ids = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(49406).putLong(49407).flip();
      assertEquals(ids, f.bytes("ids"));
      assertEquals(DType.BOOL, f.info("mask").dtype());
      assertEquals(ByteBuffer.wrap(new byte[] {0, 1}), f.bytes("mask"));
      assertEquals("ft.pt sha256:" + sha256(in), f.metadata().get("mergetune.converted_from"));
      assertEquals("torch.save file", f.metadata().get("mergetune.source_format"));
      assertEquals("state_dict", f.metadata().get("mergetune.unwrapped_key"));
    }
  }

  @Test
  void badInputsFailInOneLineAndWriteNothing() throws IOException {
    Path junk = dir.resolve("junk.pt");
    Files.writeString(junk, "PK\u0003\u0004 but nothing like a zip archive follows");
    Path out = dir.resolve("out.safetensors");
    Result bad = run("convert", junk.toString(), out.toString());
    assertEquals(1, bad.exitCode(), bad.out());
    assertTrue(bad.out().startsWith("mergetune: " + junk), bad.out());
    assertEquals(1, bad.out().strip().lines().count(), "one line: " + bad.out());
    assertFalse(Files.exists(out));
    try (var files = Files.list(dir)) {
      assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp") || p.getFileName().toString().contains(".tmp-")), "temporary file left behind");
    }

    Path text = dir.resolve("notes.txt");
    Files.writeString(text, "hello");
    Result unknown = run("convert", text.toString(), out.toString());
    assertEquals(1, unknown.exitCode(), unknown.out());
    assertTrue(unknown.out().contains("supported:"), unknown.out());

    Result notSafetensors = run("convert", junk.toString(), dir.resolve("out.bin").toString());
    assertEquals(1, notSafetensors.exitCode());
    assertTrue(notSafetensors.out().contains("OUT must be a .safetensors file"), notSafetensors.out());
  }

  @Test
  void inspectCountsParametersAndBuffersOfATorchScriptArchive() {
    NativeRuntime.ensureTorch();
    JitModule m = new JitModule(new QualifiedName("Tiny"));
    m.register_parameter("proj", Tensor.create(new float[] {1, 2}, 2), false);
    m.register_buffer("input_resolution", Tensor.create(new long[] {224}, new long[0]));
    m.register_buffer("vocab_size", Tensor.create(new long[] {49408}, new long[0]));
    m.define("def forward(self, x: Tensor) -> Tensor:\n  return x @ self.proj\n");
    Path file = dir.resolve("tiny.jit.pt");
    m.save(file.toString());
    Result r = run("inspect", file.toString());
    assertEquals(0, r.exitCode(), r.out());
    assertTrue(r.out().contains("input_resolution") && r.out().contains("I64"), r.out());
    assertTrue(r.out().contains("1 parameters, 2 buffers"), r.out());
    assertTrue(r.out().contains("TorchScript archive"), r.out());
  }
}
