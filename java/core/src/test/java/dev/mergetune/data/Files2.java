package dev.mergetune.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Tiny files for dataset tests: empty placeholders, valid 2x2 PNGs, text. */
final class Files2 {
  private Files2() {}

  /** An empty file (enough where nothing decodes it), parents created. */
  static Path touch(Path p) {
    try {
      Files.createDirectories(p.getParent());
      if (!Files.exists(p)) Files.createFile(p);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A valid 2x2 PNG. */
  static Path png(Path p) {
    try {
      Files.createDirectories(p.getParent());
      BufferedImage img = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
      img.setRGB(0, 0, 0xff0000);
      if (!ImageIO.write(img, "png", p.toFile())) throw new IOException("no PNG writer");
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Path write(Path p, String text) {
    try {
      Files.createDirectories(p.toAbsolutePath().getParent());
      Files.writeString(p, text, StandardCharsets.UTF_8);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Path mkdirs(Path p) {
    try {
      return Files.createDirectories(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
