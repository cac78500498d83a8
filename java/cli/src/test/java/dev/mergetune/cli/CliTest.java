package dev.mergetune.cli;

import static dev.mergetune.cli.CliRunner.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.cli.CliRunner.Result;
import dev.mergetune.kernels.Devices;
import org.junit.jupiter.api.Test;

class CliTest {
  @Test
  void infoSaysWhatIsAvailable() {
    Result r = run("info");
    assertEquals(0, r.exitCode());
    assertTrue(r.out().contains("libmergetune"), r.out());
    assertTrue(r.out().contains("kernel K4a"), r.out());
    if (Devices.cudaAvailable()) {
      assertTrue(r.out().contains("CUDA device 0"), r.out());
    } else {
      assertTrue(r.out().contains("CUDA devices           none: " + Devices.cudaUnavailableReason()), r.out());
    }
    assertTrue(r.out().contains(Devices.builtWithCuda() ? "CUDA build             yes" : "CUDA build             no"),
        r.out());
  }

  @Test
  void quickSelfcheckPassesAndCountsRows() {
    Result r = run("selfcheck", "--quick");
    assertEquals(0, r.exitCode(), r.out());
    assertTrue(r.out().contains(" 0 failed"), r.out());
    assertTrue(r.out().contains("NaN in model 1 reported"), r.out());
  }

  @Test
  void inspectListsTensorsAndRejectsBadFilesInOneLine(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    java.nio.file.Path file = dir.resolve("m.safetensors");
    dev.mergetune.tensors.SafetensorsWriter.write(file, java.util.List.of(
        dev.mergetune.tensors.TensorSource.ofFloats("visual.proj", new long[] {2, 3}, new float[6],
            dev.mergetune.tensors.DType.F16)), java.util.Map.of("method", "test"));
    Result ok = run("inspect", file.toString());
    assertEquals(0, ok.exitCode(), ok.out());
    assertTrue(ok.out().contains("visual.proj") && ok.out().contains("F16") && ok.out().contains("[2, 3]")
        && ok.out().contains("12"), ok.out());
    java.nio.file.Path junk = dir.resolve("junk.safetensors");
    java.nio.file.Files.writeString(junk, "not a checkpoint at all");
    Result bad = run("inspect", junk.toString());
    assertEquals(1, bad.exitCode());
    assertTrue(bad.out().startsWith("mergetune: " + junk), bad.out());
    assertTrue(!bad.out().contains("\tat "), "no stack trace: " + bad.out());
  }

  @Test
  void mergeSweepWritesOneFilePerValue(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path zs = dir.resolve("zs.safetensors");
    java.nio.file.Path ft = dir.resolve("ft.safetensors");
    dev.mergetune.tensors.SafetensorsWriter.write(zs, java.util.List.of(dev.mergetune.tensors.TensorSource.ofFloats(
        "w", new long[] {2}, new float[] {0, 10}, dev.mergetune.tensors.DType.F32)), java.util.Map.of());
    dev.mergetune.tensors.SafetensorsWriter.write(ft, java.util.List.of(dev.mergetune.tensors.TensorSource.ofFloats(
        "w", new long[] {2}, new float[] {4, 2}, dev.mergetune.tensors.DType.F32)), java.util.Map.of());
    Result r = run("merge", "--method", "wise-ft", "--base", zs.toString(), "--models", ft.toString(),
        "--alpha", "0.25,0.75", "--out", dir.resolve("w-{}.safetensors").toString());
    assertEquals(0, r.exitCode(), r.out());
    try (var f = dev.mergetune.tensors.SafetensorsFile.open(dir.resolve("w-0.75.safetensors"))) {
      org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {3, 4}, f.readFloats("w"));  // .25·zs + .75·ft
    }
    Result noBraces = run("merge", "--method", "wise-ft", "--base", zs.toString(), "--models", ft.toString(),
        "--alpha", "0.25,0.75", "--out", dir.resolve("w.safetensors").toString());
    assertEquals(1, noBraces.exitCode());
    assertTrue(noBraces.out().contains("needs '{}' in --out"), noBraces.out());
  }

  @Test
  void mergeFromAYamlConfig(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    for (String name : new String[] {"t0", "a", "b"}) {
      float[] v = name.equals("t0") ? new float[] {1, 1} : name.equals("a") ? new float[] {2, 1} : new float[] {1, 3};
      dev.mergetune.tensors.SafetensorsWriter.write(dir.resolve(name + ".safetensors"), java.util.List.of(
          dev.mergetune.tensors.TensorSource.ofFloats("w", new long[] {2}, v, dev.mergetune.tensors.DType.F32)),
          java.util.Map.of());
    }
    java.nio.file.Path yaml = dir.resolve("merge.yaml");
    java.nio.file.Files.writeString(yaml, String.join("\n",
        "method: task-arithmetic", "base: t0.safetensors", "models: [a.safetensors, b.safetensors]",
        "weights: [1, 0.5]", "scale: [2]", "out: merged.safetensors", ""));
    Result r = run("merge", "--config", yaml.toString());
    assertEquals(0, r.exitCode(), r.out());
    try (var f = dev.mergetune.tensors.SafetensorsFile.open(dir.resolve("merged.safetensors"))) {
      // t0 + 2·(1·[1,0] + 0.5·[0,2]) = [3, 3]
      org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {3, 3}, f.readFloats("w"));
    }
    java.nio.file.Files.writeString(yaml, "method: average\nmodels: [a.safetensors]\nout: x.safetensors\nscael: [1]\n");
    Result typo = run("merge", "--config", yaml.toString());
    assertEquals(1, typo.exitCode());
    assertTrue(typo.out().contains("scael"), typo.out());
  }

  @Test
  void unknownCommandIsAUsageError() {
    assertEquals(2, run("no-such-command").exitCode());
  }
}
