package dev.mergetune.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.adapt.TrainSettings;
import dev.mergetune.adapt.TrainingRun;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.data.DataSources;
import dev.mergetune.data.Dataset;
import dev.mergetune.train.RunDirectory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A finished {@code train} run read back from its folder: its settings, and the model, tokenizer and the same
 * training / validation data (the same few-shot draw) it used — what {@code continue} and {@code reproduce} start from.
 */
public final class BaselineRun {
  private final Path dir;
  private final JsonNode run;
  private final JsonNode result;

  private BaselineRun(Path dir, JsonNode run, JsonNode result) {
    this.dir = dir;
    this.run = run;
    this.result = result;
  }

  /** Reads {@code dir}'s run.json and result.json (the baseline must have finished). */
  public static BaselineRun read(Path dir) throws IOException {
    JsonNode run = RunDirectory.readJson(dir.resolve(RunDirectory.RUN_FILE));
    JsonNode result = RunDirectory.readJson(dir.resolve(RunDirectory.RESULT_FILE));
    return new BaselineRun(dir, run, result);
  }

  public Path dir() {
    return dir;
  }

  /** The baseline's settings as recorded (a fresh copy each call). */
  public TrainSettings settings() throws IOException {
    return new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .treeToValue(run.get("settings"), TrainSettings.class);
  }

  /** The state the baseline kept (its result.json's {@code trained} file). */
  public Path trainedState() {
    return dir.resolve(result.get("trained").asText());
  }

  /** The training data the baseline named ({@code --data}). */
  public Path dataPath() {
    return Path.of(text("data_path"));
  }

  /** The test split of the baseline's data, or null when it has none. */
  public Dataset defaultTest() {
    Path data = dataPath();
    return DataSources.hasSplit(data, "test") ? DataSources.load(data, "test") : null;
  }

  /**
   * Loads the model, its tokenizer and the baseline's data prepared under {@code s} (the baseline's settings, possibly
   * with a preset's recipe applied: the draw depends on shots, subsample and seed only).
   */
  public TrainingRun.Inputs inputs(TrainSettings s, int featureBatch, Path cache) {
    Path data = dataPath();
    Path model = Path.of(text("model"));
    Path vocab = run.path("vocab").isTextual() ? Path.of(run.get("vocab").asText()) : null;  // null: found again
    String modelConfig = run.path("model_config").isTextual() ? run.get("model_config").asText() : null;
    String valPath = run.path("validation_path").isTextual() ? run.get("validation_path").asText() : null;
    Dataset train = DataSources.load(data, "train");
    Dataset validation = valPath == null ? null
        : Path.of(valPath).equals(data) ? DataSources.load(data, "val") : DataSources.load(Path.of(valPath), null);
    TrainingRun.Data d = TrainingRun.prepare(s, train, validation);
    List<String> names = new ObjectMapper().convertValue(run.at("/train/class_names"),
        new TypeReference<List<String>>() {});
    if (!d.train().classNames().equals(names)) {
      throw new IllegalArgumentException(data + " no longer gives the baseline's classes " + names);
    }
    ClipModel clip = ClipLoader.load(model, modelConfig);
    ClipTokenizer tokenizer = ClipInputs.vocabulary(vocab, model, clip).tokenizer();
    return new TrainingRun.Inputs(clip, model, modelConfig, ClipInputs.identity(model, cache), tokenizer, vocab,
        d.train(), d.validation(), data, valPath == null ? null : Path.of(valPath), text("data"),
        ClipInputs.extractor(featureBatch, GlobalOptions.progress(), cache));
  }

  private String text(String key) {
    JsonNode v = run.get(key);
    if (v == null || !v.isTextual()) {
      throw new IllegalArgumentException(dir.resolve(RunDirectory.RUN_FILE) + " has no '" + key + "' (a train run made"
          + " through the Java API without it cannot be continued from the command line)");
    }
    return v.asText();
  }
}
