package dev.mergetune.tensors;

/**
 * LibTorch's exceptions as one line for a user: its first line (the rest is a C++ backtrace), plus a hint where a
 * message is known to hide a common cause.
 */
final class LibTorchMessages {
  private LibTorchMessages() {}

  static String summary(RuntimeException e) {
    String message = e.getMessage() == null ? e.getClass().getName() : e.getMessage();
    int newline = message.indexOf('\n');
    String first = (newline < 0 ? message : message.substring(0, newline)).strip();
    if (first.contains("Expected GenericDict but got None")) {
      // LibTorch's unpickler turns collections.OrderedDict into None, then fails on the dict's items.
      first += " (a dict saved as an OrderedDict, as torch.save(model.state_dict()) writes, cannot be read by LibTorch;"
          + " re-save it as a plain dict: torch.save(dict(state_dict), path))";
    }
    return first;
  }
}
