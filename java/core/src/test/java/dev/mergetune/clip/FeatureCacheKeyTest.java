package dev.mergetune.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.RandomResizedCrop;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.Sample;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Feature-cache keys: a change to any component is another key, the same components the same key. */
class FeatureCacheKeyTest {
  @TempDir Path dir;
  private final List<Path> files = new ArrayList<>();
  private static final FileTime T0 = FileTime.fromMillis(1_700_000_000_000L);

  @BeforeEach
  void images() throws Exception {
    for (int i = 0; i < 4; i++) {
      BufferedImage img = new BufferedImage(8 + i, 8, BufferedImage.TYPE_INT_RGB);
      img.setRGB(i, 0, 0xFF00FF);
      Path p = dir.resolve("img" + i + ".png");
      ImageIO.write(img, "png", p.toFile());
      Files.setLastModifiedTime(p, T0);
      files.add(p);
    }
  }

  private Dataset dataset(String name, List<Path> paths, int labelShift) {
    List<Sample> samples = new ArrayList<>();
    for (int i = 0; i < paths.size(); i++) samples.add(new Sample(paths.get(i), (i + labelShift) % 2));
    return Dataset.of(name, List.of("a", "b"), samples);
  }

  @Test
  void sameComponentsSameKey() {
    Dataset d = dataset("pets", files, 0);
    assertEquals(FeatureCacheKey.of("m1", d, ClipImageTransform.of(224)),
        FeatureCacheKey.of("m1", dataset("pets", List.copyOf(files), 0), ClipImageTransform.of(224)));
    assertEquals(FeatureCacheKey.of("m1", d, RandomResizedCrop.mtil(224, 42), 3),
        FeatureCacheKey.of("m1", d, RandomResizedCrop.mtil(224, 42), 3));
    // labels do not change image features
    assertEquals(FeatureCacheKey.of("m1", d, ClipImageTransform.of(224)),
        FeatureCacheKey.of("m1", dataset("pets", files, 1), ClipImageTransform.of(224)));
    assertEquals(64, FeatureCacheKey.of("m1", d, ClipImageTransform.of(224)).length());
  }

  @Test
  void everyComponentChangesTheKey() throws Exception {
    Dataset d = dataset("pets", files, 0);
    RandomResizedCrop rrc = RandomResizedCrop.mtil(224, 42);
    String base = FeatureCacheKey.of("m1", d, rrc, 3);
    Set<String> keys = new HashSet<>();
    keys.add(base);
    keys.add(FeatureCacheKey.of("m2", d, rrc, 3));                                 // model
    keys.add(FeatureCacheKey.of("m1", d.withName("pets2"), rrc, 3));               // dataset name
    keys.add(FeatureCacheKey.of("m1", dataset("pets", files.subList(0, 3), 0), rrc, 3));  // a file fewer
    keys.add(FeatureCacheKey.of("m1", dataset("pets", List.of(files.get(1), files.get(0), files.get(2),
        files.get(3)), 0), rrc, 3));                                                // order
    keys.add(FeatureCacheKey.of("m1", d, RandomResizedCrop.mtil(336, 42), 3));      // transform
    keys.add(FeatureCacheKey.of("m1", d, rrc.withFlip(0.5), 3));                    // transform parameters
    keys.add(FeatureCacheKey.of("m1", d, rrc.withSeed(43), 3));                     // seed
    keys.add(FeatureCacheKey.of("m1", d, rrc, 4));                                  // epoch
    keys.add(FeatureCacheKey.of("m1", d, ClipImageTransform.of(224)));              // eval transform
    assertEquals(10, keys.size());

    // a file touched (same bytes, newer time) is a miss
    Files.setLastModifiedTime(files.get(2), FileTime.fromMillis(T0.toMillis() + 1000));
    String touched = FeatureCacheKey.of("m1", d, rrc, 3);
    assertNotEquals(base, touched);
    Files.setLastModifiedTime(files.get(2), T0);
    assertEquals(base, FeatureCacheKey.of("m1", d, rrc, 3));
    // a file that grew (time set back) is a miss
    Files.write(files.get(2), new byte[] {0}, StandardOpenOption.APPEND);
    Files.setLastModifiedTime(files.get(2), T0);
    assertNotEquals(base, FeatureCacheKey.of("m1", d, rrc, 3));
  }

  @Test
  void rawComponentsAreEachSignificant() {
    OptionalLong none = OptionalLong.empty();
    String base = FeatureCacheKey.key("m", "d", "t", OptionalLong.of(1), OptionalLong.of(2));
    assertEquals(base, FeatureCacheKey.key("m", "d", "t", OptionalLong.of(1), OptionalLong.of(2)));
    Set<String> keys = new HashSet<>(List.of(base,
        FeatureCacheKey.key("m'", "d", "t", OptionalLong.of(1), OptionalLong.of(2)),
        FeatureCacheKey.key("m", "d'", "t", OptionalLong.of(1), OptionalLong.of(2)),
        FeatureCacheKey.key("m", "d", "t'", OptionalLong.of(1), OptionalLong.of(2)),
        FeatureCacheKey.key("m", "d", "t", OptionalLong.of(2), OptionalLong.of(2)),
        FeatureCacheKey.key("m", "d", "t", OptionalLong.of(1), OptionalLong.of(3)),
        FeatureCacheKey.key("m", "d", "t", none, OptionalLong.of(2)),
        FeatureCacheKey.key("m", "d", "t", OptionalLong.of(1), none),
        FeatureCacheKey.key("md", "", "t", OptionalLong.of(1), OptionalLong.of(2))));  // no ambiguity at the joins
    assertEquals(9, keys.size());
  }

  @Test
  void randomTransformsNeedAnEpochAndMissingFilesAreErrors() throws Exception {
    Dataset d = dataset("pets", files, 0);
    assertThrows(IllegalArgumentException.class, () -> FeatureCacheKey.of("m", d, RandomResizedCrop.mtil(224, 1)));
    // an epoch does not matter for a deterministic transform
    assertEquals(FeatureCacheKey.of("m", d, ClipImageTransform.of(224)),
        FeatureCacheKey.of("m", d, ClipImageTransform.of(224), 5));
    Files.delete(files.get(0));
    assertThrows(java.io.UncheckedIOException.class, () -> FeatureCacheKey.datasetIdentity(d));
  }
}
