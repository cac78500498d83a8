package dev.mergetune.clip.text;

import java.text.Normalizer;

/**
 * The part of {@code ftfy.fix_text} (ftfy 6, default configuration) that does not guess encodings, step for step:
 * the text is cut after each {@code '\n'} into segments; each segment is fixed until nothing changes by
 * {@code unescape_html} (while enabled), {@code fix_c1_controls}, {@code fix_latin_ligatures},
 * {@code fix_character_width}, {@code uncurl_quotes}, {@code fix_line_breaks}, {@code fix_surrogates},
 * {@code remove_terminal_escapes}, {@code remove_control_chars} and NFC normalisation, in that order. As in ftfy,
 * {@code unescape_html="auto"} is switched off for the first segment that contains a literal {@code '<'} and for
 * every segment after it. What is left out is {@code fix_encoding} (mojibake detection and repair), see
 * {@link ClipTokenizer}.
 */
final class Ftfy {
  /** Windows-1252 for bytes 0x80–0x9F, the five undefined ones passed through (ftfy's sloppy-windows-1252). */
  static final char[] WINDOWS_1252_C1 = {
      '\u20AC', '\u0081', '\u201A', '\u0192', '\u201E', '\u2026', '\u2020', '\u2021',
      '\u02C6', '\u2030', '\u0160', '\u2039', '\u0152', '\u008D', '\u017D', '\u008F',
      '\u0090', '\u2018', '\u2019', '\u201C', '\u201D', '\u2022', '\u2013', '\u2014',
      '\u02DC', '\u2122', '\u0161', '\u203A', '\u0153', '\u009D', '\u017E', '\u0178'};

  private Ftfy() {}

  /** {@code ftfy.fix_text(text)} without {@code fix_encoding}. */
  static String fixText(String text) {
    StringBuilder out = null;
    boolean unescapeHtml = true;
    int n = text.length();
    int pos = 0;
    while (pos < n) {
      int brk = text.indexOf('\n', pos);
      int end = brk < 0 ? n : brk + 1;
      String segment = pos == 0 && end == n ? text : text.substring(pos, end);
      if (unescapeHtml && segment.indexOf('<') >= 0) unescapeHtml = false;
      String fixed = fixSegment(segment, unescapeHtml);
      if (pos == 0 && end == n) return fixed;
      if (out == null) out = new StringBuilder(n);
      out.append(fixed);
      pos = end;
    }
    return out == null ? text : out.toString();
  }

  /** {@code ftfy.fix_and_explain(segment)} without {@code fix_encoding}: the fixers until a fixed point. */
  static String fixSegment(String text, boolean unescapeHtml) {
    while (true) {
      String orig = text;
      if (unescapeHtml) text = HtmlEntities.ftfyUnescape(text);
      text = fixCharacters(text);
      text = removeTerminalEscapes(text);
      text = removeControlChars(text);
      if (!Normalizer.isNormalized(text, Normalizer.Form.NFC)) text = Normalizer.normalize(text, Normalizer.Form.NFC);
      if (text.equals(orig)) return text;
    }
  }

  /**
   * fix_c1_controls, fix_latin_ligatures, fix_character_width, uncurl_quotes, fix_line_breaks and fix_surrogates
   * in one pass, each character taken through them in ftfy's order: a C1 control becomes its Windows-1252
   * character, which may be a curly quote that uncurl_quotes then straightens (U+0093 becomes '"'); the ligature
   * U+0149 becomes U+02BC + n, whose U+02BC uncurl_quotes straightens. No other output of an earlier fixer is
   * touched by a later one.
   */
  static String fixCharacters(String s) {
    int n = s.length();
    int i = 0;
    while (i < n && !needsCharacterFix(s.charAt(i))) i++;
    if (i == n) return s;
    StringBuilder out = new StringBuilder(n + 8).append(s, 0, i);
    for (; i < n; i++) {
      char c = s.charAt(i);
      if (!needsCharacterFix(c)) {
        out.append(c);
        continue;
      }
      if (c >= 0x80 && c <= 0x9F) c = WINDOWS_1252_C1[c - 0x80];  // U+0085 is U+2026 now: no line break left
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          out.append(c).append(s.charAt(++i));
        } else {
          out.append('\uFFFD');
        }
      } else if (Character.isLowSurrogate(c)) {
        out.append('\uFFFD');
      } else if (c == '\r') {
        out.append('\n');
        if (i + 1 < n && s.charAt(i + 1) == '\n') i++;
      } else if (c == '\u2028' || c == '\u2029') {
        out.append('\n');
      } else if (c == '\u02BC' || (c >= '\u2018' && c <= '\u201B')) {
        out.append('\'');
      } else if (c >= '\u201C' && c <= '\u201F') {
        out.append('"');
      } else if (c == '\u3000') {
        out.append(' ');
      } else if (c >= 0xFF01 && c <= 0xFFEF) {
        out.append(Normalizer.normalize(String.valueOf(c), Normalizer.Form.NFKC));
      } else {
        String lig = ligature(c);
        if (lig != null) out.append(lig); else out.append(c);
      }
    }
    return out.toString();
  }

  private static boolean needsCharacterFix(char c) {
    if (c < 0x80) return c == '\r';
    if (c <= 0x9F) return true;
    if (c < 0x132) return false;
    return c == 0x132 || c == 0x133 || c == 0x149 || (c >= 0x1C4 && c <= 0x1CC) || (c >= 0x1F1 && c <= 0x1F3)
        || c == 0x2BC || (c >= 0x2018 && c <= 0x201F) || c == 0x2028 || c == 0x2029 || c == 0x3000
        || (c >= 0xD800 && c <= 0xDFFF) || (c >= 0xFB00 && c <= 0xFB06) || (c >= 0xFF01 && c <= 0xFFEF);
  }

  /** ftfy's chardata.LIGATURES. */
  private static String ligature(char c) {
    switch (c) {
      case '\u0132': return "IJ";
      case '\u0133': return "ij";
      case '\u0149': return "'n";  // U+02BC n, its U+02BC straightened by uncurl_quotes
      case '\u01F1': return "DZ";
      case '\u01F2': return "Dz";
      case '\u01F3': return "dz";
      case '\u01C4': return "D\u017D";
      case '\u01C5': return "D\u017E";
      case '\u01C6': return "d\u017E";
      case '\u01C7': return "LJ";
      case '\u01C8': return "Lj";
      case '\u01C9': return "lj";
      case '\u01CA': return "NJ";
      case '\u01CB': return "Nj";
      case '\u01CC': return "nj";
      case '\uFB00': return "ff";
      case '\uFB01': return "fi";
      case '\uFB02': return "fl";
      case '\uFB03': return "ffi";
      case '\uFB04': return "ffl";
      case '\uFB05': return "\u017Ft";
      case '\uFB06': return "st";
      default: return null;
    }
  }

  /** ftfy's remove_terminal_escapes: {@code \033\[((?:\d|;)*)([a-zA-Z])} removed. */
  static String removeTerminalEscapes(String s) {
    int p = s.indexOf('\033');
    if (p < 0) return s;
    StringBuilder out = new StringBuilder(s.length());
    int copied = 0;
    int n = s.length();
    while (p >= 0) {
      int end = -1;
      if (p + 1 < n && s.charAt(p + 1) == '[') {
        int r = p + 2;
        while (r < n) {
          int cp = s.codePointAt(r);
          if (cp != ';' && !Character.isDigit(cp)) break;  // Python's \d: any decimal digit (Nd)
          r += Character.charCount(cp);
        }
        if (r < n && isAsciiLetter(s.charAt(r))) end = r + 1;
      }
      if (end < 0) {
        p = s.indexOf('\033', p + 1);
        continue;
      }
      out.append(s, copied, p);
      copied = end;
      p = s.indexOf('\033', end);
    }
    out.append(s, copied, n);
    return out.toString();
  }

  private static boolean isAsciiLetter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  /**
   * ftfy's remove_control_chars: U+0000–U+0008, U+000B, U+000E–U+001F, U+007F, U+206A–U+206F, U+FEFF and
   * U+FFF9–U+FFFC removed.
   */
  static String removeControlChars(String s) {
    int n = s.length();
    int i = 0;
    while (i < n && !isRemovedControl(s.charAt(i))) i++;
    if (i == n) return s;
    StringBuilder out = new StringBuilder(n).append(s, 0, i);
    for (; i < n; i++) {
      char c = s.charAt(i);
      if (!isRemovedControl(c)) out.append(c);
    }
    return out.toString();
  }

  private static boolean isRemovedControl(char c) {
    return c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F || (c >= 0x206A && c <= 0x206F)
        || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
  }
}
