package dev.mergetune.clip.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.data.Dataset;
import dev.mergetune.data.Sample;
import dev.mergetune.kernels.NativeRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.imageio.ImageIO;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loader: coverage, deterministic shuffles, drop_last, bounded prefetch, failures and clean shutdown. */
class DataLoaderTest {
  private static final int N = 23;
  private static final int SIZE = 12;

  @TempDir Path dir;
  private Dataset dataset;
  private final List<Path> files = new ArrayList<>();

  @BeforeEach
  void images() throws Exception {
    List<Sample> samples = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      int w = 15 + 3 * i;
      int h = 10 + (7 * i) % 20;
      Path p = dir.resolve(String.format("img%02d.png", i));
      ImageIO.write(TestImages.rgbImage(w, h, TestImages.pattern(w, h, 3, i)), "png", p.toFile());
      files.add(p);
      samples.add(new Sample(p, i % 3));
    }
    dataset = Dataset.of("generated", List.of("a", "b", "c"), samples);
  }

  @AfterEach
  void noLoaderThreadsLeft() {
    assertEquals(List.of(), loaderThreads(), "loader threads still alive");
  }

  private static List<String> loaderThreads() {
    return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
        .filter(n -> n.startsWith("mergetune-loader-")).sorted().toList();
  }

  private static List<LoadedBatch> all(DataLoader loader, long epoch) {
    List<LoadedBatch> out = new ArrayList<>();
    try (DataLoader.Epoch e = loader.epoch(epoch)) {
      while (e.hasNext()) out.add(e.next());
    }
    return out;
  }

  private static int[] indices(List<LoadedBatch> batches) {
    return batches.stream().flatMapToInt(b -> Arrays.stream(b.indices())).toArray();
  }

  @Test
  void everySampleOnceInOrderWithItsLabelAndImage() {
    Transform t = RandomResizedCrop.mtil(SIZE, 42);
    try (DataLoader loader = DataLoader.builder(dataset, t).batchSize(5).workers(3).build()) {
      assertEquals(5, loader.numBatches());
      List<LoadedBatch> batches = all(loader, 2);
      assertEquals(List.of(5, 5, 5, 5, 3), batches.stream().map(LoadedBatch::count).toList());
      assertArrayEquals(java.util.stream.IntStream.range(0, N).toArray(), indices(batches));
      for (LoadedBatch b : batches) {
        assertEquals(2, b.epoch());
        for (int i = 0; i < b.count(); i++) {
          int index = b.indices()[i];
          assertEquals(dataset.samples().get(index).label(), b.labels()[i]);
          float[] one = t.apply(ImageDecoder.read(files.get(index)), 2, index);
          assertArrayEquals(one, Arrays.copyOfRange(b.images(), i * one.length, (i + 1) * one.length));
        }
      }
    }
  }

  @Test
  void shuffleIsAPermutationPerEpochIdenticalAcrossLoadersAndWorkerCounts() {
    Transform t = RandomResizedCrop.coop(SIZE, 7);
    try (DataLoader a = DataLoader.builder(dataset, t).batchSize(4).shuffle(99).workers(3).prefetch(2).build();
        DataLoader b = DataLoader.builder(dataset, t).batchSize(4).shuffle(99).workers(1).prefetch(5).build();
        DataLoader c = DataLoader.builder(dataset, t).batchSize(4).shuffle(99).workers(0).build()) {
      int[] e0 = indices(all(a, 0));
      int[] e1 = indices(all(a, 1));
      int[] sorted = e0.clone();
      Arrays.sort(sorted);
      assertArrayEquals(java.util.stream.IntStream.range(0, N).toArray(), sorted);
      sorted = e1.clone();
      Arrays.sort(sorted);
      assertArrayEquals(java.util.stream.IntStream.range(0, N).toArray(), sorted);
      assertFalse(Arrays.equals(e0, e1), "the permutation changes with the epoch");
      assertArrayEquals(a.order(1), e1);

      List<LoadedBatch> fromA = all(a, 1);
      List<LoadedBatch> fromB = all(b, 1);
      List<LoadedBatch> fromC = all(c, 1);
      assertEquals(fromA.size(), fromB.size());
      for (int k = 0; k < fromA.size(); k++) {
        assertArrayEquals(fromA.get(k).indices(), fromB.get(k).indices());
        assertArrayEquals(fromA.get(k).images(), fromB.get(k).images(), "batch " + k);
        assertArrayEquals(fromA.get(k).images(), fromC.get(k).images(), "batch " + k);
        assertArrayEquals(fromA.get(k).labels(), fromC.get(k).labels(), "batch " + k);
      }
    }
    try (DataLoader other = DataLoader.builder(dataset, t).batchSize(4).shuffle(100).build()) {
      assertFalse(Arrays.equals(other.order(1), DataLoader.builder(dataset, t).shuffle(99).build().order(1)));
    }
  }

  @Test
  void anEpochStartedMidWayHandsOutTheSameLaterBatches() {
    Transform t = RandomResizedCrop.coop(SIZE, 7);
    try (DataLoader loader = DataLoader.builder(dataset, t).batchSize(4).shuffle(5).dropLast(true).workers(2).build()) {
      List<LoadedBatch> whole = all(loader, 3);
      try (DataLoader.Epoch e = loader.epoch(3, 2)) {
        assertEquals(2, e.taken());
        for (int k = 2; k < whole.size(); k++) {
          LoadedBatch b = e.next();
          assertEquals(k, b.number());
          assertArrayEquals(whole.get(k).indices(), b.indices());
          assertArrayEquals(whole.get(k).images(), b.images(), 0f);
        }
        assertTrue(!e.hasNext());
      }
      assertThrows(IllegalArgumentException.class, () -> loader.epoch(0, whole.size() + 1));
    }
  }

  @Test
  void dropLastDropsTheShortBatch() {
    try (DataLoader loader = DataLoader.builder(dataset, ClipImageTransform.of(SIZE)).batchSize(5).dropLast(true)
        .shuffle(3).workers(2).build()) {
      assertEquals(4, loader.numBatches());
      List<LoadedBatch> batches = all(loader, 0);
      assertEquals(List.of(5, 5, 5, 5), batches.stream().map(LoadedBatch::count).toList());
      int[] seen = indices(batches);
      assertEquals(20, Arrays.stream(seen).distinct().count());
      assertArrayEquals(Arrays.copyOf(loader.order(0), 20), seen);
    }
    try (DataLoader exact = DataLoader.builder(dataset, ClipImageTransform.of(SIZE)).batchSize(23).dropLast(true)
        .build()) {
      assertEquals(1, exact.numBatches());
    }
  }

  /** Wraps a transform, slows it down and records which batches are in progress. */
  private static final class Instrumented implements Transform {
    final Transform inner;
    final int[] batchOf;
    final AtomicInteger taken;
    final int sleepMs;
    final AtomicInteger active = new AtomicInteger();
    final AtomicInteger maxActive = new AtomicInteger();
    final AtomicInteger maxAhead = new AtomicInteger(Integer.MIN_VALUE);

    Instrumented(Transform inner, int[] order, int batchSize, AtomicInteger taken, int sleepMs) {
      this.inner = inner;
      this.batchOf = new int[order.length];
      for (int p = 0; p < order.length; p++) batchOf[order[p]] = p / batchSize;
      this.taken = taken;
      this.sleepMs = sleepMs;
    }

    @Override
    public String id() {
      return "instrumented:" + inner.id();
    }

    @Override
    public int size() {
      return inner.size();
    }

    @Override
    public boolean isRandom() {
      return inner.isRandom();
    }

    @Override
    public OptionalLong seed() {
      return inner.seed();
    }

    @Override
    public void apply(PilImage image, long epoch, long index, float[] out, int offset) {
      int now = active.incrementAndGet();
      maxActive.accumulateAndGet(now, Math::max);
      maxAhead.accumulateAndGet(batchOf[(int) index] - taken.get(), Math::max);
      try {
        Thread.sleep(sleepMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      inner.apply(image, epoch, index, out, offset);
      active.decrementAndGet();
    }
  }

  @Test
  void prefetchIsBounded() throws Exception {
    int batchSize = 2;
    int prefetch = 2;
    AtomicInteger taken = new AtomicInteger();
    // the order of epoch 0, from a loader like the one under test
    int[] order = DataLoader.builder(dataset, ClipImageTransform.of(SIZE)).shuffle(5).build().order(0);
    Instrumented t = new Instrumented(ClipImageTransform.of(SIZE), order, batchSize, taken, 10);
    try (DataLoader loader = DataLoader.builder(dataset, t).batchSize(batchSize).shuffle(5).workers(4)
        .prefetch(prefetch).build(); DataLoader.Epoch e = loader.epoch(0)) {
      Thread.sleep(200);  // let the workers run ahead as far as they may
      while (e.hasNext()) {
        e.next();
        taken.incrementAndGet();
        Thread.sleep(15);  // a slow consumer
      }
    }
    // batch k starts only when fewer than `prefetch` batches are started and not taken: k ≤ taken + prefetch − 1,
    // and the counter here lags the loader's by at most one
    assertTrue(t.maxAhead.get() <= prefetch, "ran " + t.maxAhead.get() + " batches ahead");
    assertTrue(t.maxAhead.get() >= prefetch - 1, "never prefetched: " + t.maxAhead.get());
    // four workers, but never more than `prefetch` batches (one image each at a time) decoded at once
    assertTrue(t.maxActive.get() <= prefetch, "decoded at once: " + t.maxActive.get());
    assertEquals(prefetch, t.maxActive.get());
  }

  @Test
  void corruptImageIsNamedAndStopsTheEpoch() throws Exception {
    Path broken = files.get(7);
    Files.write(broken, new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
    for (int workers : new int[] {0, 3}) {
      try (DataLoader loader = DataLoader.builder(dataset, ClipImageTransform.of(SIZE)).batchSize(4)
          .workers(workers).build(); DataLoader.Epoch e = loader.epoch(0)) {
        LoadedBatch first = e.next();  // samples 0..3 are fine
        assertEquals(0, first.number());
        ImageDecodeException ex = assertThrows(ImageDecodeException.class, e::next);  // samples 4..7
        assertEquals(broken, ex.file());
        assertTrue(ex.getMessage().startsWith(broken.toString()), ex.getMessage());
        assertTrue(ex.getMessage().contains("sample 7 of generated, batch 1 of epoch 0"), ex.getMessage());
        assertFalse(e.hasNext());
        assertThrows(IllegalStateException.class, e::next);
        assertEquals(List.of(), loaderThreads());
      }
    }
  }

  @Test
  void closingMidEpochStopsTheWorkers() throws Exception {
    AtomicInteger taken = new AtomicInteger();
    Instrumented slow = new Instrumented(ClipImageTransform.of(SIZE), DataLoader.builder(dataset,
        ClipImageTransform.of(SIZE)).build().order(0), 2, taken, 40);
    DataLoader loader = DataLoader.builder(dataset, slow).batchSize(2).workers(3).prefetch(3).build();
    DataLoader.Epoch e = loader.epoch(0);
    assertEquals(3, loaderThreads().size());
    e.next();
    e.close();
    assertEquals(List.of(), loaderThreads());
    assertFalse(e.hasNext());
    assertThrows(IllegalStateException.class, e::next);
    e.close();  // idempotent

    // closing the loader closes its open epochs, even while a consumer waits in next()
    DataLoader.Epoch e2 = loader.epoch(1);
    AtomicReference<Throwable> consumerSaw = new AtomicReference<>();
    Thread consumer = new Thread(() -> {
      try {
        while (true) e2.next();
      } catch (Throwable t) {
        consumerSaw.set(t);
      }
    });
    consumer.start();
    Thread.sleep(60);
    loader.close();
    consumer.join(10_000);
    assertFalse(consumer.isAlive());
    assertTrue(consumerSaw.get() instanceof IllegalStateException, String.valueOf(consumerSaw.get()));
    assertEquals(List.of(), loaderThreads());
    assertThrows(IllegalStateException.class, () -> loader.epoch(2));
  }

  @Test
  void batchesAsTensors() {
    NativeRuntime.ensureTorch();
    try (DataLoader loader = DataLoader.builder(dataset, ClipImageTransform.of(SIZE)).batchSize(6).workers(2)
        .build(); DataLoader.Epoch e = loader.epoch(0); PointerScope scope = new PointerScope()) {
      LoadedBatch b = e.next();
      Tensor images = b.imagesTensor();
      Tensor labels = b.labelsTensor();
      assertArrayEquals(new long[] {6, 3, SIZE, SIZE}, images.sizes().vec().get());
      assertEquals(torch.ScalarType.Float.value, images.scalar_type().value);
      assertEquals(torch.ScalarType.Long.value, labels.scalar_type().value);
      assertArrayEquals(new long[] {6}, labels.sizes().vec().get());
      float[] got = new float[b.images().length];
      images.data_ptr_float().capacity(got.length).get(got);
      assertArrayEquals(b.images(), got);
      long[] l = new long[6];
      new org.bytedeco.javacpp.LongPointer(labels.data_ptr_long()).capacity(6).get(l);
      assertArrayEquals(Arrays.stream(b.labels()).asLongStream().toArray(), l);
    }
  }
}
