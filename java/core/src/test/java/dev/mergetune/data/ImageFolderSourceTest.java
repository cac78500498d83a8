package dev.mergetune.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderSourceTest {
  @TempDir Path dir;

  private List<String> rel(Dataset d) {
    return d.samples().stream().map(s -> dir.relativize(s.image()).toString() + "=" + s.label()).toList();
  }

  @Test
  void classesAreSortedFoldersAndImagesFollowTorchvisionOrder() {
    Files2.png(dir.resolve("dog/2.png"));
    Files2.png(dir.resolve("dog/10.PNG"));                // upper-case extension counts
    Files2.touch(dir.resolve("dog/notes.txt"));           // not an image
    Files2.png(dir.resolve("Zebra/a.jpg"));               // 'Z' sorts before 'c' (code points, as Python)
    Files2.png(dir.resolve("cat/b.jpeg"));
    Files2.png(dir.resolve("cat/sub/a.png"));             // nested: walked, label of the top folder
    Files2.png(dir.resolve("cat/sub b/a.png"));
    Files2.png(dir.resolve("cat/sub/deeper/a.png"));      // folders by whole path: sub, sub b, sub/deeper (' ' < '/')
    Files2.png(dir.resolve("cat/c.webp"));
    Files2.png(dir.resolve("stray.png"));                 // a file in the root: ignored
    Dataset d = ImageFolderSource.read(dir, "toy");
    assertEquals(List.of("Zebra", "cat", "dog"), d.classNames());
    assertEquals(List.of("Zebra/a.jpg=0", "cat/b.jpeg=1", "cat/c.webp=1", "cat/sub/a.png=1", "cat/sub b/a.png=1",
        "cat/sub/deeper/a.png=1",
        "dog/10.PNG=2", "dog/2.png=2"), rel(d));
    assertEquals("toy", d.name());
  }

  @Test
  void hiddenEntriesAreSkippedUnlessAsked() {
    Files2.png(dir.resolve("a/x.png"));
    Files2.png(dir.resolve("a/.y.png"));
    Files2.png(dir.resolve(".ipynb_checkpoints/z.png"));
    Dataset d = ImageFolderSource.read(dir, "toy");
    assertEquals(List.of("a"), d.classNames());
    assertEquals(List.of("a/x.png=0"), rel(d));
    Dataset all = ImageFolderSource.read(dir, "toy", true);
    assertEquals(List.of(".ipynb_checkpoints", "a"), all.classNames());
    assertEquals(List.of(".ipynb_checkpoints/z.png=0", "a/.y.png=1", "a/x.png=1"), rel(all));
  }

  @Test
  void errorsNameTheFolder() {
    Path missing = dir.resolve("nope");
    DatasetException e = assertThrows(DatasetException.class, () -> ImageFolderSource.read(missing));
    assertTrue(e.getMessage().startsWith(missing + ": image folder not found"), e.getMessage());
    DatasetException none = assertThrows(DatasetException.class, () -> ImageFolderSource.read(dir));
    assertTrue(none.getMessage().contains("no class folders"), none.getMessage());
    Files2.png(dir.resolve("full/a.png"));
    Files2.touch(dir.resolve("empty/readme.txt"));
    DatasetException empty = assertThrows(DatasetException.class, () -> ImageFolderSource.read(dir));
    assertTrue(empty.getMessage().contains(dir.toString()) && empty.getMessage().contains("empty"), empty.getMessage());
  }

  @Test
  void codePointOrderMatchesPythonAboveTheBmp() {
    // U+1F600 is a surrogate pair; String.compareTo would put it before U+FF5E, Python after.
    assertTrue(Listing.CODE_POINT_ORDER.compare("\uD83D\uDE00", "\uFF5E") > 0);
    assertTrue("\uD83D\uDE00".compareTo("\uFF5E") < 0);
    assertTrue(Listing.CODE_POINT_ORDER.compare("ab", "abc") < 0);
    assertTrue(Files.isDirectory(dir));
  }
}
