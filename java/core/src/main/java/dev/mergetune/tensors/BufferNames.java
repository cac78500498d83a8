package dev.mergetune.tensors;

import java.util.List;

/**
 * Names that are buffers, not trainable parameters, in the checkpoints this library reads (OpenAI / open_clip /
 * Hugging Face CLIP, and BatchNorm in ResNet towers) — for formats that do not record which tensors are parameters
 * (safetensors, state dicts).
 */
public final class BufferNames {
  private static final List<String> SUFFIXES = List.of(
      ".running_mean", ".running_var", ".num_batches_tracked", "position_ids", ".attn_mask", "attention_mask");

  private BufferNames() {}

  public static boolean isBuffer(String name) {
    for (String s : SUFFIXES) if (name.endsWith(s)) return true;
    return false;
  }
}
