package dev.mergetune.kernels;

/** A native kernel call failed; the message says what and where (segment, tensor name, argument). */
public class KernelException extends RuntimeException {
  private final Status status;

  public KernelException(Status status, String message) {
    super(message);
    this.status = status;
  }

  public Status status() {
    return status;
  }
}
