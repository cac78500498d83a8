package dev.mergetune.clip.text;

/**
 * Python's {@code str.lower()}: the simple lower-case mapping of every code point, except U+0130 (İ → i + U+0307,
 * its only unconditional full mapping) and U+03A3 Σ, which becomes final ς where CPython's
 * {@code handle_capital_sigma} says so — preceded by a cased character and not followed by one, case-ignorable
 * characters skipped on both sides. Java's {@code toLowerCase} decides final sigma by word boundaries instead, and
 * differs (e.g. on "AΣ½"), so it is not used for text that is not ASCII.
 */
final class PythonLower {
  private PythonLower() {}

  static String lower(String s) {
    int n = s.length();
    StringBuilder out = null;
    for (int i = 0; i < n; ) {
      int cp = s.codePointAt(i);
      int len = Character.charCount(cp);
      int lower = cp == 0x3A3 ? (finalSigma(s, i) ? 0x3C2 : 0x3C3) : Character.toLowerCase(cp);
      if (out == null && (lower != cp || cp == 0x130)) out = new StringBuilder(n + 4).append(s, 0, i);
      if (out != null) {
        if (cp == 0x130) out.append("i\u0307"); else out.appendCodePoint(lower);
      }
      i += len;
    }
    return out == null ? s : out.toString();
  }

  /** CPython's handle_capital_sigma for the Σ at {@code i}. */
  private static boolean finalSigma(String s, int i) {
    int j = i;
    int c = 0;
    boolean found = false;
    while (j > 0) {
      c = s.codePointBefore(j);
      j -= Character.charCount(c);
      if (!isCaseIgnorable(c)) {
        found = true;
        break;
      }
    }
    if (!found || !isCased(c)) return false;
    j = i + 1;
    while (j < s.length()) {
      c = s.codePointAt(j);
      if (!isCaseIgnorable(c)) return !isCased(c);
      j += Character.charCount(c);
    }
    return true;
  }

  /** Unicode's Cased: Lowercase, Uppercase (both with their Other_ contributions) or Lt. */
  static boolean isCased(int c) {
    return Character.isLowerCase(c) || Character.isUpperCase(c) || Character.isTitleCase(c);
  }

  /** Unicode's Case_Ignorable: Mn, Me, Cf, Lm, Sk, or Word_Break MidLetter, MidNumLet or Single_Quote. */
  static boolean isCaseIgnorable(int c) {
    switch (Character.getType(c)) {
      case Character.NON_SPACING_MARK:
      case Character.ENCLOSING_MARK:
      case Character.FORMAT:
      case Character.MODIFIER_LETTER:
      case Character.MODIFIER_SYMBOL:
        return true;
      default:
        break;
    }
    switch (c) {
      case 0x27: case 0x2E: case 0x3A: case 0xB7: case 0x387: case 0x55F: case 0x5F4: case 0x2018: case 0x2019:
      case 0x2024: case 0x2027: case 0xFE13: case 0xFE52: case 0xFE55: case 0xFF07: case 0xFF0E: case 0xFF1A:
        return true;
      default:
        return false;
    }
  }
}
