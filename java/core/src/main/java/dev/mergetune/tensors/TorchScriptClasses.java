package dev.mergetune.tensors;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a TorchScript archive's {@code code/} says about its classes, read as text and never compiled or run: each
 * class's qualified name ({@code __torch__.clip.model.___torch_mangle_0.LayerNorm} for a class {@code LayerNorm}
 * in {@code code/__torch__/clip/model/___torch_mangle_0.py}), whether it is a {@code Module}, its
 * {@code __parameters__} and {@code __buffers__} lists, and the methods it defines. That is all a state dict needs.
 */
final class TorchScriptClasses {
  /** One class: module or not, parameter and buffer names, method names. */
  record ClassInfo(boolean module, Set<String> parameters, Set<String> buffers, Set<String> methods) {}

  static final long MAX_CODE_BYTES = 16L << 20;
  private static final Pattern CLASS = Pattern.compile("^class (\\w+)\\(([\\w.]+)\\):\\s*$");
  private static final Pattern LIST = Pattern.compile("^  (__parameters__|__buffers__) = \\[(.*)\\]\\s*$");
  private static final Pattern DEF = Pattern.compile("^  def (\\w+)\\(");
  private static final Pattern QUOTED = Pattern.compile("\"([^\"]*)\"");

  private final Map<String, ClassInfo> classes = new HashMap<>();

  /** Reads every {@code <archive>/code/**.py} entry of {@code zip} (each at most {@link #MAX_CODE_BYTES}). */
  static TorchScriptClasses read(PtZip zip, String archive) {
    TorchScriptClasses out = new TorchScriptClasses();
    String codeDir = archive + "/code/";
    long total = 0;
    for (String name : zip.names()) {
      if (!name.startsWith(codeDir) || !name.endsWith(".py")) continue;
      total += zip.size(name);
      if (total > 4 * MAX_CODE_BYTES) {
        throw new CheckpointFormatException(zip.path(), "code/ holds more than " + 4 * MAX_CODE_BYTES + " bytes of source");
      }
      String module = name.substring(archive.length() + "/code/".length(), name.length() - ".py".length()).replace('/', '.');
      out.parse(module, new String(zip.readBytes(name, MAX_CODE_BYTES), StandardCharsets.UTF_8));
    }
    return out;
  }

  private void parse(String module, String source) {
    String current = null;
    boolean isModule = false;
    Set<String> params = null;
    Set<String> buffers = null;
    Set<String> methods = null;
    for (String line : source.split("\n", -1)) {
      Matcher c = CLASS.matcher(line);
      if (c.matches()) {
        if (current != null) classes.put(current, new ClassInfo(isModule, params, buffers, methods));
        current = module + "." + c.group(1);
        isModule = c.group(2).equals("Module");
        params = new LinkedHashSet<>();
        buffers = new LinkedHashSet<>();
        methods = new LinkedHashSet<>();
        continue;
      }
      if (current == null) continue;
      Matcher l = LIST.matcher(line);
      if (l.matches()) {
        Set<String> into = l.group(1).equals("__parameters__") ? params : buffers;
        Matcher q = QUOTED.matcher(l.group(2));
        while (q.find()) into.add(q.group(1));
        continue;
      }
      Matcher d = DEF.matcher(line);
      if (d.find()) methods.add(d.group(1));
    }
    if (current != null) classes.put(current, new ClassInfo(isModule, params, buffers, methods));
  }

  /** The class's description, or null where code/ defines no such class. */
  ClassInfo get(String qualifiedName) {
    return classes.get(qualifiedName);
  }

  /** The first class (by name) that defines a method run while loading ({@code __setstate__}), or null. */
  String firstWithSetState() {
    return classes.entrySet().stream().filter(e -> e.getValue().methods().contains("__setstate__"))
        .map(Map.Entry::getKey).sorted().findFirst().orElse(null);
  }
}
