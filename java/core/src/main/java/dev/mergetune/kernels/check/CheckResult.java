package dev.mergetune.kernels.check;

/**
 * One row of the self-check: a kernel on a device for one case, its error against the double reference (or the
 * expected exception), and its throughput when the case was timed (NaN otherwise).
 */
public record CheckResult(
    String kernel, String device, String testCase, double maxError, double tolerance, double gbPerSecond,
    boolean passed, String detail) {}
