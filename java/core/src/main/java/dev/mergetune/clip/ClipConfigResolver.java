package dev.mergetune.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.tensors.Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Decides a checkpoint's {@link ClipConfig} from what the checkpoint says, never from a default:
 *
 * <ol>
 *   <li>the configuration recorded in its metadata ({@value ClipConfigJson#METADATA_KEY}, written by every command
 *       that writes a CLIP checkpoint; or, in files from before it existed, the head counts
 *       {@value #LEGACY_VISION_HEADS} / {@value #LEGACY_TEXT_HEADS}, with the QuickGELU blocks the project always
 *       built then);
 *   <li>the snapshot folder's {@code config.json} (Hugging Face, {@link HuggingFaceConfig}) or
 *       {@code open_clip_config.json} ({@link OpenClipConfigs}), see {@link ClipModelFiles};
 *   <li>for an OpenAI TorchScript archive (the format of OpenAI's released {@code .pt} files), OpenAI's
 *       {@code build_model} rules ({@link OpenAiBuildModel});
 *   <li>otherwise the caller's {@code --model-config} ({@link #parseSpec}); without it, an error that names what to
 *       pass — an OpenAI-layout state dict does not say whether it is OpenAI's (QuickGELU, 64-wide heads) or
 *       open_clip's (GELU for LAION/DataComp weights; 80-wide heads in ViT-H-14, 104 in ViT-bigG-14).
 * </ol>
 *
 * A {@code --model-config} given for a checkpoint that records a configuration must agree with it; two records
 * (metadata and a folder's config) must agree with each other. The configuration found is checked against every
 * tensor shape when the weights are loaded ({@link ClipLoader}).
 */
public final class ClipConfigResolver {
  public static final String LEGACY_VISION_HEADS = "mergetune.clip.vision_heads";
  public static final String LEGACY_TEXT_HEADS = "mergetune.clip.text_heads";
  private static final ObjectMapper JSON = new ObjectMapper();

  private ClipConfigResolver() {}

  /** The configuration of the opened checkpoint {@code ckpt} (the weights of {@code files}); {@code spec} may be null. */
  public static ResolvedClipConfig resolve(ClipModelFiles files, Checkpoint ckpt, String spec) {
    return resolve(files, ckpt, ClipShapes.of(ckpt), spec);
  }

  static ResolvedClipConfig resolve(ClipModelFiles files, Checkpoint ckpt, ClipShapes shapes, String spec) {
    String file = ckpt.path().toString();
    ResolvedClipConfig known = known(files, ckpt, shapes);
    if (spec != null && !spec.isBlank()) {
      ResolvedClipConfig given = parseSpec(spec, shapes.targetShapes());
      if (known != null) {
        requireSame(file, known, given);
        return known;
      }
      if (isTorchScript(ckpt) && shapes.layout() == ClipLayout.OPENAI) {
        List<String> d = tryInfer(shapes).map(c -> given.config().differences(c)).orElse(List.of());
        if (!d.isEmpty()) {
          List<String> notes = new ArrayList<>(given.notes());
          notes.add("overrides OpenAI's build_model rules for this TorchScript archive, which differ in " + d);
          return new ResolvedClipConfig(given.config(), given.family(), given.source(), notes);
        }
      }
      return given;
    }
    if (known != null) return known;
    if (isTorchScript(ckpt) && shapes.layout() == ClipLayout.OPENAI) {
      return new ResolvedClipConfig(inferOpenAi(file, shapes), "openai",
          "TorchScript archive, OpenAI build_model's rules", List.of());
    }
    throw unknown(file, shapes);
  }

  /**
   * The configuration {@code ckpt} records (metadata, or its snapshot folder's config file), or the OpenAI rules for
   * a TorchScript archive; null when it has none or is not a CLIP ViT. For carrying the configuration into the
   * metadata of files made from it (merge, convert).
   */
  public static ResolvedClipConfig recordedOrNull(Checkpoint ckpt) {
    if (!ClipShapes.isClip(ckpt)) return null;
    ClipShapes shapes = ClipShapes.of(ckpt);
    ResolvedClipConfig known = known(ClipModelFiles.of(ckpt.path()), ckpt, shapes);
    if (known != null) return known;
    if (isTorchScript(ckpt) && shapes.layout() == ClipLayout.OPENAI) {
      return tryInfer(shapes).map(c -> new ResolvedClipConfig(c, "openai",
          "TorchScript archive, OpenAI build_model's rules", List.of())).orElse(null);  // not loadable as CLIP anyway
    }
    return null;
  }

  /** Metadata, then the folder's config; the two must agree. Null when neither exists. */
  private static ResolvedClipConfig known(ClipModelFiles files, Checkpoint ckpt, ClipShapes shapes) {
    String file = ckpt.path().toString();
    ResolvedClipConfig recorded = fromMetadata(ckpt.metadata(), shapes, file);
    // a file that records its configuration may lie beside a config.json of something else (not a CLIPModel's)
    ResolvedClipConfig folder = recorded != null && files.hfConfig() != null
        && !HuggingFaceConfig.isClipConfig(files.hfConfig()) ? null : fromFolder(files);
    if (recorded != null && folder != null) requireSame(file, recorded, folder);
    return recorded != null ? recorded : folder;
  }

  private static ResolvedClipConfig fromMetadata(Map<String, String> meta, ClipShapes shapes, String file) {
    String json = meta.get(ClipConfigJson.METADATA_KEY);
    if (json != null) {
      ClipConfig c = ClipConfigJson.read(json, file + " metadata " + ClipConfigJson.METADATA_KEY);
      String origin = meta.get(ClipConfigJson.ORIGIN_KEY);
      String family = origin != null && origin.contains(" (") ? origin.substring(0, origin.indexOf(" (")) : "mergetune";
      return new ResolvedClipConfig(c, family, origin != null ? ResolvedClipConfig.RECORDED + origin
          : "metadata " + ClipConfigJson.METADATA_KEY, List.of());
    }
    String vh = meta.get(LEGACY_VISION_HEADS);
    String th = meta.get(LEGACY_TEXT_HEADS);
    if (vh == null && th == null) return null;
    if (vh == null || th == null) {
      throw new IllegalArgumentException(file + ": metadata has " + (vh == null ? LEGACY_TEXT_HEADS : LEGACY_VISION_HEADS)
          + " without " + (vh == null ? LEGACY_VISION_HEADS : LEGACY_TEXT_HEADS));
    }
    ClipConfig d = OpenAiBuildModel.dimensions(shapes.targetShapes());
    try {
      return new ResolvedClipConfig(new ClipConfig(d.embedDim(), d.imageResolution(), d.visionPatchSize(),
          d.contextLength(), d.vocabSize(),
          ClipTower.openAi(d.visionWidth(), d.visionLayers(), number(vh, LEGACY_VISION_HEADS, file), Activation.QUICK_GELU),
          ClipTower.openAi(d.textWidth(), d.textLayers(), number(th, LEGACY_TEXT_HEADS, file), Activation.QUICK_GELU)),
          "mergetune", "metadata " + LEGACY_VISION_HEADS + "/" + LEGACY_TEXT_HEADS
          + " (written before configurations were recorded, when every model was QuickGELU, MLP 4·width)", List.of());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage());
    }
  }

  private static int number(String v, String key, String file) {
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(file + ": metadata " + key + " is not a number: " + v);
    }
  }

  private static ResolvedClipConfig fromFolder(ClipModelFiles files) {
    if (files.hfConfig() != null) {
      HuggingFaceConfig.Read r = HuggingFaceConfig.read(files.hfConfig());
      return new ResolvedClipConfig(r.config(), "hugging-face", files.hfConfig().toString(), defaultsNote(r.defaults()));
    }
    if (files.openClipConfig() != null) {
      return new ResolvedClipConfig(OpenClipConfigs.parse(readJson(files.openClipConfig()),
          files.openClipConfig().toString()), "open_clip", files.openClipConfig().toString(), List.of());
    }
    return null;
  }

  private static List<String> defaultsNote(List<String> defaults) {
    return defaults.isEmpty() ? List.of() : List.of("not in config.json, transformers' defaults: " + String.join(", ", defaults));
  }

  /**
   * A {@code --model-config} value: {@value OpenAiBuildModel#NAME} (OpenAI's build_model rules on these shapes), an
   * open_clip name ({@link OpenClipConfigs#names()}), a JSON file — a Hugging Face {@code config.json}, an open_clip
   * model config or {@code open_clip_config.json}, or the project's own record — or a snapshot folder holding one.
   *
   * @param shapes the checkpoint's shapes under OpenAI names (for {@code openai}); may be null otherwise
   */
  public static ResolvedClipConfig parseSpec(String spec, Map<String, long[]> shapes) {
    String s = spec.strip();
    String flag = "--model-config " + s;
    if (s.equals(OpenAiBuildModel.NAME)) {
      if (shapes == null) throw new IllegalArgumentException(flag + " needs a checkpoint to read the dimensions from");
      return new ResolvedClipConfig(OpenAiBuildModel.infer(shapes), "openai", flag + ": build_model's rules", List.of());
    }
    ClipConfig named = OpenClipConfigs.named(s);
    if (named != null) return new ResolvedClipConfig(named, "open_clip", flag, List.of());
    if (s.startsWith("{")) return new ResolvedClipConfig(ClipConfigJson.read(s, flag), "mergetune", flag, List.of());
    Path p = Path.of(s);
    if (Files.isDirectory(p)) {
      Path hf = p.resolve(HuggingFaceConfig.FILE);
      Path oc = p.resolve(ClipModelFiles.OPEN_CLIP_CONFIG);
      if (Files.isRegularFile(oc) && !HuggingFaceConfig.isClipConfig(hf)) p = oc;
      else if (Files.isRegularFile(hf)) p = hf;
      else throw new IllegalArgumentException(flag + ": a folder without config.json or " + ClipModelFiles.OPEN_CLIP_CONFIG);
    }
    if (!Files.isRegularFile(p)) {
      throw new IllegalArgumentException(flag + ": not a configuration name (" + OpenAiBuildModel.NAME + ", "
          + String.join(", ", OpenClipConfigs.names()) + ") nor a JSON file");
    }
    JsonNode j = readJson(p);
    if (j.has("model_type")) {
      HuggingFaceConfig.Read r = HuggingFaceConfig.parse(j, p.toString());
      return new ResolvedClipConfig(r.config(), "hugging-face", flag, defaultsNote(r.defaults()));
    }
    if (j.has("format")) return new ResolvedClipConfig(ClipConfigJson.read(j.toString(), p.toString()), "mergetune", flag, List.of());
    return new ResolvedClipConfig(OpenClipConfigs.parse(j, p.toString()), "open_clip", flag, List.of());
  }

  /**
   * A {@code --model-config} value as it should be recorded: names and inline JSON as they are, a file or folder
   * path absolute (relative ones against {@code base}, or the working directory when null). Null stays null.
   */
  public static String canonicalSpec(String spec, Path base) {
    if (spec == null || spec.isBlank()) return null;
    String s = spec.strip();
    if (s.equals(OpenAiBuildModel.NAME) || s.startsWith("{") || OpenClipConfigs.names().contains(s)) return s;
    Path p = Path.of(s);
    if (!p.isAbsolute() && base != null) p = base.resolve(p);
    return p.toAbsolutePath().normalize().toString();
  }

  private static JsonNode readJson(Path p) {
    try {
      JsonNode j = JSON.readTree(p.toFile());
      if (j == null || !j.isObject()) throw new IllegalArgumentException(p + ": not a JSON object");
      return j;
    } catch (IOException e) {
      throw new IllegalArgumentException(p + ": cannot read the JSON (" + e.getMessage().lines().findFirst().orElse("")
          + ")");
    }
  }

  private static void requireSame(String file, ResolvedClipConfig a, ResolvedClipConfig b) {
    List<String> d = a.config().differences(b.config());
    if (!d.isEmpty()) {
      throw new IllegalArgumentException(file + ": the configuration from " + a.source() + " and the one from "
          + b.source() + " disagree: " + String.join("; ", d));
    }
  }

  static boolean isTorchScript(Checkpoint ckpt) {
    return ckpt.parameterNames().isPresent();
  }

  private static ClipConfig inferOpenAi(String file, ClipShapes shapes) {
    try {
      return OpenAiBuildModel.infer(shapes.targetShapes());
    } catch (IllegalArgumentException e) {
      throw new ClipLayoutException(file + " (OpenAI TorchScript archive): " + e.getMessage(), List.of(), List.of());
    }
  }

  private static java.util.Optional<ClipConfig> tryInfer(ClipShapes shapes) {
    try {
      return java.util.Optional.of(OpenAiBuildModel.infer(shapes.targetShapes()));
    } catch (IllegalArgumentException e) {
      return java.util.Optional.empty();
    }
  }

  private static IllegalArgumentException unknown(String file, ClipShapes shapes) {
    if (shapes.layout() == ClipLayout.HUGGING_FACE) {
      return new ClipConfigUnknownException(file + ": Hugging Face CLIPModel weights without their config.json: pass"
          + " the snapshot folder (config.json, model.safetensors, vocab.json, merges.txt) or --model-config"
          + " path/to/config.json");
    }
    List<String> fit;
    try {
      fit = OpenClipConfigs.fitting(OpenAiBuildModel.dimensions(shapes.targetShapes()));
    } catch (IllegalArgumentException e) {
      fit = List.of();
    }
    return new ClipConfigUnknownException(file + ": the model configuration is not recorded (OpenAI/open_clip key"
        + " layout without " + ClipConfigJson.METADATA_KEY + " metadata or an open_clip_config.json), and the"
        + " attention heads and the activation cannot be read from tensor shapes. Pass --model-config NAME: "
        + OpenAiBuildModel.NAME + " (OpenAI's build_model rules: heads = width / 64, QuickGELU — OpenAI's weights)"
        + (fit.isEmpty() ? ", an open_clip name (" + String.join(", ", OpenClipConfigs.names()) + ")"
            : ", an open_clip name that fits these shapes: " + String.join(", ", fit)
            + " (plain names use GELU, as the LAION/DataComp weights; -quickgelu uses QuickGELU)")
        + ", or a JSON file (an open_clip model config or a Hugging Face config.json)");
  }
}
