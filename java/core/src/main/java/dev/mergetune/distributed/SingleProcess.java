package dev.mergetune.distributed;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.pytorch.ProcessGroup;
import org.bytedeco.pytorch.Tensor;

/** The group of one process: every collective is the identity and rank 0 runs every main-only action. */
final class SingleProcess implements ProcessGroupContext {
  static final SingleProcess INSTANCE = new SingleProcess();

  private SingleProcess() {}

  @Override
  public int rank() {
    return 0;
  }

  @Override
  public int worldSize() {
    return 1;
  }

  @Override
  public String backend() {
    return "none";
  }

  @Override
  public void allreduceSum(List<Tensor> tensors, String what) {}

  @Override
  public void broadcast(List<Tensor> tensors, String what) {}

  @Override
  public Tensor allgather(Tensor local, String what) {
    return local;
  }

  @Override
  public void barrier(String what) {}

  @Override
  public byte[] onMain(String what, MainAction action) throws IOException {
    return action.run();
  }

  @Override
  public Path broadcastFile(Path source, Path target, String what) {
    return source;
  }

  @Override
  public ProcessGroup processGroup() {
    return null;
  }

  @Override
  public boolean reducesInPlace(Tensor sample) {
    return true;
  }

  @Override
  public void close() {}

  @Override
  public String toString() {
    return "a single process";
  }
}
