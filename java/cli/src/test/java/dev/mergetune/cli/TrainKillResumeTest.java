package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.clip.text.SyntheticMerges;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.protocol.ProtocolFixtures;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code mergetune train} process killed with SIGKILL after a checkpoint, then run again with the same command,
 * resumes and ends with exactly the trained state and per-epoch losses of an uninterrupted run.
 */
class TrainKillResumeTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aKilledRunResumesToTheUninterruptedResult(@TempDir Path tmp) throws Exception {
    NativeRuntime.ensureTorch();
    Path model = ProtocolFixtures.tinyClip(tmp.resolve("tiny.safetensors"), 11);
    Path vocab = SyntheticMerges.writeClipSized(tmp);
    Path train = tmp.resolve("train");
    List<String> classes = List.of("blue", "green", "red");
    ProtocolFixtures.imageFolder(train, classes, 8, 2);
    Path val = tmp.resolve("val");
    ProtocolFixtures.imageFolder(val, classes, 2, 9);

    Path whole = tmp.resolve("whole");
    Path killed = tmp.resolve("killed");
    CliRunner.Result a = CliRunner.run(args(model, vocab, train, val, whole));
    assertEquals(0, a.exitCode(), a.out());

    // The same command in its own JVM, killed once a checkpoint after step 6 is on disk.
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("-D") || arg.startsWith("-Xmx")) cmd.add(arg);
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), MergetuneCli.class.getName()));
    cmd.addAll(List.of(args(model, vocab, train, val, killed)));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("killed.log").toFile())
        .start();
    Path state = killed.resolve("checkpoints").resolve("training-state.json");
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (p.isAlive() && System.nanoTime() < deadline) {
      if (Files.isRegularFile(state) && JSON.readTree(Files.readString(state)).get("step").asLong() >= 6) break;
      Thread.sleep(5);
    }
    assertTrue(p.isAlive(), "the process ended before it could be killed:\n" + Files.readString(tmp.resolve("killed.log")));
    p.destroyForcibly();
    p.waitFor();
    assertFalse(Files.exists(killed.resolve("result.json")), "the killed run must not look finished");

    CliRunner.Result b = CliRunner.run(args(model, vocab, train, val, killed));
    assertEquals(0, b.exitCode(), b.out());
    assertTrue(b.out().contains("resuming after step"), b.out());
    assertArrayEquals(Files.readAllBytes(whole.resolve("prompt.safetensors")),
        Files.readAllBytes(killed.resolve("prompt.safetensors")));
    assertEquals(column(whole, "mean_loss"), column(killed, "mean_loss"));
    assertEquals(column(whole, "val_accuracy"), column(killed, "val_accuracy"));
    assertEquals(JSON.readTree(whole.resolve("result.json").toFile()).get("best_epoch"),
        JSON.readTree(killed.resolve("result.json").toFile()).get("best_epoch"));
  }

  /** CoOp, 40 epochs of 3 steps, a checkpoint every 3 steps. */
  static String[] args(Path model, Path vocab, Path train, Path val, Path out) {
    return new String[] {"train", "--method", "coop", "--model", model.toString(), "--vocab", vocab.toString(),
        "--data", train.toString(), "--val", val.toString(), "--out", out.toString(), "--shots", "0", "--batch", "8",
        "--epochs", "40", "--lr", "0.1", "--augment", "coop", "--views", "4", "--checkpoint-every", "3",
        "--no-progress"};
  }

  static List<Double> column(Path run, String key) throws Exception {
    List<Double> out = new ArrayList<>();
    for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) out.add(JSON.readTree(line).get(key).asDouble());
    return out;
  }
}
