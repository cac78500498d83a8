package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A task-arithmetic merge of safetensors files loads libmergetune alone: in a fresh JVM with an empty JavaCPP cache
 * it extracts no LibTorch (so it cannot have prefetched or loaded any) and still merges correctly. The control, a
 * method whose files need LibTorch (emr), extracts it into the same kind of cache, so the check cannot pass because
 * the cache directory was simply not used.
 */
class MergeNativeLoadTest {
  @TempDir Path dir;

  private record Run(int exitCode, String output) {}

  private static Run freshJvm(Path cacheDir, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-XX:TieredStopAtLevel=1", "-Dorg.bytedeco.javacpp.cachedir=" + cacheDir,
        "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dorg.bytedeco.javacpp.maxBytes=0",
        "-cp", System.getProperty("java.class.path"), MergetuneCli.class.getName()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "child JVM did not finish");
    return new Run(p.exitValue(), out);
  }

  private Path ckpt(String name, float... w) throws IOException {
    Path p = dir.resolve(name);
    SafetensorsWriter.write(p, List.of(TensorSource.ofFloats("w", new long[] {w.length}, w, DType.F32)), Map.of());
    return p;
  }

  private static boolean torchExtracted(Path cache) throws IOException {
    String jar = "pytorch-" + NativeRuntime.torchPresetVersion() + "-" + org.bytedeco.javacpp.Loader.getPlatform() + ".jar";
    return Files.exists(cache.resolve(jar));
  }

  @Test
  void taskArithmeticLoadsNoLibTorchAndEmrDoes() throws Exception {
    Path t0 = ckpt("t0.safetensors", 1, 2, 3, 4);
    Path a = ckpt("a.safetensors", 2, 2, 3, 4);  // δa = [1, 0, 0, 0]
    Path b = ckpt("b.safetensors", 1, 0, 3, 5);  // δb = [0, -2, 0, 1]
    Path out = dir.resolve("ta.safetensors");
    Path cache = Files.createDirectories(dir.resolve("cache-ta"));
    Run ta = freshJvm(cache, "merge", "--no-progress", "--method", "task-arithmetic", "--base", t0.toString(),
        "--models", a.toString(), b.toString(), "--scale", "0.5", "--hash", "xxh3-128", "--out", out.toString());
    assertEquals(0, ta.exitCode(), ta.output());
    assertFalse(torchExtracted(cache), "a task-arithmetic merge extracted LibTorch: " + ta.output());
    try (SafetensorsFile f = SafetensorsFile.open(out)) {
      // θ0 + 0.5·(δa + δb) = [1.5, 1, 3, 4.5]
      org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {1.5f, 1f, 3f, 4.5f}, f.readFloats("w"));
      assertEquals("xxh3-128", f.metadata().get("mergetune.input_digest"));
    }

    Path control = Files.createDirectories(dir.resolve("cache-emr"));
    Run emr = freshJvm(control, "merge", "--no-progress", "--method", "emr", "--base", t0.toString(), "--models",
        a.toString(), b.toString(), "--out", dir.resolve("u.safetensors").toString());
    assertEquals(0, emr.exitCode(), emr.output());
    assertTrue(torchExtracted(control), "the control did not extract LibTorch, so the check above proves nothing");
  }
}
