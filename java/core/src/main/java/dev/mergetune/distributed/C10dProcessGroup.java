package dev.mergetune.distributed;

import dev.mergetune.kernels.NativeRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.BackendOptional;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.ByteVector;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.PrefixStore;
import org.bytedeco.pytorch.ProcessGroup;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A rank of a job on PyTorch's c10d engine, through the JavaCPP preset: rendezvous at rank 0's {@code TCPStore}
 * ({@link Rendezvous}), the collectives on {@code ProcessGroupGloo} (CPU tensors) or {@code ProcessGroupNCCL} (CUDA
 * tensors; CPU tensors are staged through {@code cuda:LOCAL_RANK}), and a {@code ProcessGroup} over the Gloo backend for
 * c10d's {@code Reducer}. What 1.5.13 does and does not do from Java is in {@code java/core/NOTES-distributed.md}.
 *
 * <p>Failures: every collective that throws is turned into a {@link WorkerFailedException} naming the rank that died
 * or went silent ({@link Liveness}); the rendezvous refuses a second process claiming a rank, a rank told another
 * world size or command than rank 0's, and reports a rendezvous that did not complete within the timeout.
 */
public final class C10dProcessGroup implements ProcessGroupContext {
  private static final Logger LOG = LoggerFactory.getLogger(C10dProcessGroup.class);
  private static final int FILE_CHUNK = 64 << 20;
  private static final long POLL_MILLIS = 20;

  private final DistributedConfig config;
  private final TCPStore store;
  private final Store queries;
  private final Backend backend;
  private final BackendKind kind;
  private final ProcessGroup group;  // Gloo only (the Reducer reduces CPU tensors)
  private final Device stagingDevice;  // NCCL: where CPU tensors are reduced
  private final Liveness liveness;
  private long mainSequence;
  private boolean closed;

  private C10dProcessGroup(DistributedConfig config, TCPStore store, Store queries, Backend backend, BackendKind kind,
      ProcessGroup group, Device stagingDevice, Liveness liveness) {
    this.config = config;
    this.store = store;
    this.queries = queries;
    this.backend = backend;
    this.kind = kind;
    this.group = group;
    this.stagingDevice = stagingDevice;
    this.liveness = liveness;
  }

  /**
   * Joins the job of {@code config}: rendezvous (bounded by the timeout), checks that every rank runs the same
   * {@code jobTag} (e.g. the command line) in the same world size, then builds the backend. {@code cudaTensors}: where
   * the training tensors live, for {@link BackendKind#AUTO}.
   */
  public static C10dProcessGroup join(DistributedConfig config, String jobTag, boolean cudaTensors) {
    NativeRuntime.ensureTorch();
    long t0 = System.nanoTime();
    TCPStore store = Rendezvous.connect(config);
    claimRank(store, config, jobTag);
    BackendKind kind = config.backend().resolve(cudaTensors);
    Store prefixed = new PrefixStore("mergetune/pg/" + kind.key(), store);
    Backend backend;
    ProcessGroup group = null;
    Device staging = null;
    if (kind == BackendKind.GLOO) {
      ProcessGroupGloo.Options o = ProcessGroupGloo.Options.create(new Milliseconds(config.timeout().toMillis()));
      o.devices(new GlooDeviceVector(glooDevice(config)));
      try {
        backend = new ProcessGroupGloo(prefixed, config.rank(), config.worldSize(), o);
      } catch (RuntimeException e) {
        throw new DistributedException("rank " + config.rank() + ": the Gloo process group could not connect to its"
            + " peers within " + config.timeout().toSeconds() + " s: " + Rendezvous.firstLine(e), e);
      }
      // ProcessGroup(store, rank, size) aborts the JVM in 1.5.13 (intrusive_ptr refcount assertion); the
      // (rank, size) constructor plus setBackend works (NOTES-distributed.md).
      group = new ProcessGroup(config.rank(), config.worldSize());
      group.setBackend(torch.DeviceType.CPU, ProcessGroup.BackendType.GLOO, new BackendOptional(backend));
      group.setDefaultBackend(ProcessGroup.BackendType.GLOO);
    } else {
      backend = NcclBackend.create(prefixed, config);
      staging = new Device("cuda:" + config.localRank());
    }
    Liveness live = new Liveness(store.clone(), store.clone(), config.rank(), config.worldSize(),
        config.masterAddr() + ":" + config.masterPort());
    LOG.info(String.format(Locale.ROOT, "rank %d of %d joined %s at %s:%d in %.1f s", config.rank(),
        config.worldSize(), kind.key(), config.masterAddr(), config.masterPort(), (System.nanoTime() - t0) / 1e9));
    return new C10dProcessGroup(config, store, store.clone(), backend, kind, group, staging, live);
  }

  /** One process per rank, and every rank in rank 0's world running rank 0's command. */
  private static void claimRank(TCPStore store, DistributedConfig c, String jobTag) {
    if (store.add("mergetune/rank/" + c.rank(), 1) > 1) {
      throw new DistributedException("rank " + c.rank() + " was started twice: give every worker its own RANK");
    }
    String job = c.worldSize() + " ranks running: " + jobTag;
    if (c.rank() == 0) {
      store.set("mergetune/job", Liveness.bytes(job));
      return;
    }
    String main;
    try {
      main = Liveness.string(store.get("mergetune/job"));
    } catch (RuntimeException e) {
      throw new DistributedException("rank " + c.rank() + ": rank 0 did not describe the job within "
          + c.timeout().toSeconds() + " s: " + Rendezvous.firstLine(e), e);
    }
    if (!main.equals(job)) {
      throw new DistributedException("rank " + c.rank() + " is not part of rank 0's job: rank 0 has " + main
          + "; this rank has " + job);
    }
  }

  /** Loopback for a local job; GLOO_SOCKET_IFNAME when set; otherwise the address this host's name resolves to. */
  private static org.bytedeco.pytorch.gloo.Device glooDevice(DistributedConfig c) {
    String ifname = System.getenv("GLOO_SOCKET_IFNAME");
    if (ifname != null && !ifname.isBlank()) return ProcessGroupGloo.createDeviceForInterface(ifname.trim());
    String a = c.masterAddr();
    if (a.equals("localhost") || a.startsWith("127.") || a.equals("::1")) {
      return ProcessGroupGloo.createDeviceForHostname("127.0.0.1");
    }
    return ProcessGroupGloo.createDefaultDevice();
  }

  public DistributedConfig config() {
    return config;
  }

  @Override
  public int rank() {
    return config.rank();
  }

  @Override
  public int worldSize() {
    return config.worldSize();
  }

  @Override
  public String backend() {
    return kind.key();
  }

  @Override
  public ProcessGroup processGroup() {
    return group;
  }

  @Override
  public boolean reducesInPlace(Tensor sample) {
    return kind == BackendKind.GLOO ? !sample.is_cuda() : sample.is_cuda();
  }

  @Override
  public void allreduceSum(List<Tensor> tensors, String what) {
    if (tensors.isEmpty()) return;
    Staged s = stage(tensors);
    AllreduceOptions o = new AllreduceOptions();
    o.reduceOp(new ReduceOp(ReduceOp.RedOpType.SUM));
    o.timeout(new Milliseconds(config.timeout().toMillis()));
    await(backend.allreduce(new TensorVector(s.onDevice.toArray(new Tensor[0])), o), what);
    s.copyBack();
  }

  @Override
  public void broadcast(List<Tensor> tensors, String what) {
    if (tensors.isEmpty()) return;
    Staged s = stage(tensors);
    BroadcastOptions o = new BroadcastOptions();
    o.rootRank(0);
    o.timeout(new Milliseconds(config.timeout().toMillis()));
    // one tensor per call: the backends take a list for the tensors of one device
    for (Tensor t : s.onDevice) await(backend.broadcast(new TensorVector(t), o), what);
    s.copyBack();
  }

  @Override
  public Tensor allgather(Tensor local, String what) {
    Tensor in = local.contiguous();
    long[] shape = in.sizes().vec().get();
    long[] outShape = shape.clone();
    outShape[0] *= worldSize();
    Staged s = stage(List.of(in));
    Tensor out = torch.empty(outShape, s.onDevice.get(0).options(), new org.bytedeco.pytorch.MemoryFormatOptional());
    await(backend._allgather_base(out, s.onDevice.get(0)), what);
    return stagingDevice == null || local.is_cuda() ? out : out.cpu();
  }

  @Override
  public void barrier(String what) {
    // an all-reduce of one number: the same on both backends (NCCL's barrier is one too)
    allreduceSum(List.of(torch.zeros(1)), what);
  }

  @Override
  public byte[] onMain(String what, MainAction action) throws IOException {
    String key = "mergetune/main/" + (mainSequence++);
    if (isMain()) {
      byte[] result;
      try {
        result = Installed.alone(action);
      } catch (IOException | RuntimeException | Error e) {
        queries.set(key, Liveness.bytes("E" + Rendezvous.firstLine(e)));
        throw e;
      }
      byte[] value = new byte[result.length + 1];
      value[0] = 'K';
      System.arraycopy(result, 0, value, 1, result.length);
      queries.set(key, new ByteVector(value));
      return result;
    }
    long beat = -1;
    long beatSeen = System.nanoTime();
    StringVector keys = new StringVector(key);
    try {
      while (!queries.check(keys)) {
        Thread.sleep(POLL_MILLIS);
        long b = liveness.mainBeat();
        if (b != beat) {
          beat = b;
          beatSeen = System.nanoTime();
        } else if (System.nanoTime() - beatSeen > config.timeout().toNanos()) {
          throw new WorkerFailedException("rank " + rank() + ": rank 0 stopped responding (no heartbeat for "
              + config.timeout().toSeconds() + " s) while it was to " + what, List.of(0), null);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DistributedException("interrupted while waiting for rank 0 to " + what, e);
    } catch (WorkerFailedException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new WorkerFailedException("rank " + rank() + ": rank 0 has stopped while it was to " + what
          + " (the rendezvous store it serves is unreachable: " + Rendezvous.firstLine(e) + ")", List.of(0), e);
    }
    byte[] value = queries.get(key).get();
    if (value[0] == 'E') {
      throw new DistributedException("rank 0 failed to " + what + ": "
          + new String(value, 1, value.length - 1, StandardCharsets.UTF_8));
    }
    return java.util.Arrays.copyOfRange(value, 1, value.length);
  }

  @Override
  public Path broadcastFile(Path source, Path target, String what) throws IOException {
    Tensor size = torch.zeros(new long[] {1}, new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Long));
    if (isMain()) size.fill_(new Scalar(Files.size(source)));
    broadcast(List.of(size), what);
    long total = size.item_long();
    byte[] chunk = new byte[(int) Math.min(FILE_CHUNK, Math.max(total, 1))];
    try (InputStream in = isMain() ? Files.newInputStream(source) : null;
        OutputStream out = isMain() ? null : Files.newOutputStream(target)) {
      for (long done = 0; done < total; ) {
        int n = (int) Math.min(chunk.length, total - done);
        Tensor t;
        if (isMain()) {
          in.readNBytes(chunk, 0, n);
          t = Tensor.create(java.util.Arrays.copyOf(chunk, n), false, n);
        } else {
          t = torch.empty(new long[] {n}, new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Byte),
              new org.bytedeco.pytorch.MemoryFormatOptional());
        }
        broadcast(List.of(t), what);
        if (!isMain()) {
          t.contiguous().data_ptr_byte().get(chunk, 0, n);
          out.write(chunk, 0, n);
        }
        done += n;
      }
    }
    return isMain() ? source : target;
  }

  @Override
  public void announceFailure(String message) {
    liveness.announceFailure(message);
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    try {
      barrier("finish the job");
    } catch (RuntimeException e) {
      liveness.close();
      throw e;
    }
    liveness.close();
    // rank 0 serves the store: it leaves only after every rank has stopped using it
    queries.add("mergetune/closed", 1);
    long end = System.nanoTime() + config.timeout().toNanos();
    while (isMain() && queries.add("mergetune/closed", 0) < worldSize() && System.nanoTime() < end) {
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
  }

  private void await(Work w, String what) {
    try {
      w._wait();
    } catch (RuntimeException e) {
      throw liveness.diagnose(what, e);
    }
  }

  @Override
  public WorkerFailedException diagnose(String what, RuntimeException e) {
    return liveness.diagnose(what, e);
  }

  /** CPU tensors on NCCL go through the staging device; everything else is reduced where it is. */
  private Staged stage(List<Tensor> tensors) {
    List<Tensor> device = new ArrayList<>(tensors.size());
    boolean staged = false;
    for (Tensor t : tensors) {
      if (!t.is_contiguous()) throw new IllegalArgumentException("collectives need contiguous tensors");
      if (stagingDevice != null && !t.is_cuda()) {
        device.add(t.to(stagingDevice, t.scalar_type()));
        staged = true;
      } else {
        device.add(t);
      }
    }
    return new Staged(tensors, device, staged);
  }

  private record Staged(List<Tensor> original, List<Tensor> onDevice, boolean staged) {
    void copyBack() {
      if (!staged) return;
      for (int i = 0; i < original.size(); i++) {
        if (original.get(i) != onDevice.get(i)) original.get(i).copy_(onDevice.get(i));
      }
    }
  }

  @Override
  public String toString() {
    return "rank " + rank() + " of " + worldSize() + " (" + kind.key() + ")";
  }
}
