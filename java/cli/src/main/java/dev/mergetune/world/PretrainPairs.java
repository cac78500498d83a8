package dev.mergetune.world;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The pre-training split of a world: {@code pretrain/captions.csv} read into (image file, caption, concepts) rows. */
public record PretrainPairs(List<Pair> pairs) {
  /** One pair; colour and texture are empty for sketches (which show neither). */
  public record Pair(Path image, String caption, String shape, String colour, String texture, String size, Domain domain) {}

  public static PretrainPairs read(World world) {
    Path csv = world.pretrainCaptions();
    List<String> lines;
    try {
      lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(csv + ": cannot read the pre-training captions (" + e.getMessage() + ")", e);
    }
    if (lines.isEmpty() || !lines.get(0).equals("image,caption,shape,colour,texture,size,domain")) {
      throw new IllegalArgumentException(csv + ": not a pre-training caption file (unexpected header)");
    }
    List<Pair> out = new ArrayList<>();
    for (int i = 1; i < lines.size(); i++) {
      String[] f = lines.get(i).split(",", -1);
      if (f.length != 7) throw new IllegalArgumentException(csv + ": line " + (i + 1) + " has " + f.length + " fields, expected 7");
      out.add(new Pair(csv.getParent().resolve(f[0]), f[1], f[2], f[3], f[4], f[5], Domain.parse(f[6])));
    }
    if (out.isEmpty()) throw new IllegalArgumentException(csv + ": no pre-training pairs");
    return new PretrainPairs(List.copyOf(out));
  }

  public List<Path> images() {
    return pairs.stream().map(Pair::image).toList();
  }

  public List<String> captions() {
    return pairs.stream().map(Pair::caption).toList();
  }
}
