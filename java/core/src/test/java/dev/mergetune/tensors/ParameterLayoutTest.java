package dev.mergetune.tensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ParameterLayoutTest {
  private static ParameterLayout.Entry e(String name, DType t, long... shape) {
    return new ParameterLayout.Entry(name, t, shape);
  }

  private static final ParameterLayout BASE = ParameterLayout.of(List.of(
      e("visual.conv1.weight", DType.F32, 128, 3, 8, 8),
      e("visual.ln_pre.weight", DType.F32, 128),
      e("transformer.resblocks.0.attn.in_proj_weight", DType.F32, 192, 64),
      e("token_ids", DType.I64, 77)));

  @Test
  void everyMismatchOfEveryInputIsListed() {
    ParameterLayout a = ParameterLayout.of(List.of(
        e("visual.conv1.weight", DType.F32, 128, 3, 16, 16),
        e("visual.ln_pre.weight", DType.F16, 128),
        e("token_ids", DType.I64, 77),
        e("extra.bias", DType.F32, 4)));
    ParameterLayout b = BASE.filter(x -> !x.name().startsWith("visual.ln"));
    Map<String, ParameterLayout> inputs = new LinkedHashMap<>();
    inputs.put("model 0", a);
    inputs.put("model 1", b);
    inputs.put("model 2", BASE);
    LayoutMismatchException ex = assertThrows(LayoutMismatchException.class,
        () -> ParameterLayout.requireCompatible("base", BASE, inputs));
    assertEquals(List.of(
        "model 0: 'visual.conv1.weight' has shape [128, 3, 16, 16], base has [128, 3, 8, 8]",
        "model 0: 'visual.ln_pre.weight' is F16, base has F32",
        "model 0: missing 'transformer.resblocks.0.attn.in_proj_weight'",
        "model 0: unexpected 'extra.bias' (not in base)",
        "model 1: missing 'visual.ln_pre.weight'"), ex.problems());
    assertTrue(ex.getMessage().startsWith("5 mismatches against base:"), ex.getMessage());
  }

  @Test
  void identicalLayoutsPass() {
    ParameterLayout.requireCompatible("base", BASE, Map.of("model 0", BASE, "model 1", BASE.filter(x -> true)));
  }

  @Test
  void filtersByDtypeAndNamePattern() {
    assertEquals(3, BASE.floatOnly().size());
    NameFilter visualNoLn = NameFilter.of(List.of("visual.**"), List.of("**.ln_*.*"));
    assertEquals(List.of("visual.conv1.weight"), List.copyOf(BASE.matching(visualNoLn).entries().keySet()));
    NameFilter oneComponent = NameFilter.of(List.of("visual.*"), List.of());
    assertFalse(oneComponent.test("visual.conv1.weight"), "* stays inside one dotted component");
    assertTrue(oneComponent.test("visual.proj"));
    assertTrue(NameFilter.of(List.of("transformer.resblocks.?.attn.**"), List.of())
        .test("transformer.resblocks.0.attn.in_proj_weight"));
    assertTrue(NameFilter.of(List.of("a+b(c)"), List.of()).test("a+b(c)"), "regex characters are literal");
    assertEquals(BASE.size(), BASE.matching(NameFilter.all()).size());
    assertEquals(128L * 3 * 8 * 8 + 128 + 192 * 64 + 77, BASE.totalElements());
  }

  @Test
  void duplicateNamesAreRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> ParameterLayout.of(List.of(e("a", DType.F32, 1), e("a", DType.F32, 1))));
  }
}
