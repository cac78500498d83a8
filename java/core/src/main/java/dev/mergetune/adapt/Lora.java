package dev.mergetune.adapt;

import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.nn.Linear;
import dev.mergetune.tensors.NamedTensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Low-rank adapters on the MLP layers ({@code mlp.c_fc} and {@code mlp.c_proj}) of every residual block of both
 * towers, not on attention, as ConDU fine-tunes with LoRA: each targeted layer computes
 * {@code y = x·Wᵀ + b + scaling·(x·Aᵀ)·Bᵀ} with {@code A} [r, in] and {@code B} [out, r]. ConDU's recipe is rank 64,
 * scaling 1/8.
 *
 * <p>Initialisation: ConDU draws <b>both</b> A and B from N(0, 0.01²) — unlike the LoRA paper (Hu et al.), which
 * sets B = 0 so that training starts exactly at the base model. With ConDU's init the adapted model differs from the
 * base from step 0. The draws come from a CPU generator of their own seeded with {@code seed} (LibTorch's global
 * generator is not touched), A then B for each layer in {@link ClipModel#mlpLinears()} order.
 *
 * <p>Names: {@code <layer>.lora_A} and {@code <layer>.lora_B}, e.g.
 * {@code visual.transformer.resblocks.0.mlp.c_fc.lora_A} or {@code transformer.resblocks.11.mlp.c_proj.lora_B}. The
 * adapter tensors are held here and reach the model through {@link Linear#setAdapter}; they are not registered
 * module parameters, so {@link ClipModel#stateDict()} stays the base model's keys (use {@link #parameters()}).
 *
 * <p>{@link #merge()} folds scaling·B·A into W in place and switches the adapters off; {@link #unmerge()} subtracts
 * it again and switches them back on. Float rounding makes the restored W differ from the original by a few ulps
 * (not bit-exact); reload the base checkpoint when exact base weights matter.
 */
public final class Lora {
  public static final int CONDU_RANK = 64;
  public static final double CONDU_SCALING = 1.0 / 8;
  public static final double CONDU_INIT_STD = 0.01;
  static final String FORMAT = "mergetune-lora-1";

  private record Layer(String name, Linear linear, Tensor a, Tensor b, Linear.Adapter adapter) {}

  private final List<Layer> layers;
  private final int rank;
  private final double scaling;
  private boolean merged;
  private boolean detached;

  private Lora(List<Layer> layers, int rank, double scaling) {
    this.layers = layers;
    this.rank = rank;
    this.scaling = scaling;
  }

  /** Attaches ConDU's adapters: rank 64, scaling 1/8, A and B from N(0, 0.01²). */
  public static Lora attachCondu(ClipModel model, long seed) {
    return attach(model, CONDU_RANK, CONDU_SCALING, seed);
  }

  /** Attaches adapters of rank {@code rank} with A and B from N(0, 0.01²) (ConDU's init, see the class comment). */
  public static Lora attach(ClipModel model, int rank, double scaling, long seed) {
    if (rank < 1) throw new IllegalArgumentException("rank must be positive, got " + rank);
    if (!Double.isFinite(scaling)) throw new IllegalArgumentException("scaling must be finite, got " + scaling);
    Generator gen = torch.createCPUGenerator(seed);
    List<Layer> layers = new ArrayList<>();
    for (Map.Entry<String, Linear> e : model.mlpLinears().entrySet()) {
      Linear lin = e.getValue();
      if (lin.adapter() != null) throw new IllegalStateException(e.getKey() + " already has an adapter");
      long out = lin.weight().size(0);
      long in = lin.weight().size(1);
      Tensor a = torch.zeros(rank, in);
      Tensor b = torch.zeros(out, rank);
      try (NoGradGuard g = new NoGradGuard()) {
        a.normal_(0.0, CONDU_INIT_STD, new GeneratorOptional(gen));
        b.normal_(0.0, CONDU_INIT_STD, new GeneratorOptional(gen));
      }
      a.set_requires_grad(true);
      b.set_requires_grad(true);
      Scalar s = new Scalar(scaling);
      Linear.Adapter adapter = x -> x.matmul(a.t()).matmul(b.t()).mul(s);
      lin.setAdapter(adapter);
      layers.add(new Layer(e.getKey(), lin, a, b, adapter));
    }
    return new Lora(layers, rank, scaling);
  }

  /** Turns off gradients for every base parameter of {@code model} (the adapters keep theirs). */
  public static void freezeBase(ClipModel model) {
    for (Tensor t : model.stateDict().values()) t.set_requires_grad(false);
  }

  public int rank() {
    return rank;
  }

  public double scaling() {
    return scaling;
  }

  public boolean merged() {
    return merged;
  }

  /** The adapter tensors by name ({@code <layer>.lora_A}, {@code <layer>.lora_B}), layer by layer. */
  public LinkedHashMap<String, Tensor> parameters() {
    LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
    for (Layer l : layers) {
      out.put(l.name + ".lora_A", l.a);
      out.put(l.name + ".lora_B", l.b);
    }
    return out;
  }

  /** The trainable tensors, in {@link #parameters()} order. */
  public List<Tensor> trainable() {
    return new ArrayList<>(parameters().values());
  }

  /** The prefixes of the adapted layers, e.g. {@code visual.transformer.resblocks.0.mlp.c_fc}. */
  public List<String> layerNames() {
    List<String> out = new ArrayList<>();
    for (Layer l : layers) out.add(l.name);
    return out;
  }

  /** W += scaling·B·A in every adapted layer (no gradient recorded); the adapters stop adding their term. */
  public void merge() {
    checkAttached();
    if (merged) throw new IllegalStateException("already merged");
    try (NoGradGuard g = new NoGradGuard()) {
      for (Layer l : layers) {
        l.linear.weight().add_(delta(l));
        l.linear.setAdapter(null);
      }
    }
    merged = true;
  }

  /** W −= scaling·B·A in every adapted layer; the adapters add their term again. */
  public void unmerge() {
    checkAttached();
    if (!merged) throw new IllegalStateException("not merged");
    try (NoGradGuard g = new NoGradGuard()) {
      for (Layer l : layers) {
        l.linear.weight().sub_(delta(l));
        l.linear.setAdapter(l.adapter);
      }
    }
    merged = false;
  }

  /**
   * Removes the adapters from the model. If merged, the merged weights stay (the model keeps the adaptation);
   * otherwise the model is the base model again.
   */
  public void detach() {
    checkAttached();
    for (Layer l : layers) if (l.linear.adapter() == l.adapter) l.linear.setAdapter(null);
    detached = true;
  }

  private Tensor delta(Layer l) {
    return l.b.matmul(l.a).mul(new Scalar(scaling));
  }

  private void checkAttached() {
    if (detached) throw new IllegalStateException("detached");
  }

  /** Writes the adapter tensors (F32) with the rank and scaling in the header metadata. */
  public void save(Path target) throws IOException {
    writeAdapters(target, parameters(), rank, scaling);
  }

  /**
   * Writes adapter tensors named as {@link #parameters()} names them in the format {@link #load} reads (F32; rank
   * and scaling in the header metadata), atomically.
   */
  public static void writeAdapters(Path target, Map<String, Tensor> adapters, int rank, double scaling)
      throws IOException {
    NamedTensors.save(target, adapters, Map.of("format", FORMAT, "rank", Integer.toString(rank),
        "scaling", Double.toString(scaling)));
  }

  /**
   * Loads adapter tensors saved by {@link #save} into these adapters in place. The names, shapes and scaling must
   * match; not while merged.
   */
  public void load(Path source) {
    if (merged) throw new IllegalStateException("unmerge before loading adapters");
    Map<String, String> meta = NamedTensors.metadata(source);
    if (!FORMAT.equals(meta.get("format"))) throw new IllegalArgumentException(source + " is not a LoRA adapter file");
    if (Double.parseDouble(meta.get("scaling")) != scaling) {
      throw new IllegalArgumentException(source + " has scaling " + meta.get("scaling") + ", these adapters " + scaling);
    }
    NamedTensors.load(source, parameters());
  }
}
