package dev.mergetune.distributed;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.pytorch.ProcessGroup;
import org.bytedeco.pytorch.Tensor;

/**
 * The process group a training command runs in: its rank and world size, and the collectives the data-parallel code
 * needs, all carried by PyTorch's c10d engine through the preset ({@link C10dProcessGroup}: TCPStore rendezvous,
 * ProcessGroupGloo or ProcessGroupNCCL). A single process is {@link #single()}: every collective is the identity.
 *
 * <p>Every collective blocks until it is done on this rank. A collective that fails because another rank died or
 * stopped responding throws {@link WorkerFailedException} naming that rank. {@code what} names the operation in
 * errors ("gradient all-reduce at step 12").
 *
 * <p>A command finds its group with {@link #current()}: {@link #single()} unless {@code mergetune launch} (or an
 * embedding application) {@link #install installed} one.
 */
public interface ProcessGroupContext extends AutoCloseable {
  int rank();

  int worldSize();

  /** Rank 0: the one that writes run folders, checkpoints and reports. */
  default boolean isMain() {
    return rank() == 0;
  }

  default boolean distributed() {
    return worldSize() > 1;
  }

  /** "gloo", "nccl", or "none" for a single process. */
  String backend();

  /** Each tensor (contiguous, same shape and dtype on every rank) becomes its sum over the ranks, in place. */
  void allreduceSum(List<Tensor> tensors, String what);

  /** Each tensor becomes rank 0's, in place. */
  void broadcast(List<Tensor> tensors, String what);

  /** Every rank's {@code local} (same shape on every rank) concatenated along dimension 0, in rank order. */
  Tensor allgather(Tensor local, String what);

  /** Returns once every rank has reached it. */
  void barrier(String what);

  /**
   * Rank 0 runs {@code action}; the others wait for it without a collective timeout (rank 0 may take long, e.g. over a
   * report) but not past rank 0's death. If the action fails on rank 0, it throws there and every other rank throws
   * an error saying so, naming {@code what}. Returns the bytes the action returned, on every rank.
   */
  byte[] onMain(String what, MainAction action) throws IOException;

  /** {@link #onMain} for an action without a result. */
  default void mainOnly(String what, MainTask task) throws IOException {
    onMain(what, () -> {
      task.run();
      return new byte[0];
    });
  }

  /** A yes/no decided on rank 0 (e.g. "is there a checkpoint to resume from"), the same on every rank. */
  default boolean decideOnMain(String what, MainDecision decision) throws IOException {
    return onMain(what, () -> new byte[] {(byte) (decision.decide() ? 1 : 0)})[0] == 1;
  }

  /**
   * Copies rank 0's file {@code source} to {@code target} on every other rank (in chunks, through the backend); on
   * rank 0 it returns {@code source}, elsewhere {@code target}.
   */
  Path broadcastFile(Path source, Path target, String what) throws IOException;

  /**
   * The c10d {@code ProcessGroup} (for the {@code Reducer}); null when there is none (a single process, or a backend
   * that cannot reduce CPU tensors).
   */
  ProcessGroup processGroup();

  /** Whether the backend reduces tensors where the training tensors are (Gloo: CPU; NCCL: CUDA). */
  boolean reducesInPlace(Tensor sample);

  /**
   * Leaves {@code message} for the other ranks before this one stops on an error of its own, so that their failing
   * collectives name this rank and its error (a no-op for a single process).
   */
  default void announceFailure(String message) {}

  /** {@code e}, thrown by a c10d call this interface did not make (the Reducer in backward), with the failed rank named. */
  default RuntimeException diagnose(String what, RuntimeException e) {
    return e;
  }

  /** Ends this rank's part: waits for the others (so the rendezvous store outlives its clients), then frees it. */
  @Override
  void close();

  @FunctionalInterface
  interface MainAction {
    byte[] run() throws IOException;
  }

  @FunctionalInterface
  interface MainTask {
    void run() throws IOException;
  }

  @FunctionalInterface
  interface MainDecision {
    boolean decide() throws IOException;
  }

  /** One process: rank 0 of 1. */
  static ProcessGroupContext single() {
    return SingleProcess.INSTANCE;
  }

  /**
   * The group installed for this JVM, else {@link #single()}; also {@link #single()} inside an action that rank 0
   * runs alone ({@link #onMain}), so that code there (a report's feature extraction, a training loop) does not wait
   * for ranks that are not running it.
   */
  static ProcessGroupContext current() {
    ProcessGroupContext c = Installed.current;
    return c == null || Installed.ALONE.get() ? single() : c;
  }

  /** Makes {@code c} the group of this JVM (null: back to a single process). */
  static void install(ProcessGroupContext c) {
    Installed.current = c;
  }

  /** The installed group (one per JVM: a worker process is one rank). */
  final class Installed {
    private static volatile ProcessGroupContext current;
    private static final ThreadLocal<Boolean> ALONE = ThreadLocal.withInitial(() -> false);

    private Installed() {}

    /** Runs {@code a} with {@link #current()} a single process on this thread. */
    static byte[] alone(MainAction a) throws IOException {
      boolean before = ALONE.get();
      ALONE.set(true);
      try {
        return a.run();
      } finally {
        ALONE.set(before);
      }
    }
  }
}
