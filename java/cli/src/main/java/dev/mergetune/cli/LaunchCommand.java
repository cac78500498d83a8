package dev.mergetune.cli;

import dev.mergetune.distributed.BackendKind;
import dev.mergetune.distributed.C10dProcessGroup;
import dev.mergetune.distributed.DistributedConfig;
import dev.mergetune.distributed.GradientSyncMode;
import dev.mergetune.distributed.ProcessGroupContext;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mergetune launch}: a training command run data-parallel on PyTorch's c10d engine, torchrun style.
 *
 * <ul>
 *   <li>{@code --nproc-per-node N [--nnodes M --node-rank R --master-addr A --master-port P] -- CMD}: starts N worker
 *       JVMs on this machine (ranks R·N … R·N + N − 1 of M·N) and watches them ({@link WorkerProcesses});
 *   <li>{@code --rank R --world-size W --master-addr A [--master-port P] -- CMD}, or {@code -- CMD} with torchrun's
 *       variables set ({@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK}, {@code MASTER_ADDR},
 *       {@code MASTER_PORT}): this process is one worker, for cluster schedulers that start one process per rank.
 * </ul>
 *
 * A worker joins the job ({@link C10dProcessGroup#join}: TCPStore rendezvous at rank 0, Gloo or NCCL), installs it as
 * the JVM's {@link ProcessGroupContext} and runs CMD, which trains data-parallel through {@code TrainingLoop}.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "launch", description = "Run train | continue | condu add-task | pretrain data-parallel over several"
    + " processes (PyTorch c10d: TCPStore rendezvous, Gloo on CPU / NCCL on CUDA). The command's --batch is the global"
    + " batch, split evenly over the ranks. Example: launch --nproc-per-node 2 -- train --method coop ...")
final class LaunchCommand implements Callable<Integer> {
  static final List<String> DISTRIBUTABLE = List.of("train", "continue", "condu add-task", "pretrain");

  @Option(names = "--nproc-per-node", description = "Start this many workers on this machine (one per GPU with NCCL)")
  Integer nprocPerNode;

  @Option(names = "--nnodes", defaultValue = "1", description = "Machines in the job (default ${DEFAULT-VALUE})")
  int nnodes;

  @Option(names = "--node-rank", defaultValue = "0", description = "This machine's index, 0 … nnodes − 1"
      + " (default ${DEFAULT-VALUE})")
  int nodeRank;

  @Option(names = "--master-addr", description = "Host of rank 0, where the rendezvous store listens (default"
      + " 127.0.0.1 on one machine; $MASTER_ADDR for a worker)")
  String masterAddr;

  @Option(names = "--master-port", description = "Port of the rendezvous store (default: a free port on one machine,"
      + " else " + DistributedConfig.DEFAULT_PORT + "; $MASTER_PORT for a worker)")
  Integer masterPort;

  @Option(names = "--rank", description = "Run this process as this global rank (with --world-size)")
  Integer rank;

  @Option(names = "--world-size", description = "Ranks in the job (with --rank)")
  Integer worldSize;

  @Option(names = "--local-rank", description = "This worker's index on its machine (default: $LOCAL_RANK, else the"
      + " rank)")
  Integer localRank;

  @Option(names = "--backend", description = "auto | gloo | nccl (default auto: NCCL for CUDA tensors, else Gloo)")
  String backend;

  @Option(names = "--timeout", description = "Seconds the rendezvous and each collective may wait for another rank"
      + " (default 300)")
  Integer timeoutSeconds;

  @Option(names = "--grad-sync", description = "overlap (c10d Reducer, during backward; default) | after-backward")
  String gradSync;

  @Option(names = "--all-output", description = "Show every rank's output (prefixed [rank N]); by default ranks"
      + " other than 0 show warnings and errors only")
  boolean allOutput;

  @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "After --: the mergetune command to run")
  List<String> command;

  @Override
  public Integer call() throws Exception {
    checkCommand();
    if (nprocPerNode != null) return launchWorkers();
    return runWorker(workerConfig(System.getenv()));
  }

  private void checkCommand() {
    String head = command.get(0).equals("condu") && command.size() > 1 ? "condu " + command.get(1) : command.get(0);
    if (!DISTRIBUTABLE.contains(head)) {
      throw new IllegalArgumentException("launch runs " + String.join(", ", DISTRIBUTABLE) + "; not '" + head + "'");
    }
  }

  private int launchWorkers() throws IOException, InterruptedException {
    if (rank != null || worldSize != null) {
      throw new IllegalArgumentException("--nproc-per-node starts workers; --rank / --world-size run this process as"
          + " one: give one or the other");
    }
    if (nprocPerNode < 1) throw new IllegalArgumentException("--nproc-per-node must be at least 1");
    if (nnodes < 1) throw new IllegalArgumentException("--nnodes must be at least 1");
    if (nodeRank < 0 || nodeRank >= nnodes) {
      throw new IllegalArgumentException("--node-rank must be in 0 … " + (nnodes - 1) + ", got " + nodeRank);
    }
    String addr = masterAddr;
    if (addr == null) {
      if (nnodes > 1) throw new IllegalArgumentException("--master-addr is needed with --nnodes > 1: the host of node 0");
      addr = "127.0.0.1";
    }
    int port = masterPort != null ? masterPort : nnodes == 1 ? freePort() : DistributedConfig.DEFAULT_PORT;
    DistributedConfig c = new DistributedConfig(nodeRank * nprocPerNode, nnodes * nprocPerNode, 0, addr, port,
        backendKind(null), timeout(null), syncMode(null));
    return new WorkerProcesses(c, nodeRank * nprocPerNode, nprocPerNode, command, allOutput).run();
  }

  /** The worker's configuration: options first, torchrun's variables for what they do not give. */
  DistributedConfig workerConfig(Map<String, String> env) {
    if (rank == null && worldSize == null && !DistributedConfig.presentIn(env)) {
      throw new IllegalArgumentException("launch needs --nproc-per-node N (start N workers here), or --rank and"
          + " --world-size (this process is one worker), or RANK and WORLD_SIZE in the environment");
    }
    if ((rank == null) != (worldSize == null)) throw new IllegalArgumentException("give both --rank and --world-size");
    java.util.HashMap<String, String> vars = new java.util.HashMap<>(env);
    if (rank != null) {
      vars.put("RANK", rank.toString());
      vars.put("WORLD_SIZE", worldSize.toString());
      if (localRank == null && !env.containsKey("LOCAL_RANK")) vars.put("LOCAL_RANK", rank.toString());
    }
    if (localRank != null) vars.put("LOCAL_RANK", localRank.toString());
    if (masterAddr != null) vars.put("MASTER_ADDR", masterAddr);
    if (masterPort != null) vars.put("MASTER_PORT", masterPort.toString());
    DistributedConfig c = DistributedConfig.fromEnvironment(vars);
    return new DistributedConfig(c.rank(), c.worldSize(), c.localRank(), c.masterAddr(), c.masterPort(),
        backendKind(c.backend()), timeout(c.timeout()), syncMode(c.gradientSync()));
  }

  /** Joins the job, runs the command in this JVM as that rank, and leaves the job. */
  private int runWorker(DistributedConfig c) {
    // The CLI trains on the CPU, so auto resolves to Gloo (NCCL when forced: CPU tensors staged through the GPU).
    C10dProcessGroup group = C10dProcessGroup.join(c, String.join(" ", command), false);
    ProcessGroupContext.install(group);
    int code = 1;
    try {
      code = MergetuneCli.execute(command.toArray(new String[0]));
      if (code != 0) group.announceFailure("its command exited with code " + code);
      return code;
    } catch (RuntimeException | Error e) {
      group.announceFailure(e.toString());
      throw e;
    } finally {
      if (code == 0) group.close();  // a failed rank leaves at once: the others' collectives report it
      ProcessGroupContext.install(null);
    }
  }

  private BackendKind backendKind(BackendKind fallback) {
    if (backend != null) return BackendKind.parse(backend, "--backend");
    return fallback != null ? fallback : BackendKind.AUTO;
  }

  private Duration timeout(Duration fallback) {
    if (timeoutSeconds != null) {
      if (timeoutSeconds < 1) throw new IllegalArgumentException("--timeout must be at least 1 second");
      return Duration.ofSeconds(timeoutSeconds);
    }
    return fallback != null ? fallback : DistributedConfig.DEFAULT_TIMEOUT;
  }

  private GradientSyncMode syncMode(GradientSyncMode fallback) {
    if (gradSync != null) return GradientSyncMode.parse(gradSync, "--grad-sync");
    return fallback != null ? fallback : GradientSyncMode.OVERLAP;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
