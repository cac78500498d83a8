package dev.mergetune.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.adapt.TrainingRun;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.SyntheticMerges;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.ImageFolderSource;
import dev.mergetune.eval.BaseToNovelRow;
import dev.mergetune.eval.PathCurve;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.tune.MergeTuneSettings;
import dev.mergetune.protocol.ProtocolFixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The prompt stage of the demo on a tiny random CLIP: the rows are what each method gives and the paths meet them at
 * their ends — α = 0 is the word-initialised context, which reproduces the zero-shot prompt's accuracy, and α = 1 is
 * CoOp's (or MergeTune's) context; TIES at density 1 and DARE at keep 1 give back CoOp exactly.
 */
class PromptDemoTest {
  @TempDir Path dir;

  @Test
  void rowsAndPathsAgreeAtTheirEnds() throws Exception {
    NativeRuntime.ensureTorch();
    Path model = ProtocolFixtures.tinyClip(dir.resolve("tiny.safetensors"), 4);
    Path vocab = SyntheticMerges.writeClipSized(dir);
    List<String> classes = List.of("blue", "cyan", "green", "red");
    ProtocolFixtures.imageFolder(dir.resolve("train"), classes, 4, 1);
    ProtocolFixtures.imageFolder(dir.resolve("test"), classes, 3, 6);
    Dataset train = ImageFolderSource.read(dir.resolve("train"));
    Dataset test = ImageFolderSource.read(dir.resolve("test"));
    StringWriter log = new StringWriter();
    try (ClipModel clip = ClipLoader.load(model)) {
      TrainingRun.Inputs in = new TrainingRun.Inputs(clip, model, null, "tiny", ClipTokenizer.load(vocab), vocab, train, null,
          dir.resolve("train"), null, "colours", new FeatureExtractor(8, false, null));
      PromptDemo.Result r = PromptDemo.run(in, test, new PromptDemo.Options(4, 8, 0.002, 3, 2, 1, 1, 1.0, 1f, 3, "a photo of a {}.", "a photo of a",
          MergeTuneSettings.REFERENCE_CODE, "coop", true), dir.resolve("out"),
          false, new PrintWriter(log));
      List<String> names = r.rows().stream().map(BaseToNovelRow::dataset).toList();
      assertEquals(List.of("zero-shot", "CoOp", "TIES (zero-shot, CoOp), density 1.00", "DARE (zero-shot, CoOp), keep 1.00",
          "CoOp + MergeTune"), names);
      BaseToNovelRow zs = r.rows().get(0);
      BaseToNovelRow coop = r.rows().get(1);
      for (BaseToNovelRow merged : r.rows().subList(2, 4)) {
        assertEquals(coop.base(), merged.base(), 1e-9, merged.dataset());
        assertEquals(coop.novel(), merged.novel(), 1e-9, merged.dataset());
      }
      PathCurve base = r.curves().get(0);
      PathCurve novel = r.curves().get(1);
      assertEquals(3, base.alphas().length);
      assertEquals(zs.base(), base.values()[0], 1e-9);
      assertEquals(zs.novel(), novel.values()[0], 1e-9);
      assertEquals(coop.base(), base.values()[2], 1e-9);
      assertEquals(coop.novel(), novel.values()[2], 1e-9);
      assertEquals(r.rows().get(4).novel(), r.curves().get(3).values()[2], 1e-9);
      assertTrue(log.toString().contains("CoOp + MergeTune"), log.toString());
    }
  }
}
