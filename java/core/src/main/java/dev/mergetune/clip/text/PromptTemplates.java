package dev.mergetune.clip.text;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Zero-shot prompt templates: the standard sets shipped as plain resource files under
 * {@code dev/mergetune/clip/templates/} (each names its source repository, file and commit in its header), and
 * user files in the same format.
 *
 * <ul>
 *   <li>{@link #imagenet80()}: the 80 ImageNet templates of OpenAI CLIP's Prompt_Engineering_for_ImageNet notebook;
 *   <li>{@link #coop(String)}: CoOp's single template per dataset ({@code CUSTOM_TEMPLATES} of trainers/zsclip.py):
 *       OxfordPets, OxfordFlowers, FGVCAircraft, DescribableTextures, EuroSAT, StanfordCars, Food101, SUN397,
 *       Caltech101, UCF101, ImageNet, ImageNetSketch, ImageNetV2, ImageNetA, ImageNetR;
 *   <li>{@link #mtil(String)}: the per-dataset lists of ZSCL and ConDU for the 11 MTIL datasets: Aircraft,
 *       Caltech101, CIFAR100, DTD, EuroSAT, Flowers, Food, MNIST, OxfordPet, StanfordCars (also "Cars"), SUN397;
 *   <li>{@link #mergetune(String)}: MergeTune's anchor template per dataset ({@code CUSTOM_TEMPLATES} of
 *       trainers/kgcoop_coop_LMC.py), the same datasets as {@link #coop}; it differs from CoOp's for
 *       DescribableTextures ("a photo of a {}, a type of texture." against "{} texture.").
 * </ul>
 * Dataset names are matched ignoring case and any character that is not a letter or digit ("oxford_pets" finds
 * OxfordPets); the CoOp-family tables also know the project's registry names DTD and Flowers102 (CoOp's
 * DescribableTextures and OxfordFlowers). An unknown name throws an {@link IllegalArgumentException} that lists the
 * known ones.
 *
 * <p>A template contains {@code {}} exactly once, where the class name goes ({@link #format}). The sources apply
 * their own clean-up to class names (CoOp and ZSCL replace underscores with spaces) before formatting; that is the
 * caller's part.
 *
 * <p>File format ({@link #load}): UTF-8, one template per line; lines starting with {@code #} and blank lines are
 * skipped; nothing else is trimmed. The dataset tables ({@code coop.tsv}, {@code mtil.tsv}) have the dataset name,
 * a tab, and the template.
 */
public final class PromptTemplates {
  /** Where the class name goes. */
  public static final String PLACEHOLDER = "{}";

  private static final String RESOURCES = "/dev/mergetune/clip/templates/";
  private static final Map<String, String> MTIL_ALIASES = Map.of("cars", "StanfordCars");
  private static final Map<String, String> COOP_ALIASES = Map.of("dtd", "DescribableTextures", "flowers102",
      "OxfordFlowers");

  private PromptTemplates() {}

  private static final class Loaded {
    static final List<String> IMAGENET80 = parseList(RESOURCES + "imagenet80.txt", resource("imagenet80.txt"));
    static final Map<String, List<String>> COOP = parseTable(RESOURCES + "coop.tsv", resource("coop.tsv"));
    static final Map<String, List<String>> MTIL = parseTable(RESOURCES + "mtil.tsv", resource("mtil.tsv"));
    static final Map<String, List<String>> MERGETUNE = parseTable(RESOURCES + "mergetune.tsv",
        resource("mergetune.tsv"));
  }

  /** The 80 ImageNet templates of OpenAI CLIP, in the notebook's order (unmodifiable). */
  public static List<String> imagenet80() {
    return Loaded.IMAGENET80;
  }

  /** CoOp's zero-shot template for {@code dataset}, e.g. "a photo of a {}, a type of pet." for OxfordPets. */
  public static String coop(String dataset) {
    return lookup(Loaded.COOP, COOP_ALIASES, dataset, "CoOp").get(0);
  }

  /**
   * MergeTune's anchor template for {@code dataset} as its released trainer takes it ({@code CUSTOM_TEMPLATES}),
   * e.g. "a photo of a {}, a type of texture." for DescribableTextures (DTD).
   */
  public static String mergetune(String dataset) {
    return lookup(Loaded.MERGETUNE, COOP_ALIASES, dataset, "MergeTune anchor").get(0);
  }

  /** The datasets of {@link #mergetune}, in the source's order. */
  public static Set<String> mergetuneDatasets() {
    return Collections.unmodifiableSet(Loaded.MERGETUNE.keySet());
  }

  /** The ZSCL/ConDU template list for an MTIL dataset, in the sources' order (unmodifiable). */
  public static List<String> mtil(String dataset) {
    return lookup(Loaded.MTIL, MTIL_ALIASES, dataset, "MTIL");
  }

  /** The CoOp dataset names, in the source's order. */
  public static Set<String> coopDatasets() {
    return Collections.unmodifiableSet(Loaded.COOP.keySet());
  }

  /** The MTIL dataset names, in Order I. */
  public static Set<String> mtilDatasets() {
    return Collections.unmodifiableSet(Loaded.MTIL.keySet());
  }

  /** The templates of a user file, one per line (see the class comment for the format). */
  public static List<String> load(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the template file " + file + ": " + e.getMessage(), e);
    }
    List<String> templates = parseList(file.toString(), text);
    if (templates.isEmpty()) throw new IllegalArgumentException(file + ": no templates (only comments or blank lines)");
    return templates;
  }

  /** {@code template} with its {@code {}} replaced by {@code classname}. */
  public static String format(String template, String classname) {
    int at = template.indexOf(PLACEHOLDER);
    if (at < 0 || template.indexOf(PLACEHOLDER, at + 1) >= 0) {
      throw new IllegalArgumentException("a template needs exactly one " + PLACEHOLDER + ": \"" + template + "\"");
    }
    return template.substring(0, at) + classname + template.substring(at + PLACEHOLDER.length());
  }

  /** Every template formatted with {@code classname}, in order. */
  public static List<String> formatAll(List<String> templates, String classname) {
    List<String> out = new ArrayList<>(templates.size());
    for (String t : templates) out.add(format(t, classname));
    return out;
  }

  private static List<String> lookup(Map<String, List<String>> table, Map<String, String> aliases, String dataset,
      String family) {
    String key = normalise(dataset);
    String alias = aliases.get(key);
    if (alias != null) key = normalise(alias);
    for (Map.Entry<String, List<String>> e : table.entrySet()) {
      if (normalise(e.getKey()).equals(key)) return e.getValue();
    }
    List<String> known = new ArrayList<>(table.keySet());
    for (Map.Entry<String, String> a : aliases.entrySet()) known.add(a.getKey() + " (= " + a.getValue() + ")");
    throw new IllegalArgumentException("no " + family + " templates for dataset \"" + dataset + "\"; known: "
        + String.join(", ", known));
  }

  private static String normalise(String name) {
    if (name == null) throw new IllegalArgumentException("dataset name is null");
    return name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
  }

  private static String resource(String name) {
    try (InputStream in = PromptTemplates.class.getResourceAsStream(RESOURCES + name)) {
      if (in == null) throw new IllegalStateException("missing resource " + RESOURCES + name);
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("reading resource " + RESOURCES + name, e);
    }
  }

  private static List<String> lines(String text) {
    List<String> lines = new ArrayList<>();
    for (String line : text.split("\n", -1)) {
      lines.add(line.endsWith("\r") ? line.substring(0, line.length() - 1) : line);
    }
    return lines;
  }

  private static boolean skipped(String line) {
    return line.isBlank() || line.startsWith("#");
  }

  private static void check(String where, int lineNo, String template) {
    int at = template.indexOf(PLACEHOLDER);
    if (at < 0 || template.indexOf(PLACEHOLDER, at + 1) >= 0) {
      throw new IllegalArgumentException(where + ":" + lineNo + ": a template needs exactly one " + PLACEHOLDER
          + " for the class name: \"" + template + "\"");
    }
  }

  static List<String> parseList(String where, String text) {
    List<String> out = new ArrayList<>();
    List<String> lines = lines(text);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (skipped(line)) continue;
      check(where, i + 1, line);
      out.add(line);
    }
    return List.copyOf(out);
  }

  static Map<String, List<String>> parseTable(String where, String text) {
    Map<String, List<String>> table = new LinkedHashMap<>();
    List<String> lines = lines(text);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (skipped(line)) continue;
      int tab = line.indexOf('\t');
      if (tab <= 0) throw new IllegalArgumentException(where + ":" + (i + 1) + ": expected dataset<TAB>template");
      String template = line.substring(tab + 1);
      check(where, i + 1, template);
      table.computeIfAbsent(line.substring(0, tab), k -> new ArrayList<>()).add(template);
    }
    Map<String, List<String>> frozen = new LinkedHashMap<>();
    table.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
    return Collections.unmodifiableMap(frozen);
  }
}
