package dev.mergetune.clip.nn;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/** A stack of residual blocks registered as {@code resblocks.0 … resblocks.N-1} (OpenAI's names). */
public final class Transformer extends Module {
  private final List<ResidualBlock> blocks = new ArrayList<>();

  public Transformer(long width, int layers, long heads) {
    Module resblocks = register_module("resblocks", new Module());
    for (int i = 0; i < layers; i++) blocks.add(resblocks.register_module(Integer.toString(i), new ResidualBlock(width, heads)));
  }

  /** x: [B, L, w]. */
  public Tensor forward(Tensor x, boolean causal) {
    for (ResidualBlock b : blocks) x = b.forward(x, causal);
    return x;
  }

  /** Block {@code i} ({@code resblocks.i}). */
  public ResidualBlock block(int i) {
    return blocks.get(i);
  }

  public int layers() {
    return blocks.size();
  }
}
