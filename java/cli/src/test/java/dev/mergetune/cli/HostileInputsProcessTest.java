package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.Checkpoints;
import dev.mergetune.tensors.HostilePtFiles;
import dev.mergetune.tensors.SharedFixtures;
import dev.mergetune.tensors.TensorInfo;
import dev.mergetune.tensors.TorchFiles;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash test of issue 25: every hostile input, each in a fresh JVM (a crash would take the JVM down with an
 * hs_err file, which a test in the same JVM could not see): exit code 1, one line on stderr naming the file, no
 * hs_err file, nothing written, and the os.system payload never run.
 */
class HostileInputsProcessTest {
  record Run(int code, String stdout, String stderr) {}

  static Run run(Path dir, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("-D")) cmd.add(arg);
    }
    cmd.addAll(List.of("-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:ErrorFile=" + dir.resolve("hs_err_pid%p.log"),
        "-cp", System.getProperty("java.class.path"), MergetuneCli.class.getName()));
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    boolean done = p.waitFor(90, TimeUnit.SECONDS);
    if (!done) p.destroyForcibly().waitFor();
    assertTrue(done, "mergetune " + String.join(" ", args) + " hung");
    Run r = new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    Files.delete(out);
    Files.delete(err);
    return r;
  }

  private static void assertCleanRefusal(Path dir, Run r, String what, String fragment) throws IOException {
    assertEquals(1, r.code(), what + ": " + r.stderr());
    List<String> lines = r.stderr().lines().toList();
    assertEquals(1, lines.size(), what + ": not one line: " + r.stderr());
    assertTrue(lines.get(0).startsWith("mergetune: ") && lines.get(0).contains(fragment),
        what + ": '" + fragment + "' not in: " + lines.get(0));
    try (Stream<Path> files = Files.list(dir)) {
      assertFalse(files.anyMatch(f -> f.getFileName().toString().startsWith("hs_err")), what + ": the JVM crashed");
    }
  }

  @Test
  void everyHostileCheckpointIsOneLineAndExitCodeOneInAFreshJvm(@TempDir Path dir) throws Exception {
    Path marker = dir.resolve("os-system-ran");
    Map<String, Path> files = new LinkedHashMap<>(HostilePtFiles.all(dir, marker));
    Path looping = dir.resolve("looping.jit.pt");
    TorchFiles.loopingSetState(looping);
    files.put("looping.jit.pt", looping);
    Path fifo = dir.resolve("fifo.pt");
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
    files.put("fifo.pt", fifo);
    files.put("/dev/zero", Path.of("/dev/zero"));
    for (Map.Entry<String, Path> e : files.entrySet()) {
      String name = e.getKey();
      Path file = e.getValue();
      if (name.equals("past-storage.pt") || name.equals("negative-offset.pt") || name.equals("fifo.pt")) {
        Path out = dir.resolve("leak.safetensors");
        assertCleanRefusal(dir, run(dir, "convert", file.toString(), out.toString()), "convert " + name, file.toString());
        assertFalse(Files.exists(out), "convert " + name + " wrote an output");
      } else {
        assertCleanRefusal(dir, run(dir, "inspect", file.toString()), "inspect " + name, file.toString());
      }
    }
    assertFalse(Files.exists(marker), "the os.system payload ran");
  }

  @Test
  void devZeroMatricesDotDotNamesAndNanWeightsAreRefused(@TempDir Path dir) throws Exception {
    assertCleanRefusal(dir, run(dir, "metrics", "mtil", "--matrix", "/dev/zero"), "metrics mtil /dev/zero", "/dev/zero");

    Path store = dir.resolve("store");
    assertCleanRefusal(dir, run(dir, "condu", "add-task", "--store", store.toString(), "--model", "m.pt", "--data",
        dir.toString(), "--name", ".."), "add-task --name ..", "--name '..'");
    assertFalse(Files.exists(store), "add-task --name .. created the store");

    // one NaN in one weight of the shared fixture: embed refuses it by tensor name, writes nothing
    Path model = SharedFixtures.clipTiny("model.safetensors");
    Path nan = dir.resolve("nan.safetensors");
    Files.copy(model, nan);
    String tensor;
    try (Checkpoint c = Checkpoints.open(nan)) {
      TensorInfo t = c.tensors().values().stream().filter(i -> i.name().endsWith("ln_final.weight")).findFirst().orElseThrow();
      tensor = t.name();
      try (RandomAccessFile f = new RandomAccessFile(nan.toFile(), "rw")) {
        f.seek(t.fileOffset() + 4);
        f.write(new byte[] {0, 0, (byte) 0xc0, 0x7f});  // float NaN, little-endian
      }
    }
    Path texts = dir.resolve("texts.txt");
    Files.writeString(texts, "a photo of a cat\n");
    Path out = dir.resolve("features.safetensors");
    assertCleanRefusal(dir, run(dir, "embed", "--model", nan.toString(), "--model-config", "openai", "--texts", texts.toString(), "--out",
        out.toString()), "embed with a NaN weight", "tensor '" + tensor + "' holds 1 non-finite");
    assertFalse(Files.exists(out), "embed wrote features of a NaN model");
  }
}
