package dev.mergetune.clip.text;

/**
 * The character classes of CLIP's pre-tokenisation pattern as Python's {@code regex} module applies them (with
 * {@code IGNORECASE}): {@code \s}, {@code [\p{L}]} and {@code [\p{N}]}, plus the one code point that, under
 * {@code IGNORECASE}, matches neither {@code [\p{L}]} nor {@code [^\s\p{L}\p{N}]} (U+0345 COMBINING GREEK
 * YPOGEGRAMMENI, whose case fold is the letter ι) and so is skipped like whitespace.
 *
 * <p>Letters and numbers come from the JDK's Unicode tables (Unicode 13 in Java 17): general categories
 * Lu/Ll/Lt/Lm/Lo and Nd/Nl/No. Code points assigned after Unicode 13 are unassigned here and so fall into the
 * symbol class. Whitespace is {@code regex}'s {@code \s}, listed explicitly (it has not changed since Unicode 6.3):
 * {@code \t \n \u000B \f \r}, space, U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F,
 * U+3000. (Python's {@code str.isspace()} also counts U+001C–U+001F, which {@code \s} does not; ftfy removes them
 * before either is asked.)
 */
final class CharClasses {
  static final byte OTHER = 0;
  static final byte LETTER = 1;
  static final byte NUMBER = 2;
  static final byte SPACE = 3;
  /** Matched by no alternative of the pattern: skipped by {@code findall}. */
  static final byte NONE = 4;

  private static final byte[] BMP = new byte[0x10000];

  static {
    for (int c = 0; c < 0x10000; c++) BMP[c] = compute(c);
  }

  private CharClasses() {}

  static byte of(int cp) {
    return cp < 0x10000 ? BMP[cp] : compute(cp);
  }

  static boolean isSpace(int cp) {
    return cp < 0x10000 && BMP[cp] == SPACE;
  }

  private static byte compute(int cp) {
    if (isRegexSpace(cp)) return SPACE;
    if (cp == 0x345) return NONE;
    if (Character.isLetter(cp)) return LETTER;
    int t = Character.getType(cp);
    if (t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER) {
      return NUMBER;
    }
    return OTHER;
  }

  /** {@code \s} of Python's {@code regex} module on str patterns. */
  static boolean isRegexSpace(int cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
        || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
        || cp == 0x3000;
  }

  /** Python's {@code str.isspace()} (what {@code str.strip()} strips): {@code \s} plus U+001C–U+001F. */
  static boolean isPythonSpace(int cp) {
    return isRegexSpace(cp) || (cp >= 0x1C && cp <= 0x1F);
  }
}
