package dev.mergetune.tensors;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Selects parameter names by glob patterns: {@code *} matches within one dotted component, {@code **} across
 * components, {@code ?} one character. A name is kept when it matches any include (or there are none) and no
 * exclude. Example: include {@code visual.**}, exclude {@code **.ln_*.*}.
 */
public final class NameFilter implements Predicate<String> {
  private final List<Pattern> includes;
  private final List<Pattern> excludes;

  private NameFilter(List<Pattern> includes, List<Pattern> excludes) {
    this.includes = includes;
    this.excludes = excludes;
  }

  public static NameFilter all() {
    return new NameFilter(List.of(), List.of());
  }

  public static NameFilter of(List<String> include, List<String> exclude) {
    return new NameFilter(compile(include), compile(exclude));
  }

  @Override
  public boolean test(String name) {
    boolean in = includes.isEmpty() || includes.stream().anyMatch(p -> p.matcher(name).matches());
    return in && excludes.stream().noneMatch(p -> p.matcher(name).matches());
  }

  private static List<Pattern> compile(List<String> globs) {
    List<Pattern> out = new ArrayList<>();
    for (String g : globs) out.add(Pattern.compile(toRegex(g)));
    return out;
  }

  static String toRegex(String glob) {
    if (glob.isEmpty()) throw new IllegalArgumentException("empty name pattern");
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*') {
        if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
          re.append(".*");
          i++;
        } else {
          re.append("[^.]*");
        }
      } else if (c == '?') {
        re.append("[^.]");
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return re.toString();
  }
}
