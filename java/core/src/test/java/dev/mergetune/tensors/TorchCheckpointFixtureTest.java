package dev.mergetune.tensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The clip-tiny fixture's three files, written by PyTorch 1.13 from one model (../shared/fixtures): the TorchScript
 * archive and the torch.save dict read through LibTorch hold exactly the tensors of model.safetensors (written by
 * the Python safetensors library), bit for bit. Any tensor present in only one file is listed and asserted, not
 * skipped: for this fixture there is none (the traced archive has no integer buffers).
 */
class TorchCheckpointFixtureTest {
  @Test
  void theTorchScriptArchiveEqualsTheSafetensorsFile() {
    try (Checkpoint jit = Checkpoints.open(SharedFixtures.clipTiny("model.jit.pt"));
        Checkpoint st = Checkpoints.open(SharedFixtures.clipTiny("model.safetensors"))) {
      assertInstanceOf(TorchCheckpoint.class, jit);
      assertSameTensors(jit, st, Set.of(), Set.of());
    }
  }

  @Test
  void theTorchSaveDictEqualsTheSafetensorsFile() {
    try (Checkpoint sd = Checkpoints.open(SharedFixtures.clipTiny("state_dict.pt"));
        Checkpoint st = Checkpoints.open(SharedFixtures.clipTiny("model.safetensors"))) {
      assertInstanceOf(TorchCheckpoint.class, sd);
      assertSameTensors(sd, st, Set.of(), Set.of());
      assertTrue(sd.parameterNames().isEmpty(), "a state dict does not record parameters");
    }
  }

  @Test
  void parametersOfTheTorchScriptArchiveAndTheStateDictOrder() {
    try (Checkpoint jit = Checkpoints.open(SharedFixtures.clipTiny("model.jit.pt"));
        Checkpoint sd = Checkpoints.open(SharedFixtures.clipTiny("state_dict.pt"))) {
      Set<String> params = jit.parameterNames().orElseThrow();
      assertTrue(params.contains("visual.conv1.weight"), params.toString());
      Set<String> buffers = new TreeSet<>(jit.tensors().keySet());
      buffers.removeAll(params);
      assertEquals(Set.of(), buffers, "clip-tiny's archive holds parameters only");
      for (String p : params) assertTrue(jit.tensors().get(p).dtype().isFloating(), p);
      // Python wrote state_dict.pt in state_dict() order; the archive's tensors must come out in the same order
      assertEquals(new ArrayList<>(sd.tensors().keySet()), new ArrayList<>(jit.tensors().keySet()));
    }
  }

  /** Same names except the listed ones, and for every common name the same dtype, shape and bytes. */
  private static void assertSameTensors(Checkpoint pt, Checkpoint st, Set<String> onlyInPt, Set<String> onlyInSt) {
    Set<String> ptOnly = new TreeSet<>(pt.tensors().keySet());
    ptOnly.removeAll(st.tensors().keySet());
    Set<String> stOnly = new TreeSet<>(st.tensors().keySet());
    stOnly.removeAll(pt.tensors().keySet());
    System.out.println(pt.path().getFileName() + ": " + pt.tensors().size() + " tensors; only in it: " + ptOnly
        + "; only in " + st.path().getFileName() + ": " + stOnly);
    assertEquals(onlyInPt, ptOnly, "tensors only in " + pt.path());
    assertEquals(onlyInSt, stOnly, "tensors only in " + st.path());
    List<String> compared = new ArrayList<>();
    for (TensorInfo want : st.tensors().values()) {
      TensorInfo got = pt.tensors().get(want.name());
      if (got == null) continue;  // listed and asserted above
      assertEquals(want.dtype(), got.dtype(), want.name());
      assertArrayEquals(want.shape(), got.shape(), want.name());
      assertEquals(want.byteLength(), got.byteLength(), want.name());
      var a = st.bytes(want.name());
      var b = pt.bytes(want.name());
      assertEquals(a, b, want.name() + " differs");
      st.release(a);
      pt.release(b);
      if (want.dtype().isFloating()) assertArrayEquals(st.readFloats(want.name()), pt.readFloats(want.name()), want.name());
      compared.add(want.name());
    }
    assertEquals(62, compared.size(), "clip-tiny has 62 tensors");
  }
}
