package dev.mergetune.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * The one strict reader of every config file the project reads (YAML, or JSON for {@code *.json}); build new config
 * readers on it. Before parsing: the file must be a regular file ({@link InputFiles}) of at most {@link #MAX_BYTES}.
 * While parsing: a duplicate key is an error (never "last wins"); nesting, string length and YAML aliases are
 * bounded. While binding ({@link #read}): no coercion — a string, boolean or fraction is never taken as an integer,
 * nor a number as a string; a null anywhere is an error naming the key; an unknown key is an error. Tree readers
 * ({@link #tree}) get the same guarantees for nulls and duplicates and use the typed accessors
 * ({@link #integer}, {@link #number}, {@link #bool}, {@link #text}), which refuse any other type.
 *
 * <p>Every error is a {@link ConfigException} whose message starts with the file, names the key ({@code a.b[2]})
 * and says what was expected.
 */
public final class StrictConfig {
  /** Configs are small; anything larger is refused before it is parsed. */
  public static final long MAX_BYTES = 1L << 20;
  private static final int MAX_DEPTH = 64;

  private StrictConfig() {}

  /** A strict mapper for {@code file}'s format (JSON for {@code *.json}, YAML otherwise). */
  public static ObjectMapper mapper(Path file) {
    boolean json = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json");
    ObjectMapper m;
    if (json) {
      m = new ObjectMapper();
    } else {
      LoaderOptions options = new LoaderOptions();
      options.setMaxAliasesForCollections(20);
      options.setNestingDepthLimit(MAX_DEPTH);
      options.setCodePointLimit((int) MAX_BYTES);
      options.setAllowDuplicateKeys(false);
      m = new ObjectMapper(YAMLFactory.builder().loaderOptions(options).build());
    }
    m.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH)
        .maxStringLength((int) MAX_BYTES).maxNumberLength(100).build());
    m.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES,
        DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS, DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    m.disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
    for (LogicalType t : new LogicalType[] {LogicalType.Integer, LogicalType.Float, LogicalType.Boolean}) {
      m.coercionConfigFor(t).setCoercion(CoercionInputShape.String, CoercionAction.Fail)
          .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail)
          .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
    }
    m.coercionConfigFor(LogicalType.Integer).setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
    m.coercionConfigFor(LogicalType.Boolean).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
    m.coercionConfigFor(LogicalType.Textual).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail).setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    return m;
  }

  /** The file's text after the file checks (regular file, size); a {@code what} ("merge config") for messages. */
  public static byte[] bytes(Path file, String what) {
    InputFiles.problem(file).ifPresent(p -> {
      throw new ConfigException(what + " " + file + ": " + p);
    });
    try {
      long size = Files.size(file);
      if (size > MAX_BYTES) {
        throw new ConfigException(file + ": a " + what + " of " + size + " bytes; configs are at most " + MAX_BYTES);
      }
      byte[] b = Files.readAllBytes(file);
      if (b.length > MAX_BYTES) throw new ConfigException(file + ": grew past " + MAX_BYTES + " bytes while read");
      if (new String(b, java.nio.charset.StandardCharsets.UTF_8).isBlank()) throw new ConfigException(file + ": empty " + what);
      return b;
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read " + what + ": " + IoErrors.oneLine(e));
    }
  }

  /** The config bound to {@code type}, strictly (see the class comment). */
  public static <T> T read(Path file, Class<T> type, String what) {
    JsonNode root = tree(file, what);  // nulls and duplicates refused by key here; absent keys stay absent
    try {
      return mapper(file).treeToValue(root, type);
    } catch (IOException e) {
      throw failure(file, e);
    }
  }

  /** The config as a tree, with every null refused by key (see the class comment). */
  public static JsonNode tree(Path file, String what) {
    byte[] b = bytes(file, what);
    JsonNode root;
    try {
      root = mapper(file).readTree(b);
    } catch (IOException e) {
      throw failure(file, e);
    }
    if (root == null || root.isMissingNode() || root.isNull()) throw new ConfigException(file + ": empty " + what);
    rejectNulls(file, root);
    return root;
  }

  /** Binds a subtree strictly (e.g. a mapping of settings over an existing object); errors name {@code where}. */
  public static <T> T update(Path file, String where, T target, JsonNode over) {
    try {
      return mapper(file).readerForUpdating(target).readValue(over);
    } catch (IOException e) {
      ConfigException c = failure(file, e);
      throw new ConfigException(c.getMessage().replaceFirst("^" + java.util.regex.Pattern.quote(file.toString()) + ":",
          file + ": " + where + ":"));
    }
  }

  /** {@code parent.key} as an int, {@code dflt} when absent; any non-integer (string, bool, 2.9) is an error. */
  public static int integer(Path file, JsonNode parent, String key, int dflt) {
    JsonNode v = parent.get(key);
    if (v == null) return dflt;
    if (!v.isIntegralNumber() || !v.canConvertToInt()) throw expected(file, key, "an integer", v);
    return v.intValue();
  }

  /** {@code parent.key} as a long, {@code dflt} when absent; any non-integer is an error. */
  public static long longInteger(Path file, JsonNode parent, String key, long dflt) {
    JsonNode v = parent.get(key);
    if (v == null) return dflt;
    if (!v.isIntegralNumber() || !v.canConvertToLong()) throw expected(file, key, "an integer", v);
    return v.longValue();
  }

  /** {@code parent.key} as a double, {@code dflt} when absent; a string or boolean is an error. */
  public static double number(Path file, JsonNode parent, String key, double dflt) {
    JsonNode v = parent.get(key);
    if (v == null) return dflt;
    if (!v.isNumber()) throw expected(file, key, "a number", v);
    return v.doubleValue();
  }

  /** {@code parent.key} as a boolean, {@code dflt} when absent; "yes" in quotes, 0 or 1 are errors. */
  public static boolean bool(Path file, JsonNode parent, String key, boolean dflt) {
    JsonNode v = parent.get(key);
    if (v == null) return dflt;
    if (!v.isBoolean()) throw expected(file, key, "true or false", v);
    return v.booleanValue();
  }

  /** {@code parent.key} as a string, {@code dflt} when absent; a number or boolean is an error. */
  public static String text(Path file, JsonNode parent, String key, String dflt) {
    JsonNode v = parent.get(key);
    if (v == null) return dflt;
    if (!v.isTextual()) throw expected(file, key, "a string", v);
    return v.textValue();
  }

  /** The error for {@code key} (a key path such as models[0].model) holding {@code got} where {@code what} was expected. */
  public static ConfigException mismatch(Path file, String key, String what, JsonNode got) {
    return expected(file, key, what, got);
  }

  private static ConfigException expected(Path file, String key, String what, JsonNode got) {
    String shown = got.isTextual() ? "the string \"" + abbreviate(got.textValue()) + "\""
        : got.isContainerNode() ? "a " + got.getNodeType().name().toLowerCase(Locale.ROOT) : got.toString();
    return new ConfigException(file + ": '" + key + "' must be " + what + ", got " + shown);
  }

  /** Walks the tree without recursion and refuses the first null, naming its key path. */
  private static void rejectNulls(Path file, JsonNode root) {
    Deque<Map.Entry<String, JsonNode>> todo = new ArrayDeque<>();
    todo.push(Map.entry("", root));
    while (!todo.isEmpty()) {
      Map.Entry<String, JsonNode> e = todo.pop();
      JsonNode n = e.getValue();
      if (n.isNull()) {
        throw new ConfigException(file + ": '" + e.getKey() + "' is null; give a value or leave the key out");
      }
      if (n.isObject()) {
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> f = it.next();
          todo.push(Map.entry(e.getKey().isEmpty() ? f.getKey() : e.getKey() + "." + f.getKey(), f.getValue()));
        }
      } else if (n.isArray()) {
        for (int i = n.size() - 1; i >= 0; i--) todo.push(Map.entry(e.getKey() + "[" + i + "]", n.get(i)));
      }
    }
  }

  /** A Jackson failure of a strict read as one line: file, line, key path, what went wrong. */
  public static String describe(Path file, IOException e) {
    return failure(file, e).getMessage();
  }

  static ConfigException failure(Path file, IOException e) {
    if (e instanceof UnrecognizedPropertyException u) {
      return new ConfigException(file + ": unknown key '" + path(u) + "'"
          + (u.getKnownPropertyIds() == null ? "" : " (known: " + u.getKnownPropertyIds() + ")"));
    }
    String where = "";
    if (e instanceof JsonProcessingException j && j.getLocation() != null && j.getLocation().getLineNr() > 0) {
      where = ", line " + j.getLocation().getLineNr();
    }
    String key = e instanceof JsonMappingException m && !m.getPath().isEmpty() ? " '" + path(m) + "'" : "";
    String msg = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    msg = msg == null ? e.getClass().getSimpleName() : msg.lines().findFirst().orElse("").strip();
    if (msg.startsWith("Duplicate field")) msg = "duplicate key: " + msg;
    if (!key.isEmpty() && msg.startsWith("Cannot deserialize value of type")) msg = mismatch(msg);
    if (msg.contains("Invalid `null` value")) msg = "is null; give a value or leave the key out (" + msg + ")";
    return new ConfigException(file + where + ":" + key + " " + msg);
  }

  /**
   * Jackson's "Cannot deserialize value of type `java.util.ArrayList<java.lang.Float>` from String value (token …)"
   * as "must be a list of numbers, got a string"; a type it does not know stays as Jackson wrote it.
   */
  static String mismatch(String msg) {
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("Cannot deserialize value of type `([^`]+)` from ([A-Za-z-]+) value").matcher(msg);
    if (!m.find()) return msg;
    String want = expectedType(m.group(1));
    String got = switch (m.group(2)) {
      case "String" -> "a string";
      case "Object" -> "a mapping";
      case "Array" -> "a list";
      case "Boolean" -> "a boolean";
      case "Integer", "Floating-point", "Number" -> "a number";
      default -> m.group(2).toLowerCase(Locale.ROOT) + " value";
    };
    return want == null ? msg : "must be " + want + ", got " + got;
  }

  private static String expectedType(String type) {
    String t = type.replace("java.lang.", "").replace("java.util.", "");
    String element = t.contains("<") ? t.substring(t.indexOf('<') + 1, t.lastIndexOf('>')) : null;
    if (element != null && (t.startsWith("ArrayList") || t.startsWith("List"))) {
      String e = expectedType(element);
      return e == null ? "a list" : "a list of " + plural(e);
    }
    return switch (t) {
      case "Float", "Double", "float", "double" -> "a number";
      case "Integer", "Long", "int", "long" -> "an integer";
      case "Boolean", "boolean" -> "true or false";
      case "String" -> "a string";
      case "float[]", "double[]" -> "a list of numbers";
      default -> null;
    };
  }

  private static String plural(String one) {
    return switch (one) {
      case "a number" -> "numbers";
      case "an integer" -> "integers";
      case "a string" -> "strings";
      case "true or false" -> "booleans";
      default -> one;
    };
  }

  private static String path(JsonMappingException e) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) sb.append(sb.length() == 0 ? "" : ".").append(r.getFieldName());
      else if (r.getIndex() >= 0) sb.append('[').append(r.getIndex()).append(']');
    }
    return sb.toString();
  }

  private static String abbreviate(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "…" : s;
  }

}
