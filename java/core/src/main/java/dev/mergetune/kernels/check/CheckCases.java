package dev.mergetune.kernels.check;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.SegmentTable;
import java.util.List;

/** What the kernel families' self-check cases share: running a case as a result row, device tables from arrays. */
final class CheckCases {
  private CheckCases() {}

  interface Case {
    String failure();  // null when passed
  }

  static CheckResult guard(String kernel, DeviceKind device, String name, Case c) {
    String dev = device.name().toLowerCase();
    try {
      String failure = c.failure();
      return new CheckResult(kernel, dev, name, Double.NaN, 0, Double.NaN, failure == null, failure == null ? "" : failure);
    } catch (RuntimeException e) {
      return new CheckResult(kernel, dev, name, Double.NaN, 0, Double.NaN, false, e.toString());
    }
  }

  /** One table of one segment per array, uploaded to the device; the buffers are added to {@code owned}. */
  static SegmentTable table(DeviceKind device, List<DeviceBuffer> owned, float[]... segments) {
    long[] addresses = new long[segments.length];
    long[] lengths = new long[segments.length];
    for (int s = 0; s < segments.length; s++) {
      DeviceBuffer b = DeviceBuffer.allocate(device, segments[s].length);
      owned.add(b);
      b.upload(segments[s]);
      addresses[s] = b.address();
      lengths[s] = segments[s].length;
    }
    return SegmentTable.ofAddresses(device, null, addresses, lengths);
  }
}
