package dev.mergetune.clip.text;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTML character references decoded exactly as Python does: {@link #unescape} is Python's {@code html.unescape}
 * (the HTML5 named references, legacy names without a semicolon, the longest-prefix rule, numeric references with
 * the HTML5 replacements for invalid ones), and {@link #ftfyUnescape} is ftfy's stricter {@code unescape_html}
 * (only {@code &name;} forms that end in a semicolon, plus upper-cased Latin names such as {@code &EACUTE;}).
 *
 * <p>The named references are the WHATWG list (2231 names, the table Python's {@code html.entities.html5} holds),
 * shipped as the resource {@code html5-entities.txt}.
 */
final class HtmlEntities {
  /** html.entities.html5: name (with its ';' where it has one) to replacement. */
  private static final Map<String, String> HTML5 = load();
  /** ftfy's chardata.HTML_ENTITIES without the leading '&': the ';'-terminated names and upper-cased variants. */
  private static final Map<String, String> FTFY = buildFtfy();

  private HtmlEntities() {}

  static int namedCount() {
    return HTML5.size();
  }

  private static Map<String, String> load() {
    Map<String, String> map = new HashMap<>(4096);
    try (InputStream in = HtmlEntities.class.getResourceAsStream("html5-entities.txt")) {
      if (in == null) throw new IllegalStateException("resource html5-entities.txt missing from the classpath");
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      for (String line; (line = r.readLine()) != null; ) {
        if (line.isEmpty() || line.startsWith("#")) continue;
        int tab = line.indexOf('\t');
        StringBuilder value = new StringBuilder(2);
        for (String hex : line.substring(tab + 1).split(" ")) value.appendCodePoint(Integer.parseInt(hex, 16));
        map.put(line.substring(0, tab), value.toString());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading html5-entities.txt", e);
    }
    return map;
  }

  /** ftfy's {@code _build_html_entities}. */
  private static Map<String, String> buildFtfy() {
    Map<String, String> map = new HashMap<>(4096);
    for (Map.Entry<String, String> e : HTML5.entrySet()) {
      String name = e.getKey();
      if (!name.endsWith(";")) continue;
      map.put(name, e.getValue());
      if (name.equals(name.toLowerCase(Locale.ROOT))) {
        String upper = name.toUpperCase(Locale.ROOT);
        String entity = "&" + upper;
        if (unescape(entity).equals(entity)) map.put(upper, e.getValue().toUpperCase(Locale.ROOT));
      }
    }
    return map;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Python's html.unescape

  /**
   * Python's {@code html.unescape}: every match of {@code &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)}
   * replaced as {@code html._replace_charref} does.
   */
  static String unescape(String s) {
    int p = s.indexOf('&');
    if (p < 0) return s;
    StringBuilder out = null;
    int copied = 0;
    int n = s.length();
    while (p >= 0) {
      int end = matchCharref(s, p);
      if (end < 0) {
        p = s.indexOf('&', p + 1);
        continue;
      }
      if (out == null) out = new StringBuilder(n);
      out.append(s, copied, p);
      replaceCharref(s, p + 1, end, out);
      copied = end;
      p = end < n ? s.indexOf('&', end) : -1;
    }
    if (out == null) return s;
    out.append(s, copied, n);
    return out.toString();
  }

  /** The end (exclusive) of the character reference starting with the '&' at {@code amp}, or -1. */
  private static int matchCharref(String s, int amp) {
    int n = s.length();
    int q = amp + 1;
    if (q >= n) return -1;
    char c = s.charAt(q);
    if (c == '#') {
      int r = q + 1;
      if (r < n && isDigit(s.charAt(r))) {
        while (r < n && isDigit(s.charAt(r))) r++;
        return r < n && s.charAt(r) == ';' ? r + 1 : r;
      }
      if (r < n && (s.charAt(r) == 'x' || s.charAt(r) == 'X') && r + 1 < n && isHex(s.charAt(r + 1))) {
        r++;
        while (r < n && isHex(s.charAt(r))) r++;
        return r < n && s.charAt(r) == ';' ? r + 1 : r;
      }
      return -1;  // '#' is outside the named-reference class
    }
    int r = q;
    int count = 0;
    while (r < n && count < 32) {
      int cp = s.codePointAt(r);
      if (cp == '\t' || cp == '\n' || cp == '\f' || cp == ' ' || cp == '<' || cp == '&' || cp == '#' || cp == ';') break;
      r += Character.charCount(cp);
      count++;
    }
    if (count == 0) return -1;
    return r < n && s.charAt(r) == ';' ? r + 1 : r;
  }

  /** html._replace_charref for the group s[from, to). */
  private static void replaceCharref(String s, int from, int to, StringBuilder out) {
    if (s.charAt(from) == '#') {
      boolean hex = s.charAt(from + 1) == 'x' || s.charAt(from + 1) == 'X';
      int digits = from + (hex ? 2 : 1);
      int end = s.charAt(to - 1) == ';' ? to - 1 : to;
      long num = 0;
      for (int i = digits; i < end; i++) {
        num = num * (hex ? 16 : 10) + Character.digit(s.charAt(i), 16);
        if (num > 0x10FFFF) {
          num = 0x110000;  // Python's int is unbounded; anything past U+10FFFF is replaced alike
          break;
        }
      }
      appendNumeric((int) num, out);
      return;
    }
    String name = s.substring(from, to);
    String value = HTML5.get(name);
    if (value != null) {
      out.append(value);
      return;
    }
    for (int x = name.length() - 1; x > 1; x--) {  // the longest name that is a proper prefix
      value = HTML5.get(name.substring(0, x));
      if (value != null) {
        out.append(value).append(name, x, name.length());
        return;
      }
    }
    out.append('&').append(name);
  }

  private static void appendNumeric(int num, StringBuilder out) {
    String invalid = invalidCharref(num);
    if (invalid != null) {
      out.append(invalid);
    } else if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
      out.append('\uFFFD');
    } else if (!isInvalidCodepoint(num)) {
      out.appendCodePoint(num);
    }
  }

  /** html._invalid_charrefs: 0, CR and the Windows-1252 reading of 0x80–0x9F. */
  private static String invalidCharref(int num) {
    if (num == 0) return "\uFFFD";
    if (num == 0x0D) return "\r";
    if (num >= 0x80 && num <= 0x9F) return String.valueOf(Ftfy.WINDOWS_1252_C1[num - 0x80]);
    return null;
  }

  /** html._invalid_codepoints. */
  private static boolean isInvalidCodepoint(int cp) {
    return (cp >= 0x1 && cp <= 0x8) || cp == 0xB || (cp >= 0xE && cp <= 0x1F) || (cp >= 0x7F && cp <= 0x9F)
        || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static boolean isHex(char c) {
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  private static boolean isAsciiAlnum(char c) {
    return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  // ---------------------------------------------------------------------------------------------------------------
  // ftfy.fixes.unescape_html

  /**
   * ftfy's {@code unescape_html}: each match of {@code &#?[0-9A-Za-z]{1,24};} becomes its entry in ftfy's entity
   * table, or, for a numeric reference, Python's {@code html.unescape} of it unless that leaves a ';' behind.
   */
  static String ftfyUnescape(String s) {
    int p = s.indexOf('&');
    if (p < 0) return s;
    StringBuilder out = null;
    int copied = 0;
    int n = s.length();
    while (p >= 0) {
      int q = p + 1;
      if (q < n && s.charAt(q) == '#') q++;
      int r = q;
      while (r < n && r - q < 25 && isAsciiAlnum(s.charAt(r))) r++;
      int k = r - q;
      if (k < 1 || k > 24 || r >= n || s.charAt(r) != ';') {
        p = s.indexOf('&', p + 1);
        continue;
      }
      int end = r + 1;
      String entity = s.substring(p, end);
      String replacement = FTFY.get(entity.substring(1));
      if (replacement == null && entity.startsWith("&#")) {
        String unescaped = unescape(entity);
        replacement = unescaped.indexOf(';') >= 0 ? entity : unescaped;
      }
      if (replacement == null) replacement = entity;
      if (out == null) out = new StringBuilder(n);
      out.append(s, copied, p).append(replacement);
      copied = end;
      p = end < n ? s.indexOf('&', end) : -1;
    }
    if (out == null) return s;
    out.append(s, copied, n);
    return out.toString();
  }
}
