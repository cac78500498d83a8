package dev.mergetune.tensors;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Hand-made zip archives (entry name, content as ISO-8859-1 text, ...) for testing the .pt format detection. */
final class Zips {
  private Zips() {}

  static byte[] of(String... nameContentPairs) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (int i = 0; i < nameContentPairs.length; i += 2) {
        zip.putNextEntry(new ZipEntry(nameContentPairs[i]));
        zip.write(nameContentPairs[i + 1].getBytes(StandardCharsets.ISO_8859_1));
        zip.closeEntry();
      }
    }
    return bytes.toByteArray();
  }
}
