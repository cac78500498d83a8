package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.world.PretrainSettings;
import dev.mergetune.world.Pretraining;
import dev.mergetune.world.World;
import dev.mergetune.world.WorldGenerator;
import dev.mergetune.world.WorldSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mergetune launch --nproc-per-node 2 -- CMD} on a small demo world with the committed tiny CLIP: two worker
 * JVMs (Gloo over loopback) train what one {@code CMD} process trains with the same (global) batch — CoOp's prompt
 * within the core equality test's tolerance, a pre-trained tiny CLIP within 1 % of its update — and only rank 0 writes
 * the run.
 */
class LaunchCommandTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path TINY_CLIP = Path.of("../../demo/tiny-clip/tiny-clip.safetensors");
  @TempDir static Path dir;
  static Path world;

  @BeforeAll
  static void world() throws Exception {
    NativeRuntime.ensureTorch();
    world = dir.resolve("world");
    WorldGenerator.generate(new WorldSpec(7, 32, 32, 1, 4, 2, 1, 20), world);
  }

  @Test
  void coopOnTwoRanksEqualsOneProcess() throws Exception {
    Path data = world.resolve("datasets/shapes");
    List<String> train = List.of("train", "--method", "coop", "--model", TINY_CLIP.toString(), "--vocab",
        world.resolve("vocab/world-bpe.txt.gz").toString(), "--data", data.resolve("train").toString(), "--val",
        data.resolve("val").toString(), "--shots", "0", "--batch", "8", "--epochs", "3", "--augment", "none",
        "--no-progress");
    CliRunner.Result one = CliRunner.run(withOut(train, dir.resolve("one")));
    assertEquals(0, one.exitCode(), one.out());
    List<String> launch = new ArrayList<>(List.of("launch", "--nproc-per-node", "2", "--timeout", "60", "--"));
    launch.addAll(List.of(withOut(train, dir.resolve("two"))));
    CliRunner.Result two = CliRunner.run(launch.toArray(new String[0]));
    assertEquals(0, two.exitCode(), two.out());
    assertClose(read(dir.resolve("one/prompt.safetensors")), read(dir.resolve("two/prompt.safetensors")));
    assertEquals(JSON.readTree(dir.resolve("one/result.json").toFile()).get("best_epoch"),
        JSON.readTree(dir.resolve("two/result.json").toFile()).get("best_epoch"));
    assertEquals(Files.readAllLines(dir.resolve("one/metrics.jsonl")).size(),
        Files.readAllLines(dir.resolve("two/metrics.jsonl")).size());
  }

  /**
   * AdamW turns rounding noise in near-zero gradients (the key slice of attention's in_proj_bias, whose exact gradient
   * is zero) into steps of up to the learning rate, so the pre-trained tensors are compared by how far apart they are
   * relative to how far training moved them (measured: at most 1.8e-3 of a tensor's update); the data-parallel
   * contrastive gradient itself is compared tightly in {@code world.DataParallelContrastiveTest}.
   */
  @Test
  void pretrainingOnTwoRanksEqualsOneProcess() throws Exception {
    List<String> pretrain = List.of("pretrain", "--world", world.toString(), "--epochs", "2", "--batch", "8",
        "--warmup", "1", "--threads", "1", "--no-progress");
    CliRunner.Result one = CliRunner.run(withOutFile(pretrain, dir.resolve("p1/clip.safetensors")));
    assertEquals(0, one.exitCode(), one.out());
    List<String> launch = new ArrayList<>(List.of("launch", "--nproc-per-node", "2", "--timeout", "60", "--"));
    launch.addAll(List.of(withOutFile(pretrain, dir.resolve("p2/clip.safetensors"))));
    CliRunner.Result two = CliRunner.run(launch.toArray(new String[0]));
    assertEquals(0, two.exitCode(), two.out());
    assertTrue(Files.isRegularFile(dir.resolve("p2/clip.json")), "rank 0 writes the report");

    Map<String, float[]> a = read(dir.resolve("p1/clip.safetensors"));
    Map<String, float[]> b = read(dir.resolve("p2/clip.safetensors"));
    PretrainSettings s = new PretrainSettings(2, 8, PretrainSettings.DEFAULT_LR, 1, PretrainSettings.DEFAULT_WEIGHT_DECAY,
        PretrainSettings.DEFAULT_SEED, PretrainSettings.DEFAULT_EMBED, PretrainSettings.DEFAULT_WIDTH,
        PretrainSettings.DEFAULT_LAYERS, PretrainSettings.DEFAULT_HEADS, PretrainSettings.DEFAULT_PATCH, 1,
        dev.mergetune.clip.Activation.QUICK_GELU);
    Map<String, Tensor> init = new ClipModel(Pretraining.config(s, World.read(world))).initialize(s.seed()).stateDict();
    assertEquals(a.keySet(), b.keySet());
    for (String k : a.keySet()) {
      float[] x = a.get(k);
      float[] y = b.get(k);
      float[] x0 = new float[x.length];
      init.get(k).contiguous().data_ptr_float().get(x0);
      double diff2 = 0;
      double update2 = 0;
      for (int i = 0; i < x.length; i++) {
        diff2 += (x[i] - y[i]) * (double) (x[i] - y[i]);
        update2 += (x[i] - x0[i]) * (double) (x[i] - x0[i]);
      }
      assertTrue(Math.sqrt(diff2) <= 1e-2 * Math.sqrt(update2), k + ": " + Math.sqrt(diff2) + " apart after an update of "
          + Math.sqrt(update2));
    }
  }

  @Test
  void refusesWhatItCannotRun() {
    CliRunner.Result merge = CliRunner.run("launch", "--nproc-per-node", "2", "--", "merge", "--method", "ties");
    assertEquals(1, merge.exitCode(), merge.out());
    assertTrue(merge.out().contains("launch runs train, continue, condu add-task, pretrain; not 'merge'"), merge.out());
    CliRunner.Result alone = CliRunner.run("launch", "--", "train", "--method", "coop");
    assertEquals(1, alone.exitCode(), alone.out());
    assertTrue(alone.out().contains("launch needs --nproc-per-node N"), alone.out());
    CliRunner.Result both = CliRunner.run("launch", "--nproc-per-node", "2", "--rank", "0", "--world-size", "2", "--",
        "train");
    assertEquals(1, both.exitCode(), both.out());
    assertFalse(both.out().contains("Exception"), both.out());
  }

  static String[] withOut(List<String> args, Path out) {
    List<String> a = new ArrayList<>(args);
    a.addAll(List.of("--out", out.toString()));
    return a.toArray(new String[0]);
  }

  static String[] withOutFile(List<String> args, Path out) throws Exception {
    Files.createDirectories(out.getParent());
    return withOut(args, out);
  }

  static Map<String, float[]> read(Path file) {
    Map<String, float[]> out = new LinkedHashMap<>();
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      for (String name : f.tensors().keySet()) out.put(name, f.readFloats(name));
    }
    return out;
  }

  /** The core equality test's tolerance: 2e-6 + 2e-5·|w| per element. */
  static void assertClose(Map<String, float[]> want, Map<String, float[]> got) {
    assertEquals(want.keySet(), got.keySet());
    for (String k : want.keySet()) {
      float[] a = want.get(k);
      float[] b = got.get(k);
      for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 2e-6 + 2e-5 * Math.abs(a[i]), k + "[" + i + "]");
    }
  }
}
