package dev.mergetune.tensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hostile .pt files of issue 25 (each crashed, hung or leaked through LibTorch's reader) are refused here with
 * one line naming the file and the cause; a control file of the same shape with an honest view opens.
 */
class HostileCheckpointTest {
  @TempDir Path dir;

  private static final Map<String, String> CAUSE = Map.of(
      "deep-dict.pt", "nest more than 1000 deep",
      "deep-list.pt", "nest more than 1000 deep",
      "huge-stride.pt", "overflows 64 bits",
      "past-storage.pt", "a view past its storage",
      "negative-offset.pt", "negative storage offset",
      "os-system.pt", "GLOBAL 'posix.system' is not on the allow-list",
      "zip-bomb.pt", "a zip bomb?",
      "bad-crc.pt", "fails its CRC-32 check");

  @Test
  void everyHostileFileIsRefusedWithItsCause() throws IOException {
    Path marker = dir.resolve("os-system-ran");
    for (Map.Entry<String, Path> e : HostilePtFiles.all(dir, marker).entrySet()) {
      assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertRefused(e.getValue(), CAUSE.get(e.getKey())), e.getKey());
    }
    assertFalse(Files.exists(marker), "the os.system payload ran");
  }

  @Test
  void anHonestViewOfTheSameShapeOpensAndHoldsOnlyItsStorage() throws IOException {
    Path file = dir.resolve("honest.pt");
    // storage 0..5 as floats; a transposed 2x3 view starting at element 0 -> contiguous [3,2] copy
    byte[] pkl = new HostilePtFiles.Pickle().op('}').str("w")
        .floatTensor("0", 6, 0, new long[] {3, 2}, new long[] {1, 3}).op('s').stop();
    java.nio.ByteBuffer storage = java.nio.ByteBuffer.allocate(24).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 6; i++) storage.putFloat(i);
    Files.write(file, HostilePtFiles.torchSave(pkl, Map.of("0", storage.array())));
    try (Checkpoint c = Checkpoints.open(file)) {
      assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, c.readFloats("w"));
    }
    // the same view moved one element further reaches element 6 of 6: refused, nothing read past the storage
    byte[] past = new HostilePtFiles.Pickle().op('}').str("w")
        .floatTensor("0", 6, 1, new long[] {3, 2}, new long[] {1, 3}).op('s').stop();
    Files.write(file, HostilePtFiles.torchSave(past, Map.of("0", storage.array())));
    assertRefused(file, "reaches element 6 of storage '0', which holds 6");
  }

  @Test
  void aFifoADeviceAndADirectoryAreRefusedByNameWithoutOpening() throws Exception {
    Path fifo = dir.resolve("weights.pt");
    Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertTrue(mk.waitFor() == 0, "mkfifo failed");
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertRefused(fifo, "is a FIFO (named pipe), not a regular file"));
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertRefused(Path.of("/dev/zero"), "is a character device"));
    assertRefused(dir, "is a directory");
  }

  @Test
  void aTorchScriptArchiveWhoseSetStateLoopsIsRefusedWithoutRunningIt() throws IOException {
    Path file = dir.resolve("looping.jit.pt");
    TorchFiles.loopingSetState(file);
    assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertRefused(file, "defines __setstate__"));
  }

  @Test
  void torchScriptClassesAndUnlistedGlobalsAreRefusedInTorchSaveFiles() throws IOException {
    // a torch.save file may not name TorchScript classes at all
    byte[] pkl = new HostilePtFiles.Pickle().global("__torch__", "Evil").op(')').op(0x81).stop();
    Path file = dir.resolve("class.pt");
    Files.write(file, HostilePtFiles.torchSave(pkl, Map.of()));
    assertRefused(file, "GLOBAL '__torch__.Evil' is not on the allow-list");
    for (String[] g : List.of(new String[] {"builtins", "eval"}, new String[] {"torch", "load"},
        new String[] {"subprocess", "Popen"}, new String[] {"numpy.core.multiarray", "_reconstruct"})) {
      byte[] p = new HostilePtFiles.Pickle().global(g[0], g[1]).stop();
      Files.write(file, HostilePtFiles.torchSave(p, Map.of()));
      assertRefused(file, "GLOBAL '" + g[0] + "." + g[1] + "' is not on the allow-list");
    }
  }

  static void assertRefused(Path p, String fragment) {
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> Checkpoints.open(p).close(), p.toString());
    assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' not in: " + e.getMessage());
  }
}
