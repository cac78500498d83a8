package dev.mergetune.tensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.NativeRuntime;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.QualifiedName;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TorchCheckpoint on files written here by LibTorch (no Python, no shared fixtures): every dtype, shape and byte is
 * compared with values written out by hand in this test, never with what LibTorch reads back.
 */
class TorchCheckpointTest {
  @TempDir Path dir;

  @BeforeAll
  static void torch() {
    NativeRuntime.ensureTorch();
  }

  private static ByteBuffer le(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static ByteBuffer floats(float... v) {
    ByteBuffer b = le(v.length * 4);
    for (float f : v) b.putFloat(f);
    return b.flip();
  }

  private static ByteBuffer halves(boolean bf16, float... v) {
    ByteBuffer b = le(v.length * 2);
    for (float f : v) b.putShort(bf16 ? HalfFloats.floatToBf16(f) : HalfFloats.floatToF16(f));
    return b.flip();
  }

  private static ByteBuffer longs(long... v) {
    ByteBuffer b = le(v.length * 8);
    for (long x : v) b.putLong(x);
    return b.flip();
  }

  private static void assertTensor(Checkpoint c, String name, DType dtype, long[] shape, ByteBuffer expected) {
    TensorInfo info = c.tensors().get(name);
    assertEquals(dtype, info.dtype(), name);
    assertArrayEquals(shape, info.shape(), name);
    assertEquals(expected.remaining(), info.byteLength(), name);
    ByteBuffer got = c.bytes(name);
    assertTrue(got.isDirect() && got.isReadOnly(), name);
    assertEquals(ByteOrder.LITTLE_ENDIAN, got.order(), name);
    assertEquals(expected.remaining(), got.capacity(), name);
    assertEquals(expected, got, name);
    c.release(got);
  }

  @Test
  void aTorchSaveDictReadsBackEveryDtypeInOrder() throws IOException {
    Path file = dir.resolve("sd.pt");
    TorchFiles.saveDict(file, TorchFiles.ordered(
        "visual.proj", Tensor.create(new float[] {1.5f, -2f, 3.25f, 0f, -0f, 1e-3f}, 2, 3),
        "ln.weight", Tensor.create(new float[] {0.5f, -1.25f, 65504f}, 3).to(ScalarType.Half),
        "ln.bias", Tensor.create(new float[] {1.5f, -3f}, 2).to(ScalarType.BFloat16),
        "scale", Tensor.create(new double[] {0.1, 2.5}, 2),
        "ids", Tensor.create(new long[] {1, -2, 3, 1L << 40}, 2, 2),
        "i32", Tensor.create(new int[] {-7}, 1),
        "i16", Tensor.create(new short[] {300, -300}, 2),
        "i8", Tensor.create(new byte[] {-1, 2}, true, 2),
        "u8", Tensor.create(new byte[] {(byte) 255, 2}, false, 2),
        "mask", Tensor.create(new boolean[] {true, false, true}, 3),
        "transposed", Tensor.create(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).t(),
        "temperature", Tensor.create(new float[] {7f}, new long[0]),
        "empty", Tensor.create(new float[0], 0, 4)));
    try (Checkpoint c = Checkpoints.open(file)) {
      assertInstanceOf(TorchCheckpoint.class, c);
      assertEquals(List.of("visual.proj", "ln.weight", "ln.bias", "scale", "ids", "i32", "i16", "i8", "u8", "mask",
          "transposed", "temperature", "empty"), new ArrayList<>(c.tensors().keySet()));
      assertTensor(c, "visual.proj", DType.F32, new long[] {2, 3}, floats(1.5f, -2f, 3.25f, 0f, -0f, 1e-3f));
      assertTensor(c, "ln.weight", DType.F16, new long[] {3}, halves(false, 0.5f, -1.25f, 65504f));
      assertTensor(c, "ln.bias", DType.BF16, new long[] {2}, halves(true, 1.5f, -3f));
      assertTensor(c, "scale", DType.F64, new long[] {2}, le(16).putDouble(0.1).putDouble(2.5).flip());
      assertTensor(c, "ids", DType.I64, new long[] {2, 2}, longs(1, -2, 3, 1L << 40));
      assertTensor(c, "i32", DType.I32, new long[] {1}, le(4).putInt(-7).flip());
      assertTensor(c, "i16", DType.I16, new long[] {2}, le(4).putShort((short) 300).putShort((short) -300).flip());
      assertTensor(c, "i8", DType.I8, new long[] {2}, ByteBuffer.wrap(new byte[] {-1, 2}));
      assertTensor(c, "u8", DType.U8, new long[] {2}, ByteBuffer.wrap(new byte[] {(byte) 255, 2}));
      assertTensor(c, "mask", DType.BOOL, new long[] {3}, ByteBuffer.wrap(new byte[] {1, 0, 1}));
      assertTensor(c, "transposed", DType.F32, new long[] {3, 2}, floats(1, 4, 2, 5, 3, 6));  // made contiguous
      assertTensor(c, "temperature", DType.F32, new long[0], floats(7f));
      assertTensor(c, "empty", DType.F32, new long[] {0, 4}, floats());

      assertArrayEquals(new float[] {0.5f, -1.25f, 65504f}, c.readFloats("ln.weight"));
      assertArrayEquals(new float[] {1.5f, -3f}, c.readFloats("ln.bias"));
      assertArrayEquals(new float[] {0.1f, 2.5f}, c.readFloats("scale"));
      assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, c.readFloats("transposed"));
      assertThrows(IllegalArgumentException.class, () -> c.readFloats("ids"));
      assertThrows(IllegalArgumentException.class, () -> c.bytes("no.such.tensor"));
      assertEquals(0, c.tensors().get("ids").fileOffset());
      assertEquals(Optional.empty(), c.parameterNames());
      assertEquals(Map.of("mergetune.source_format", "torch.save file"), c.metadata());
    }
  }

  @Test
  void wrappedStateDictsAreUnwrappedAndSaySo() throws IOException {
    for (String wrapper : new String[] {"state_dict", "model"}) {
      Path file = dir.resolve(wrapper + ".pt");
      TorchFiles.saveWrapped(file, wrapper, TorchFiles.ordered(
          "visual.conv1.weight", Tensor.create(new float[] {1, 2, 3, 4}, 1, 1, 2, 2),
          "logit_scale", Tensor.create(new float[] {4.5f}, new long[0])));
      try (Checkpoint c = Checkpoints.open(file)) {
        assertEquals(List.of("visual.conv1.weight", "logit_scale"), new ArrayList<>(c.tensors().keySet()), wrapper);
        assertTensor(c, "visual.conv1.weight", DType.F32, new long[] {1, 1, 2, 2}, floats(1, 2, 3, 4));
        assertEquals(wrapper, c.metadata().get("mergetune.unwrapped_key"));
      }
    }
  }

  @Test
  void aTorchScriptArchiveGivesItsStateDictAndTellsParametersFromBuffers() throws IOException {
    NativeRuntime.ensureTorch();
    JitModule root = new JitModule(new QualifiedName("Clip"));
    root.register_parameter("logit_scale", Tensor.create(new float[] {4.6f}, new long[0]), false);
    // OpenAI's TorchScript CLIP keeps these integer tensors in its state dict
    root.register_buffer("input_resolution", Tensor.create(new long[] {224}, new long[0]));
    root.register_buffer("context_length", Tensor.create(new long[] {77}, new long[0]));
    root.register_buffer("vocab_size", Tensor.create(new long[] {49408}, new long[0]));
    JitModule visual = new JitModule(new QualifiedName("Visual"));
    visual.register_parameter("class_embedding", Tensor.create(new float[] {1, 2}, 2), false);
    visual.register_buffer("attn_mask", Tensor.create(new boolean[] {true, false}, 2));
    JitModule conv = new JitModule(new QualifiedName("Conv"));
    conv.register_parameter("weight", Tensor.create(new float[] {0.25f, -0.5f, 1, 2}, 1, 1, 2, 2).to(ScalarType.Half), false);
    visual.register_module("conv1", conv);
    root.register_module("visual", visual);
    root.define("def forward(self, x: Tensor) -> Tensor:\n  return x * self.logit_scale\n");
    Path file = dir.resolve("clip.jit.pt");
    root.save(file.toString());

    try (Checkpoint c = Checkpoints.open(file)) {
      // Python's state_dict() order: each module's parameters, then its buffers, then its submodules
      assertEquals(List.of("logit_scale", "input_resolution", "context_length", "vocab_size", "visual.class_embedding",
          "visual.attn_mask", "visual.conv1.weight"), new ArrayList<>(c.tensors().keySet()));
      assertEquals(Optional.of(Set.of("logit_scale", "visual.class_embedding", "visual.conv1.weight")), c.parameterNames());
      assertTensor(c, "input_resolution", DType.I64, new long[0], longs(224));
      assertTensor(c, "context_length", DType.I64, new long[0], longs(77));
      assertTensor(c, "vocab_size", DType.I64, new long[0], longs(49408));
      assertTensor(c, "visual.attn_mask", DType.BOOL, new long[] {2}, ByteBuffer.wrap(new byte[] {1, 0}));
      assertTensor(c, "visual.conv1.weight", DType.F16, new long[] {1, 1, 2, 2}, halves(false, 0.25f, -0.5f, 1, 2));
      assertTensor(c, "logit_scale", DType.F32, new long[0], floats(4.6f));
      assertEquals("TorchScript archive", c.metadata().get("mergetune.source_format"));
    }
  }

  @Test
  void viewsAreInvalidAfterCloseAndReleaseDoesNothing() throws IOException {
    Path file = dir.resolve("sd.pt");
    TorchFiles.saveDict(file, TorchFiles.ordered("w", Tensor.create(new float[] {1, 2}, 2)));
    Checkpoint c = Checkpoints.open(file);
    ByteBuffer b = c.bytes("w");
    c.release(b);
    assertEquals(floats(1, 2), c.bytes("w"));  // still readable: release hands nothing back
    c.close();
    c.close();  // idempotent
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.bytes("w"));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  @Test
  void structuresOtherThanAStateDictAreDescribed() throws IOException {
    List<Tensor> one = List.of(Tensor.create(new float[] {1}, 1));
    Path list = dir.resolve("list.pt");
    TorchFiles.pickleSave(list, one, "List[Tensor]", "[self.t0]");
    assertRejected(list, "holds a GenericList", "not a dict");

    Path ints = dir.resolve("ints.pt");
    TorchFiles.pickleSave(ints, one, "Dict[str, int]", "{\"epoch\": 3, \"step\": 7}");
    assertRejected(ints, "'epoch' (Int)", "'step' (Int)", "\"state_dict\"");

    Path intKeys = dir.resolve("intkeys.pt");
    TorchFiles.pickleSave(intKeys, one, "Dict[int, Tensor]", "{3: self.t0}");
    assertRejected(intKeys, "a Int key (Tensor)");

    Path wrappedInts = dir.resolve("wrapped-ints.pt");
    TorchFiles.pickleSave(wrappedInts, one, "Dict[str, Dict[str, int]]", "{\"state_dict\": {\"epoch\": 1}}");
    assertRejected(wrappedInts, "the dict under \"state_dict\"", "'epoch' (Int)");

    Path complex = dir.resolve("complex.pt");
    TorchFiles.saveDict(complex, TorchFiles.ordered("ok", Tensor.create(new float[] {1}, 1),
        "z", Tensor.create(new float[] {1, 2}, 2).to(ScalarType.ComplexFloat)));
    assertRejected(complex, "torch.ComplexFloatStorage is not supported");
  }

  @Test
  void damagedAndForeignFilesAreRejectedNamingTheFile() throws IOException {
    Path good = dir.resolve("good.pt");
    TorchFiles.saveDict(good, TorchFiles.ordered("w", Tensor.create(new float[] {1, 2, 3}, 3)));
    byte[] bytes = Files.readAllBytes(good);
    for (int len = 4; len < bytes.length; len += Math.max(1, bytes.length / 97)) {
      Path cut = dir.resolve("cut.pt");
      Files.write(cut, java.util.Arrays.copyOf(bytes, len));
      assertRejected(cut, "truncated or corrupt");
    }

    Path garbage = dir.resolve("garbage.pt");
    byte[] noise = new byte[4096];
    new java.util.Random(7).nextBytes(noise);
    noise[0] = 'P';
    noise[1] = 'K';
    noise[2] = 3;
    noise[3] = 4;
    Files.write(garbage, noise);
    assertRejected(garbage, "truncated or corrupt");

    Path other = dir.resolve("other.pt");
    Files.write(other, Zips.of("notes/readme.txt", "hello", "notes/weights.bin", "\0\0\0\0"));
    assertRejected(other, "neither a TorchScript archive", "nor a torch.save file", "notes/readme.txt");

    Path badPickle = dir.resolve("bad-pickle.pt");
    Files.write(badPickle, Zips.of("archive/data.pkl", "hello world", "archive/version", "3\n"));
    assertRejected(badPickle, "archive/data.pkl at offset 0");

    Path badScript = dir.resolve("bad-script.pt");
    Files.write(badScript, Zips.of("archive/data.pkl", "junk", "archive/constants.pkl", "junk",
        "archive/code/__torch__.py", "junk", "archive/version", "3\n"));
    assertRejected(badScript, "archive/data.pkl at offset 0");

    // torch.save(model.state_dict()) pickles an OrderedDict (LibTorch's unpickler turned it into None): read as a dict
    Path ordered = dir.resolve("ordered.pt");
    Files.write(ordered, Zips.of("archive/data.pkl",
        "\u0080\u0002ccollections\nOrderedDict\nq\u0000)Rq\u0001X\u0001\u0000\u0000\u0000aq\u0002K\u0001s.",
        "archive/version", "3\n"));
    assertRejected(ordered, "'a' (Int)");

    Path legacy = dir.resolve("legacy.pt");
    Files.write(legacy, new byte[] {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46,
        (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19, 0x2e, (byte) 0x80});
    assertRejected(legacy, "legacy", "re-save");

    Path text = dir.resolve("weights.bin");
    Files.writeString(text, "certainly not a checkpoint");
    assertRejected(text, "supported:", "TorchScript", "torch.save", "safetensors");

    assertRejected(dir.resolve("missing.pt"), "no such file");
  }

  /** Random corruption anywhere in a real torch.save file: it opens, or it is rejected cleanly — never a crash. */
  @Test
  void randomCorruptionIsReadOrRejectedNeverACrash() throws IOException {
    Path good = dir.resolve("good.pt");
    TorchFiles.saveDict(good, TorchFiles.ordered("visual.proj", Tensor.create(new float[16], 4, 4),
        "ids", Tensor.create(new long[] {1, 2}, 2)));
    byte[] bytes = Files.readAllBytes(good);
    java.util.SplittableRandom r = new java.util.SplittableRandom(11);
    Path bad = dir.resolve("bad.pt");
    int opened = 0;
    int rejectedByChecks = 0;
    for (int trial = 0; trial < 120; trial++) {
      byte[] copy = bytes.clone();
      int flips = 1 + r.nextInt(4);
      for (int i = 0; i < flips; i++) copy[4 + r.nextInt(copy.length - 4)] = (byte) r.nextInt(256);
      Files.write(bad, copy);
      try (Checkpoint c = Checkpoints.open(bad)) {
        for (TensorInfo t : c.tensors().values()) c.bytes(t.name());
        opened++;
      } catch (CheckpointFormatException expected) {
        assertTrue(expected.getMessage().startsWith(bad.toString()), expected.getMessage());
        assertTrue(!expected.getMessage().contains("\n"), "one line: " + expected.getMessage());
        if (expected.getMessage().contains("CRC-32") || expected.getMessage().contains(" at offset ")) rejectedByChecks++;
      }
    }
    // the trials reach the CRC and pickle checks (not only the zip directory check) and some corruptions are harmless
    assertTrue(opened > 0 && rejectedByChecks > 0, opened + " opened, " + rejectedByChecks + " rejected by CRC/pickle checks");
  }

  private static void assertRejected(Path p, String... fragments) {
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> Checkpoints.open(p).close(), p.toString());
    assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
    assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
  }
}
