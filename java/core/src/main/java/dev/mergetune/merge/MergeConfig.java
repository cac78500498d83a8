package dev.mergetune.merge;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.mergetune.io.StrictConfig;
import java.nio.file.Path;
import java.util.List;

/**
 * A merge described in YAML, the alternative to command-line flags; relative paths are resolved against the
 * file's folder. Unknown keys are errors (a typo must not silently fall back to a default).
 *
 * <pre>
 * method: task-arithmetic        # task-arithmetic | ties | dare | wise-ft | average
 * base: clip-vit-b16.safetensors
 * models: [cars.safetensors, dtd.safetensors]
 * weights: [1.0, 1.0]
 * scale: [0.2, 0.3, 0.4]         # a sweep: one output per value
 * out: merged-{}.safetensors
 * # dare only: drop_rate: 0.9 (or keep_density: 0.1), seed: 0, rescale: inverse | l1 | none
 * # ties only: preset: paper | fusionbench | mergekit, and to change it: density: 0.2, trim: global | per-tensor,
 * #   selection: kthvalue | topk, election: mass | count, zero_sign: majority | positive, aggregate: mean | sum | max
 * #   (scale is λ; without it the preset's)
 * # any method: include: ["visual.**"], exclude: ["**.ln_*.*"], trainable_only: true
 * </pre>
 */
public record MergeConfig(
    @JsonProperty("method") String method,
    @JsonProperty("base") String base,
    @JsonProperty("models") List<String> models,
    @JsonProperty("weights") List<Float> weights,
    @JsonProperty("scale") List<Float> scale,
    @JsonProperty("alpha") List<Float> alpha,
    @JsonProperty("drop_rate") Float dropRate,
    @JsonProperty("keep_density") Float keepDensity,
    @JsonProperty("seed") Long seed,
    @JsonProperty("rescale") String rescale,
    @JsonProperty("preset") String preset,
    @JsonProperty("density") Double density,
    @JsonProperty("trim") String trim,
    @JsonProperty("selection") String selection,
    @JsonProperty("election") String election,
    @JsonProperty("zero_sign") String zeroSign,
    @JsonProperty("aggregate") String aggregate,
    @JsonProperty("include") List<String> include,
    @JsonProperty("exclude") List<String> exclude,
    @JsonProperty("trainable_only") Boolean trainableOnly,
    @JsonProperty("out") String out) {

  public static MergeConfig read(Path file) {
    MergeConfig c = StrictConfig.read(file, MergeConfig.class, "merge config");
    if (c.method == null) throw new IllegalArgumentException(file + ": 'method' is missing");
    if (c.models == null || c.models.isEmpty()) throw new IllegalArgumentException(file + ": 'models' is missing");
    if (c.out == null) throw new IllegalArgumentException(file + ": 'out' is missing");
    return c;
  }

  /** A path of the config resolved against the folder holding the config file. */
  public static Path resolve(Path configFile, String path) {
    Path p = Path.of(path);
    Path dir = configFile.toAbsolutePath().getParent();
    return p.isAbsolute() || dir == null ? p : dir.resolve(p);
  }
}
