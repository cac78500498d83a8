package dev.mergetune.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.Truncation;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune tokenize [--vocab PATH] [--context 77] [--truncate] [--pad] (TEXT... | --file FILE)}: CLIP token ids
 * as JSON, {@code {"texts": [...], "ids": [[...], ...]}}, each row start token, ids, end token (the layout of
 * {@code tokens.json}); {@code --pad} writes the zero-padded rows of {@code clip.tokenize} instead.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "tokenize", description = {
    "CLIP BPE token ids of texts, as OpenAI's clip.tokenize computes them, printed as JSON "
        + "{\"texts\": [...], \"ids\": [[...], ...]}.",
    "Each row is <|startoftext|> (49406), the text's ids, <|endoftext|> (49407); --pad pads it with zeros to the "
        + "context length. A text longer than the context length is an error unless --truncate is given."})
final class TokenizeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--vocab", paramLabel = "PATH", description = "A gzipped CLIP BPE merges file, or a Hugging Face"
      + " vocab.json (merges.txt beside it); default: the bundled bpe_simple_vocab_16e6.txt.gz")
  Path vocab;

  @Option(names = "--context", paramLabel = "N", defaultValue = "77",
      description = "Context length (default ${DEFAULT-VALUE})")
  int context;

  @Option(names = "--truncate", description = "Cut a text that does not fit to its first N − 1 tokens and the end "
      + "token (clip.tokenize(truncate=True)) instead of failing")
  boolean truncate;

  @Option(names = "--pad", description = "Write every row zero-padded to the context length")
  boolean pad;

  @Option(names = "--file", paramLabel = "FILE", description = "Read the texts from FILE: a .json file holding a "
      + "list of strings or {\"texts\": [...]}, otherwise one text per line (UTF-8, LF or CRLF); - reads standard "
      + "input")
  String file;

  @Parameters(paramLabel = "TEXT", arity = "0..*", description = "The texts (quote each one)")
  List<String> texts = new ArrayList<>();

  @Override
  public Integer call() throws IOException {
    if (file != null && !texts.isEmpty()) throw new IllegalArgumentException("give TEXT arguments or --file, not both");
    if (file == null && texts.isEmpty()) throw new IllegalArgumentException("no texts: give TEXT arguments or --file FILE");
    List<String> input = file != null ? readTexts(file) : texts;
    String name = vocab == null ? "" : vocab.getFileName().toString();
    ClipTokenizer tokenizer = vocab == null ? ClipTokenizer.standard()
        : name.endsWith(".json") || name.endsWith(".txt") ? dev.mergetune.clip.ClipVocabulary.fromFile(vocab,
            Integer.MAX_VALUE, "--vocab").tokenizer()
        : ClipTokenizer.load(vocab);
    int[][] rows = tokenizer.tokenize(input, context, truncate ? Truncation.TRUNCATE : Truncation.ERROR);
    ObjectMapper json = new ObjectMapper();
    PrintWriter out = spec.commandLine().getOut();
    StringBuilder sb = new StringBuilder();
    sb.append("{\n  \"texts\": [");
    for (int i = 0; i < input.size(); i++) {
      sb.append(i == 0 ? "\n    " : ",\n    ").append(json.writeValueAsString(input.get(i)));
    }
    sb.append(input.isEmpty() ? "],\n" : "\n  ],\n").append("  \"ids\": [");
    for (int i = 0; i < rows.length; i++) {
      sb.append(i == 0 ? "\n    [" : ",\n    [");
      int[] row = rows[i];
      int end = row.length;
      if (!pad) {
        while (end > 1 && row[end - 1] == 0) end--;  // the row's last end token is its last non-zero id
      }
      for (int j = 0; j < end; j++) sb.append(j == 0 ? "" : ", ").append(row[j]);
      sb.append(']');
    }
    sb.append(rows.length == 0 ? "]\n}" : "\n  ]\n}");
    out.println(sb);
    out.flush();
    return 0;
  }

  private static List<String> readTexts(String file) {
    try {
      String content = file.equals("-") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
          : Files.readString(Path.of(file), StandardCharsets.UTF_8);
      if (file.endsWith(".json")) return jsonTexts(file, content);
      List<String> lines = new ArrayList<>();
      for (String line : content.split("\n", -1)) {
        lines.add(line.endsWith("\r") ? line.substring(0, line.length() - 1) : line);
      }
      if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) lines.remove(lines.size() - 1);
      return lines;
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": no such file");
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": " + e.getMessage(), e);
    }
  }

  private static List<String> jsonTexts(String file, String content) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(content);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(file + ": not valid JSON (" + e.getOriginalMessage() + ")");
    }
    JsonNode list = root != null && root.isObject() ? root.get("texts") : root;
    if (list == null || !list.isArray()) {
      throw new IllegalArgumentException(file + ": expected a JSON list of strings or an object with \"texts\"");
    }
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      if (!list.get(i).isTextual()) throw new IllegalArgumentException(file + ": texts[" + i + "] is not a string");
      texts.add(list.get(i).asText());
    }
    return texts;
  }
}
