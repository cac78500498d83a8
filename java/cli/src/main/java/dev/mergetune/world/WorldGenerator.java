package dev.mergetune.world;

import dev.mergetune.clip.image.PngEncoder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.data.ClassSubsets;
import dev.mergetune.data.SplitMix64;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.BiFunction;

/**
 * Generates a world from a {@link WorldSpec}: every image and text is a function of the seed alone, written with a
 * fixed PNG encoding, and every listing is in a fixed order, so the same spec gives the same bytes.
 *
 * <pre>
 * world.json                          what is where (read it with {@link World#read})
 * vocab/world-bpe.txt.gz              the world's BPE merges (CLIP's format)
 * pretrain/captions.csv, images/      (image, caption) pairs; held-out shape × colour pairs never appear
 * zeroshot/combos/&lt;colour shape&gt;/      all 64 shape × colour classes, for the seen / held-out zero-shot report
 * datasets/&lt;name&gt;/{train,val,test}/&lt;class&gt;/   downstream image folders: shapes, colours, textures, combos
 * domains/shapes-{sketch,noise,palette}/&lt;class&gt;/  domain-shifted test sets of the shapes dataset
 * </pre>
 *
 * The folder is built beside {@code out} and moved into place at the end, so {@code out} is either absent or
 * complete.
 */
public final class WorldGenerator {
  public static final String FORMAT = "mergetune-world/1";
  public static final String WORLD_JSON = "world.json";
  public static final String VOCAB_FILE = "vocab/world-bpe.txt.gz";
  public static final List<String> TASK_SEQUENCE = List.of("shapes", "colours", "textures", "combos");
  static final double SKETCH_FRACTION = 0.1;
  static final double NOISE_FRACTION = 0.1;
  static final int COMBO_CLASSES_SEEN = 8;

  private final WorldSpec spec;
  private final List<String> heldOut;
  private final TreeSet<String> texts = new TreeSet<>();

  private WorldGenerator(WorldSpec spec) {
    this.spec = spec;
    this.heldOut = heldOut(spec.seed());
  }

  /** The held-out shape × colour combinations: shape i with colour π(i) for a seeded permutation π. Sorted names. */
  public static List<String> heldOut(long seed) {
    SplitMix64 r = new SplitMix64(SplitMix64.derive(seed, tag("held-out")));
    int n = Concepts.COLOURS.size();
    int[] perm = new int[n];
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    TreeSet<String> out = new TreeSet<>();
    for (int i = 0; i < Concepts.SHAPES.size(); i++) {
      out.add(Concepts.combo(Concepts.COLOURS.get(perm[i % n]).name(), Concepts.SHAPES.get(i)));
    }
    return List.copyOf(out);
  }

  public static World generate(WorldSpec spec, Path out) throws IOException {
    Path target = out.toAbsolutePath().normalize();
    if (Files.exists(target) && !(Files.isDirectory(target) && isEmpty(target))) {
      throw new IllegalArgumentException("--out " + out + " already exists and is not an empty folder");
    }
    Path parent = target.getParent();
    Files.createDirectories(parent);
    Path staging = dev.mergetune.io.TempFiles.createDirectory(target);  // sweeps stale stagings of killed runs
    boolean done = false;
    try {
      new WorldGenerator(spec).writeAll(new WorldFiles(staging));
      if (Files.isDirectory(target)) Files.delete(target);  // empty, checked above
      Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      done = true;
    } finally {
      if (!done) deleteTree(staging);
    }
    return World.read(target);
  }

  private void writeAll(WorldFiles files) throws IOException {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode w = json.createObjectNode();
    w.put("format", FORMAT);
    w.put("seed", spec.seed());
    w.put("image_size", spec.imageSize());
    ObjectNode concepts = w.putObject("concepts");
    strings(concepts.putArray("shapes"), Concepts.SHAPES);
    ArrayNode colours = concepts.putArray("colours");
    for (Concepts.Colour c : Concepts.COLOURS) {
      colours.addObject().put("name", c.name()).putArray("rgb").add(c.r()).add(c.g()).add(c.b());
    }
    strings(concepts.putArray("textures"), Concepts.TEXTURES);
    strings(concepts.putArray("sizes"), Concepts.SIZES);
    strings(w.putArray("held_out"), heldOut);

    ObjectNode pre = w.putObject("pretrain");
    pre.put("captions", "pretrain/captions.csv");
    pre.put("pairs", spec.pretrainPairs());
    pre.put("sketch_fraction", SKETCH_FRACTION);
    pre.put("noise_fraction", NOISE_FRACTION);
    writePretrain(files);

    List<String> comboClasses = new ArrayList<>();
    for (Concepts.Colour c : Concepts.COLOURS) for (String s : Concepts.SHAPES) comboClasses.add(Concepts.combo(c.name(), s));
    comboClasses.sort(null);
    ObjectNode zs = w.putObject("zeroshot");
    zs.put("root", "zeroshot/combos");
    strings(zs.putArray("templates"), Captions.OBJECT_PROMPTS);
    strings(zs.putArray("classes"), comboClasses);
    writeFolder(files, "zeroshot/combos", "zeroshot", 0, comboClasses, spec.zeroShotPerClass(), (r, cls) -> {
      String[] cs = cls.split(" ");
      return scene(r, cs[1], cs[0], null, null, Domain.PHOTO);
    });

    ArrayNode datasets = w.putArray("datasets");
    for (DatasetDef d : datasetDefs()) {
      ObjectNode dn = datasets.addObject();
      dn.put("name", d.name);
      strings(dn.putArray("classes"), d.classes);
      strings(dn.putArray("templates"), d.templates);
      int base = ClassSubsets.baseCount(d.classes.size());
      strings(dn.putArray("base"), d.classes.subList(0, base));
      strings(dn.putArray("novel"), d.classes.subList(base, d.classes.size()));
      String[] splits = {"train", "val", "test"};
      int[] counts = {spec.trainPerClass(), spec.valPerClass(), spec.testPerClass()};
      for (int s = 0; s < 3; s++) {
        String rel = "datasets/" + d.name + "/" + splits[s];
        dn.put(splits[s], rel);
        writeFolder(files, rel, d.name, s, d.classes, counts[s], d.scene);
      }
    }
    ArrayNode domains = w.putArray("domains");
    DatasetDef shapes = datasetDefs().get(0);
    for (Domain dom : List.of(Domain.SKETCH, Domain.NOISE, Domain.PALETTE)) {
      String name = "shapes-" + dom.id();
      String rel = "domains/" + name;
      domains.addObject().put("name", name).put("of", shapes.name).put("domain", dom.id()).put("test", rel);
      writeFolder(files, rel, name, 3, shapes.classes, spec.testPerClass(),
          (r, cls) -> scene(r, cls, null, null, null, dom));
    }
    strings(w.putArray("task_sequence"), TASK_SEQUENCE);

    List<String> learnt = WorldVocabulary.learn(Captions.words());
    files.write(VOCAB_FILE, WorldVocabulary.encode(learnt));
    int merges = learnt.size();
    checkTexts(files.root().resolve(VOCAB_FILE), merges);
    ObjectNode v = w.putObject("vocabulary");
    v.put("merges_file", VOCAB_FILE);
    v.put("merges", merges);
    v.put("vocab_size", WorldVocabulary.vocabSize(merges));
    v.put("context_length", spec.contextLength());
    w.put("files", files.count());
    w.put("content_sha256", files.contentSha256());
    byte[] bytes = (json.writeValueAsString(w) + "\n").getBytes(StandardCharsets.UTF_8);
    files.write(WORLD_JSON, bytes);
  }

  /** Every caption and prompt spelt by the learnt vocabulary in whole-word tokens that fit the context. */
  private void checkTexts(Path vocabFile, int merges) {
    ClipTokenizer t = ClipTokenizer.load(vocabFile, merges);
    for (DatasetDef d : datasetDefs()) for (String tpl : d.templates) for (String c : d.classes) texts.add(tpl.replace("{}", c));
    for (Concepts.Colour c : Concepts.COLOURS) {
      for (String s : Concepts.SHAPES) texts.add(Captions.OBJECT_PROMPTS.get(0).replace("{}", Concepts.combo(c.name(), s)));
    }
    for (String text : texts) {
      int[] ids = t.encode(text);
      if (ids.length != text.split(" ").length) {
        throw new IllegalStateException("the world vocabulary does not spell \"" + text + "\" word by word");
      }
    }
    t.tokenize(List.copyOf(texts), spec.contextLength(), Truncation.ERROR);  // throws naming a text that does not fit
  }

  private void writePretrain(WorldFiles files) throws IOException {
    StringBuilder csv = new StringBuilder("image,caption,shape,colour,texture,size,domain\n");
    for (int i = 0; i < spec.pretrainPairs(); i++) {
      SplitMix64 r = new SplitMix64(SplitMix64.derive(spec.seed(), tag("pretrain"), i));
      double u = r.nextDouble();
      Domain dom = u < SKETCH_FRACTION ? Domain.SKETCH : u < SKETCH_FRACTION + NOISE_FRACTION ? Domain.NOISE : Domain.PHOTO;
      Scene s = scene(r, null, null, null, null, dom);
      String caption = Captions.caption(r, s);
      texts.add(caption);
      String rel = String.format("pretrain/images/%05d.png", i);
      files.write(rel, png(s));
      csv.append(rel.substring("pretrain/".length())).append(',').append(caption).append(',').append(s.shape())
          .append(',').append(dom == Domain.SKETCH ? "" : s.colour()).append(',')
          .append(dom == Domain.SKETCH ? "" : s.texture()).append(',').append(s.size()).append(',').append(dom.id())
          .append('\n');
    }
    files.write("pretrain/captions.csv", csv.toString().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * A scene with the given concepts (null: drawn uniformly). Colour draws avoid the held-out combinations except for
   * sketches, which show no colour; a scene of a given shape and colour keeps them even when held out (test sets).
   */
  private Scene scene(SplitMix64 r, String shape, String colour, String texture, String size, Domain dom) {
    String sh = shape != null ? shape : SceneSampler.pick(r, Concepts.SHAPES);
    String co = colour;
    if (co == null) {
      do {
        co = SceneSampler.pick(r, Concepts.COLOURS).name();
      } while (shape == null && dom != Domain.SKETCH && heldOut.contains(Concepts.combo(co, sh)));
    }
    String tx = texture != null ? texture : SceneSampler.pick(r, Concepts.TEXTURES);
    String sz = size != null ? size : SceneSampler.pick(r, Concepts.SIZES);
    return SceneSampler.draw(r, spec.imageSize(), sh, co, tx, sz, dom);
  }

  private void writeFolder(WorldFiles files, String rel, String stream, int split, List<String> classes, int perClass,
      BiFunction<SplitMix64, String, Scene> draw) throws IOException {
    for (int c = 0; c < classes.size(); c++) {
      for (int k = 0; k < perClass; k++) {
        SplitMix64 r = new SplitMix64(SplitMix64.derive(spec.seed(), tag(stream), split, c, k));
        files.write(rel + "/" + classes.get(c) + String.format("/%04d.png", k), png(draw.apply(r, classes.get(c))));
      }
    }
  }

  private byte[] png(Scene s) {
    return PngEncoder.encode(SceneRenderer.render(s, spec.imageSize()), spec.imageSize(), spec.imageSize());
  }

  /** A downstream dataset: sorted class names, prompt templates and how a scene of a class is drawn. */
  private record DatasetDef(String name, List<String> classes, List<String> templates,
      BiFunction<SplitMix64, String, Scene> scene) {}

  private List<DatasetDef> datasetDefs() {
    List<String> colourNames = Concepts.COLOURS.stream().map(Concepts.Colour::name).sorted().toList();
    return List.of(
        new DatasetDef("shapes", sorted(Concepts.SHAPES), Captions.OBJECT_PROMPTS,
            (r, c) -> scene(r, c, anyColour(r), null, null, Domain.PHOTO)),
        new DatasetDef("colours", colourNames, Captions.COLOUR_PROMPTS,
            (r, c) -> scene(r, SceneSampler.pick(r, Concepts.SHAPES), c, null, null, Domain.PHOTO)),
        new DatasetDef("textures", sorted(Concepts.TEXTURES), Captions.TEXTURE_PROMPTS,
            (r, c) -> scene(r, SceneSampler.pick(r, Concepts.SHAPES), anyColour(r), c, null, Domain.PHOTO)),
        new DatasetDef("combos", comboDatasetClasses(), Captions.OBJECT_PROMPTS, (r, c) -> {
          String[] cs = c.split(" ");
          return scene(r, cs[1], cs[0], null, null, Domain.PHOTO);
        }));
  }

  private static String anyColour(SplitMix64 r) {
    return SceneSampler.pick(r, Concepts.COLOURS).name();
  }

  /** The combos dataset: every held-out combination and {@value #COMBO_CLASSES_SEEN} seen ones, sorted. */
  private List<String> comboDatasetClasses() {
    List<String> seen = new ArrayList<>();
    for (Concepts.Colour c : Concepts.COLOURS) {
      for (String s : Concepts.SHAPES) {
        String n = Concepts.combo(c.name(), s);
        if (!heldOut.contains(n)) seen.add(n);
      }
    }
    seen.sort(null);
    SplitMix64 r = new SplitMix64(SplitMix64.derive(spec.seed(), tag("combos")));
    for (int i = seen.size() - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      String t = seen.get(i);
      seen.set(i, seen.get(j));
      seen.set(j, t);
    }
    TreeSet<String> out = new TreeSet<>(heldOut);
    out.addAll(seen.subList(0, COMBO_CLASSES_SEEN));
    return List.copyOf(out);
  }

  private static List<String> sorted(List<String> l) {
    return l.stream().sorted().toList();
  }

  private static void strings(ArrayNode a, List<String> values) {
    for (String v : values) a.add(v);
  }

  /** A stream tag: String.hashCode, which the Java language specification fixes. */
  static long tag(String s) {
    return s.hashCode();
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (var s = Files.list(dir)) {
      return s.findAny().isEmpty();
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (var s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
