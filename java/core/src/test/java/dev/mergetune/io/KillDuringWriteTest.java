package dev.mergetune.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.tensors.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a child JVM in the middle of an atomic write leaves its temporary behind (nothing can stop that); the
 * next write to the same destination removes it: listing the folder then shows the destination alone.
 */
class KillDuringWriteTest {
  /** The child: writes {@code args[0]} atomically, slowly, forever (until killed). */
  public static void main(String[] args) throws IOException {
    AtomicFiles.write(Path.of(args[0]), ch -> {
      ByteBuffer mb = ByteBuffer.allocate(1 << 20);
      while (true) {
        mb.clear();
        while (mb.hasRemaining()) ch.write(mb);
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
  }

  @Test
  void noTemporarySurvivesTheNextWriteAfterAKill(@TempDir Path dir) throws Exception {
    Path target = dir.resolve("merged.safetensors");
    Files.write(target, new byte[] {1});
    Files.write(dir.resolve("other.bin"), new byte[] {2});
    for (int round = 0; round < 2; round++) {
      Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx64m", "-cp", System.getProperty("java.class.path"), KillDuringWriteTest.class.getName(), target.toString())
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      Path temp = null;
      while (temp == null && System.nanoTime() < deadline) {
        temp = temporaries(dir).stream().filter(p -> sizeOf(p) > (2 << 20)).findFirst().orElse(null);
        if (temp == null) Thread.sleep(50);
      }
      assertTrue(temp != null, "the child never started writing");
      child.destroyForcibly();  // SIGKILL: no finally block runs
      assertTrue(child.waitFor(30, TimeUnit.SECONDS));
      assertTrue(Files.exists(temp), "the kill left no temporary, so this test proves nothing");
    }
    // the second writer swept the first one's temporary when it started: only the last killed one is left
    assertEquals(1, temporaries(dir).size(), "temporaries after two killed writers: " + temporaries(dir));

    AtomicFiles.write(target, new byte[] {7, 8, 9});
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(List.of("merged.safetensors", "other.bin"), files.map(p -> p.getFileName().toString()).sorted().toList());
    }
    assertArrayEquals(new byte[] {7, 8, 9}, Files.readAllBytes(target));
  }

  @Test
  void aLiveWritersTemporaryIsLeftAlone(@TempDir Path dir) throws IOException {
    Path target = dir.resolve("out.json");
    long live = ProcessHandle.current().parent().map(ProcessHandle::pid).orElseThrow();  // Maven/surefire: alive
    Path other = dir.resolve(".out.json.tmp-" + live + "-abc123");
    Files.write(other, new byte[] {1});
    Path dead = dir.resolve(".out.json.tmp-" + Integer.MAX_VALUE + "-zz9");  // no such pid on Linux (max 2^22)
    Files.write(dead, new byte[] {1});
    Path unrelated = dir.resolve(".other.json.tmp-" + Integer.MAX_VALUE + "-zz9");
    Files.write(unrelated, new byte[] {1});
    AtomicFiles.writeString(target, "{}");
    assertTrue(Files.exists(other), "a live process's temporary was deleted");
    assertTrue(!Files.exists(dead), "a dead process's temporary survived");
    assertTrue(Files.exists(unrelated), "another destination's temporary was touched");
  }

  private static List<Path> temporaries(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> TempFiles.isTemporary(p.getFileName().toString())).toList();
    }
  }

  private static long sizeOf(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return 0;
    }
  }
}
