package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.kernels.Devices;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CliTest {
  private record Result(int exitCode, String out) {}

  private static Result run(String... args) {
    StringWriter out = new StringWriter();
    CommandLine cli = new CommandLine(new MergetuneCli());
    cli.setOut(new PrintWriter(out));
    int code = cli.execute(args);
    return new Result(code, out.toString());
  }

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
  void unknownCommandIsAUsageError() {
    assertEquals(2, run("no-such-command").exitCode());
  }
}
