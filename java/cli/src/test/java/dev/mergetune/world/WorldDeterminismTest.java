package dev.mergetune.world;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorldDeterminismTest {
  @TempDir Path dir;

  private static List<Path> files(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).map(root::relativize).sorted().toList();
    }
  }

  @Test
  void sameSeedSameBytesOtherSeedOtherBytes() throws IOException {
    World a = TinyWorlds.generate(dir.resolve("a"), 3, 24);
    World b = TinyWorlds.generate(dir.resolve("b"), 3, 24);
    World c = TinyWorlds.generate(dir.resolve("c"), 4, 24);
    List<Path> fa = files(a.root());
    assertEquals(fa, files(b.root()));
    assertTrue(fa.size() > 200, "expected a few hundred files, got " + fa.size());
    for (Path p : fa) {
      assertArrayEquals(Files.readAllBytes(a.root().resolve(p)), Files.readAllBytes(b.root().resolve(p)), p.toString());
    }
    assertEquals(a.sha256(), b.sha256());
    assertNotEquals(a.sha256(), c.sha256());
    int differing = 0;
    for (Path p : fa) {
      Path q = c.root().resolve(p);
      if (p.toString().endsWith(".png") && Files.exists(q)
          && !java.util.Arrays.equals(Files.readAllBytes(a.root().resolve(p)), Files.readAllBytes(q))) {
        differing++;
      }
    }
    assertTrue(differing > fa.size() / 2, "another seed should change most images, changed " + differing);
    // no staging folder is left behind
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of("a", "b", "c"), s.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void describesTheSuite() throws IOException {
    World w = TinyWorlds.generate(dir.resolve("w"), 5, 16);
    assertEquals(List.of("shapes", "colours", "textures", "combos"), w.taskSequence());
    assertEquals(8, w.heldOut().size());
    for (World.DatasetEntry d : w.datasets()) {
      assertEquals(d.classes().stream().sorted().toList(), d.classes(), d.name() + " classes are sorted");
      int base = (d.classes().size() + 1) / 2;
      assertEquals(d.classes().subList(0, base), d.base());
      assertEquals(d.classes().subList(base, d.classes().size()), d.novel());
      for (Path split : List.of(d.train(), d.val(), d.test())) {
        assertEquals(d.classes(), dev.mergetune.data.ImageFolderSource.read(split).classNames(), split.toString());
      }
    }
    assertTrue(w.dataset("combos").classes().containsAll(w.heldOut()));
    assertEquals(3, w.domains().size());
  }

  @Test
  void refusesANonEmptyOutputAndBadSizes() throws IOException {
    Path out = Files.createDirectories(dir.resolve("busy"));
    Files.writeString(out.resolve("x.txt"), "x");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TinyWorlds.generate(out, 1, 4));
    assertTrue(e.getMessage().contains("--out"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new WorldSpec(1, 16, 4, 1, 1, 1, 1, 20));
    assertFalse(Files.exists(out.resolve(WorldGenerator.WORLD_JSON)));
  }
}
