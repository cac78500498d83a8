package dev.mergetune.condu;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.adapt.TrainSettings;
import dev.mergetune.adapt.TrainingRun;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.protocol.EvalDataset;
import dev.mergetune.train.RunDirectory;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The baseline ConDU is compared with in MTIL: one model fine-tuned on each task in turn, session s starting from
 * session s−1's model (θ0 for the first), with the same settings as the experts; row s is that model's zero-shot
 * accuracy on every dataset. Runs and rows are kept, so a re-run resumes.
 */
final class SequentialBaseline {
  private SequentialBaseline() {}

  static double[][] run(MtilConfig c, ClipTokenizer tokenizer, Path vocabPath, List<ConduTaskStep.Task> steps,
      List<EvalDataset> tests, Path out, boolean progress, PrintWriter log) throws IOException {
    int t = steps.size();
    double[][] a = new double[t][];
    Path previous = c.model();
    String previousConfig = c.modelConfig();  // later sessions' models record theirs
    for (int s = 0; s < t; s++) {
      ConduTaskStep.Task task = steps.get(s);
      Path runDir = out.resolve("runs").resolve(String.format(Locale.ROOT, "seq-%02d-%s", s + 1,
          ConduTaskStep.folderName(task.name())));
      Path rowFile = out.resolve("rows").resolve(String.format(Locale.ROOT, "sequential-%02d.json", s + 1));
      Path model = runDir.resolve(TrainingRun.MODEL_FILE);
      TrainSettings settings = c.settings(c.tasks().get(s));
      TrainingRun.Data data = TrainingRun.prepare(settings, task.train(), null);
      TrainingRun.Inputs in = new TrainingRun.Inputs(null, previous, previousConfig,
          "sha256:" + Theta0Ref.of(previous).sha256(),
          tokenizer, vocabPath, data.train(), null, task.dataPath(), null, "sequential " + task.name(),
          new FeatureExtractor(c.batchSize(), progress, null));
      if (RunDirectory.finished(runDir, TrainingRun.manifest(settings, in)).isEmpty()) {
        try (ClipModel m = ClipLoader.load(previous, previousConfig)) {
          TrainingRun.run(settings, in.withModel(m), runDir, progress, log);
        }
      }
      ObjectNode record = new ObjectMapper().createObjectNode().put("session", s + 1);
      a[s] = MtilRunner.zeroShotRow(model, null, tokenizer, tests, c.batchSize(), rowFile, record,
          "sequential session " + (s + 1), log);
      previous = model;
      previousConfig = null;
    }
    return a;
  }
}
