package dev.mergetune.clip.text;

/**
 * {@code regex.findall} of CLIP's pattern
 * {@code <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+} with
 * {@code IGNORECASE}, as a single forward scan. At each position the alternatives are tried in the pattern's order;
 * none needs backtracking (each is a literal or a greedy run of one class), so the first that matches is the
 * match, and a position no alternative matches (whitespace, U+0345) is skipped.
 */
final class PreTokenizer {
  private static final String SOT = "<|startoftext|>";
  private static final String EOT = "<|endoftext|>";

  /** Receives each piece as a range of the scanned string. */
  @FunctionalInterface
  interface Sink {
    void piece(String s, int from, int to);
  }

  private PreTokenizer() {}

  static void split(String s, Sink sink) {
    int n = s.length();
    int i = 0;
    while (i < n) {
      int cp = s.codePointAt(i);
      if (cp == '<') {
        int end = matchLiteral(s, i, SOT);
        if (end < 0) end = matchLiteral(s, i, EOT);
        if (end >= 0) {
          sink.piece(s, i, end);
          i = end;
          continue;
        }
      } else if (cp == '\'') {
        int end = matchContraction(s, i);
        if (end >= 0) {
          sink.piece(s, i, end);
          i = end;
          continue;
        }
      }
      byte k = CharClasses.of(cp);
      int start = i;
      i += Character.charCount(cp);
      switch (k) {
        case CharClasses.LETTER:
          while (i < n) {
            int c = s.codePointAt(i);
            if (CharClasses.of(c) != CharClasses.LETTER) break;
            i += Character.charCount(c);
          }
          sink.piece(s, start, i);
          break;
        case CharClasses.NUMBER:
          sink.piece(s, start, i);
          break;
        case CharClasses.OTHER:
          while (i < n) {
            int c = s.codePointAt(i);
            if (CharClasses.of(c) != CharClasses.OTHER) break;
            i += Character.charCount(c);
          }
          sink.piece(s, start, i);
          break;
        default:  // SPACE, NONE: matched by no alternative
          break;
      }
    }
  }

  /** The end of {@code literal} matched case-insensitively at {@code at}, or -1. */
  private static int matchLiteral(String s, int at, String literal) {
    int i = at;
    int n = s.length();
    for (int k = 0; k < literal.length(); k++) {
      if (i >= n) return -1;
      int cp = s.codePointAt(i);
      if (!foldEquals(cp, literal.charAt(k))) return -1;
      i += Character.charCount(cp);
    }
    return i;
  }

  /** {@code 's|'t|'re|'ve|'m|'ll|'d} at the apostrophe at {@code at}: the end of the match, or -1. */
  private static int matchContraction(String s, int at) {
    int n = s.length();
    int i = at + 1;
    if (i >= n) return -1;
    int c1 = s.codePointAt(i);
    int after1 = i + Character.charCount(c1);
    if (foldEquals(c1, 's') || foldEquals(c1, 't') || foldEquals(c1, 'm') || foldEquals(c1, 'd')) return after1;
    char second;
    if (foldEquals(c1, 'r') || foldEquals(c1, 'v')) {
      second = 'e';
    } else if (foldEquals(c1, 'l')) {
      second = 'l';
    } else {
      return -1;
    }
    if (after1 >= n) return -1;
    int c2 = s.codePointAt(after1);
    return foldEquals(c2, second) ? after1 + Character.charCount(c2) : -1;
  }

  /**
   * Whether {@code cp} matches the pattern character {@code lit} under {@code regex}'s IGNORECASE (simple case
   * folding). For the ASCII letters and punctuation of CLIP's pattern the only non-ASCII match is ſ (U+017F),
   * which folds to s.
   */
  static boolean foldEquals(int cp, char lit) {
    if (cp == lit) return true;
    if (cp < 0x80) return cp >= 'A' && cp <= 'Z' && cp + 32 == lit;
    return cp == 0x17F && lit == 's';
  }
}
