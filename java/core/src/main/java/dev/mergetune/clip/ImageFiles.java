package dev.mergetune.clip;

import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.ImageBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;

/**
 * Image files as a {@link BatchSource}: each batch is decoded and preprocessed on worker threads
 * ({@link ImageBatch}). Its cache identity is every file's path, size and modification time plus the transform —
 * a changed or replaced file, or another transform ({@code id()}), is a miss without reading every image twice.
 */
public final class ImageFiles implements BatchSource {
  private static final List<String> EXTENSIONS = List.of(".jpg", ".jpeg", ".png");

  private final List<Path> files;
  private final ClipImageTransform transform;
  private final int threads;

  public ImageFiles(List<Path> files, ClipImageTransform transform, int threads) {
    this.files = List.copyOf(files);
    this.transform = transform;
    this.threads = threads;
  }

  /** The JPEG/PNG files of a folder (recursively), in sorted path order. */
  public static List<Path> list(Path dir) {
    if (!Files.isDirectory(dir)) throw new IllegalArgumentException("not a folder of images: " + dir);
    try (Stream<Path> s = Files.walk(dir)) {
      List<Path> out = s.filter(Files::isRegularFile)
          .filter(p -> !p.getFileName().toString().startsWith("."))
          .filter(p -> EXTENSIONS.stream().anyMatch(e -> p.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(e)))
          .sorted().toList();
      if (out.isEmpty()) throw new IllegalArgumentException(dir + " holds no .jpg/.jpeg/.png files");
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("listing " + dir, e);
    }
  }

  public List<Path> files() {
    return files;
  }

  @Override
  public long size() {
    return files.size();
  }

  @Override
  public Tensor batch(long start, int count) {
    return ImageBatch.loadTensor(files.subList((int) start, (int) start + count), transform, threads);
  }

  @Override
  public String identity() {
    StringBuilder sb = new StringBuilder("image-files ").append(transform.id()).append('\n');
    for (Path p : files) {
      try {
        sb.append(p.toAbsolutePath()).append(' ').append(Files.size(p)).append(' ')
            .append(Files.getLastModifiedTime(p).toMillis()).append('\n');
      } catch (IOException e) {
        throw new UncheckedIOException("reading the attributes of " + p, e);
      }
    }
    return sb.toString();
  }
}
