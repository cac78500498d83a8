package dev.mergetune.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.condu.MtilRunner;
import dev.mergetune.eval.AccuracyMatrix;
import dev.mergetune.eval.BaseToNovelRow;
import dev.mergetune.tensors.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code report/seeds.json} of a demo over several seeds: every seed's prompt rows and Transfer / Average / Last at
 * full precision, and each effect with its mean, spread and verdict ({@link SeedSpread}). Written atomically.
 */
final class SeedsJson {
  private SeedsJson() {}

  static void write(Path target, List<Long> seeds, List<List<BaseToNovelRow>> prompts, List<MtilRunner.Result> condu,
      List<SeedSpread.Effect> effects) throws IOException {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = json.createObjectNode();
    root.put("spread", "sample standard deviation over the seeds; an effect holds when mean(a) - mean(b) > max(sd(a), sd(b))");
    ArrayNode per = root.putArray("seeds");
    for (int i = 0; i < seeds.size(); i++) {
      ObjectNode s = per.addObject();
      s.put("seed", seeds.get(i));
      ArrayNode rows = s.putArray("prompts");
      for (BaseToNovelRow r : prompts.get(i)) {
        rows.addObject().put("method", r.dataset()).put("base", r.base()).put("novel", r.novel()).put("hm", r.hm());
      }
      MtilRunner.Result c = condu.get(i);
      metrics(s.putObject("condu_mtil"), c.taskId());
      if (c.taskAgnostic() != null) metrics(s.putObject("condu_task_agnostic"), c.taskAgnostic());
      metrics(s.putObject("sequential"), c.sequential());
    }
    ArrayNode eff = root.putArray("effects");
    for (SeedSpread.Effect e : effects) {
      ObjectNode n = eff.addObject();
      n.put("claim", e.claim());
      stat(n.putObject(e.aName()), e.a());
      stat(n.putObject(e.bName()), e.b());
      stat(n.putObject("difference"), e.difference());
      n.put("seeds_ahead", e.seedsAhead());
      n.put("holds", e.holds());
    }
    AtomicFiles.writeString(target, json.writeValueAsString(root) + "\n");
  }

  private static void metrics(ObjectNode n, AccuracyMatrix m) {
    n.put("transfer", m.transfer()).put("average", m.average()).put("last", m.last());
  }

  private static void stat(ObjectNode n, SeedSpread.Stat s) {
    n.put("mean", s.mean()).put("sd", s.sd()).put("min", s.min()).put("max", s.max());
  }
}
