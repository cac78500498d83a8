package dev.mergetune.cli;

import dev.mergetune.distributed.DistributedConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The worker JVMs {@code mergetune launch --nproc-per-node N} starts on this machine, and their supervision, as
 * torchrun does it: each worker is this JVM's java with its options and class path, running {@code launch -- CMD}
 * with {@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK}, {@code MASTER_ADDR}, {@code MASTER_PORT} (and the
 * backend, timeout and gradient-sync settings) in its environment, and {@code OMP_NUM_THREADS} = cores / N unless set.
 *
 * <p>Rank 0's output is this process's; the others' errors and warnings are printed with a {@code [rank N]} prefix
 * (everything with {@code --all-output}). When a worker exits with an error, its rank and exit code (or signal) are
 * printed; the others are given the job's timeout to stop by themselves (their next collective fails, naming that
 * rank) and are then terminated. The exit code is the first failed worker's, 0 when all succeed.
 */
final class WorkerProcesses {
  private static final long GRACE_MILLIS = 15_000;

  private final DistributedConfig base;
  private final int firstRank;
  private final int count;
  private final List<String> command;
  private final boolean allOutput;
  private final PrintStream err = System.err;

  WorkerProcesses(DistributedConfig base, int firstRank, int count, List<String> command, boolean allOutput) {
    this.base = base;
    this.firstRank = firstRank;
    this.count = count;
    this.command = List.copyOf(command);
    this.allOutput = allOutput;
  }

  int run() throws IOException, InterruptedException {
    List<Process> workers = new ArrayList<>();
    Thread cleanup = new Thread(() -> workers.forEach(Process::destroyForcibly), "mergetune-launch-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    err.printf("mergetune launch: %d worker%s (ranks %d … %d of %d), rendezvous %s:%d, backend %s, timeout %d s%n",
        count, count == 1 ? "" : "s", firstRank, firstRank + count - 1, base.worldSize(), base.masterAddr(),
        base.masterPort(), base.backend().key(), base.timeout().toSeconds());
    try {
      for (int i = 0; i < count; i++) workers.add(start(firstRank + i, i));
      return supervise(workers);
    } finally {
      for (Process p : workers) p.destroyForcibly();
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs anyway
      }
    }
  }

  private Process start(int rank, int local) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("-agentlib:jdwp") || a.startsWith("-Dmergetune.log.level=") || a.startsWith("-javaagent:")) {
        continue;  // a debugger port cannot be shared; the log level is set per rank below
      }
      cmd.add(a);
    }
    boolean quiet = rank != 0 && !allOutput;
    if (quiet) cmd.add("-Dmergetune.log.level=WARN");
    if (rank != 0) cmd.add("-Dmergetune.progress=off");
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), MergetuneCli.class.getName(), "launch", "--"));
    cmd.addAll(command);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Map<String, String> env = pb.environment();
    env.putAll(base.withRank(rank, local).environment());
    env.putIfAbsent("OMP_NUM_THREADS",
        Integer.toString(Math.max(1, Runtime.getRuntime().availableProcessors() / count)));
    env.putIfAbsent("OPENBLAS_NUM_THREADS", "1");
    if (rank == 0) {
      pb.inheritIO();
    } else {
      pb.redirectInput(ProcessBuilder.Redirect.INHERIT);
      pb.redirectOutput(allOutput ? ProcessBuilder.Redirect.PIPE : ProcessBuilder.Redirect.DISCARD);
      pb.redirectError(ProcessBuilder.Redirect.PIPE);
    }
    Process p = pb.start();
    if (rank != 0) {
      relay(p.getErrorStream(), rank);
      if (allOutput) relay(p.getInputStream(), rank);
    }
    return p;
  }

  private void relay(InputStream in, int rank) {
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          synchronized (err) {
            err.println("[rank " + rank + "] " + line);
          }
        }
      } catch (IOException ignored) {
        // the worker is gone
      }
    }, "mergetune-launch-rank-" + rank);
    t.setDaemon(true);
    t.start();
  }

  private int supervise(List<Process> workers) throws InterruptedException {
    int[] codes = new int[workers.size()];
    boolean[] done = new boolean[workers.size()];
    int firstFailure = -1;
    long deadline = Long.MAX_VALUE;  // after a failure: when the others are terminated, then killed
    boolean terminated = false;
    int remaining = workers.size();
    while (remaining > 0) {
      for (int i = 0; i < workers.size(); i++) {
        Process p = workers.get(i);
        if (done[i] || p.isAlive()) continue;
        done[i] = true;
        remaining--;
        codes[i] = p.exitValue();
        if (codes[i] != 0) {
          synchronized (err) {
            err.println("mergetune launch: rank " + (firstRank + i) + " (pid " + p.pid() + ") " + describe(codes[i]));
          }
          if (firstFailure < 0) {
            firstFailure = i;
            deadline = System.currentTimeMillis() + base.timeout().toMillis() + GRACE_MILLIS;
          }
        }
      }
      if (remaining > 0 && System.currentTimeMillis() > deadline) {
        for (int i = 0; i < workers.size(); i++) {
          if (done[i]) continue;
          if (!terminated) {
            err.println("mergetune launch: rank " + (firstRank + i) + " did not stop after rank "
                + (firstRank + firstFailure) + " failed; terminating it");
            workers.get(i).destroy();
          } else {
            workers.get(i).destroyForcibly();
          }
        }
        terminated = true;
        deadline = System.currentTimeMillis() + GRACE_MILLIS;
      }
      Thread.sleep(50);
    }
    return firstFailure < 0 ? 0 : codes[firstFailure];
  }

  static String describe(int code) {
    return code > 128 && code < 160 ? "was killed by signal " + (code - 128) + " (exit code " + code + ")"
        : "exited with code " + code;
  }
}
