package dev.mergetune.tensors;

import dev.mergetune.io.InputFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Opens a checkpoint in whichever supported format the file holds, judged by its first bytes rather than its name
 * (a .pt, .pth or .bin may be any of them): a zip archive is a PyTorch file ({@link TorchCheckpoint}), a length
 * prefix followed by '{' is safetensors, and a *.json is a sharded safetensors index.
 */
public final class Checkpoints {
  static final String SUPPORTED = "a .safetensors file, a sharded *.safetensors.index.json, a TorchScript archive "
      + "or a torch.save zip file (.pt)";
  private static final byte[] ZIP = {'P', 'K', 3, 4};
  /** pickle protocol 2, then LONG1 of 10 bytes: torch.save's legacy magic number 0x1950a86a20f9469cfc6c. */
  private static final byte[] LEGACY_TORCH_SAVE = {
      (byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8,
      0x50, 0x19};

  private Checkpoints() {}

  public static Checkpoint open(Path path) {
    InputFiles.problem(path).ifPresent(p -> {
      throw new CheckpointFormatException(path, p);
    });
    if (path.getFileName().toString().endsWith(".json")) return SafetensorsCheckpoint.open(path);
    byte[] head = head(path, LEGACY_TORCH_SAVE.length);
    if (startsWith(head, ZIP)) return TorchCheckpoint.open(path);
    if (startsWith(head, LEGACY_TORCH_SAVE)) {
      throw new CheckpointFormatException(path, "is in torch.save's legacy (pre-zip) format, which LibTorch cannot read; "
          + "re-save it with PyTorch 1.6 or later: torch.save(torch.load(path), new_path)");
    }
    if (SafetensorsFile.looksLikeSafetensors(path) || path.getFileName().toString().endsWith(".safetensors")) {
      return SafetensorsCheckpoint.open(path);  // a damaged .safetensors gets that format's precise error
    }
    throw new CheckpointFormatException(path, "is not a checkpoint mergetune can read; supported: " + SUPPORTED);
  }

  /** Up to {@code n} bytes from the start of the file. */
  private static byte[] head(Path path, int n) {
    try (InputStream in = Files.newInputStream(path)) {
      return in.readNBytes(n);
    } catch (NoSuchFileException e) {
      throw new CheckpointFormatException(path, "no such file");
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + path, e);
    }
  }

  private static boolean startsWith(byte[] head, byte[] magic) {
    return head.length >= magic.length && Arrays.equals(head, 0, magic.length, magic, 0, magic.length);
  }
}
