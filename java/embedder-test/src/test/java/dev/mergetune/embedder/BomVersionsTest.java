package dev.mergetune.embedder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The BOM has no parent (a consumer importing it must not inherit the build's test and plugin pins), so it writes its
 * versions out: each must equal the root pom.xml's property of the same name, where every version is pinned once.
 */
class BomVersionsTest {
  private static final Path ROOT = Path.of(System.getProperty("mergetune.root", "../.."));

  @Test
  void theBomsVersionsAreTheRootPomsProperties() throws Exception {
    Document root = read(ROOT.resolve("pom.xml"));
    Document bom = read(ROOT.resolve("java/bom/pom.xml"));
    Map<String, String> rootProps = properties(root);
    Map<String, String> bomProps = properties(bom);
    assertTrue(bomProps.size() >= 5, "BOM properties: " + bomProps);
    String version = child(root.getDocumentElement(), "version");
    assertEquals(version, child(bom.getDocumentElement(), "version"), "the BOM's own version");
    for (Map.Entry<String, String> e : bomProps.entrySet()) {
      String expected = e.getKey().equals("mergetune.version") ? version : rootProps.get(e.getKey());
      assertNotNull(expected, "the root pom.xml has no property " + e.getKey());
      assertEquals(expected, e.getValue(), "BOM property " + e.getKey());
    }
    Set<String> managed = new TreeSet<>();
    NodeList deps = bom.getElementsByTagName("dependency");
    for (int i = 0; i < deps.getLength(); i++) {
      Element d = (Element) deps.item(i);
      managed.add(child(d, "groupId") + ":" + child(d, "artifactId"));
    }
    for (String a : Set.of("dev.mergetune:mergetune-core", "dev.mergetune:mergetune-platform",
        "dev.mergetune:mergetune-cli", "org.bytedeco:pytorch", "org.bytedeco:javacpp", "org.bytedeco:openblas",
        "org.bytedeco:cuda", "org.slf4j:slf4j-api", "com.fasterxml.jackson.core:jackson-databind")) {
      assertTrue(managed.contains(a), "the BOM does not manage " + a + ": " + managed);
    }
  }

  private static Document read(Path p) throws Exception {
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(p.toFile());
  }

  private static Map<String, String> properties(Document d) {
    Map<String, String> out = new LinkedHashMap<>();
    NodeList props = d.getElementsByTagName("properties");
    for (int i = 0; i < props.getLength(); i++) {
      if (props.item(i).getParentNode() != d.getDocumentElement()) continue;
      NodeList c = props.item(i).getChildNodes();
      for (int j = 0; j < c.getLength(); j++) {
        if (c.item(j).getNodeType() == Node.ELEMENT_NODE) out.put(c.item(j).getNodeName(), c.item(j).getTextContent().strip());
      }
    }
    return out;
  }

  private static String child(Element e, String name) {
    NodeList c = e.getChildNodes();
    for (int i = 0; i < c.getLength(); i++) {
      if (c.item(i).getNodeType() == Node.ELEMENT_NODE && c.item(i).getNodeName().equals(name)) {
        return c.item(i).getTextContent().strip();
      }
    }
    return null;
  }
}
