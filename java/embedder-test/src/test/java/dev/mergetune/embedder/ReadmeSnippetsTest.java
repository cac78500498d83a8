package dev.mergetune.embedder;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every ```java block of the README compiles against this module's class path — the class path of a consumer that
 * depends on mergetune-platform alone. A block's leading {@code import} lines are its imports; the rest becomes the
 * body of a {@code static void snippet() throws Exception} method (the snippets are statements, as a user pastes
 * them into a method). Compiling, not running: the snippets name files a user has and this build does not.
 */
class ReadmeSnippetsTest {
  private static final Path README = Path.of(System.getProperty("mergetune.root", "../..")).resolve("README.md");

  record Snippet(int line, List<String> imports, List<String> body) {}

  static List<Snippet> snippets(List<String> lines) {
    List<Snippet> out = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      if (!lines.get(i).strip().equals("```java")) continue;
      int start = i + 1;
      List<String> imports = new ArrayList<>();
      List<String> body = new ArrayList<>();
      boolean inImports = true;
      for (i = start; i < lines.size() && !lines.get(i).strip().equals("```"); i++) {
        String l = lines.get(i);
        if (inImports && (l.startsWith("import ") || l.isBlank())) {
          if (!l.isBlank()) imports.add(l);
        } else {
          inImports = false;
          body.add(l);
        }
      }
      out.add(new Snippet(start, imports, body));
    }
    return out;
  }

  @Test
  void everyJavaBlockOfTheReadmeCompiles(@TempDir Path dir) throws IOException {
    List<Snippet> snippets = snippets(Files.readAllLines(README, StandardCharsets.UTF_8));
    assertTrue(snippets.size() >= 5, "only " + snippets.size() + " java blocks found in " + README);
    List<Path> sources = new ArrayList<>();
    for (int k = 0; k < snippets.size(); k++) {
      Snippet s = snippets.get(k);
      StringBuilder src = new StringBuilder("package readme;\n");
      s.imports().forEach(l -> src.append(l).append('\n'));
      src.append("// README.md line ").append(s.line()).append('\n');
      src.append("class Snippet").append(k).append(" {\n  static void snippet() throws Exception {\n");
      s.body().forEach(l -> src.append("    ").append(l).append('\n'));
      src.append("  }\n}\n");
      Path f = Files.createDirectories(dir.resolve("readme")).resolve("Snippet" + k + ".java");
      Files.writeString(f, src);
      sources.add(f);
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    boolean ok;
    try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, StandardCharsets.UTF_8)) {
      ok = javac.getTask(null, files, diagnostics, List.of("-classpath", System.getProperty("java.class.path"), "-d",
          Files.createDirectories(dir.resolve("classes")).toString(), "-proc:none", "-Xlint:none"), null,
          files.getJavaFileObjectsFromPaths(sources)).call();
    }
    StringBuilder errors = new StringBuilder();
    for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
      if (d.getKind() != Diagnostic.Kind.ERROR) continue;
      int k = Integer.parseInt(d.getSource().getName().replaceAll(".*Snippet(\\d+)\\.java$", "$1"));
      Snippet s = snippets.get(k);
      long bodyLine = d.getLineNumber() - (s.imports().size() + 5);  // header lines before the body
      errors.append(String.format(Locale.ROOT, "README.md block at line %d, body line %d: %s%n", s.line(),
          bodyLine + 1, d.getMessage(Locale.ROOT)));
    }
    assertTrue(ok && errors.length() == 0, errors.toString());
  }
}
