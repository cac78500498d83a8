package dev.mergetune.kernels.check;

import dev.mergetune.kernels.DeviceKind;
import dev.mergetune.kernels.Devices;
import dev.mergetune.kernels.Interpolation;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.NonFiniteException;
import dev.mergetune.kernels.Status;
import dev.mergetune.kernels.binding.MergetuneNative;
import dev.mergetune.kernels.reference.InterpolationReference;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Runs every kernel's CPU and (where a device is usable) CUDA implementation against the double-precision
 * reference on random inputs, and times the large cases. What `./mergetune selfcheck` prints; GPU runners run it
 * to see that the shipped .so works on their hardware.
 */
public final class SelfCheck {
  private static final int TIMED_REPEATS = 5;

  /** One interpolation case: segment lengths, model count, and optional in-place / NaN injection / timing. */
  private record InterpCase(String name, long[] lengths, int models, boolean inPlace, int nanModel, boolean timed) {}

  private SelfCheck() {}

  /** Runs all checks; {@code quick} drops the large timed cases. */
  public static List<CheckResult> run(boolean quick) {
    NativeRuntime.ensureLoaded();
    List<DeviceKind> devices = new ArrayList<>(List.of(DeviceKind.CPU));
    if (Devices.cudaAvailable()) devices.add(DeviceKind.CUDA);
    List<CheckResult> results = new ArrayList<>();
    for (DeviceKind device : devices) {
      for (InterpCase c : interpolationCases(quick)) results.add(runInterpolation(device, c));
      results.addAll(SignMaxCheck.run(device));
      results.addAll(TiesCheck.run(device));
      results.addAll(MultiAlphaCheck.run(device));  // K1
      results.addAll(AnchorCheck.run(device));  // K2, K5
    }
    return results;
  }

  private static List<InterpCase> interpolationCases(boolean quick) {
    long[] many = new long[257];
    SplittableRandom r = new SplittableRandom(7);
    for (int i = 0; i < many.length; i++) many[i] = i % 17 == 0 ? 0 : r.nextLong(1, 3000);
    List<InterpCase> cases = new ArrayList<>(List.of(
        new InterpCase("empty table", new long[0], 2, false, -1, false),
        new InterpCase("1 element, 1 model", new long[] {1}, 1, false, -1, false),
        new InterpCase("odd lengths, 3 models", new long[] {1023, 7, 4099}, 3, false, -1, false),
        new InterpCase("257 segments, 2 models", many, 2, false, -1, false),
        new InterpCase("in place over base, 4 models", new long[] {100_003, 5}, 4, true, -1, false),
        new InterpCase("NaN in model 1 reported", new long[] {10, 70_001}, 2, false, 1, false)));
    if (!quick) {
      cases.add(new InterpCase("WiSE-FT 48 MB out, timed", new long[] {4 << 20, 4 << 20, 4 << 20}, 1, false, -1, true));
      cases.add(new InterpCase("4 tasks 48 MB out, timed", new long[] {4 << 20, 4 << 20, 4 << 20}, 4, false, -1, true));
    }
    return cases;
  }

  private static CheckResult runInterpolation(DeviceKind device, InterpCase c) {
    String kernel = "interpolate (K4a)";
    String dev = device.name().toLowerCase();
    int nSeg = c.lengths.length;
    SplittableRandom random = new SplittableRandom(c.name.hashCode());
    float[][] base = new float[nSeg][];
    float[][][] models = new float[c.models][nSeg][];  // [model][segment]
    float[] lambdas = new float[c.models];
    for (int i = 0; i < c.models; i++) lambdas[i] = (float) (random.nextDouble() * 2.5 - 1.0);
    for (int s = 0; s < nSeg; s++) {
      base[s] = new float[(int) c.lengths[s]];
      for (int j = 0; j < base[s].length; j++) base[s][j] = (float) gaussian(random);
      for (int i = 0; i < c.models; i++) {
        models[i][s] = base[s].clone();
        for (int j = 0; j < base[s].length; j++) models[i][s][j] += (float) (0.05 * gaussian(random));
      }
    }
    int nanSegment = nSeg - 1;
    long nanElement = nSeg > 0 ? c.lengths[nanSegment] / 2 : 0;
    if (c.nanModel >= 0) models[c.nanModel][nanSegment][(int) nanElement] = Float.NaN;

    List<DeviceBuffer> buffers = new ArrayList<>();
    try {
      long[] baseAddr = new long[nSeg];
      long[] outAddr = new long[nSeg];
      long[][] modelAddr = new long[c.models][nSeg];
      DeviceBuffer[] outBuffers = new DeviceBuffer[nSeg];
      for (int s = 0; s < nSeg; s++) {
        DeviceBuffer b = track(buffers, DeviceBuffer.allocate(device, c.lengths[s]));
        b.upload(base[s]);
        baseAddr[s] = b.address();
        outBuffers[s] = c.inPlace ? b : track(buffers, DeviceBuffer.allocate(device, c.lengths[s]));
        outAddr[s] = outBuffers[s].address();
        for (int i = 0; i < c.models; i++) {
          DeviceBuffer m = track(buffers, DeviceBuffer.allocate(device, c.lengths[s]));
          m.upload(models[i][s]);
          modelAddr[i][s] = m.address();
        }
      }
      if (c.nanModel >= 0) {
        try {
          Interpolation.interpolateRaw(device, 0, c.lengths, outAddr, baseAddr, modelAddr, lambdas, true);
          return new CheckResult(kernel, dev, c.name, Double.NaN, 0, Double.NaN, false, "NaN was not reported");
        } catch (NonFiniteException e) {
          boolean located = e.input().equals("model " + c.nanModel) && e.element() == nanElement
              && ("segment " + nanSegment).equals(e.tensor());
          return new CheckResult(kernel, dev, c.name, Double.NaN, 0, Double.NaN, located,
              located ? "reported: " + e.input() + ", " + e.tensor() + ", element " + e.element()
                  : "wrong location: " + e.getMessage());
        }
      }
      Interpolation.interpolateRaw(device, 0, c.lengths, outAddr, baseAddr, modelAddr, lambdas, true);
      double worst = 0;
      for (int s = 0; s < nSeg; s++) {
        float[][] segModels = new float[c.models][];
        for (int i = 0; i < c.models; i++) segModels[i] = models[i][s];
        worst = Math.max(worst,
            InterpolationReference.maxScaledError(outBuffers[s].download(), base[s], segModels, lambdas));
      }
      double gbps = Double.NaN;
      if (c.timed && !c.inPlace) {
        gbps = time(device, c, outAddr, baseAddr, modelAddr, lambdas);
      }
      boolean ok = worst <= InterpolationReference.TOLERANCE;
      return new CheckResult(kernel, dev, c.name, worst, InterpolationReference.TOLERANCE, gbps, ok,
          ok ? "" : "error above tolerance");
    } catch (RuntimeException e) {
      return new CheckResult(kernel, dev, c.name, Double.NaN, 0, Double.NaN, false, e.toString());
    } finally {
      for (DeviceBuffer b : buffers) b.close();
    }
  }

  /** Best of a few runs, as GB/s of bytes the kernel must move: (models + 2)·4 bytes per element. */
  private static double time(DeviceKind device, InterpCase c, long[] out, long[] base, long[][] models,
      float[] lambdas) {
    long elements = 0;
    for (long n : c.lengths) elements += n;
    double bytes = (c.models + 2.0) * 4.0 * elements;
    long best = Long.MAX_VALUE;
    for (int r = 0; r < TIMED_REPEATS + 1; r++) {
      long start = System.nanoTime();
      Interpolation.interpolateRaw(device, 0, c.lengths, out, base, models, lambdas, false);
      if (device == DeviceKind.CUDA) Status.check(MergetuneNative.mt_cuda_synchronize(), "synchronize");
      long elapsed = System.nanoTime() - start;
      if (r > 0) best = Math.min(best, elapsed);  // r == 0 warms up
    }
    return bytes / best;  // bytes per ns == GB/s
  }

  private static DeviceBuffer track(List<DeviceBuffer> buffers, DeviceBuffer b) {
    buffers.add(b);
    return b;
  }

  private static double gaussian(SplittableRandom r) {
    double u = 1.0 - r.nextDouble();
    double v = r.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
