package dev.mergetune.demo;

import dev.mergetune.adapt.TrainingRun;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.condu.MtilRunner;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.ImageFolderSource;
import dev.mergetune.eval.AccuracyMatrix;
import dev.mergetune.eval.AccuracyTable;
import dev.mergetune.eval.BaseToNovelRow;
import dev.mergetune.eval.Decimals;
import dev.mergetune.eval.Report;
import dev.mergetune.tune.MergeTuneSettings;
import dev.mergetune.world.World;
import dev.mergetune.world.WorldGenerator;
import dev.mergetune.world.WorldSpec;
import dev.mergetune.world.WorldZeroShot;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code mergetune demo}: every method of the project on the procedural world with the committed tiny CLIP, end to
 * end, into one report folder — zero-shot; CoOp on the base classes of one dataset, TIES and DARE of (zero-shot,
 * CoOp), MergeTune, with base / novel / HM and the accuracy along the prompt paths; ConDU over the world's task
 * sequence with Transfer / Average / Last, the heat maps and the sequential fine-tuning baseline.
 *
 * <p>Layout of {@code out}: {@code world/} (generated unless present), {@code prompts/} (the CoOp and MergeTune
 * runs), {@code condu/} (store, runs, rows, its own report), {@code report/} (the demo's report) and
 * {@code demo.json} (timings). Each stage resumes from what a previous run left.
 */
public final class Demo {
  private Demo() {}

  /**
   * @param model the tiny CLIP pre-trained on the world (its vocabulary is the world's own)
   * @param b2nDataset the world dataset of the prompt stage
   * @param progress progress of the inner runs (training, features)
   * @param detail the inner runs' own lines (epochs, cached features, ...) as well as the one line per stage
   * @param seeds the seeds of the prompt and ConDU stages (few-shot draw, crops, batches, DARE's masks); with more
   *     than one, each seed's runs live in {@code seed-N/} and the report gives the mean ± spread over the seeds and
   *     says which of the published effects held
   */
  public record Options(WorldSpec world, Path model, String b2nDataset, PromptDemo.Options prompts,
      ConduDemo.Options condu, boolean progress, boolean detail, List<Long> seeds) {
    public Options {
      seeds = List.copyOf(seeds);
      if (seeds.isEmpty()) throw new IllegalArgumentException("--seeds needs at least one seed");
      if (new java.util.HashSet<>(seeds).size() != seeds.size()) {
        throw new IllegalArgumentException("--seeds " + seeds + " names a seed twice");
      }
    }

    /** One seed: the prompt options' own. */
    public Options(WorldSpec world, Path model, String b2nDataset, PromptDemo.Options prompts, ConduDemo.Options condu,
        boolean progress, boolean detail) {
      this(world, model, b2nDataset, prompts, condu, progress, detail, List.of(prompts.seed()));
    }

    public Options(WorldSpec world, Path model, String b2nDataset, PromptDemo.Options prompts, ConduDemo.Options condu,
        boolean progress) {
      this(world, model, b2nDataset, prompts, condu, progress, false);
    }
  }

  public record Result(Path report, double seconds) {}

  /** One seed's results: the prompt rows and domain grid, and the ConDU matrices. */
  private record SeedRun(long seed, PromptDemo.Result prompts, MtilRunner.Result condu) {}

  /** Runs the demo into {@code out}; {@code log} gets one line per stage (and the inner runs' lines with detail). */
  public static Result run(Options o, Path out, PrintWriter log) throws IOException {
    long start = System.nanoTime();
    PrintWriter inner = o.detail() ? log : new PrintWriter(java.io.Writer.nullWriter());
    boolean several = o.seeds().size() > 1;
    Files.createDirectories(out);
    Path worldDir = out.resolve("world");
    World world;
    if (Files.isRegularFile(worldDir.resolve(WorldGenerator.WORLD_JSON))) {
      world = World.read(worldDir);
      if (world.seed() != o.world().seed()) {
        throw new IllegalArgumentException(worldDir + " holds the world of seed " + world.seed() + ", not "
            + o.world().seed() + "; choose another --out");
      }
      log.printf("world: %s (already generated)%n", worldDir);
    } else {
      world = WorldGenerator.generate(o.world(), worldDir);
      log.printf("world: generated (seed %d) into %s%n", o.world().seed(), worldDir);
    }
    log.flush();
    double worldSeconds = seconds(start);
    ClipTokenizer tokenizer = world.tokenizer();
    Path vocab = world.mergesFile();

    long t1 = System.nanoTime();
    WorldZeroShot.Result zs;
    World.DatasetEntry d = world.dataset(o.b2nDataset());
    int domainCount = 0;
    List<PromptDemo.Result> promptRuns = new ArrayList<>();
    try (ClipModel model = ClipLoader.load(o.model())) {
      if (model.config().vocabSize() != world.vocabSize()) {
        throw new IllegalArgumentException(o.model() + " has a token embedding of " + model.config().vocabSize()
            + " rows, but the world's vocabulary has " + world.vocabSize() + " tokens: the demo needs a CLIP"
            + " pre-trained on the world (`mergetune pretrain`), such as " + "demo/tiny-clip/tiny-clip.safetensors");
      }
      zs = WorldZeroShot.evaluate(model, world, 64);
      log.printf(Locale.ROOT, "zero-shot: %s %% on the shape × colour combinations seen in pre-training, %s %% on the"
          + " %d held out%n", Decimals.one(100 * zs.seen().top1()), Decimals.one(100 * zs.heldOut().top1()),
          world.heldOut().size());
      log.flush();

      Dataset train = ImageFolderSource.read(d.train(), d.name());
      Dataset val = ImageFolderSource.read(d.val(), d.name());
      Dataset test = ImageFolderSource.read(d.test(), d.name());
      TrainingRun.Inputs in = new TrainingRun.Inputs(model, o.model(), null, "demo-tiny-clip", tokenizer, vocab, train, val,
          d.train(), d.val(), "world dataset " + d.name(), new FeatureExtractor(64, false, null));
      List<Dataset> domains = new ArrayList<>();
      for (World.DomainEntry e : world.domains()) {
        if (e.of().equals(d.name())) domains.add(ImageFolderSource.read(e.test(), e.name()));
      }
      domainCount = domains.size();
      for (long seed : o.seeds()) {
        PromptDemo.Result prompts = PromptDemo.run(in, test, domains, o.prompts().withSeed(seed),
            seedDir(out, seed, several).resolve("prompts"), o.progress(), inner);
        List<BaseToNovelRow> rows = prompts.rows();
        log.printf(Locale.ROOT, "prompts on %s%s (base / novel / HM): zero-shot %s, CoOp %s, CoOp + MergeTune (%s) %s%n",
            d.name(), several ? ", seed " + seed : "", b2n(rows.get(0)), b2n(rows.get(1)),
            o.prompts().mergeTunePreset(), b2n(rows.get(rows.size() - 1)));
        log.flush();
        promptRuns.add(prompts);
      }
    }
    double promptSeconds = seconds(t1);

    long t2 = System.nanoTime();
    List<ConduDemo.Task> tasks = new ArrayList<>();
    for (String name : world.taskSequence()) {
      World.DatasetEntry td = world.dataset(name);
      tasks.add(new ConduDemo.Task(name, td.train(), td.test(), td.templates()));
    }
    List<SeedRun> runs = new ArrayList<>();
    for (int i = 0; i < o.seeds().size(); i++) {
      long seed = o.seeds().get(i);
      MtilRunner.Result condu = ConduDemo.run(o.model(), vocab, tokenizer, tasks, o.condu().withSeed(seed),
          seedDir(out, seed, several).resolve("condu"), o.progress(), inner);
      log.printf("ConDU over %s%s: %s; sequential fine-tuning: %s%n", String.join(" → ", world.taskSequence()),
          several ? ", seed " + seed : "", condu.taskId().metrics().numbers(), condu.sequential().metrics().numbers());
      log.flush();
      runs.add(new SeedRun(seed, promptRuns.get(i), condu));
    }
    double conduSeconds = seconds(t2);

    List<SeedSpread.Effect> effects = several ? effects(runs) : List.of();
    for (SeedSpread.Effect e : effects) log.println("over seeds " + seedList(o.seeds()) + ": " + e.line());

    Report report = Report.titled("mergetune demo: a tiny CLIP in a world of coloured shapes");
    report.text("What this is", intro(world, o));
    if (several) {
      report.text("Over " + o.seeds().size() + " seeds: the published effects", effectsText(effects, o.seeds()));
      report.text("Over " + o.seeds().size() + " seeds: mean ± spread", spreadText(runs, d));
    }
    List<AccuracyTable.Row> zsRows = new ArrayList<>();
    for (Map.Entry<String, Double> e : zs.datasets().entrySet()) {
      zsRows.add(AccuracyTable.Row.target(e.getKey(), 100 * e.getValue()));
    }
    report.accuracies("Zero-shot accuracy of the tiny CLIP", AccuracyTable.of(zsRows));
    report.text("Compositional generalisation", String.format(Locale.ROOT, "Shape × colour classification over all"
        + " %d combinations: **%s %%** top-1 on the combinations seen in pre-training, **%s %%** on the %d held-out"
        + " combinations it never saw (chance: %s %%).", zs.classes(), Decimals.one(100 * zs.seen().top1()),
        Decimals.one(100 * zs.heldOut().top1()), world.heldOut().size(), Decimals.one(100.0 / zs.classes())));

    SeedRun first = runs.get(0);
    String seedNote = several ? ", seed " + first.seed() : "";
    List<BaseToNovelRow> rows = first.prompts().rows();
    report.methods("Base-to-novel on '" + d.name() + "' (CoOp trained on the base classes; MergeTune preset "
        + o.prompts().mergeTunePreset() + seedNote + ")", rows);
    report.path("Accuracy along the straight prompt paths from zero-shot (α = 0)" + seedNote, first.prompts().curves());
    report.text("Reading the prompt results", promptReading(rows, d, o.prompts().mergeTunePreset()));
    if (first.prompts().domains() != null) {
      report.accuracyGrid("Domain shift: the same prompts on all " + d.classes().size() + " classes of '" + d.name()
          + "' and its " + domainCount + " shifted renderings" + seedNote, first.prompts().domains());
      double[] avg = first.prompts().domains().targetAverages();
      report.text("Reading the domain shift", String.format(Locale.ROOT, "CoOp's context is shared by all classes, so"
          + " it is evaluated over every class of the dataset and on renderings it never trained on (sketch, noise,"
          + " palette swap), as in CoOp's domain-generalisation protocol. Average over the shifted sets: zero-shot"
          + " %s, CoOp %s, CoOp + MergeTune %s.", Decimals.one(avg[0]), Decimals.one(avg[1]), Decimals.one(avg[2])));
    }
    MtilRunner.Result condu = first.condu();
    report.mtil("ConDU, MTIL (seen tasks by their expert, unseen by aggregation)" + seedNote, condu.taskId(),
        MtilRunner.ID_TEXT);
    report.mtil("ConDU, task-agnostic MTIL" + seedNote, condu.taskAgnostic(), MtilRunner.AGNOSTIC_TEXT);
    report.mtil("Sequential fine-tuning of one model (baseline)" + seedNote, condu.sequential(),
        MtilRunner.SEQUENTIAL_TEXT);
    report.text("Reading the ConDU results", conduReading(condu));

    double total = seconds(start);
    report.text("Time", String.format(Locale.ROOT, "World %.0f s, zero-shot and prompts %.0f s, ConDU %.0f s; total"
        + " %.0f s on %d cores%s.", worldSeconds, promptSeconds, conduSeconds, total,
        Runtime.getRuntime().availableProcessors(), several ? " for " + o.seeds().size() + " seeds" : ""));
    Path reportDir = out.resolve("report");
    report.writeTo(reportDir);
    if (several) SeedsJson.write(reportDir.resolve("seeds.json"), o.seeds(), runs.stream().map(r -> r.prompts().rows())
        .toList(), runs.stream().map(r -> r.condu()).toList(), effects);
    log.printf("demo finished in %.0f s; report: %s%n", total, reportDir.resolve(Report.MARKDOWN));
    log.flush();
    return new Result(reportDir, total);
  }

  /** {@code out} for one seed, {@code out/seed-N} for each of several. */
  private static Path seedDir(Path out, long seed, boolean several) {
    return several ? out.resolve("seed-" + seed) : out;
  }

  private static String seedList(List<Long> seeds) {
    return String.join(", ", seeds.stream().map(String::valueOf).toList());
  }

  /** The published effects the demo exists to show, each over the seeds. */
  private static List<SeedSpread.Effect> effects(List<SeedRun> runs) {
    List<SeedSpread.Effect> out = new ArrayList<>();
    out.add(SeedSpread.Effect.of("CoOp base > zero-shot base", "CoOp", prompt(runs, 1, 'b'), "zero-shot",
        prompt(runs, 0, 'b')));
    out.add(SeedSpread.Effect.of("CoOp novel < zero-shot novel", "zero-shot", prompt(runs, 0, 'n'), "CoOp",
        prompt(runs, 1, 'n')));
    int mt = runs.get(0).prompts().rows().size() - 1;
    out.add(SeedSpread.Effect.of("MergeTune HM > CoOp HM", "MergeTune", prompt(runs, mt, 'h'), "CoOp",
        prompt(runs, 1, 'h')));
    out.add(SeedSpread.Effect.of("MergeTune HM > TIES HM", "MergeTune", prompt(runs, mt, 'h'), "TIES",
        prompt(runs, 2, 'h')));
    out.add(SeedSpread.Effect.of("MergeTune HM > DARE HM", "MergeTune", prompt(runs, mt, 'h'), "DARE",
        prompt(runs, 3, 'h')));
    String[] metric = {"Transfer", "Average", "Last"};
    for (int m = 0; m < 3; m++) {
      out.add(SeedSpread.Effect.of("ConDU " + metric[m] + " > sequential " + metric[m], "ConDU",
          mtil(runs, false, m), "sequential", mtil(runs, true, m)));
    }
    return out;
  }

  /** One prompt row's base ('b'), novel ('n') or HM ('h') per seed. */
  private static double[] prompt(List<SeedRun> runs, int row, char what) {
    double[] v = new double[runs.size()];
    for (int i = 0; i < v.length; i++) {
      BaseToNovelRow r = runs.get(i).prompts().rows().get(row);
      v[i] = what == 'b' ? r.base() : what == 'n' ? r.novel() : r.hm();
    }
    return v;
  }

  /** Transfer (0), Average (1) or Last (2) per seed, of ConDU (task-ID MTIL) or of sequential fine-tuning. */
  private static double[] mtil(List<SeedRun> runs, boolean sequential, int metric) {
    double[] v = new double[runs.size()];
    for (int i = 0; i < v.length; i++) {
      AccuracyMatrix m = sequential ? runs.get(i).condu().sequential() : runs.get(i).condu().taskId();
      v[i] = metric == 0 ? m.transfer() : metric == 1 ? m.average() : m.last();
    }
    return v;
  }

  private static String effectsText(List<SeedSpread.Effect> effects, List<Long> seeds) {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "Seeds %s (few-shot draw, crops, batches, DARE's"
        + " masks; the world and θ0 are the same). Each number is the mean ± the sample standard deviation over the"
        + " seeds; an effect **holds** when its mean difference exceeds the larger of the two spreads.%n%n",
        seedList(seeds)));
    sb.append("| effect | this side | other side | difference | ahead in | holds |\n|---|---:|---:|---:|---:|---|\n");
    List<String> failed = new ArrayList<>();
    for (SeedSpread.Effect e : effects) {
      sb.append(String.format(Locale.ROOT, "| %s | %s %s | %s %s | %s%s | %d / %d | %s |%n", e.claim(), e.aName(),
          e.a().text(), e.bName(), e.b().text(), e.difference().mean() >= 0 ? "+" : "",
          Decimals.one(e.difference().mean()), e.seedsAhead(), e.seeds(), e.holds() ? "yes" : "**no**"));
      if (!e.holds()) failed.add(e.claim());
    }
    sb.append('\n').append(failed.isEmpty() ? "Every effect held here."
        : "**Did not hold here: " + String.join("; ", failed) + ".**");
    return sb.toString();
  }

  private static String spreadText(List<SeedRun> runs, World.DatasetEntry d) {
    StringBuilder sb = new StringBuilder("Base-to-novel on '" + d.name() + "':\n\n| method | base | novel | HM |\n"
        + "|---|---:|---:|---:|\n");
    List<BaseToNovelRow> rows0 = runs.get(0).prompts().rows();
    for (int r = 0; r < rows0.size(); r++) {
      sb.append("| ").append(rows0.get(r).dataset()).append(" | ").append(SeedSpread.Stat.of(prompt(runs, r, 'b')).text())
          .append(" | ").append(SeedSpread.Stat.of(prompt(runs, r, 'n')).text()).append(" | ")
          .append(SeedSpread.Stat.of(prompt(runs, r, 'h')).text()).append(" |\n");
    }
    if (runs.get(0).prompts().domains() != null) {
      double[][] avg = new double[3][runs.size()];
      for (int i = 0; i < runs.size(); i++) {
        double[] a = runs.get(i).prompts().domains().targetAverages();
        for (int m = 0; m < 3; m++) avg[m][i] = a[m];
      }
      sb.append(String.format(Locale.ROOT, "%nAverage over the shifted renderings (all classes): zero-shot %s, CoOp %s,"
          + " CoOp + MergeTune %s.%n", SeedSpread.Stat.of(avg[0]).text(), SeedSpread.Stat.of(avg[1]).text(),
          SeedSpread.Stat.of(avg[2]).text()));
    }
    sb.append("\nConDU over the task sequence:\n\n| | Transfer | Average | Last |\n|---|---:|---:|---:|\n");
    String[] names = {"ConDU, MTIL", "ConDU, task-agnostic", "sequential fine-tuning"};
    for (int k = 0; k < 3; k++) {
      sb.append("| ").append(names[k]);
      for (int m = 0; m < 3; m++) {
        double[] v = new double[runs.size()];
        for (int i = 0; i < v.length; i++) {
          MtilRunner.Result c = runs.get(i).condu();
          AccuracyMatrix a = k == 0 ? c.taskId() : k == 1 ? c.taskAgnostic() : c.sequential();
          v[i] = m == 0 ? a.transfer() : m == 1 ? a.average() : a.last();
        }
        sb.append(" | ").append(SeedSpread.Stat.of(v).text());
      }
      sb.append(" |\n");
    }
    return sb.toString();
  }

  private static String intro(World world, Options o) {
    String trainedOn = o.model().toString().endsWith(".safetensors")
        ? dev.mergetune.tensors.NamedTensors.metadata(o.model()).get("mergetune.world.sha256") : null;
    String caveat = trainedOn == null || trainedOn.equals(world.sha256()) ? ""
        : " **Note: the model was pre-trained on another world (world.json SHA-256 " + trainedOn + ", this one is "
            + world.sha256() + "): the held-out combinations below are this world's, not necessarily the model's.**";
    return caveat.isEmpty() ? introText(world, o) : introText(world, o) + caveat;
  }

  private static String introText(World world, Options o) {
    return String.format(Locale.ROOT, "Everything here was made by this project, without downloads: a procedural"
        + " world of %d px images of shapes, colours, textures and sizes with template captions (seed %d), a tiny CLIP"
        + " pre-trained contrastively on it (`%s`), and its own BPE vocabulary. Some shape × colour combinations were"
        + " held out of pre-training (%s). The downstream datasets are %s; the task sequence is %s.",
        world.imageSize(), world.seed(), o.model().getFileName(), String.join(", ", world.heldOut()),
        String.join(", ", world.datasets().stream().map(World.DatasetEntry::name).toList()),
        String.join(" → ", world.taskSequence()));
  }

  private static String promptReading(List<BaseToNovelRow> rows, World.DatasetEntry d, String preset) {
    BaseToNovelRow zs = rows.get(0);
    BaseToNovelRow coop = rows.get(1);
    BaseToNovelRow mt = rows.get(rows.size() - 1);
    return String.format(Locale.ROOT, "CoOp learns a prompt context on the base classes (%s) and is tested on them"
        + " and on the novel classes (%s) it never saw. Novel accuracy: zero-shot %s, CoOp %s, CoOp + MergeTune %s"
        + " — MergeTune (preset `%s`%s) %s novel-class accuracy over CoOp here (HM %s → %s). TIES and DARE merge"
        + " CoOp's context"
        + " with the zero-shot one in the prompt's parameter space with the same kernels as checkpoint merges. On the"
        + " paths, α = 0 is CoOp's initial prompt \"a photo of a <class>.\" (CoOp's format ends with a period), not"
        + " quite the zero-shot row's prompt.",
        String.join(", ", d.base()), String.join(", ", d.novel()), Decimals.one(zs.novel()), Decimals.one(coop.novel()),
        Decimals.one(mt.novel()), preset, MergeTuneSettings.preset(preset, "coop").released()
            ? ": the released recipe, anchored to the demo's template" : "", mt.novel() > coop.novel() ? "recovers"
            : "does not recover", Decimals.one(coop.hm()),
        Decimals.one(mt.hm()));
  }

  private static String conduReading(MtilRunner.Result r) {
    AccuracyMatrix c = r.taskId();
    AccuracyMatrix s = r.sequential();
    StringBuilder zs = new StringBuilder();
    for (int d = 0; d < r.zeroShot().length; d++) {
      zs.append(d == 0 ? "" : ", ").append(c.datasets().get(d)).append(' ').append(Decimals.one(r.zeroShot()[d]));
    }
    return String.format(Locale.ROOT, "Transfer / Average / Last — ConDU: %s / %s / %s; task-agnostic ConDU: %s / %s"
        + " / %s; sequential fine-tuning: %s / %s / %s. ConDU %s sequential fine-tuning on Transfer, %s on Average"
        + " and %s on Last here. θ0's zero-shot accuracy per dataset (%%): %s.", Decimals.one(c.transfer()),
        Decimals.one(c.average()), Decimals.one(c.last()), Decimals.one(r.taskAgnostic().transfer()),
        Decimals.one(r.taskAgnostic().average()), Decimals.one(r.taskAgnostic().last()), Decimals.one(s.transfer()),
        Decimals.one(s.average()), Decimals.one(s.last()), beats(c.transfer(), s.transfer()),
        beats(c.average(), s.average()), beats(c.last(), s.last()), zs);
  }

  private static String beats(double condu, double sequential) {
    return condu > sequential ? "beats" : "does not beat";
  }

  private static String b2n(BaseToNovelRow r) {
    return Decimals.one(r.base()) + " / " + Decimals.one(r.novel()) + " / " + Decimals.one(r.hm());
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }
}
