package dev.mergetune.io;

/**
 * Names that become one part of a path (task names, run names): never empty, never {@code .} or {@code ..}, no
 * path separator, no control character, not hidden (a leading dot), at most 200 characters — so a name can never
 * leave the folder it is meant for (issue 25: {@code --name ..} wrote a training run into the store's root).
 */
public final class PathNames {
  private PathNames() {}

  /** {@code name} unchanged when it is a safe path part, else an error naming {@code what} and the rule. */
  public static String require(String name, String what) {
    String why = problem(name);
    if (why != null) throw new IllegalArgumentException(what + " '" + name + "' " + why);
    return name;
  }

  /** Why {@code name} is not a safe path part, or null. */
  public static String problem(String name) {
    if (name == null || name.isEmpty()) return "is empty; give a name";
    if (name.equals(".") || name.equals("..")) return "is not a name (it would leave its folder)";
    if (name.startsWith(".")) return "starts with '.'; names may not be hidden files";
    if (name.length() > 200) return "is longer than 200 characters";
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == '/' || c == '\\') return "contains a path separator; a name is one folder or file name";
      if (c < 0x20 || c == 0x7f) return "contains a control character";
    }
    return null;
  }
}
