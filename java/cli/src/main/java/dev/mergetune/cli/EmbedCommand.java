package dev.mergetune.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.clip.BatchSource;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.ImageFiles;
import dev.mergetune.clip.TensorFileImages;
import dev.mergetune.clip.TokenBatches;
import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune embed}: image and/or text features of a CLIP model into one safetensors file
 * ({@code image_features} [N, E], {@code text_features} [M, E]; the encoders' outputs, L2-normalised with
 * {@code --normalize}); the inputs are listed in the metadata.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "embed", description = "Image and text features of a CLIP model, written as safetensors.")
final class EmbedCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, description = "CLIP checkpoint (.pt, .safetensors; OpenAI, open_clip or HF names)")
  Path model;

  @Option(names = "--model-config", description = ClipInputs.MODEL_CONFIG_HELP)
  String modelConfig;

  @Option(names = "--images", description = "A folder of JPEG/PNG images (recursive, sorted), one image file, or a"
      + " .safetensors holding already-normalised images [N, 3, R, R] (tensor 'images' or its only 4-D tensor)")
  Path images;

  @Option(names = "--texts", description = "Texts: a .json array of strings, or one text per line")
  Path texts;

  @Option(names = "--vocab", description = "CLIP BPE merges (.txt.gz) or a Hugging Face vocab.json; default: the"
      + " snapshot's own, $MERGETUNE_CLIP_VOCAB, one beside the model, or the bundled CLIP vocabulary")
  Path vocab;

  @Option(names = "--truncate", description = "Cut texts longer than the context (default: an error naming the text)")
  boolean truncate;

  @Option(names = "--normalize", description = "L2-normalise the features")
  boolean normalize;

  @Option(names = "--batch", defaultValue = "32", description = "Batch size (default ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--threads", description = "Image decoding threads (default: the cores)")
  Integer threads;

  @Option(names = "--cache", description = "Feature cache folder (keyed on the model's and inputs' identity)")
  Path cache;


  @Option(names = "--out", required = true, description = "Output .safetensors")
  Path out;

  @Override
  public Integer call() throws IOException {
    if (images == null && texts == null) throw new IllegalArgumentException("embed needs --images and/or --texts");
    PrintWriter w = spec.commandLine().getOut();
    ClipModel clip = ClipLoader.load(model, modelConfig);
    FeatureExtractor extractor = ClipInputs.extractor(batch, GlobalOptions.progress(), cache);
    String identity = ClipInputs.identity(model, cache);
    List<TensorSource> tensors = new ArrayList<>();
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("mergetune.model", model.getFileName().toString());
    meta.put("mergetune.model_origin", clip.origin());
    meta.put("mergetune.normalized", Boolean.toString(normalize));
    ObjectMapper json = new ObjectMapper();
    if (images != null) {
      float[][] f;
      int resolution = clip.config().imageResolution();
      if (images.getFileName().toString().endsWith(".safetensors")) {
        try (TensorFileImages source = TensorFileImages.open(images, resolution)) {
          f = extractor.images(clip, identity, source);
        }
        meta.put("mergetune.images", images.getFileName().toString());
      } else {
        List<Path> files = Files.isDirectory(images) ? ImageFiles.list(images) : List.of(images);
        BatchSource source = new ImageFiles(files, ClipImageTransform.of(resolution),
            threads != null ? threads : ImageBatch.defaultThreads());
        f = extractor.images(clip, identity, source);
        List<String> names = new ArrayList<>();
        Path root = Files.isDirectory(images) ? images : images.getParent();
        for (Path p : files) names.add(root == null ? p.toString() : root.relativize(p).toString());
        meta.put("mergetune.images", json.writeValueAsString(names));
      }
      tensors.add(features("image_features", f));
    }
    if (texts != null) {
      List<String> list = ClipInputs.texts(texts);
      long[][] tokens = ClipInputs.tokenizer(ClipInputs.vocabulary(vocab, model, clip).tokenizer(), clip, truncate)
          .tokenize(list);
      float[][] f = extractor.texts(clip, identity, TokenBatches.of(tokens, "texts " + json.writeValueAsString(list)));
      tensors.add(features("text_features", f));
      meta.put("mergetune.texts", json.writeValueAsString(list));
    }
    SafetensorsWriter.write(out, tensors, meta);
    w.printf("wrote %s:%s%n", out, tensors.stream().map(t -> " " + t.name() + " " + java.util.Arrays.toString(t.shape())).reduce("", String::concat));
    w.flush();
    return 0;
  }

  private TensorSource features(String name, float[][] rows) {
    int n = rows.length;
    int d = n == 0 ? 0 : rows[0].length;
    float[] flat = new float[n * d];
    for (int i = 0; i < n; i++) {
      double norm = 0;
      for (float v : rows[i]) norm += (double) v * v;
      norm = normalize ? Math.sqrt(norm) : 1.0;
      for (int j = 0; j < d; j++) flat[i * d + j] = (float) (rows[i][j] / norm);
    }
    return TensorSource.ofFloats(name, new long[] {n, d}, flat, DType.F32);
  }
}
