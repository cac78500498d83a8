package dev.mergetune.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.data.SplitMix64;
import dev.mergetune.tensors.AtomicFiles;
import dev.mergetune.tensors.NamedTensors;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.Optimizer;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A resumable training state in a directory: the trainable tensors, the optimizer state, the random generators and the
 * step / epoch counters.
 *
 * <p>Layout, for a checkpoint taken after {@code step} steps ({@code NNNNNNNNNN} = step, 10 digits):
 *
 * <ul>
 *   <li>{@code trainable-NNNNNNNNNN.safetensors}: the trainable tensors as float32, by name;
 *   <li>{@code optimizer-NNNNNNNNNN.pt}: the LibTorch optimizer's own serialisation ({@code Optimizer.save} into an
 *       {@code OutputArchive}: per-parameter state such as AdamW's step, exp_avg, exp_avg_sq, or SGD's momentum
 *       buffer, and the groups' options). It restores exactly into an optimizer built over the same parameters in the
 *       same order (tested: a resumed run matches an uninterrupted one bit for bit), but its bytes are not a function
 *       of the state alone: LibTorch keys each parameter's state by its TensorImpl address;
 *   <li>{@code torch-rng-NNNNNNNNNN.bin}: LibTorch's default CPU generator state ({@code Generator.get_state()});
 *   <li>{@code training-state.json}: format, step, epoch, the {@link SplitMix64} state, and the names of the three
 *       files above. It is written last and is the commit point.
 * </ul>
 *
 * Every file is written atomically (temporary file, then rename); the data files carry the step in their names, so
 * a crash at any point leaves {@code training-state.json} naming a complete earlier set. After the new state file is in
 * place, files of older steps are deleted.
 */
public final class TrainingCheckpoint {
  public static final String STATE_FILE = "training-state.json";
  static final String FORMAT = "mergetune-training-checkpoint/1";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What {@link #load} read from {@code training-state.json}; the tensors are restored through the methods. */
  public record State(Path dir, long step, long epoch, long rngState, String trainableFile, String optimizerFile,
      String torchRngFile) {
    /** The project's RNG, continuing exactly where the saved one stopped. */
    public SplitMix64 rng() {
      return new SplitMix64(rngState);
    }

    /**
     * Copies the saved tensors into {@code trainable} (in place, without recording gradients). The names must match
     * exactly, and so must the shapes.
     */
    public void restoreTrainable(Map<String, Tensor> trainable) {
      NamedTensors.load(dir.resolve(trainableFile), trainable);
    }

    /** Loads the optimizer state into an optimizer built over the same parameters, in the same order. */
    public void restoreOptimizer(Optimizer optimizer) {
      InputArchive in = new InputArchive();
      in.load_from(dir.resolve(optimizerFile).toString());
      optimizer.load(in);
    }

    /** Loads the optimizer state into a {@link StepOptimizer} built over the same parameters, in the same order. */
    public void restoreOptimizer(StepOptimizer optimizer) throws IOException {
      optimizer.loadState(dir.resolve(optimizerFile));
    }

    /** Sets LibTorch's default CPU generator to the saved state. */
    public void restoreTorchRng() throws IOException {
      byte[] bytes = Files.readAllBytes(dir.resolve(torchRngFile));
      Tensor t = Tensor.create(bytes, false, bytes.length);  // signed = false: uint8, the generator's state dtype
      torch.getDefaultCPUGenerator().set_state(t);
    }

    /** Restores everything: tensors, optimizer state, LibTorch's CPU generator. Returns the project's RNG. */
    public SplitMix64 restore(Map<String, Tensor> trainable, Optimizer optimizer) throws IOException {
      restoreTrainable(trainable);
      restoreOptimizer(optimizer);
      restoreTorchRng();
      return rng();
    }

    /** {@link #restore(Map, Optimizer)} for any {@link StepOptimizer}. */
    public SplitMix64 restore(Map<String, Tensor> trainable, StepOptimizer optimizer) throws IOException {
      restoreTrainable(trainable);
      restoreOptimizer(optimizer);
      restoreTorchRng();
      return rng();
    }
  }

  private TrainingCheckpoint() {}

  /**
   * Saves a checkpoint taken after {@code step} optimizer steps, in epoch {@code epoch}.
   *
   * @param trainable the trainable tensors by name (CPU float32; written in the map's order)
   */
  public static void save(Path dir, long step, long epoch, SplitMix64 rng, Map<String, Tensor> trainable,
      Optimizer optimizer) throws IOException {
    save(dir, step, epoch, rng, trainable, file -> {
      OutputArchive out = new OutputArchive();
      optimizer.save(out);
      out.save_to(file.toString());
    });
  }

  /** {@link #save(Path, long, long, SplitMix64, Map, Optimizer)} for any {@link StepOptimizer}. */
  public static void save(Path dir, long step, long epoch, SplitMix64 rng, Map<String, Tensor> trainable,
      StepOptimizer optimizer) throws IOException {
    save(dir, step, epoch, rng, trainable, optimizer::saveState);
  }

  private interface StateWriter {
    void write(Path file) throws IOException;
  }

  private static void save(Path dir, long step, long epoch, SplitMix64 rng, Map<String, Tensor> trainable,
      StateWriter optimizer) throws IOException {
    if (step < 0 || epoch < 0) throw new IllegalArgumentException("step and epoch must be non-negative");
    Files.createDirectories(dir);
    String tag = String.format("%010d", step);
    String trainableFile = "trainable-" + tag + ".safetensors";
    String optimizerFile = "optimizer-" + tag + ".pt";
    String torchRngFile = "torch-rng-" + tag + ".bin";

    NamedTensors.save(dir.resolve(trainableFile), trainable, Map.of("format", FORMAT, "step", Long.toString(step)));

    // LibTorch names the zip archive's root folder after the file it writes, so the temporary name is fixed (not
    // random) to keep the file's bytes a function of the state alone. One writer per checkpoint directory.
    Path optTmp = dir.resolve(optimizerFile + ".partial");
    Files.deleteIfExists(optTmp);
    try {
      optimizer.write(optTmp);
      try (var ch = java.nio.channels.FileChannel.open(optTmp, java.nio.file.StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      move(optTmp, dir.resolve(optimizerFile));
    } finally {
      Files.deleteIfExists(optTmp);
    }

    Tensor rngState = torch.getDefaultCPUGenerator().get_state().contiguous();
    byte[] rngBytes = new byte[Math.toIntExact(rngState.numel())];
    rngState.data_ptr_byte().get(rngBytes);
    AtomicFiles.write(dir.resolve(torchRngFile), rngBytes);

    ObjectNode json = JSON.createObjectNode();
    json.put("format", FORMAT);
    json.put("step", step);
    json.put("epoch", epoch);
    json.put("splitmix64_state", rng.state());
    json.put("trainable", trainableFile);
    json.put("optimizer", optimizerFile);
    json.put("torch_cpu_rng", torchRngFile);
    byte[] text = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(json);
    AtomicFiles.write(dir.resolve(STATE_FILE), text);

    Set<String> keep = Set.of(trainableFile, optimizerFile, torchRngFile, STATE_FILE);
    try (var files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        String n = p.getFileName().toString();
        boolean ours = n.matches("(trainable-\\d{10}\\.safetensors|optimizer-\\d{10}\\.pt|torch-rng-\\d{10}\\.bin)");
        if (ours && !keep.contains(n)) Files.deleteIfExists(p);
      }
    }
  }

  /** Reads {@code training-state.json}; restore the tensors through the returned {@link State}. */
  public static State load(Path dir) throws IOException {
    var json = JSON.readTree(dir.resolve(STATE_FILE).toFile());
    if (!FORMAT.equals(json.path("format").asText())) {
      throw new IOException(dir.resolve(STATE_FILE) + ": not a " + FORMAT + " file");
    }
    return new State(dir, json.get("step").asLong(), json.get("epoch").asLong(), json.get("splitmix64_state").asLong(),
        json.get("trainable").asText(), json.get("optimizer").asText(), json.get("torch_cpu_rng").asText());
  }

  private static void move(Path tmp, Path target) throws IOException {
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("cannot replace " + target + " atomically on this file system", e);
    }
  }
}
