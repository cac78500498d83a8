package dev.mergetune.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** encodeText is tokenEmbedding + encodeTextEmbeddings pooled at the argmax of the ids, bit for bit. */
class ClipTextEmbeddingsTest {
  static float[] values(Tensor t) {
    Tensor c = t.contiguous();
    float[] out = new float[(int) c.numel()];
    c.data_ptr_float().get(out);
    return out;
  }

  @Test
  void encodeTextIsTheEmbeddingPath() {
    ClipModel m = new ClipModel(ClipConfig.of(32, 32, 2, 64, 16, 1, 77, 49408, 64, 1, 2, Activation.QUICK_GELU)).initialize(3);
    long[] ids = new long[3 * 77];
    for (int r = 0; r < 3; r++) {
      ids[r * 77] = 49406;
      for (int i = 1; i <= 5 + r * 7; i++) ids[r * 77 + i] = 100 + 31 * i + r;
      ids[r * 77 + 6 + r * 7] = 49407;
    }
    Tensor tokens = Tensor.create(ids, 3, 77);
    try (NoGradGuard g = new NoGradGuard()) {
      float[] direct = values(m.encodeText(tokens));
      Tensor eot = tokens.argmax(new LongOptional(-1), false);
      float[] viaEmbeddings = values(m.encodeTextEmbeddings(m.tokenEmbedding(tokens), eot));
      assertArrayEquals(direct, viaEmbeddings, 0f);
      assertThrows(IllegalArgumentException.class, () -> m.encodeTextEmbeddings(m.tokenEmbedding(tokens), eot.narrow(0, 0, 2)));
    }
  }
}
