package dev.mergetune.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The first run on a machine that has another libtorch_cpu.so (a distribution's python3-torch, say): a fresh JVM
 * with an empty JavaCPP cache directory and a foreign libtorch_cpu.so first on LD_LIBRARY_PATH (which outranks the
 * cache's RUNPATH) must still load LibTorch and our kernels and run `info` and a kernel self-check.
 *
 * <p>The foreign library is a stub compiled here with the soname libtorch_cpu.so and none of LibTorch's symbols:
 * if the dynamic linker ever picks it, loading fails. A control run with the prefetch switched off shows the stub
 * does poison an unguarded start, so the main test cannot pass vacuously.
 */
class ColdCacheTest {
  @TempDir static Path tmp;
  private static Path foreignDir;

  @BeforeAll
  static void buildForeignLibTorch() throws Exception {
    foreignDir = Files.createDirectories(tmp.resolve("foreign"));
    Path src = foreignDir.resolve("foreign.c");
    Files.writeString(src, "int foreign_libtorch_cpu_marker(void) { return 42; }\n");
    Process cc = new ProcessBuilder("cc", "-shared", "-fPIC", "-Wl,-soname,libtorch_cpu.so", "-o",
        foreignDir.resolve("libtorch_cpu.so").toString(), src.toString()).redirectErrorStream(true).start();
    String log = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assumeTrue(cc.waitFor(60, TimeUnit.SECONDS) && cc.exitValue() == 0, "no C compiler to build the stub: " + log);
  }

  private record Run(int exitCode, String output) {}

  private static Run runFreshJvm(Path cacheDir, boolean prefetch, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m",
        "-Dorg.bytedeco.javacpp.cachedir=" + cacheDir,
        "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0",
        "-Dorg.bytedeco.javacpp.maxBytes=0",
        "-Dmergetune.prefetchTorch=" + prefetch,
        "-cp", System.getProperty("java.class.path"),
        "dev.mergetune.cli.MergetuneCli"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    String ldPath = System.getenv("LD_LIBRARY_PATH");
    pb.environment().put("LD_LIBRARY_PATH", foreignDir + (ldPath == null ? "" : File.pathSeparator + ldPath));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "child JVM did not finish");
    return new Run(p.exitValue(), out);
  }

  @Test
  void firstRunWithEmptyCacheAndForeignLibTorchWorks() throws Exception {
    Path cache = Files.createDirectories(tmp.resolve("cache-guarded"));
    Run info = runFreshJvm(cache, true, "info");
    assertEquals(0, info.exitCode(), info.output());
    assertTrue(info.output().contains("LibTorch intra-op"), info.output());
    assertTrue(Files.exists(cache.resolve("pytorch-" + NativeRuntime.torchPresetVersion() + "-"
        + org.bytedeco.javacpp.Loader.getPlatform() + ".jar")), "LibTorch was not extracted into the new cache");
    Run check = runFreshJvm(cache, true, "selfcheck", "--quick");
    assertEquals(0, check.exitCode(), check.output());
  }

  @Test
  void controlTheForeignStubBreaksAnUnguardedColdStart() throws Exception {
    Path cache = Files.createDirectories(tmp.resolve("cache-unguarded"));
    Run info = runFreshJvm(cache, false, "info");
    assertNotEquals(0, info.exitCode(), "the stub did not poison an unguarded start; the main test proves nothing");
  }
}
