package dev.mergetune.tensors;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Tells the two PyTorch zip formats apart from the archive's entry names alone (the central directory, read
 * without touching tensor data): a TorchScript archive ({@code torch.jit.save}) has {@code <name>/code/} and
 * {@code <name>/constants.pkl}; a {@code torch.save} file has {@code <name>/data.pkl} and no code. Deciding here,
 * rather than by letting one LibTorch loader fail and trying the other, keeps the error for a broken file about
 * that file's own format.
 */
final class TorchArchives {
  /** The PyTorch file formats read. */
  enum Kind {
    TORCHSCRIPT("TorchScript archive"),
    TORCH_SAVE("torch.save file");

    private final String description;

    Kind(String description) {
      this.description = description;
    }

    String description() {
      return description;
    }
  }

  private static final Pattern CODE = Pattern.compile("[^/]+/(code/.*|constants\\.pkl)");
  private static final Pattern DATA = Pattern.compile("[^/]+/data\\.pkl");
  private static final int LISTED = 6;

  private TorchArchives() {}

  /** Which format the (already bounds-checked) zip is; anything else is a format error naming the file. */
  static Kind kind(PtZip zip) {
    List<String> names = zip.names();
    if (names.stream().anyMatch(n -> CODE.matcher(n).matches())) return Kind.TORCHSCRIPT;
    if (names.stream().anyMatch(n -> DATA.matcher(n).matches())) return Kind.TORCH_SAVE;
    StringBuilder listed = new StringBuilder();
    for (int i = 0; i < Math.min(LISTED, names.size()); i++) listed.append(i == 0 ? "" : ", ").append(names.get(i));
    if (names.size() > LISTED) listed.append(", ... (").append(names.size()).append(" entries)");
    throw new CheckpointFormatException(zip.path(), "is a zip archive but neither a TorchScript archive (no <name>/code/ or "
        + "<name>/constants.pkl) nor a torch.save file (no <name>/data.pkl); it holds "
        + (names.isEmpty() ? "no entries" : listed));
  }

  /** The archive's top folder ({@code <name>} of {@code <name>/data.pkl}), which must hold {@code data.pkl}. */
  static String archive(PtZip zip) {
    for (String n : zip.names()) {
      if (DATA.matcher(n).matches()) return n.substring(0, n.indexOf('/'));
    }
    throw new CheckpointFormatException(zip.path(), "has no <name>/data.pkl record");
  }
}
