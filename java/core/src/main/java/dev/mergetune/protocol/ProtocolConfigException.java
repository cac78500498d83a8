package dev.mergetune.protocol;

/** A protocol config that cannot be read or does not make sense; the message names the file and what to fix. */
public class ProtocolConfigException extends IllegalArgumentException {
  public ProtocolConfigException(String message) {
    super(message);
  }
}
