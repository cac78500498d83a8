package dev.mergetune.condu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.clip.image.RandomResizedCrop;
import dev.mergetune.clip.image.Transform;
import dev.mergetune.clip.text.ClipTokenTensors;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.SyntheticMerges;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.ImageFolderSource;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.protocol.ProtocolFixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prototypes from the augmented training images (the released ConDU averages θ0's features over its augmented train
 * loader, finetune.py:163–194): equal to prototypes built from the crops of the training transform's epoch 0 encoded
 * here directly, and different from the evaluation-transform prototypes.
 */
class AugmentedPrototypesTest {
  @TempDir Path dir;

  @Test
  void prototypesFromTheAugmentedImages() throws Exception {
    NativeRuntime.ensureTorch();
    List<String> classes = List.of("blue", "red");
    List<String> templates = List.of("a photo of a {}.", "a {}.");
    ProtocolFixtures.imageFolder(dir.resolve("train"), classes, 3, 4);
    Dataset train = ImageFolderSource.read(dir.resolve("train"));
    ClipTokenizer tok = ClipTokenizer.load(SyntheticMerges.writeClipSized(dir));
    try (ClipModel m = ClipLoader.load(ProtocolFixtures.tinyClip(dir.resolve("t.safetensors"), 2));
        NoGradGuard g = new NoGradGuard()) {
      Transform crop = RandomResizedCrop.mtil(32, 5);
      Prototypes augmented = ConduTaskStep.prototypes(m, tok, train, classes, templates, 4, crop);
      int[] all = new int[train.size()];
      int[] labels = new int[train.size()];
      for (int i = 0; i < all.length; i++) {
        all[i] = i;
        labels[i] = train.samples().get(i).label();
      }
      float[][] images = rows(m.encodeImage(ImageBatch.loadTensor(train, all, crop, 0, 1)));
      float[][][] text = new float[classes.size()][][];
      for (int c = 0; c < classes.size(); c++) {
        List<String> prompts = new ArrayList<>();
        for (String t : templates) prompts.add(t.replace("{}", classes.get(c)));
        text[c] = rows(m.encodeText(ClipTokenTensors.tokenize(tok, prompts, 77, Truncation.TRUNCATE)));
      }
      Prototypes expected = ClassPrototypes.build(classes, images, labels, text);
      assertArrayEquals(expected.values(), augmented.values(), 1e-6f);
      Prototypes eval = ConduTaskStep.prototypes(m, tok, train, classes, templates, 4);
      float diff = 0;
      for (int i = 0; i < eval.values().length; i++) diff = Math.max(diff, Math.abs(eval.values()[i] - augmented.values()[i]));
      assertTrue(diff > 1e-4, "the crops made no difference: " + diff);
    }
  }

  static float[][] rows(Tensor t) {
    Tensor c = t.contiguous();
    int n = (int) c.size(0), d = (int) c.size(1);
    float[] v = new float[n * d];
    c.data_ptr_float().get(v);
    float[][] out = new float[n][d];
    for (int i = 0; i < n; i++) System.arraycopy(v, i * d, out[i], 0, d);
    return out;
  }
}
