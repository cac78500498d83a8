package dev.mergetune.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.Optimizer;
import org.bytedeco.pytorch.OptimizerParamGroup;
import org.bytedeco.pytorch.SGD;
import org.bytedeco.pytorch.SGDOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * LibTorch optimizers over named parameter groups. The groups keep the order they were given in; a group's learning
 * rate is set by name with {@link #setLearningRate} (the schedules in this package are pure functions, so the loop
 * sets the rate before each step).
 */
public final class Optimizers {
  /** SGD hyper-parameters (dampening is always 0, as in every recipe we follow). */
  public record SgdConfig(double lr, double momentum, double weightDecay, boolean nesterov) {}

  /** AdamW hyper-parameters (no amsgrad). */
  public record AdamWConfig(double lr, double beta1, double beta2, double eps, double weightDecay) {}

  /** An optimizer and the names of its parameter groups, in order. */
  public static final class Named implements StepOptimizer {
    private final Optimizer optimizer;
    private final List<String> groups;
    private final List<List<Tensor>> params;

    Named(Optimizer optimizer, Map<String, List<Tensor>> groups) {
      this.optimizer = optimizer;
      this.groups = List.copyOf(groups.keySet());
      this.params = new ArrayList<>();
      for (List<Tensor> g : groups.values()) params.add(List.copyOf(g));
    }

    public Optimizer optimizer() {
      return optimizer;
    }

    public List<String> groupNames() {
      return groups;
    }

    /** Every parameter of every group, in group order. */
    @Override
    public List<Tensor> parameters() {
      List<Tensor> all = new ArrayList<>();
      for (List<Tensor> g : params) all.addAll(g);
      return all;
    }

    public void setLearningRate(String group, double lr) {
      int i = groups.indexOf(group);
      if (i < 0) throw new IllegalArgumentException("no parameter group '" + group + "' (have " + groups + ")");
      optimizer.param_groups().get(i).options().set_lr(lr);
    }

    /** Sets every group's learning rate. */
    @Override
    public void setLearningRate(double lr) {
      for (String g : groups) setLearningRate(g, lr);
    }

    public double learningRate(String group) {
      int i = groups.indexOf(group);
      if (i < 0) throw new IllegalArgumentException("no parameter group '" + group + "' (have " + groups + ")");
      return optimizer.param_groups().get(i).options().get_lr();
    }

    @Override
    public void zeroGrad() {
      optimizer.zero_grad(true);
    }

    @Override
    public void step() {
      optimizer.step();
    }

    /**
     * LibTorch's own serialisation ({@code Optimizer.save} into an {@code OutputArchive}): per-parameter state and the
     * groups' options. LibTorch keys the state by TensorImpl address, so the bytes are not a function of the state.
     */
    @Override
    public void saveState(java.nio.file.Path file) {
      org.bytedeco.pytorch.OutputArchive out = new org.bytedeco.pytorch.OutputArchive();
      optimizer.save(out);
      out.save_to(file.toString());
    }

    @Override
    public void loadState(java.nio.file.Path file) {
      org.bytedeco.pytorch.InputArchive in = new org.bytedeco.pytorch.InputArchive();
      in.load_from(file.toString());
      optimizer.load(in);
    }
  }

  private Optimizers() {}

  private static TensorVector vector(List<Tensor> tensors) {
    return new TensorVector(tensors.toArray(new Tensor[0]));
  }

  private static void checkGroups(Map<String, List<Tensor>> groups) {
    if (groups.isEmpty()) throw new IllegalArgumentException("no parameter groups");
    for (Map.Entry<String, List<Tensor>> e : groups.entrySet()) {
      if (e.getValue().isEmpty()) throw new IllegalArgumentException("parameter group '" + e.getKey() + "' is empty");
    }
  }

  /**
   * The preset's {@code OptimizerParamGroupVector} cannot be filled from Java, so the optimizer is built over the first
   * group and the others are added with {@code add_param_group}, which gives a group without options a clone of the
   * optimizer's defaults.
   */
  private static Named finish(Optimizer optimizer, Map<String, List<Tensor>> groups) {
    boolean first = true;
    for (List<Tensor> g : groups.values()) {
      if (!first) optimizer.add_param_group(new OptimizerParamGroup(vector(g)));
      first = false;
    }
    return new Named(optimizer, groups);
  }

  public static Named sgd(Map<String, List<Tensor>> groups, SgdConfig c) {
    Map<String, List<Tensor>> copy = new LinkedHashMap<>(groups);
    checkGroups(copy);
    SGDOptions o = new SGDOptions(c.lr());
    o.momentum().put(c.momentum());
    o.dampening().put(0.0);
    o.weight_decay().put(c.weightDecay());
    o.nesterov().put(c.nesterov());
    return finish(new SGD(vector(copy.values().iterator().next()), o), copy);
  }

  public static Named adamW(Map<String, List<Tensor>> groups, AdamWConfig c) {
    Map<String, List<Tensor>> copy = new LinkedHashMap<>(groups);
    checkGroups(copy);
    AdamWOptions o = new AdamWOptions(c.lr());
    // betas() is a std::tuple<double, double> seen as two doubles; libstdc++ lays a tuple out in reverse order, so
    // the defaults (0.9, 0.999) tell which slot holds beta1.
    org.bytedeco.javacpp.DoublePointer b = o.betas();
    boolean reversed;
    if (b.get(0) == 0.9 && b.get(1) == 0.999) {
      reversed = false;
    } else if (b.get(0) == 0.999 && b.get(1) == 0.9) {
      reversed = true;
    } else {
      throw new IllegalStateException("unexpected AdamWOptions default betas (" + b.get(0) + ", " + b.get(1) + ")");
    }
    b.put(reversed ? 1 : 0, c.beta1()).put(reversed ? 0 : 1, c.beta2());
    o.eps().put(c.eps());
    o.weight_decay().put(c.weightDecay());
    return finish(new AdamW(vector(copy.values().iterator().next()), o), copy);
  }

  /**
   * Scales the gradients of {@code params} in place so that their global L2 norm (all gradients as one vector) is at
   * most {@code maxNorm}, with LibTorch's {@code torch::nn::utils::clip_grad_norm_} (factor
   * {@code maxNorm / (norm + 1e-6)}, applied only when it is below 1). Parameters without a gradient are skipped.
   *
   * @return the global norm before clipping
   */
  public static double clipGradNorm(List<Tensor> params, double maxNorm) {
    return torch.clip_grad_norm_(vector(params), maxNorm, 2.0, false);
  }
}
