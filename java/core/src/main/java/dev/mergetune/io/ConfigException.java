package dev.mergetune.io;

/** A config file that cannot be read or does not type-check; the message names the file, the key and what to pass. */
public class ConfigException extends IllegalArgumentException {
  public ConfigException(String message) {
    super(message);
  }
}
