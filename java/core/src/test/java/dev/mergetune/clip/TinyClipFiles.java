package dev.mergetune.clip;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tiny CLIP checkpoints made in tests, in each family's own key layout and files — the shapes and names written out
 * here from the families' model definitions, not taken from the loader: random weights under OpenAI's names, an
 * OpenAI / open_clip state dict, a Hugging Face snapshot (HF names, q/k/v split, projections transposed,
 * config.json, optionally sharded), and a Hugging Face tokenizer (vocab.json + merges.txt) built by CLIP's
 * construction.
 */
public final class TinyClipFiles {
  private TinyClipFiles() {}

  /** The dimensions of a tiny CLIP. */
  public record Arch(int embed, int resolution, int patch, int context, int vocab, ReferenceClip.Tower vision,
      ReferenceClip.Tower text) {}

  /** Weights under OpenAI names, in the order the file lists them. */
  public record Weights(Map<String, long[]> shapes, Map<String, float[]> values) {
    public ReferenceClip reference(Arch a) {
      Map<String, double[]> d = new LinkedHashMap<>();
      values.forEach((k, v) -> {
        double[] x = new double[v.length];
        for (int i = 0; i < v.length; i++) x[i] = v[i];
        d.put(k, x);
      });
      return new ReferenceClip(d, a.embed(), a.resolution(), a.patch(), a.context(), a.vision(), a.text());
    }

    public List<TensorSource> sources() {
      List<TensorSource> out = new ArrayList<>();
      shapes.forEach((k, s) -> out.add(TensorSource.ofFloats(k, s, values.get(k), DType.F32)));
      return out;
    }
  }

  /** Random weights of {@code a}'s shapes (scales that keep activations of order 1, so GELU ≠ QuickGELU shows). */
  public static Weights random(Arch a, long seed) {
    Random r = new Random(seed);
    Map<String, long[]> shapes = new LinkedHashMap<>();
    Map<String, float[]> values = new LinkedHashMap<>();
    int g = a.resolution() / a.patch();
    int vw = a.vision().width();
    int tw = a.text().width();
    put(shapes, values, r, "visual.conv1.weight", 1 / Math.sqrt(3.0 * a.patch() * a.patch()), 0, vw, 3, a.patch(), a.patch());
    put(shapes, values, r, "visual.class_embedding", 0.5, 0, vw);
    put(shapes, values, r, "visual.positional_embedding", 0.5, 0, g * g + 1, vw);
    norm(shapes, values, r, "visual.ln_pre", vw);
    blocks(shapes, values, r, "visual.transformer.resblocks.", a.vision());
    norm(shapes, values, r, "visual.ln_post", vw);
    put(shapes, values, r, "visual.proj", 1 / Math.sqrt(vw), 0, vw, a.embed());
    put(shapes, values, r, "token_embedding.weight", 0.5, 0, a.vocab(), tw);
    put(shapes, values, r, "positional_embedding", 0.3, 0, a.context(), tw);
    blocks(shapes, values, r, "transformer.resblocks.", a.text());
    norm(shapes, values, r, "ln_final", tw);
    put(shapes, values, r, "text_projection", 1 / Math.sqrt(tw), 0, tw, a.embed());
    shapes.put("logit_scale", new long[] {});
    values.put("logit_scale", new float[] {(float) Math.log(1 / 0.07)});
    return new Weights(shapes, values);
  }

  private static void blocks(Map<String, long[]> s, Map<String, float[]> v, Random r, String prefix,
      ReferenceClip.Tower t) {
    int w = t.width();
    for (int l = 0; l < t.layers(); l++) {
      String p = prefix + l + ".";
      put(s, v, r, p + "attn.in_proj_weight", 1 / Math.sqrt(w), 0, 3 * w, w);
      put(s, v, r, p + "attn.in_proj_bias", 0.1, 0, 3 * w);
      put(s, v, r, p + "attn.out_proj.weight", 1 / Math.sqrt(w), 0, w, w);
      put(s, v, r, p + "attn.out_proj.bias", 0.1, 0, w);
      norm(s, v, r, p + "ln_1", w);
      put(s, v, r, p + "mlp.c_fc.weight", 1.5 / Math.sqrt(w), 0, t.mlp(), w);
      put(s, v, r, p + "mlp.c_fc.bias", 0.3, 0, t.mlp());
      put(s, v, r, p + "mlp.c_proj.weight", 1 / Math.sqrt(t.mlp()), 0, w, t.mlp());
      put(s, v, r, p + "mlp.c_proj.bias", 0.1, 0, w);
      norm(s, v, r, p + "ln_2", w);
      if (t.layerScale()) {
        put(s, v, r, p + "ls_1.gamma", 0.2, 0.6, w);
        put(s, v, r, p + "ls_2.gamma", 0.2, 0.6, w);
      }
    }
  }

  private static void norm(Map<String, long[]> s, Map<String, float[]> v, Random r, String p, int w) {
    put(s, v, r, p + ".weight", 0.1, 1, w);
    put(s, v, r, p + ".bias", 0.1, 0, w);
  }

  private static void put(Map<String, long[]> s, Map<String, float[]> v, Random r, String name, double std,
      double mean, long... shape) {
    long n = 1;
    for (long d : shape) n *= d;
    float[] x = new float[(int) n];
    for (int i = 0; i < x.length; i++) x[i] = (float) (mean + std * r.nextGaussian());
    s.put(name, shape);
    v.put(name, x);
  }

  /** An OpenAI / open_clip state dict (OpenAI names) as one safetensors file. */
  public static Path writeOpenAi(Path file, Weights w, Map<String, String> metadata) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    SafetensorsWriter.write(file, w.sources(), metadata);
    return file;
  }

  private static final Pattern BLOCK = Pattern.compile("(visual\\.)?transformer\\.resblocks\\.(\\d+)\\.(.+)");

  /** OpenAI name → the Hugging Face CLIPModel tensors holding it (name, shape, values), added to {@code out}. */
  public static void toHf(String name, long[] shape, float[] v, List<TensorSource> out) {
    Matcher m = BLOCK.matcher(name);
    if (m.matches()) {
      String p = (m.group(1) != null ? "vision_model" : "text_model") + ".encoder.layers." + m.group(2) + ".";
      String rest = m.group(3);
      if (rest.equals("attn.in_proj_weight") || rest.equals("attn.in_proj_bias")) {
        int third = v.length / 3;
        String[] qkv = {"q_proj", "k_proj", "v_proj"};
        for (int i = 0; i < 3; i++) {
          long[] s = shape.clone();
          s[0] /= 3;
          out.add(TensorSource.ofFloats(p + "self_attn." + qkv[i] + (rest.endsWith("weight") ? ".weight" : ".bias"), s,
              Arrays.copyOfRange(v, i * third, (i + 1) * third), DType.F32));
        }
        return;
      }
      String hf = rest.replace("attn.out_proj", "self_attn.out_proj").replace("ln_1", "layer_norm1")
          .replace("ln_2", "layer_norm2").replace("mlp.c_fc", "mlp.fc1").replace("mlp.c_proj", "mlp.fc2");
      out.add(TensorSource.ofFloats(p + hf, shape, v, DType.F32));
      return;
    }
    switch (name) {
      case "text_projection", "visual.proj" -> {
        float[] t = new float[v.length];
        int rows = (int) shape[0], cols = (int) shape[1];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = v[r * cols + c];
        String hf = name.equals("visual.proj") ? "visual_projection.weight" : "text_projection.weight";
        out.add(TensorSource.ofFloats(hf, new long[] {cols, rows}, t, DType.F32));
      }
      default -> {
        String hf = Map.ofEntries(
            Map.entry("token_embedding.weight", "text_model.embeddings.token_embedding.weight"),
            Map.entry("positional_embedding", "text_model.embeddings.position_embedding.weight"),
            Map.entry("ln_final.weight", "text_model.final_layer_norm.weight"),
            Map.entry("ln_final.bias", "text_model.final_layer_norm.bias"),
            Map.entry("visual.class_embedding", "vision_model.embeddings.class_embedding"),
            Map.entry("visual.conv1.weight", "vision_model.embeddings.patch_embedding.weight"),
            Map.entry("visual.positional_embedding", "vision_model.embeddings.position_embedding.weight"),
            Map.entry("visual.ln_pre.weight", "vision_model.pre_layrnorm.weight"),
            Map.entry("visual.ln_pre.bias", "vision_model.pre_layrnorm.bias"),
            Map.entry("visual.ln_post.weight", "vision_model.post_layernorm.weight"),
            Map.entry("visual.ln_post.bias", "vision_model.post_layernorm.bias"),
            Map.entry("logit_scale", "logit_scale")).get(name);
        if (hf == null) throw new IllegalStateException("no HF name for " + name);
        out.add(TensorSource.ofFloats(hf, shape, v, DType.F32));
      }
    }
  }

  /**
   * A Hugging Face CLIPModel snapshot in {@code dir}: config.json (the activations as given, e.g. "gelu" /
   * "quick_gelu"; heads, widths, ε of {@code a}) and the weights in HF names, in {@code shards} files (1: a single
   * model.safetensors; more: model-0000i-of-0000n.safetensors and model.safetensors.index.json).
   */
  public static Path writeHuggingFace(Path dir, Weights w, Arch a, int shards) throws IOException {
    Files.createDirectories(dir);
    List<TensorSource> hf = new ArrayList<>();
    w.shapes().forEach((k, s) -> toHf(k, s, w.values().get(k), hf));
    if (shards == 1) {
      SafetensorsWriter.write(dir.resolve("model.safetensors"), hf, Map.of("format", "pt"));
    } else {
      ObjectNode index = new ObjectMapper().createObjectNode();
      index.putObject("metadata").put("total_size", 0);
      ObjectNode map = index.putObject("weight_map");
      for (int s = 0; s < shards; s++) {
        String name = String.format("model-%05d-of-%05d.safetensors", s + 1, shards);
        List<TensorSource> part = new ArrayList<>();
        for (int i = s; i < hf.size(); i += shards) {
          part.add(hf.get(i));
          map.put(hf.get(i).name(), name);
        }
        SafetensorsWriter.write(dir.resolve(name), part, Map.of("format", "pt"));
      }
      Files.writeString(dir.resolve("model.safetensors.index.json"), index.toPrettyString());
    }
    ObjectNode c = new ObjectMapper().createObjectNode();
    c.putArray("architectures").add("CLIPModel");
    c.put("model_type", "clip");
    c.put("projection_dim", a.embed());
    c.put("logit_scale_init_value", 2.6592);
    ObjectNode t = c.putObject("text_config");
    tower(t, a.text());
    t.put("max_position_embeddings", a.context());
    t.put("vocab_size", a.vocab());
    t.put("eos_token_id", a.vocab() - 1);
    t.put("bos_token_id", a.vocab() - 2);
    ObjectNode v = c.putObject("vision_config");
    tower(v, a.vision());
    v.put("image_size", a.resolution());
    v.put("patch_size", a.patch());
    v.put("num_channels", 3);
    Files.writeString(dir.resolve("config.json"), c.toPrettyString());
    return dir;
  }

  private static void tower(ObjectNode n, ReferenceClip.Tower t) {
    n.put("hidden_size", t.width());
    n.put("intermediate_size", t.mlp());
    n.put("num_hidden_layers", t.layers());
    n.put("num_attention_heads", t.heads());
    n.put("hidden_act", t.quickGelu() ? "quick_gelu" : "gelu");
    n.put("layer_norm_eps", t.eps());
  }

  /** CLIP's bytes_to_unicode, written out again: printable bytes map to themselves, the rest to 256, 257, … */
  static char[] bytesToUnicode() {
    List<Integer> bs = new ArrayList<>();
    for (int b = '!'; b <= '~'; b++) bs.add(b);
    for (int b = 0xA1; b <= 0xAC; b++) bs.add(b);
    for (int b = 0xAE; b <= 0xFF; b++) bs.add(b);
    List<Integer> cs = new ArrayList<>(bs);
    int n = 0;
    for (int b = 0; b < 256; b++) {
      if (!bs.contains(b)) {
        bs.add(b);
        cs.add(256 + n++);
      }
    }
    char[] order = new char[256];  // position → character, in bytes_to_unicode's order
    for (int i = 0; i < 256; i++) order[i] = (char) (int) cs.get(i);
    return order;
  }

  /**
   * A Hugging Face CLIP tokenizer's files in {@code dir}: merges.txt ("#version: 0.2", then the merges) and
   * vocab.json in CLIP's construction order (byte characters, the same with {@code </w>}, the merges joined,
   * {@code <|startoftext|>}, {@code <|endoftext|>}). Returns the vocabulary size.
   */
  public static int writeHfTokenizer(Path dir, List<String> merges) throws IOException {
    Files.createDirectories(dir);
    char[] chars = bytesToUnicode();
    Map<String, Integer> vocab = new LinkedHashMap<>();
    for (char c : chars) vocab.put(String.valueOf(c), vocab.size());
    for (char c : chars) vocab.put(c + "</w>", vocab.size());
    for (String m : merges) vocab.put(m.replace(" ", ""), vocab.size());
    vocab.put("<|startoftext|>", vocab.size());
    vocab.put("<|endoftext|>", vocab.size());
    Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\n" + String.join("\n", merges) + "\n",
        StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("vocab.json"), new ObjectMapper().writeValueAsString(vocab), StandardCharsets.UTF_8);
    return vocab.size();
  }

  /** Normalised-looking images [n, 3, R, R], N(0, 1). */
  public static float[] images(int n, int resolution, long seed) {
    Random r = new Random(seed);
    float[] x = new float[n * 3 * resolution * resolution];
    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
    return x;
  }

  /** Token rows [n, context]: start (vocab−2), random ids, end (vocab−1) at a varying position, zeros after. */
  public static long[] tokens(int n, int context, int vocab, long seed) {
    Random r = new Random(seed);
    long[] t = new long[n * context];
    for (int b = 0; b < n; b++) {
      int end = 2 + b % (context - 2);
      t[b * context] = vocab - 2;
      for (int i = 1; i < end; i++) t[b * context + i] = r.nextInt(vocab - 2);
      t[b * context + end] = vocab - 1;
    }
    return t;
  }
}
