package dev.mergetune.reproduce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.adapt.CachedFeatures;
import dev.mergetune.adapt.CoopPromptLearner;
import dev.mergetune.adapt.TrainSettings;
import dev.mergetune.adapt.TrainingRun;
import dev.mergetune.cli.BaselineRun;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.text.PromptTemplates;
import dev.mergetune.data.CoopDatasets;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.Split;
import dev.mergetune.eval.BaseToNovelRow;
import dev.mergetune.train.RunDirectory;
import dev.mergetune.tune.BaseNovelEvaluation;
import dev.mergetune.tune.PromptMerges;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * The numbers of a prompt-learning cell. Base-to-novel: the zero-shot, baseline and MergeTune rows are those
 * {@code continue} wrote to its result.json (so they are the command's own numbers), and TIES / DARE of (ŵ1, ŵ2)
 * — which no command computes for a prompt — are evaluated here with the same evaluation
 * ({@link BaseNovelEvaluation}) on the same test split. Cross-dataset and domain generalisation: top-1 over all the
 * evaluated dataset's classes of each of the five classifiers, the zero-shot one with the dataset's CoOp template.
 */
final class PromptEvaluation implements Cell.Evaluation {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final ReproTable table;
  private final Path baselineDir;
  private final Path mergetuneDir;
  private final String dataset;
  private final long seed;
  private final ReproOptions o;

  PromptEvaluation(ReproTable table, Path baselineDir, Path mergetuneDir, String dataset, long seed, ReproOptions o) {
    this.table = table;
    this.baselineDir = baselineDir;
    this.mergetuneDir = mergetuneDir;
    this.dataset = dataset;
    this.seed = seed;
    this.o = o;
  }

  @Override
  public String describe() {
    String merges = String.format(Locale.ROOT, "TIES (paper preset, density %s) and DARE (keep %s, seed %d, inverse"
        + " rescale) of (the initial context, the baseline's kept context)", o.tiesDensity(), o.dareKeep(), seed);
    return table.fromSource()
        ? "in process: top-1 on " + dataset + " of zero-shot (\"" + template() + "\"), " + table.baselineName() + ", "
            + merges + " and " + table.baselineName() + " + MergeTune (" + mergetuneDir.resolve("prompt.safetensors")
            + ")"
        : "read " + mergetuneDir.resolve("result.json") + " (zero-shot, " + table.baselineName() + ", + MergeTune);"
            + " in process: base-to-novel of " + merges + " on the same test split";
  }

  private String template() {
    return PromptTemplates.coop(dataset);
  }

  @Override
  public ObjectNode evaluate(StepContext ctx) throws IOException {
    BaselineRun b = BaselineRun.read(baselineDir);
    TrainSettings s = b.settings();
    String name = table.baselineName();
    TrainingRun.Inputs in = b.inputs(s, o.featureBatch(), o.out().resolve("features"));
    ObjectNode result = JSON.createObjectNode();
    ArrayNode rows = result.putArray("rows");
    try (ClipModel model = in.model()) {
      Tensor initial;
      try (NoGradGuard g = new NoGradGuard()) {
        initial = TrainingRun.initialLearner(s, model, in.tokenizer(), in.train().classNames()).context().detach()
            .clone();
      }
      Tensor learned = CoopPromptLearner.readContext(b.trainedState());
      Tensor tuned = CoopPromptLearner.readContext(mergetuneDir.resolve("prompt.safetensors"));
      Map<String, BaseNovelEvaluation.Prompts> merged = new LinkedHashMap<>();
      merged.put(name + " + TIES", BaseNovelEvaluation.coop(s, model, in.tokenizer(),
          PromptMerges.ties(initial, learned, o.tiesDensity())));
      merged.put(name + " + DARE", BaseNovelEvaluation.coop(s, model, in.tokenizer(),
          PromptMerges.dare(initial, learned, o.dareKeep(), seed)));
      ClipImageTransform eval = ClipImageTransform.of(model.config().imageResolution());
      if (!table.fromSource()) {
        JsonNode reported = RunDirectory.readJson(mergetuneDir.resolve("result.json")).get("base_to_novel");
        Dataset test = b.defaultTest();
        BaseNovelEvaluation e = new BaseNovelEvaluation(test, d -> TrainingRun.features(in, d, eval, 1, ctx.log()));
        b2n(rows, "zero-shot", reported.get("zero-shot"));
        b2n(rows, name, reported.get(s.method));
        for (var m : merged.entrySet()) {
          BaseToNovelRow r = e.row(m.getKey(), m.getValue());
          b2n(rows, m.getKey(), JSON.createObjectNode().put("base", r.base()).put("novel", r.novel()));
        }
        b2n(rows, name + " + MergeTune", reported.get(s.method + " + MergeTune"));
      } else {
        Dataset test = dataset.equals(ReproTable.SOURCE) ? b.defaultTest()
            : CoopDatasets.load(dataset, o.data()).get(Split.TEST);
        CachedFeatures f = TrainingRun.features(in, test, eval, 1, ctx.log());
        Map<String, BaseNovelEvaluation.Prompts> all = new LinkedHashMap<>();
        all.put("zero-shot", BaseNovelEvaluation.zeroShot(model, in.tokenizer(), template()));
        all.put(name, BaseNovelEvaluation.coop(s, model, in.tokenizer(), learned));
        all.putAll(merged);
        all.put(name + " + MergeTune", BaseNovelEvaluation.coop(s, model, in.tokenizer(), tuned));
        for (var m : all.entrySet()) {
          rows.addObject().put("method", m.getKey()).put("top1", BaseNovelEvaluation.top1(m.getValue(), test, f));
        }
      }
    }
    return result;
  }

  private static void b2n(ArrayNode rows, String method, JsonNode r) {
    if (r == null) throw new IllegalStateException("continue's result.json has no row for " + method);
    double base = r.get("base").asDouble();
    double novel = r.get("novel").asDouble();
    rows.addObject().put("method", method).put("base", base).put("novel", novel)
        .put("hm", BaseToNovelRow.harmonicMean(base, novel));
  }
}
