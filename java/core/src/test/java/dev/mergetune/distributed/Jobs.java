package dev.mergetune.distributed;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Worker JVMs of a test job on loopback: one per rank, a free port picked at run time, torchrun's variables. */
public final class Jobs {
  public static final int TIMEOUT_SECONDS = 20;

  private Jobs() {}

  public record Job(List<Process> ranks, List<Path> logFiles) {
    /** Waits for every rank (at most {@code seconds}); the exit codes, −1 for a rank still running (then killed). */
    public int[] await(long seconds) throws InterruptedException {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      int[] codes = new int[ranks.size()];
      for (int r = 0; r < ranks.size(); r++) {
        Process p = ranks.get(r);
        long left = Math.max(0, end - System.nanoTime());
        if (p.waitFor(left, TimeUnit.NANOSECONDS)) {
          codes[r] = p.exitValue();
        } else {
          codes[r] = -1;
          p.destroyForcibly().waitFor();
        }
      }
      return codes;
    }

    public String log(int rank) throws IOException {
      return Files.readString(logFiles.get(rank));
    }

    public String logs() throws IOException {
      StringBuilder s = new StringBuilder();
      for (int r = 0; r < logFiles.size(); r++) s.append("--- rank ").append(r).append(":\n").append(log(r));
      return s.toString();
    }
  }

  /** Starts {@code Scenarios name work} as every rank of a world of {@code world}. */
  public static Job start(String name, Path work, int world, Map<String, String> env) throws IOException {
    return start(Scenarios.class, List.of(name, work.toString()), work, world, env);
  }

  /** Starts {@code main args} as every rank of a world of {@code world}, logs in {@code work}. */
  public static Job start(Class<?> main, List<String> args, Path work, int world, Map<String, String> env)
      throws IOException {
    int port = freePort();
    List<Process> ranks = new ArrayList<>();
    List<Path> logs = new ArrayList<>();
    for (int r = 0; r < world; r++) {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.add("-Xmx256m");
      for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
        if (a.startsWith("-Dorg.bytedeco")) cmd.add(a);
      }
      cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
      cmd.addAll(args);
      ProcessBuilder pb = new ProcessBuilder(cmd);
      Map<String, String> e = pb.environment();
      e.put("RANK", Integer.toString(r));
      e.put("WORLD_SIZE", Integer.toString(world));
      e.put("LOCAL_RANK", Integer.toString(r));
      e.put("MASTER_ADDR", "127.0.0.1");
      e.put("MASTER_PORT", Integer.toString(port));
      e.put("MERGETUNE_DIST_TIMEOUT", Integer.toString(TIMEOUT_SECONDS));
      e.put("OMP_NUM_THREADS", "1");
      e.put("OPENBLAS_NUM_THREADS", "1");
      e.putAll(env);
      Path log = work.resolve("rank" + r + "-" + System.nanoTime() + ".log");
      logs.add(log);
      ranks.add(pb.redirectErrorStream(true).redirectOutput(log.toFile()).start());
    }
    return new Job(ranks, logs);
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
