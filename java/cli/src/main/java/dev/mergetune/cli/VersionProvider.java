package dev.mergetune.cli;

import picocli.CommandLine;

/** The version from the jar manifest (Maven writes it), or "development" when run from classes. */
final class VersionProvider implements CommandLine.IVersionProvider {
  static String version() {
    String v = MergetuneCli.class.getPackage().getImplementationVersion();
    return v != null ? v : "development";
  }

  @Override
  public String[] getVersion() {
    return new String[] {"mergetune " + version()};
  }
}
