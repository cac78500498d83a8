package dev.mergetune.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An input truncated by another process while a merge reads it: the merge must end with an error naming the file
 * (exit 1), leave no output and no temporary file, and the JVM must not crash (no hs_err file). With the inputs
 * memory-mapped, as before, the kernel's read of a page past the new end of file was a SIGBUS that killed the JVM.
 */
class TruncatedInputTest {
  @TempDir Path dir;

  @Test
  void truncatedWhileMergingIsAnErrorNamingTheFile() throws Exception {
    int tensors = 24;
    int n = 1 << 18;  // 1 MB per tensor, 24 MB per file
    for (String name : List.of("base", "model-0", "model-1")) {
      List<TensorSource> sources = new ArrayList<>();
      float[] v = new float[n];
      for (int i = 0; i < n; i++) v[i] = (i % 97) * 0.01f + name.length();
      for (int t = 0; t < tensors; t++) sources.add(TensorSource.ofFloats("t" + t, new long[] {n}, v, DType.F32));
      SafetensorsWriter.write(dir.resolve(name + ".safetensors"), sources, Map.of());
    }
    Path victim = dir.resolve("model-1.safetensors");

    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m");
    cmd.add("-XX:ErrorFile=" + dir.resolve("hs_err_pid%p.log"));
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("-Dorg.bytedeco")) cmd.add(a);
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TruncationProbe.class.getName(), dir.toString()));
    Path err = dir.resolve("child.err");
    Process child = new ProcessBuilder(cmd).directory(dir.toFile()).redirectError(err.toFile()).start();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null && !line.equals("merging")) {
        // skip anything else the child prints
      }
      assertEquals("merging", line, "the child ended before merging: " + Files.readString(err));
      try (FileChannel ch = FileChannel.open(victim, StandardOpenOption.WRITE)) {
        ch.truncate(ch.size() / 4);  // the merge has read at most 2 of the 24 tensors
      }
      assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child did not end");
    } finally {
      child.destroyForcibly();
    }
    String message = Files.readString(err);
    assertEquals(1, child.exitValue(), "exit code; stderr: " + message);
    assertTrue(message.contains(victim.toString()) && message.contains("truncated"), message);
    try (Stream<Path> files = Files.list(dir)) {
      List<String> left = files.map(p -> p.getFileName().toString()).toList();
      assertFalse(left.stream().anyMatch(f -> f.startsWith("hs_err")), "the JVM crashed: " + left);
      assertFalse(left.stream().anyMatch(f -> f.contains("merged")), "an output or temporary file is left: " + left);
    }
  }
}
