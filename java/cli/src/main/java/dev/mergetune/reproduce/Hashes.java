package dev.mergetune.reproduce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Short content hashes that name run folders by their settings. */
final class Hashes {
  private Hashes() {}

  /** The first 8 hex digits of the SHA-256 of the settings' JSON. */
  static String short8(JsonNode settings) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256")
          .digest(new ObjectMapper().writeValueAsString(settings).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d).substring(0, 8);
    } catch (NoSuchAlgorithmException | com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
