package dev.mergetune.progress;

/** {@link Progress#none()}: every call does nothing. */
enum NoProgress implements Progress, ProgressTask {
  INSTANCE;

  @Override
  public ProgressTask start(String name, long total, String unit) {
    return this;
  }

  @Override
  public void step(long n) {}

  @Override
  public void stepTo(long done) {}

  @Override
  public void status(String message) {}

  @Override
  public void close() {}
}
